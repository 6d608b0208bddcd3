"""Elementwise maths: exp, log, sqrt, abs, clip, maximum, minimum, where.

Kinks: abs at 0, clip at its bounds and maximum/minimum at ties are not differentiable. We use
the same conventions as PyTorch there (abs'(0) = 0, clip passes the gradient on its closed
interval, ties split the gradient evenly), and the gradient checks test away from the kinks,
where finite differences are meaningful.
"""
import numpy as np

from .. import backend
from ..diagnostics import warn
from ..autograd import Function
from ..tensor import as_float_tensor, as_tensor, binary_operands
from .shaping import sum_to


class ExpOp(Function):
    """The graph node of ``exp`` (just below, with the formula and the backward rule)."""
    saves_inputs, saves_output = False, True  # backward uses the output y only

    def forward(self, x):
        return backend.get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output


def exp(x):
    """e^x, elementwise.

    y = e^x;  backward: gx = gy * y
    """
    return ExpOp()(as_float_tensor(x))


class LogOp(Function):
    """The graph node of ``log`` (just below, with the formula and the backward rule)."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        if (x <= 0).any():
            warn(
                f"log got {int((x <= 0).sum())} value(s) <= 0, giving -inf/NaN. In a loss this usually "
                "means a probability reached exactly 0 or 1: compute the loss from logits instead "
                "(binary_cross_entropy_with_logits, log_sigmoid, softplus)")
            with np.errstate(divide="ignore", invalid="ignore"):  # we warned better above
                return xp.log(x)
        return xp.log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


def log(x):
    """Natural logarithm, elementwise; warns when some x <= 0 (the result there is -inf or NaN and
    will poison a loss).

    y = ln(x);  backward: gx = gy / x
    """
    return LogOp()(as_float_tensor(x))


class SqrtOp(Function):
    """The graph node of ``sqrt`` (just below, with the formula and the backward rule)."""
    saves_inputs, saves_output = False, True  # backward uses the output y only

    def forward(self, x):
        return backend.get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.output)


def sqrt(x):
    """Square root, elementwise.

    y = sqrt(x);  backward: gx = gy / (2 y)
    """
    return SqrtOp()(as_float_tensor(x))


class AbsOp(Function):
    """The graph node of ``abs`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward uses what forward kept (a mask), not the inputs

    def forward(self, x):
        xp = backend.get_array_module(x)
        self.sign = xp.sign(x)
        return xp.abs(x)

    def backward(self, gy):
        return gy * self.sign


def abs(x):
    """|x|, elementwise.

    y = |x|;  backward: gx = gy * sign(x)   (sign(0) = 0: the subgradient PyTorch picks)
    """
    return AbsOp()(as_tensor(x))


class ClipOp(Function):
    """The graph node of ``clip`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward uses what forward kept (a mask), not the inputs

    def __init__(self, lo, hi):
        # Python numbers, so that NumPy keeps x's dtype (an np.float64 bound would promote float32)
        self.lo, self.hi = (b.item() if hasattr(b, "item") else b for b in (lo, hi))

    def forward(self, x):
        xp = backend.get_array_module(x)
        inside = xp.ones(x.shape, dtype=bool)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        self.mask = inside.astype(x.dtype)
        return xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        return gy * self.mask


def clip(x, min=None, max=None):
    """x limited to [min, max]; either bound may be None (``clamp`` is the same function).

    y = min(max(x, min), max);  backward: gx = gy * [min <= x <= max]
    """
    if min is None and max is None:
        raise ValueError("clip needs at least one of min and max")
    return ClipOp(min, max)(as_tensor(x))


class MaximumOp(Function):
    """The graph node of ``maximum`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward uses what forward kept (a mask), not the inputs

    def forward(self, a, b):
        xp = backend.get_array_module(a, b)
        # the share of the gradient that goes to a: 1 where a wins, 1/2 on ties, 0 where b wins
        self.wins_a = ((a > b) + 0.5 * (a == b)).astype(xp.result_type(a, b))
        return xp.maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * self.wins_a, a.shape) if need_a else None,
                sum_to(gy * (1 - self.wins_a), b.shape) if need_b else None)


def maximum(a, b):
    """The larger of a and b, elementwise, with broadcasting.

    y = max(a, b);  backward: the gradient goes to the larger input (ga = gy * [a > b],
    gb = gy * [b > a]) and is split in half on ties.
    """
    return MaximumOp()(*binary_operands(a, b))


class MinimumOp(MaximumOp):
    """The graph node of ``minimum`` (just below, with the formula and the backward rule)."""

    def forward(self, a, b):
        xp = backend.get_array_module(a, b)
        self.wins_a = ((a < b) + 0.5 * (a == b)).astype(xp.result_type(a, b))
        return xp.minimum(a, b)


def minimum(a, b):
    """The smaller of a and b, elementwise, with broadcasting.

    y = min(a, b);  backward: the gradient goes to the smaller input, split in half on ties.
    """
    return MinimumOp()(*binary_operands(a, b))


class WhereOp(Function):
    """The graph node of ``where`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward uses what forward kept (a mask), not the inputs

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return backend.get_array_module(a, b).where(self.cond, a, b)

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        zero = gy * 0  # keeps dtype and device; recorded, so double backward still works
        return (sum_to(where(self.cond, gy, zero), a.shape) if need_a else None,
                sum_to(where(self.cond, zero, gy), b.shape) if need_b else None)


def where(cond, a, b):
    """a where cond is true, else b (cond: a boolean Tensor or array, a constant).

    y = a if cond else b;  backward: ga = sum_to(gy if cond else 0, a.shape),
    gb = sum_to(0 if cond else gy, b.shape)
    """
    cond = cond.data if hasattr(cond, "creator") else cond
    a, b = binary_operands(a, b)
    xp = backend.get_array_module(a.data, b.data, cond)
    return WhereOp(xp.asarray(cond, dtype=bool))(a, b)


clamp = clip
