"""Ops that move values around without arithmetic: reshape, transpose, broadcast, index, join, pad.

Their backward rules only move the gradient back to where each value came from, so each op's
backward is another op of this file (reshape <-> reshape, broadcast_to <-> sum_to, ...).
"""
import operator

from ..autograd import Function
from .. import backend
from ..tensor import Tensor, as_tensor, default, pytorch_alias


class ReshapeOp(Function):
    """The graph node of ``reshape`` (just below, with the formula and the backward rule)."""
    may_return_view = True  # NumPy returns a view where it can: the two share a version counter
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


def reshape(x, shape):
    """x with a new shape (one entry may be -1).

    y = x viewed with the new shape;  backward: gx = reshape(gy, x.shape)
    """
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if -1 in shape:  # resolve it, so that a reshape to the same shape can be skipped
        known = 1
        for n in shape:
            known *= n if n != -1 else 1
        if shape.count(-1) > 1 or known == 0 or x.size % known:
            raise ValueError(f"reshape: cannot view a tensor of shape {x.shape} ({x.size} elements) "
                             f"as {shape}")
        shape = tuple(x.size // known if n == -1 else n for n in shape)
    if shape == x.shape:
        return x
    return ReshapeOp(shape)(x)


class TransposeOp(Function):
    """The graph node of ``transpose`` (just below, with the formula and the backward rule)."""
    may_return_view = True  # NumPy returns a view where it can: the two share a version counter
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return transpose(gy)
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a % len(self.axes)] = i
        return transpose(gy, tuple(inverse))


def transpose(x, axes=None):
    """x with its axes reversed (axes=None) or permuted as ``axes`` says.

    y = x with its axes permuted;  backward: gx = transpose(gy, the inverse permutation)
    """
    x = as_tensor(x)
    if axes is not None:
        axes = tuple(axes)
        if sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes "
                             f"of a tensor of shape {x.shape}")
    return TransposeOp(axes)(x)


class BroadcastToOp(Function):
    """The graph node of ``broadcast_to`` (just below, with the formula and the backward rule)."""
    may_return_view = True  # NumPy returns a view where it can: the two share a version counter
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


def broadcast_to(x, shape):
    """x repeated (without copying) to ``shape`` by NumPy's broadcasting rules.

    y = x repeated along the broadcast axes;  backward: gx = sum_to(gy, x.shape)
    """
    x = as_tensor(x)
    shape = tuple(shape)
    return x if x.shape == shape else BroadcastToOp(shape)(x)


class SumToOp(Function):
    """The graph node of ``sum_to`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape) if lead else y

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


def sum_to(x, shape):
    """x summed down to ``shape``: the inverse of ``broadcast_to``. The gradient of every
    broadcasting op is reduced with it: if b of shape (3,) was added to a of shape (2, 3), b's
    gradient is the (2, 3) upstream gradient summed over axis 0.

    y = x summed over the axes that broadcasting added or stretched;  backward: gx = broadcast_to(gy, x.shape)
    """
    x = as_tensor(x)
    shape = tuple(shape)
    return x if x.shape == shape else SumToOp(shape)(x)


def _unwrap_index(index):
    """Tensors inside an index become their arrays (an index is never differentiated)."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "shape") or isinstance(p, list) for p in parts)


class GetItemOp(Function):
    """The graph node of ``getitem`` (just below, with the formula and the backward rule)."""
    may_return_view = True  # NumPy returns a view where it can: the two share a version counter
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        return ScatterAddOp(self.index, self.inputs[0].shape)(gy)


def getitem(x, index):
    """x[index]: slices, integers, None, Ellipsis, integer arrays and boolean masks.

    y = x[index];  backward: gx = zeros(x.shape) with gy added at x[index] (the op ScatterAddOp,
    below: repeated indices add up).
    """
    return GetItemOp(_unwrap_index(index))(as_tensor(x))


class ScatterAddOp(Function):
    """y = zeros(shape) with y[index] += x;  backward: gx = gy[index]

    GetItemOp's gradient. With basic indexing (slices) each position is hit once and plain
    assignment does; advanced (array) indices may repeat, so ``add.at`` sums them.
    """
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, x):
        xp = backend.get_array_module(x)
        y = xp.zeros(self.shape, dtype=x.dtype)
        if _is_advanced(self.index):
            xp.add.at(y, self.index, x)
        else:
            y[self.index] = x
        return y

    def backward(self, gy):
        return getitem(gy, self.index)


