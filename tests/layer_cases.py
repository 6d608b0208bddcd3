"""The one table of gradient-check cases for layers: a small named example of every Module.

``tests/op_cases.py`` checks the ops one by one; this table checks that the layers put them
together correctly: that ``Linear`` really computes x W^T + b with W shaped (out, in), that batch
norm's backward in training mode accounts for the batch statistics depending on x, that a
conditional Generator sends gradient into its label embedding, and so on.

``tests/test_nn_layers.py`` runs ``gradcheck`` on every case, with respect to the case's input
Tensors and every Parameter of the layer, and ``gradgradcheck`` where ``second_order`` is True.
``tests/test_registry.py`` proves that every Module subclass defined in minigan has a case, and a
second-order one. ``tests/test_gpu_layers.py`` reruns the table on the GPU.

Everything is float64 (finite differences need it) and small (a full gradcheck perturbs every
element). Inputs of relu-like layers are drawn away from the kink at 0, as in op_cases.py.
"""
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

import minigan
import minigan.nn as nn
from minigan import Tensor
from minigan.functional import concatenate
from minigan.gan.infogan import InfoDiscriminator, QHead
from minigan.gan.models import Discriminator, Generator
from minigan.metrics import DigitClassifier
from minigan.nn.utils import spectral_norm


@dataclass(frozen=True)
class LayerCase:
    """``call(make_layer(), *make_inputs(rng))`` must return a Tensor.

    ``make_inputs`` returns the layer's arguments: Tensors (those with ``requires_grad=True`` are
    checked, besides every Parameter) and constants such as integer labels. ``call`` is usually
    just ``layer(*inputs)``; dropout's case reseeds first, so that every forward pass draws the
    same mask and finite differences see one function.
    """
    name: str
    make_layer: Callable
    make_inputs: Callable
    call: Callable = lambda layer, *inputs: layer(*inputs)
    second_order: bool = True

    def build(self):
        """A float64 layer and its inputs, the same every time (seeded from the case's name)."""
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        minigan.manual_seed(zlib.crc32(self.name.encode()))
        layer = self.make_layer().double()
        _move_away_from_init(layer, rng)
        for name, p in layer.named_parameters():
            p.name = name  # so that a failure says which parameter
        return layer, self.make_inputs(rng)


def checked_tensors(layer, inputs):
    """What a gradient check perturbs: the inputs that require grad, then every Parameter."""
    return [x for x in inputs if isinstance(x, Tensor) and x.requires_grad] + list(layer.parameters())


def _move_away_from_init(layer, rng):
    """Batch norm starts at weight 1, bias 0, running mean 0, running var 1, where a forgotten
    term of the backward can vanish; random values make every term count."""
    for m in layer.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            if m.weight is not None:
                m.weight.data[...] = rng.uniform(0.5, 1.5, n)
                m.bias.data[...] = rng.standard_normal(n)
            if m.running_mean is not None:
                m.running_mean.data[...] = rng.standard_normal(n)
                m.running_var.data[...] = rng.uniform(0.5, 2, n)


def randn(*shape):
    """A recipe for a float64 input ~ N(0, 1) that requires grad."""
    return lambda rng: (Tensor(rng.standard_normal(shape), requires_grad=True),)


def away_from_zero(*shape):
    """sign * U(0.1, 1.5): never within 0.1 of the kink of relu / leaky_relu."""
    return lambda rng: (Tensor(rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 1.5, shape),
                               requires_grad=True),)


def with_labels(shape, num_classes):
    """An input ~ N(0, 1) and integer class labels (not differentiated) for a conditional net."""
    return lambda rng: (randn(*shape)(rng)[0], rng.integers(0, num_classes, shape[0]))


def evaluating(make_layer):
    return lambda: make_layer().eval()


def reseeded(layer, x):
    minigan.manual_seed(7)
    return layer(x)


def in_turn(layers, x):
    """The forward a user writes around a ModuleList (which has none of its own)."""
    for layer in layers:
        x = layer(x)
    return x


