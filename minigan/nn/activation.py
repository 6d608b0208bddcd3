"""Activation layers: ``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid``, each a thin wrapper of the op.

``inplace`` is accepted so that PyTorch code such as ``LeakyReLU(0.2, inplace=True)`` runs
unchanged, but minigan always returns a new tensor (an in-place op would overwrite values the
backward pass still needs).
"""
from .. import functional as F
from ..checks import check_number
from .module import Module


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise; GAN discriminators use negative_slope=0.2 so
    that fake samples still get a gradient where D's units are negative."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = check_number("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    """tanh(x), in (-1, 1): a generator's last layer, for images scaled to [-1, 1]."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), in (0, 1). For a discriminator's loss prefer logits with
    ``F.binary_cross_entropy_with_logits``, which is stable where sigmoid saturates."""

    def forward(self, x):
        return F.sigmoid(x)
