"""Reductions: sum, mean, var, max, min over all axes or some, with ``keepdims``; and argmax,
argmin (indices, not differentiable).

Each takes NumPy's argument names, ``axis`` and ``keepdims``, or PyTorch's, ``dim`` and
``keepdim``: ``x.sum(axis=1)`` is ``x.sum(dim=1)`` (one name of each pair, not both).

Every reduction's backward first puts back the reduced axes (as length-1 axes) and then
broadcasts the gradient over them: each input element contributed to one output element.
"""
import builtins

from .. import backend
from ..autograd import Function
from ..tensor import Tensor, as_float_tensor, as_tensor, default, pytorch_alias
from .shaping import broadcast_to, reshape


def _torch_names(op, axis, keepdims, dim, keepdim):
    """``axis`` and ``keepdims``, each given under NumPy's name or PyTorch's (dim, keepdim)."""
    return (pytorch_alias(op, "axis", axis, "dim", dim),
            pytorch_alias(op, "keepdims", keepdims, "keepdim", keepdim))


def _normalize_axis(axis, ndim, op):
    """``axis`` as a sorted tuple of non-negative axes (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, (int, tuple, list)):
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not isinstance(a, int) or not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} axes")
    axes = tuple(sorted({a % ndim for a in axes})) if ndim else ()
    return axes


def _spread(gy, shape, axes):
    """The gradient of a reduction over ``axes`` of a tensor of ``shape``: gy copied back over them.

    gy gets its reduced axes back as length-1 axes (unless they lead, where broadcasting adds
    them anyway), then is broadcast to ``shape``.
    """
    if gy.ndim != len(shape) and axes != tuple(range(len(axes))):
        gy = reshape(gy, tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return broadcast_to(gy, shape)


class SumOp(Function):
    """The graph node of ``sum`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x, = self.inputs
        return _spread(gy, x.shape, self.axes)


def sum(x, axis=None, keepdims=default(False), *, dim=None, keepdim=None):
    """The sum over ``axis`` (an int, a tuple, or None for all axes); ``dim`` and ``keepdim``
    are PyTorch's names for ``axis`` and ``keepdims``.

    y = sum of x over the axes;  backward: gx = broadcast_to(gy with the axes kept, x.shape)
    """
    axis, keepdims = _torch_names("sum", axis, keepdims, dim, keepdim)
    x = as_tensor(x)
    return SumOp(_normalize_axis(axis, x.ndim, "sum"), keepdims)(x)


class MeanOp(Function):
    """The graph node of ``mean`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, axes, keepdims, count):
        self.axes, self.keepdims, self.count = axes, keepdims, count

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims) * x.dtype.type(1 / self.count)

    def backward(self, gy):
        return _spread(gy * (1.0 / self.count), self.inputs[0].shape, self.axes)


def mean(x, axis=None, keepdims=default(False), *, dim=None, keepdim=None):
    """The mean over ``axis`` (or ``dim``): the sum divided by the number of elements reduced, n.

    y = sum of x over the axes / n;  backward: gx = broadcast_to(gy / n with the axes kept, x.shape)
    """
    axis, keepdims = _torch_names("mean", axis, keepdims, dim, keepdim)
    x = as_float_tensor(x)
    axes = _normalize_axis(axis, x.ndim, "mean")
    count = 1
    for a in axes:
        count *= x.shape[a]
    if count == 0:
        raise ValueError(f"mean of an empty selection (shape {x.shape}, axis {axis})")
    return MeanOp(axes, keepdims, count)(x)


