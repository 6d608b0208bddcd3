"""The two GAN architectures of the MNIST example, each optionally conditional on a class label.

* MLP (Goodfellow et al. 2014, and the classic PyTorch tutorial nets): G = z -> 256 -> 512 ->
  1024 -> 784, D = 784 -> 512 -> 256 -> 1, leaky-ReLU 0.2 in between, tanh on G's output. G has
  batch norm after each hidden layer (as DCGAN's G does). Both choices were measured
  (docs/recipes.md): batch norm lifted the score at equal steps from 0.42 to 0.55 of real digits',
  and the third hidden layer from 0.80 (20,000 steps, 6.3 minutes on a 2-core CPU) to 0.85
  (16,000 steps, 8 minutes).
  ``batch_norm=False`` gives the plain MLP.
* DCGAN (the TF DCGAN tutorial's shapes): G = dense 7x7x256 -> transposed convs 5x5 to 128
  (stride 1), 64 (stride 2), 1 (stride 2, tanh), with batch norm; D = convs 5x5 stride 2 to 64
  and 128 with leaky-ReLU 0.2 and dropout 0.3, then dense 1. ``width`` scales every channel count
  (width=0.5 halves them), which is how a CPU run is made faster.

``activation="relu"`` puts ReLU in place of every leaky ReLU (G's and D's hidden layers), to see
what the leak buys: a ReLU unit whose input is negative for every image passes no gradient and
may never recover (a "dead" unit); leaky ReLU's slope 0.2 there keeps it learning.

G maps (z, labels) to images shaped (N, 1, 28, 28) in [-1, 1]; D maps (images, labels) to one
logit per image, shaped (N, 1). With ``num_classes`` set, the label is embedded (a learned vector
per class) and concatenated: onto z for G; onto the flattened image for the MLP D, or as an
extra image channel for the DCGAN D. Then ``G(z, labels=7)`` draws sevens.
"""
import numpy as np

from .. import backend
from .. import functional as F
from .. import nn
from ..tensor import Tensor


