"""Is every op's backward rule the derivative of its forward? Checked numerically, case by case.

``gradcheck`` backpropagates a random upstream gradient v through the op and compares the result,
element by element, with central differences of sum(v * op(x)). ``gradgradcheck`` does the same
for the gradient itself (as a function of the inputs and of v): that is what
``create_graph=True`` relies on, e.g. for a WGAN-GP gradient penalty.
The cases, and why their inputs avoid kinks, are in ``tests/op_cases.py``.
"""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import Tensor

from op_cases import CASES

DOUBLE_CASES = [c for c in CASES if c.double]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_gradcheck(case):
    """First derivatives: backward agrees with finite differences for every input element."""
    assert minigan.gradcheck(case.fn, case.inputs())


@pytest.mark.parametrize("case", DOUBLE_CASES, ids=[c.name for c in DOUBLE_CASES])
def test_gradgradcheck(case):
    """Second derivatives: the backward pass, recorded as a graph, differentiates correctly too."""
    assert minigan.gradgradcheck(case.fn, case.inputs())


def _dense_layer_inputs():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((64, 40)), requires_grad=True)
    W = Tensor(rng.standard_normal((30, 40)) / np.sqrt(40), requires_grad=True)
    b = Tensor(rng.standard_normal(30), requires_grad=True)
    return x, W, b


def test_fast_mode_on_a_dense_layer():
    """Fast mode checks a 64x40 input along one random direction (2 forward passes per input
    instead of 2 per element), which is how large layers are checked."""
    x, W, b = _dense_layer_inputs()
    layer = lambda x, W, b: F.tanh(F.linear(x, W, b))
    assert minigan.gradcheck(layer, [x, W, b], mode="fast")
    assert minigan.gradgradcheck(layer, [x, W, b], mode="fast")


class _ForgetsTheUpstreamGradient(minigan.Function):
    """y = 3 x, with a classic bug in backward: it returns 3 instead of 3 * gy.
    (Defined in this test module, so it is not part of minigan's REGISTRY.)"""

    def forward(self, x):
        return 3 * x

    def backward(self, gy):
        return minigan.ones_like(gy) * 3


def test_fast_mode_catches_a_wrong_backward():
    """A one-direction check can still fail: fast mode must catch a backward bug on a big input."""
    x, W, b = _dense_layer_inputs()
    buggy = lambda x, W, b: _ForgetsTheUpstreamGradient()(F.linear(x, W, b))
    with pytest.raises(minigan.GradcheckError):
        minigan.gradcheck(buggy, [x, W, b], mode="fast")