class ConcatenateOp(Function):
    """The graph node of ``concatenate`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        xp = backend.get_array_module(*xs)
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        axis = self.axis % gy.ndim
        grads, start = [], 0
        for x in self.inputs:
            stop = start + x.shape[axis]
            index = (slice(None),) * axis + (slice(start, stop),)
            grads.append(getitem(gy, index))
            start = stop
        return tuple(grads)


def concatenate(xs, axis=default(0), *, dim=None):
    """Tensors joined along an existing axis (``cat`` is the same function; ``dim`` is PyTorch's
    name for ``axis``, pass one).

    y = [x1, x2, ...] joined along ``axis``;  backward: gx_i = gy sliced back to x_i's part
    """
    axis = pytorch_alias("concatenate", "axis", axis, "dim", dim)
    xs = _same_float_dtype(xs)
    if not xs:
        raise ValueError("concatenate needs at least one tensor")
    return ConcatenateOp(axis)(*xs)


class PadOp(Function):
    """The graph node of ``pad`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward needs only the inputs' shapes

    def __init__(self, widths, value=0.0):
        self.widths, self.value = widths, value

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, gy):
        index = tuple(slice(before, n - after) for (before, after), n in zip(self.widths, gy.shape))
        return getitem(gy, index)


def pad(x, pad, value=0.0):
    """x padded with a constant. ``pad`` is either PyTorch's flat form (left, right, top, bottom,
    ...), last axis first, or NumPy's per-axis pairs ((before, after), ...).

    y = x with ``value`` around it;  backward: gx = gy with the padding sliced off
    """
    x = as_tensor(x)
    pad = tuple(pad)
    if pad and all(isinstance(p, (tuple, list)) for p in pad):
        if len(pad) != x.ndim:
            raise ValueError(f"pad: got {len(pad)} (before, after) pairs for a tensor of shape {x.shape}")
        widths = tuple((int(a), int(b)) for a, b in pad)
    else:
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise ValueError(f"pad: PyTorch-style pad needs an even number of widths, at most 2 per "
                             f"axis, got {pad} for a tensor of shape {x.shape}")
        pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
        widths = tuple([(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1])
    if any(a < 0 or b < 0 for a, b in widths):
        raise ValueError(f"pad: widths must be non-negative, got {pad}")
    return PadOp(widths, value)(x)


# --- compositions: made of the ops above, so their backward comes with them ----------------------

def permute(x, axes):
    """x with its axes permuted (PyTorch's name for ``transpose(x, axes)``).

    y = transpose(x, axes);  backward: that of transpose.
    """
    return transpose(x, axes)


def flatten(x, start_dim=0, end_dim=-1):
    """Axes ``start_dim`` .. ``end_dim`` merged into one (PyTorch's semantics).

    y = reshape(x, merged shape);  backward: that of reshape.
    """
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = start_dim % x.ndim, end_dim % x.ndim
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    merged = 1
    for n in x.shape[start:end + 1]:
        merged *= n
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def squeeze(x, axis=None, *, dim=None):
    """x without its axes of length 1 (all of them, or only ``axis``, an int or a tuple; ``dim``
    is PyTorch's name for it). A chosen axis whose length is not 1 stays, as in PyTorch.

    y = reshape(x, shape without those axes);  backward: that of reshape.
    """
    axis = pytorch_alias("squeeze", "axis", axis, "dim", dim)
    x = as_tensor(x)
    if axis is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    axes = {_check_axis(a, x.ndim, "squeeze") for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes or n != 1))


def unsqueeze(x, axis=None, *, dim=None):
    """x with a new axis of length 1 at position ``axis`` (``dim`` is PyTorch's name for it; pass
    one of the two).

    y = reshape(x, shape with the new axis);  backward: that of reshape.
    """
    axis = pytorch_alias("unsqueeze", "axis", axis, "dim", dim)
    if axis is None:
        raise TypeError("unsqueeze() needs the position of the new axis: axis=... (or dim=...)")
    x = as_tensor(x)
    axis = _check_axis(axis, x.ndim + 1, "unsqueeze")  # the result has one more axis
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def _check_axis(axis, ndim, op):
    """``axis`` as a non-negative axis of a tensor with ``ndim`` axes (negative ones count from
    the end); one out of range is an error rather than a silent wrap-around."""
    try:
        axis = operator.index(axis)  # Python and NumPy ints
    except TypeError:
        raise TypeError(f"{op}: axis (dim) must be an int, got {type(axis).__name__} {axis!r:.40}") from None
    if not -ndim <= axis < ndim:
        raise IndexError(f"{op}: axis (dim) {axis} is out of range; expected {-ndim} <= axis < {ndim}")
    return axis % ndim


def _same_float_dtype(xs):
    """Tensors from ``xs``; integer ones take the dtype of the first float one (no float64 drift)."""
    xs = [as_tensor(x) for x in xs]
    like = next((x for x in xs if x.dtype.kind == "f"), None)
    return [as_tensor(x, like=like) for x in xs] if like is not None else xs


cat = concatenate


def stack(xs, axis=default(0), *, dim=None):
    """Tensors of one shape joined along a new axis (``dim`` is PyTorch's name for ``axis``; pass
    one).

    y = concatenate([unsqueeze(x_i, axis) ...], axis);  backward: through those ops.
    """
    axis = pytorch_alias("stack", "axis", axis, "dim", dim)
    xs = _same_float_dtype(xs)
    if not xs:
        raise ValueError("stack needs at least one tensor")
    shapes = {x.shape for x in xs}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape, got shapes {sorted(shapes)}")
    return concatenate([unsqueeze(x, axis) for x in xs], axis=axis % (xs[0].ndim + 1))
