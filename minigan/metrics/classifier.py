"""The digit classifier that judges generated MNIST digits, and its shipped weights.

The Inception Score and FID judge ImageNet-like images with the Inception network. For 28 x 28
digits a small classifier trained on real MNIST plays that part (the "MNIST score" of GAN papers):
its class probabilities p(y|x) feed ``classifier_score`` and ``class_histogram``, and its
64-number penultimate layer is the feature space of ``frechet_distance``, ``kernel_distance``
and ``precision_recall``.

The network (``DigitClassifier``, 51,226 float32 numbers, about 200 KB):

    (N, 1, 28, 28) in [-1, 1]
    -> Conv2d(1, 16, 4, stride 2, pad 1) -> ReLU        (N, 16, 14, 14)
    -> Conv2d(16, 32, 4, stride 2, pad 1) -> ReLU       (N, 32, 7, 7)
    -> Conv2d(32, 32, 3, stride 2, pad 1) -> ReLU       (N, 32, 4, 4)
    -> Flatten -> Linear(512, 64) -> ReLU               (N, 64)    the features
    -> Linear(64, 10)                                   (N, 10)    the logits

Strided convolutions stand in for pooling (minigan has no pooling op). ``tools/train_classifier.py``
trained the shipped weights (``digit_classifier.npz``, written with ``minigan.save``); its held-out
accuracy, and which digits it was trained and tested on, are in ``digit_classifier.json`` beside
them (``classifier_info()`` reads it).
"""
import json
import os

import numpy as np

from .. import backend
from .. import functional as F
from .. import nn
from ..autograd import no_grad
from ..serialization import load
from ..tensor import Tensor

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.join(HERE, "digit_classifier.npz")
INFO = os.path.join(HERE, "digit_classifier.json")
FEATURES = 64  # the width of the feature layer


class DigitClassifier(nn.Module):
    """Three strided convolutions and two linear layers: (N, 1, 28, 28) -> logits (N, 10).

    ``features(x)`` returns the (N, 64) ReLU layer before the last linear layer.
    """

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * 4 * 4, FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, 10)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


_CACHE = {}


def load_classifier(path=None):
    """The shipped ``DigitClassifier`` (or the one saved at ``path``), in eval mode, on the CPU.

    The weights are read once per process and path; each call returns a fresh network holding
    a copy, so changing one does not change the next.
    """
    path = WEIGHTS if path is None else os.fspath(path)
    if path not in _CACHE:
        if not os.path.exists(path):
            raise FileNotFoundError(f"load_classifier: expected the classifier's weights at {path}, found no file "
                                    f"(tools/train_classifier.py writes them)")
        _CACHE[path] = load(path)
    net = DigitClassifier()  # made on minigan's default device ($MINIGAN_DEVICE may say gpu) ...
    net.load_state_dict(_CACHE[path])
    return net.to("cpu").eval()  # ... and moved to where the images it judges come from: NumPy arrays


def classifier_info():
    """What ``digit_classifier.json`` records: the held-out accuracy and the data used."""
    with open(INFO, encoding="utf-8") as f:
        return json.load(f)


def _images(images, where):
    """Images as a float32 array (N, 1, 28, 28): accepts (N, 28, 28) or (N, 784) too; values must be in [-1, 1]."""
    x = backend.as_numpy(images.data if isinstance(images, Tensor) else images)
    if x.dtype == np.uint8:
        raise TypeError(f"{where}: expected float images in [-1, 1], got uint8 pixels "
                        f"(convert them with minigan.data.to_unit_range)")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2 and x.shape[1] == 784 or x.ndim == 3 and x.shape[1:] == (28, 28):
        x = x.reshape(len(x), 1, 28, 28)
    if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
        raise ValueError(f"{where}: expected images shaped (N, 1, 28, 28), (N, 28, 28) or (N, 784), got {x.shape}")
    if x.size and (x.min() < -1.001 or x.max() > 1.001):
        raise ValueError(f"{where}: expected values in [-1, 1] (a generator's tanh range), got "
                         f"[{x.min():.3g}, {x.max():.3g}]")
    return x


def _run(images, net, batch, where):
    """(probabilities (N, 10), features (N, 64)) as float64 NumPy arrays, batch by batch, without a graph."""
    x = _images(images, where)
    net = load_classifier() if net is None else net
    probs, feats = [], []
    with no_grad():
        for i in range(0, len(x), batch):
            f = net.features(Tensor(x[i:i + batch]))
            probs.append(F.softmax(net.head(f), axis=1).numpy())
            feats.append(f.numpy())
    if not probs:
        return np.zeros((0, 10)), np.zeros((0, FEATURES))
    return np.concatenate(probs).astype(np.float64), np.concatenate(feats).astype(np.float64)


def classifier_outputs(images, net=None, batch=500):
    """Both at once: (p(y|x) (N, 10), features (N, 64)), float64; one pass through the network."""
    return _run(images, net, batch, "classifier_outputs")


def classifier_probs(images, net=None, batch=500):
    """p(y|x): softmax of the classifier's logits, (N, 10) float64, for images in [-1, 1] shaped (N, 1, 28, 28)."""
    return _run(images, net, batch, "classifier_probs")[0]


def classifier_features(images, net=None, batch=500):
    """The classifier's 64-number feature layer, (N, 64) float64, for images in [-1, 1] shaped (N, 1, 28, 28)."""
    return _run(images, net, batch, "classifier_features")[1]
