"""The ops as functions: ``import minigan.functional as F`` then ``F.relu(x)``, ``F.matmul(a, b)``...

Each function lives in ``minigan/ops/`` right after the ``...Op`` class (the graph node) that it
calls, and its docstring gives the forward formula and the backward rule: ``help(F.mul)``.
The functions are of three kinds:

* primitives, one Op each with a backward written by hand: add, sub, mul, div, neg, pow (with a
  number exponent), matmul, exp, log, sqrt, abs, clip (clamp), maximum, minimum, where, sum, mean,
  max, min, reshape, transpose, broadcast_to, sum_to, getitem, concatenate (cat), pad, relu,
  leaky_relu, sigmoid, tanh, softplus, binary_cross_entropy, conv2d and conv_transpose2d;
* fused, one Op where a composition would give the same result, for speed: linear (transpose,
  matmul and add) and binary_cross_entropy_with_logits (softplus(x) - t x, the loss of every GAN
  step);
* compositions, made of the ops above, so their backward (to any order) comes with them: var,
  permute, flatten, squeeze, unsqueeze, stack, log_sigmoid, softmax, log_softmax, mse_loss,
  cross_entropy, dropout, batch_norm, embedding, and pow with a tensor exponent;
* not differentiable, no Op: argmax and argmin (indices).

The end of this file binds Tensor's operators and methods (``x * w``, ``x.sum()``) to them, and
the in-place updates (``x += y``, ``x.zero_()``), whose rules need grad mode as well as the ops.

Ops that take an axis accept PyTorch's spelling too: ``dim`` for ``axis`` and ``keepdim`` for
``keepdims`` (``F.softmax(x, dim=1)``, ``x.sum(dim=0, keepdim=True)``); passing both spellings of
one argument is an error.
"""
import numpy as np

from .ops.nonlinear import leaky_relu, log_sigmoid, log_softmax, relu, sigmoid, softmax, softplus, tanh
from .ops.arithmetic import add, div, mul, neg, pow, sub
from .ops.convolution import conv2d, conv_transpose2d
from .ops.elementwise import abs, clamp, clip, exp, log, maximum, minimum, sqrt, where
from .ops.linalg import linear, matmul
from .ops.loss import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .ops.layer_functions import batch_norm, dropout, embedding
from .ops.reduction import argmax, argmin, max, mean, min, sum, var
from .ops.shaping import (broadcast_to, cat, concatenate, flatten, getitem, pad, permute, reshape,
                        squeeze, stack, sum_to, transpose, unsqueeze)
from .autograd import ShapeError, is_grad_enabled
from .autograd import backward as _backward
from .tensor import Tensor

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow",
    "matmul", "linear",
    "exp", "log", "sqrt", "abs", "clip", "clamp", "maximum", "minimum", "where",
    "sum", "mean", "var", "max", "min", "argmax", "argmin",
    "reshape", "transpose", "permute", "flatten", "squeeze", "unsqueeze", "broadcast_to", "sum_to",
    "getitem", "concatenate", "cat", "stack", "pad",
    "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "log_sigmoid", "softmax", "log_softmax",
    "binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss", "cross_entropy",
    "conv2d", "conv_transpose2d", "dropout", "batch_norm", "embedding",
]


# --- Tensor's operators and methods ------------------------------------------------------------
# tensor.py defines Tensor without them, so that it imports nothing above it. They are bound
# here, in one place, where every op they call is defined: ``x * w`` runs ``mul(x, w)`` below.