def logits_and_soft_targets(rng):
    """Logits ~ 3 N(0, 1) and targets in [0, 1], both differentiated (soft labels can be learned)."""
    return (Tensor(3 * rng.standard_normal((3, 4)), requires_grad=True),
            Tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True))


def probabilities_and_soft_targets(rng):
    """Probabilities in [0.05, 0.95], away from the clamped log(0), and targets in [0, 1]."""
    return (Tensor(rng.uniform(0.05, 0.95, (3, 4)), requires_grad=True),
            Tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True))


def logits_and_classes(rng):
    """Logits (N, C) = (3, 4) and integer class indices (not differentiated)."""
    return (Tensor(rng.standard_normal((3, 4)), requires_grad=True), rng.integers(0, 4, 3))


LAYER_CASES = [
    LayerCase("Linear", lambda: nn.Linear(4, 3), randn(2, 4)),
    LayerCase("Linear_no_bias_3d_input", lambda: nn.Linear(4, 3, bias=False), randn(2, 5, 4)),
    LayerCase("Conv2d", lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), randn(2, 2, 5, 5)),
    LayerCase("Conv2d_rect_dilated_no_bias",
              lambda: nn.Conv2d(2, 2, (3, 2), padding=(1, 0), dilation=(1, 2), bias=False), randn(2, 2, 5, 5)),
    LayerCase("ConvTranspose2d",
              lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), randn(2, 3, 3, 3)),
    LayerCase("ConvTranspose2d_no_bias", lambda: nn.ConvTranspose2d(2, 2, 2, bias=False), randn(2, 2, 3, 3)),
    LayerCase("Embedding", lambda: nn.Embedding(5, 3), lambda rng: (np.array([[0, 2], [2, 4]]),)),
    LayerCase("ReLU", nn.ReLU, away_from_zero(3, 4)),
    LayerCase("LeakyReLU", lambda: nn.LeakyReLU(0.2), away_from_zero(3, 4)),
    LayerCase("Tanh", nn.Tanh, randn(3, 4)),
    LayerCase("Sigmoid", nn.Sigmoid, randn(3, 4)),
    LayerCase("Flatten", nn.Flatten, randn(2, 3, 2, 2)),
    LayerCase("Unflatten", lambda: nn.Unflatten(1, (3, 2, 2)), randn(2, 12)),
    LayerCase("Reshape", lambda: nn.Reshape(-1, 3, 4), randn(2, 12)),
    LayerCase("Dropout", lambda: nn.Dropout(0.4), randn(4, 5), call=reseeded),
    LayerCase("Dropout_eval", evaluating(lambda: nn.Dropout(0.4)), randn(4, 5)),
    # Training-mode batch norm needs exact second derivatives: a critic with batch norm under a
    # gradient penalty follows them.
    LayerCase("BatchNorm1d", lambda: nn.BatchNorm1d(3), randn(4, 3)),
    LayerCase("BatchNorm1d_sequence", lambda: nn.BatchNorm1d(3), randn(3, 3, 2)),
    LayerCase("BatchNorm1d_eval", evaluating(lambda: nn.BatchNorm1d(3)), randn(4, 3)),
    LayerCase("BatchNorm2d", lambda: nn.BatchNorm2d(3), randn(2, 3, 3, 3)),
    LayerCase("BatchNorm2d_eval", evaluating(lambda: nn.BatchNorm2d(3)), randn(2, 3, 3, 3)),
    LayerCase("BatchNorm2d_batch_statistics_only",
              lambda: nn.BatchNorm2d(2, affine=False, track_running_stats=False), randn(3, 2, 2, 2)),
    LayerCase("Sequential", lambda: nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)), randn(3, 4)),
    # ModuleList and ModuleDict have no forward: ``call`` is the forward a user writes around
    # them, so the gradient flows through every Module the container holds.
    LayerCase("ModuleList", lambda: nn.ModuleList([nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)]), randn(3, 4),
              call=in_turn),
    LayerCase("ModuleDict", lambda: nn.ModuleDict({"body": nn.Linear(4, 5), "act": nn.Tanh(), "head": nn.Linear(5, 2)}),
              randn(3, 4), call=lambda heads, x: heads["head"](heads["act"](heads["body"](x)))),
    # Spectral normalisation in eval mode, where u and v stay fixed and weight = W / (uᵀ W v) is
    # one function of W. (In training mode every call moves u and v; test_spectral_norm.py checks
    # that case at convergence.) dim=1 for ConvTranspose2d, whose weight is (in, out, kh, kw).
    LayerCase("Linear_spectral_norm", evaluating(lambda: spectral_norm(nn.Linear(4, 3))), randn(2, 4)),
    LayerCase("Conv2d_spectral_norm", evaluating(lambda: spectral_norm(nn.Conv2d(2, 3, 3, padding=1))),
              randn(2, 2, 4, 4)),
    LayerCase("ConvTranspose2d_spectral_norm",
              evaluating(lambda: spectral_norm(nn.ConvTranspose2d(2, 3, 3, stride=2))), randn(2, 2, 3, 3)),
    # The GAN networks of minigan.gan.models, with bodies shrunk to one layer. Their inputs and
    # weights have more than FULL_MODE_LIMIT elements, so those are checked along a random direction.
    LayerCase("Generator_conditional",
              lambda: Generator(nn.Sequential(nn.Linear(3 + 2, 784), nn.Tanh()), z_dim=3, num_classes=4, embed_dim=2),
              with_labels((2, 3), 4)),
    LayerCase("Discriminator_conditional_mlp",
              lambda: Discriminator(nn.Sequential(nn.Linear(784 + 2, 1)), num_classes=4, embed_dim=2),
              with_labels((2, 1, 28, 28), 4)),
    LayerCase("Discriminator_conditional_conv",
              lambda: Discriminator(nn.Sequential(nn.Conv2d(2, 1, 4, stride=4), nn.LeakyReLU(0.2), nn.Flatten(),
                                                  nn.Linear(49, 1)),
                                    num_classes=3, embed_dim=784, label_as_channel=True),
              with_labels((2, 1, 28, 28), 3)),
    # InfoGAN's Q head, and D and Q on one shared body (minigan.gan.infogan): every output checked.
    LayerCase("QHead", lambda: QHead(4, 3, 2, hidden=5), randn(6, 4),
              call=lambda q, h: concatenate(q(h), axis=1)),
    LayerCase("InfoDiscriminator",
              lambda: InfoDiscriminator(nn.Sequential(nn.Flatten(), nn.Linear(784, 4), nn.Tanh()), 4, 3, 2, q_hidden=5),
              randn(3, 1, 28, 28), call=lambda d, x: concatenate([d(x), *d.with_codes(x)[1]], axis=1)),
    # The judge of minigan.metrics, whole (checked along a random direction, like the GAN networks).
    LayerCase("DigitClassifier", DigitClassifier, randn(2, 1, 28, 28)),
]

# The loss modules, with each reduction ('none' checks a random upstream gradient per element).
for _reduction in ("mean", "sum", "none"):
    LAYER_CASES += [
        LayerCase(f"BCEWithLogitsLoss_{_reduction}", lambda r=_reduction: nn.BCEWithLogitsLoss(reduction=r),
                  logits_and_soft_targets),
        LayerCase(f"BCELoss_{_reduction}", lambda r=_reduction: nn.BCELoss(reduction=r),
                  probabilities_and_soft_targets),
        LayerCase(f"MSELoss_{_reduction}", lambda r=_reduction: nn.MSELoss(reduction=r), lambda rng: (
            Tensor(rng.standard_normal((3, 4)), requires_grad=True),
            Tensor(rng.standard_normal((3, 4)), requires_grad=True))),
        LayerCase(f"CrossEntropyLoss_{_reduction}", lambda r=_reduction: nn.CrossEntropyLoss(reduction=r),
                  logits_and_classes),
    ]
del _reduction