class Generator(nn.Module):
    """z (N, z_dim) [and labels (N,)] -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, body, z_dim, num_classes=None, embed_dim=None):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        self.body = body

    def forward(self, z, labels=None):
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"Generator expects z shaped (N, {self.z_dim}), got {z.shape}")
        if self.embed is not None:
            z = F.concatenate([z, self.embed(_labels(labels, z.shape[0], self.num_classes))], axis=1)
        elif labels is not None:
            raise ValueError("this Generator is unconditional: build it with num_classes to pass labels")
        return F.reshape(self.body(z), (-1, 1, 28, 28))


class Discriminator(nn.Module):
    """images (N, 1, 28, 28) [and labels (N,)] -> logits (N, 1)."""

    def __init__(self, body, num_classes=None, embed_dim=None, label_as_channel=False):
        super().__init__()
        self.num_classes, self.label_as_channel = num_classes, label_as_channel
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        self.body = body

    def forward(self, x, labels=None):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"Discriminator expects images shaped (N, 1, 28, 28), got {x.shape}")
        if self.embed is None:
            if labels is not None:
                raise ValueError("this Discriminator is unconditional: build it with num_classes to pass labels")
            return self.body(x)
        e = self.embed(_labels(labels, x.shape[0], self.num_classes))
        if self.label_as_channel:  # the label's embedding as a 28x28 plane next to the image
            return self.body(F.concatenate([x, F.reshape(e, (-1, 1, 28, 28))], axis=1))
        return self.body(F.concatenate([F.flatten(x, 1), e], axis=1))


def _labels(labels, n, num_classes):
    """Labels as an int array of length n: accepts an int (all the same), a list, array or Tensor."""
    if labels is None:
        raise ValueError(f"this network is conditional: pass labels (ints in [0, {num_classes}))")
    data = labels.data if isinstance(labels, Tensor) else labels
    arr = data if hasattr(data, "shape") else np.asarray(data)  # device labels stay on the device
    if arr.ndim == 0:
        arr = backend.get_array_module(arr).full(n, arr, dtype=np.int64)
    if arr.shape != (n,):
        raise ValueError(f"expected {n} labels for a batch of {n}, got shape {arr.shape}")
    return arr


# The hidden layers' nonlinearity, by name (``activation=``): leaky ReLU with slope 0.2 for x < 0
# (the DCGAN paper's for D, and both nets' here), or plain ReLU.
ACTIVATIONS = {"leaky_relu": lambda: nn.LeakyReLU(0.2), "relu": nn.ReLU}


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


def mlp_generator(z_dim=100, hidden=(256, 512, 1024), num_classes=None, embed_dim=10, batch_norm=True,
                  activation="leaky_relu"):
    """``batch_norm``: a BatchNorm1d after each hidden Linear (DCGAN's advice for G, which helps
    an MLP G too: measured in docs/recipes.md)."""
    sizes = [z_dim + (embed_dim if num_classes else 0), *hidden]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out)] + ([nn.BatchNorm1d(n_out)] if batch_norm else []) + [_activation(activation)]
    layers += [nn.Linear(sizes[-1], 784), nn.Tanh()]
    return Generator(nn.Sequential(*layers), z_dim, num_classes, embed_dim)


def mlp_discriminator(hidden=(512, 256), num_classes=None, embed_dim=10, dropout=0.0, activation="leaky_relu"):
    sizes = [784 + (embed_dim if num_classes else 0), *hidden]
    layers = [] if num_classes else [nn.Flatten()]
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), _activation(activation)]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-1], 1))
    return Discriminator(nn.Sequential(*layers), num_classes, embed_dim)


def _channels(n, width):
    return max(1, int(round(n * width)))


def dcgan_generator(z_dim=100, width=1.0, num_classes=None, embed_dim=10, activation="leaky_relu"):
    c1, c2, c3 = _channels(256, width), _channels(128, width), _channels(64, width)
    body = nn.Sequential(
        nn.Linear(z_dim + (embed_dim if num_classes else 0), 7 * 7 * c1, bias=False),
        nn.BatchNorm1d(7 * 7 * c1), _activation(activation), nn.Unflatten(1, (c1, 7, 7)),
        nn.ConvTranspose2d(c1, c2, 5, stride=1, padding=2, bias=False), nn.BatchNorm2d(c2), _activation(activation),
        nn.ConvTranspose2d(c2, c3, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(c3), _activation(activation),
        nn.ConvTranspose2d(c3, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh())
    return Generator(body, z_dim, num_classes, embed_dim)


def dcgan_discriminator(width=1.0, num_classes=None, dropout=0.3, activation="leaky_relu"):
    c1, c2 = _channels(64, width), _channels(128, width)
    body = nn.Sequential(
        nn.Conv2d(2 if num_classes else 1, c1, 5, stride=2, padding=2), _activation(activation), nn.Dropout(dropout),
        nn.Conv2d(c1, c2, 5, stride=2, padding=2), _activation(activation), nn.Dropout(dropout),
        nn.Flatten(), nn.Linear(c2 * 7 * 7, 1))
    return Discriminator(body, num_classes, 28 * 28 if num_classes else None, label_as_channel=True)


def spectral_normalize(net):
    """Spectral normalisation (nn.utils.spectral_norm) of every Linear and Conv layer in ``net``,
    as SNGAN does to its discriminator; returns ``net``. Apply it after any re-initialisation."""
    for m in list(net.modules()):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.utils.spectral_norm(m)
    return net


def build(arch="mlp", z_dim=100, num_classes=None, width=1.0, dropout=0.3, activation="leaky_relu"):
    """(G, D) for ``arch`` "mlp" or "dcgan"; ``dropout`` is D's dropout rate, ``activation`` the
    hidden layers' nonlinearity in both ("leaky_relu" or "relu")."""
    _activation(activation)  # an unknown name fails here, before any layer is made
    if arch == "mlp":
        return (mlp_generator(z_dim, num_classes=num_classes, activation=activation),
                mlp_discriminator(num_classes=num_classes, dropout=dropout, activation=activation))
    if arch == "dcgan":
        return (dcgan_generator(z_dim, width, num_classes=num_classes, activation=activation),
                dcgan_discriminator(width, num_classes=num_classes, dropout=dropout, activation=activation))
    raise ValueError(f"unknown architecture {arch!r}: expected 'mlp' or 'dcgan'")