def _shape_args(args):
    """``x.reshape(2, 3)`` and ``x.reshape((2, 3))`` mean the same (as in PyTorch)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, other: sub(other, self)
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, other: div(other, self)
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda self, other: pow(other, self)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.__getitem__ = getitem

Tensor.backward = _backward
Tensor.sum, Tensor.mean, Tensor.var, Tensor.max, Tensor.min = sum, mean, var, max, min
Tensor.argmax, Tensor.argmin = argmax, argmin
Tensor.exp, Tensor.log, Tensor.sqrt, Tensor.abs = exp, log, sqrt, abs
Tensor.clip = Tensor.clamp = clip
Tensor.relu, Tensor.sigmoid, Tensor.tanh = relu, sigmoid, tanh
Tensor.softmax, Tensor.log_softmax = softmax, log_softmax
Tensor.flatten, Tensor.squeeze, Tensor.unsqueeze, Tensor.broadcast_to = flatten, squeeze, unsqueeze, broadcast_to
Tensor.reshape = Tensor.view = lambda self, *shape: reshape(self, _shape_args(shape))


def _transpose_method(self, *axes):
    """``x.transpose(dim0, dim1)``: x with those two axes swapped, as in PyTorch. Other forms
    follow NumPy: ``x.transpose()`` reverses the axes and ``x.transpose(2, 0, 1)`` or
    ``x.transpose((2, 0, 1))`` permutes them (``x.permute`` says so more plainly).

    Two ints always mean a swap, even on a 2-D tensor where NumPy would read (0, 1) as "keep the
    order": a PyTorch user's ``x.transpose(0, 1)`` must not silently do nothing.
    """
    if len(axes) == 2 and all(isinstance(a, int) for a in axes):
        order = list(range(self.ndim))
        for a in axes:
            if not -self.ndim <= a < self.ndim:
                raise IndexError(f"transpose: dimension {a} is out of range for a tensor of shape "
                                 f"{self.shape} (ndim {self.ndim})")
        d0, d1 = (a % self.ndim for a in axes)
        order[d0], order[d1] = order[d1], order[d0]
        return transpose(self, tuple(order))
    return transpose(self, _shape_args(axes) or None)


Tensor.transpose = _transpose_method
Tensor.permute = lambda self, *axes: permute(self, _shape_args(axes))
Tensor.T = property(transpose, doc="All axes reversed (the matrix transpose for 2-D tensors).")


# --- in-place updates: x += y, W -= lr * W.grad, x.zero_() -------------------------------------
# PyTorch's rules wherever no graph has to record the change: the values are written into the
# tensor's own array, which keeps its shape, dtype, requires_grad and leaf-ness, and its version
# counter goes up (so a graph that saved it refuses to run backward on the new values). minigan
# records no in-place op in a graph: with grad mode on and a tensor that requires grad on either
# side, ``x += y`` gives a new tensor, as ``x = x + y`` does (PyTorch would change x in place and
# record that), and ``fill_``/``zero_`` refuse.

def _refuse_leaf_that_requires_grad(t, what, instead):
    """A parameter changed in place while a graph may still use it would get a wrong gradient."""
    if t._requires_grad and t.creator is None and is_grad_enabled():
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation ({what}). "
            f"Update it inside `with minigan.no_grad():` (as optimisers do), or {instead}")


def _check_writeable(t, what):
    if not getattr(t.data.flags, "writeable", True):  # NumPy's read-only views; CuPy has none
        raise RuntimeError(f"{what}: this tensor's array is a read-only view (e.g. made by broadcast_to, "
                           "where many elements share one memory location); make a new tensor instead")


def _write_in_place(t, values, what, instead):
    """Put the array ``values`` into ``t``'s own array: the shape must be t's, the dtype castable."""
    if values.shape != t.shape:
        raise ShapeError(f"{what}: the result has shape {tuple(values.shape)} but the tensor changed in "
                         f"place has shape {t.shape}; an in-place update cannot change a tensor's shape "
                         f"({instead})")
    if not np.can_cast(values.dtype, t.dtype, casting="same_kind"):
        raise TypeError(f"{what}: the result has dtype {values.dtype}, which cannot be stored in place "
                        f"in a tensor of dtype {t.dtype} (PyTorch and NumPy refuse too); {instead}, or "
                        "convert x first, e.g. x = x.float()")
    _check_writeable(t, what)
    t._write(values)


def _in_place(op, symbol):
    """Tensor's ``__iadd__`` and friends, from the op (``add``...) that ``x + y`` runs."""
    what, instead = f"x {symbol} y", f"write x = x {symbol[:-1]} y for a new tensor"

    def update(self, other):
        _refuse_leaf_that_requires_grad(self, what, instead)
        if is_grad_enabled() and (self._requires_grad or getattr(other, "_requires_grad", False)):
            return op(self, other)  # recorded out of place: a new tensor, as x = x op y gives
        result = op(self, other)    # no graph records this, so it can go into x's own array
        _write_in_place(self, result.data, what, instead)
        return self

    update.__name__ = f"__i{op.__name__}__" if op is not div else "__itruediv__"
    update.__qualname__ = f"Tensor.{update.__name__}"
    update.__doc__ = (
        f"``x {symbol} y``: under ``no_grad()``, or when neither operand requires grad, writes "
        f"the result of ``{op.__name__}(x, y)`` into x's own array (x keeps its shape, dtype, "
        "requires_grad and leaf-ness, and its version counter goes up) and gives back x itself, "
        "as in PyTorch. With grad mode on, a leaf that requires grad refuses (as in PyTorch); "
        "otherwise, when an operand requires grad, the result is a new tensor in the graph, as "
        f"``x = x {symbol[:-1]} y`` gives: unlike PyTorch, minigan records no in-place ops, so "
        "other references to the old x do not see the change.")
    return update


Tensor.__iadd__ = _in_place(add, "+=")
Tensor.__isub__ = _in_place(sub, "-=")
Tensor.__imul__ = _in_place(mul, "*=")
Tensor.__itruediv__ = _in_place(div, "/=")
Tensor.__ipow__ = _in_place(pow, "**=")


def fill_(self, value):
    """Set every element to ``value`` in place and return the tensor (PyTorch's ``fill_``).

    ``value`` is a number or a 0-d tensor; it takes the tensor's dtype (1.7 becomes 1 in an
    integer tensor, as in PyTorch). The version counter goes up. With grad mode on, a tensor that
    requires grad refuses: a leaf in PyTorch's words, and a tensor computed by an op because
    minigan records no in-place op in its graph (its gradient would be wrong); use
    ``minigan.zeros_like(x)`` or ``x * 0 + value`` for a new tensor.
    """
    return _fill(self, value, "fill_()")


def zero_(self):
    """Set every element to 0 in place and return the tensor (PyTorch's ``zero_``): ``fill_(0)``,
    with the same rules (``W.grad.zero_()`` works; a parameter needs ``no_grad()``)."""
    return _fill(self, 0, "zero_()")


def _fill(t, value, what):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"{what} takes a number or a 0-d tensor, got a tensor of shape {value.shape}")
        value = value.item()
    if not isinstance(value, (bool, int, float, np.bool_, np.number)):
        raise TypeError(f"{what} takes a number or a 0-d tensor, got {type(value).__name__} {value!r:.40}")
    _refuse_leaf_that_requires_grad(t, what, "make a new tensor, e.g. minigan.zeros_like(x)")
    if is_grad_enabled() and t._requires_grad:
        raise RuntimeError(
            f"{what} on a tensor computed by {type(t.creator).__name__}, while grad mode is on: "
            "minigan does not record in-place ops in the graph, so gradients through this tensor "
            "would be wrong. Make a new tensor instead, e.g. minigan.zeros_like(x) or x * 0 + value")
    _check_writeable(t, what)
    t._write(value)
    return t


Tensor.fill_, Tensor.zero_ = fill_, zero_
