"""``Dropout``: during training zero each value with probability p and scale the survivors by
1 / (1 - p), so the expected activation is unchanged and evaluation (no dropout) needs no
rescaling. In eval mode (``module.eval()``) it is the identity."""
from .. import functional as F
from ..checks import check_number
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` while training; identity in eval mode.

    Masks come from minigan's seeded generator, so ``minigan.manual_seed`` repeats them.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = check_number("Dropout", "p", p, low=0, high=1, expected="a probability in [0, 1]")
        self.inplace = inplace  # accepted for PyTorch compatibility; minigan never works in place

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")