class MaxOp(Function):
    """The graph node of ``max`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward uses what forward kept (a mask), not the inputs

    reduce = "max"

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        y = getattr(x, self.reduce)(axis=self.axes, keepdims=True)
        winners = (x == y).astype(x.dtype)
        self.share = winners / winners.sum(axis=self.axes, keepdims=True)
        return y if self.keepdims else y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy):
        x, = self.inputs
        return _spread(gy, x.shape, self.axes) * self.share


def max(x, axis=None, keepdims=default(False), *, dim=None, keepdim=None):
    """The largest value over ``axis`` (or ``dim``): the values only, no indices. PyTorch's
    ``x.max(dim=1)`` returns (values, indices); this is PyTorch's ``amax``.

    y = max of x over the axes;  backward: gx = gy * [x == y] / (number of ties): the gradient
    flows to the element(s) that were the maximum, shared evenly on ties (as ``amax`` does).
    """
    axis, keepdims = _torch_names("max", axis, keepdims, dim, keepdim)
    x = as_tensor(x)
    if x.size == 0:
        raise ValueError(f"max of an empty tensor (shape {x.shape})")
    return MaxOp(_normalize_axis(axis, x.ndim, "max"), keepdims)(x)


class MinOp(MaxOp):
    """The graph node of ``min`` (just below, with the formula and the backward rule)."""

    reduce = "min"


def min(x, axis=None, keepdims=default(False), *, dim=None, keepdim=None):
    """The smallest value over ``axis`` (or ``dim``): the values only, no indices (PyTorch's
    ``amin``; its ``x.min(dim=1)`` returns (values, indices)).

    y = min of x over the axes;  backward: gx = gy * [x == y] / (number of ties)
    """
    axis, keepdims = _torch_names("min", axis, keepdims, dim, keepdim)
    x = as_tensor(x)
    if x.size == 0:
        raise ValueError(f"min of an empty tensor (shape {x.shape})")
    return MinOp(_normalize_axis(axis, x.ndim, "min"), keepdims)(x)


def var(x, axis=None, keepdims=default(False), ddof=0, *, dim=None, keepdim=None):
    """The variance over ``axis`` (or ``dim``): the mean of (x - mean)^2, divided by (n - ddof)
    instead of n. ``ddof=0`` (NumPy's default, and what batch norm uses) is the biased estimate;
    PyTorch's ``torch.var`` defaults to the unbiased ``ddof=1`` (its ``correction=1``).

    y = sum((x - mean(x))^2) / (n - ddof);  backward: through the ops it is made of (mean, sub,
    mul, sum), so it is exact to any order.
    """
    axis, keepdims = _torch_names("var", axis, keepdims, dim, keepdim)
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim, "var")
    count = 1
    for a in axes:
        count *= x.shape[a]
    if count - ddof <= 0:
        raise ValueError(f"var: {count} element(s) reduced with ddof={ddof} leaves no degrees of freedom")
    centred = x - mean(x, axes, keepdims=True)
    return sum(centred * centred, axes, keepdims) * (1.0 / (count - ddof))


def argmax(x, axis=None, keepdims=default(False), *, dim=None, keepdim=None):
    """The index of the largest value over ``axis`` (or ``dim``), as an int64 Tensor; over all
    elements (of the flattened tensor) when axis is None. On ties, the first index.

    y = argmax of x over one axis;  backward: none. An index does not change when x changes a
    little, so its gradient is zero almost everywhere and the result never requires grad.
    """
    return _arg("argmax", x, axis, keepdims, dim, keepdim)


def argmin(x, axis=None, keepdims=default(False), *, dim=None, keepdim=None):
    """The index of the smallest value over ``axis`` (or ``dim``), as an int64 Tensor (first on ties).

    y = argmin of x over one axis;  backward: none (see ``argmax``).
    """
    return _arg("argmin", x, axis, keepdims, dim, keepdim)


def _arg(op, x, axis, keepdims, dim, keepdim):
    axis, keepdims = _torch_names(op, axis, keepdims, dim, keepdim)
    x = as_tensor(x)
    if x.size == 0:
        raise ValueError(f"{op} of an empty tensor (shape {x.shape})")
    if axis is not None and (not isinstance(axis, int) or isinstance(axis, bool)):
        raise TypeError(f"{op}: axis must be one int or None, got {axis!r}")
    if axis is not None and not -x.ndim <= axis < builtins.max(x.ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {x.ndim} axes")
    index = getattr(x.data, op)(axis=axis, keepdims=keepdims)
    return Tensor(backend.get_array_module(index).asarray(index, dtype="int64"))
