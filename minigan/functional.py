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
  cross_entropy, dropout, batch_norm, embedding, and pow with a tensor exponent.

The end of this file binds Tensor's operators and methods (``x * w``, ``x.sum()``) to them.

Ops that take an axis accept PyTorch's spelling too: ``dim`` for ``axis`` and ``keepdim`` for
``keepdims`` (``F.softmax(x, dim=1)``, ``x.sum(dim=0, keepdim=True)``); passing both spellings of
one argument is an error.
"""
from .ops.nonlinear import leaky_relu, log_sigmoid, log_softmax, relu, sigmoid, softmax, softplus, tanh
from .ops.arithmetic import add, div, mul, neg, pow, sub
from .ops.convolution import conv2d, conv_transpose2d
from .ops.elementwise import abs, clamp, clip, exp, log, maximum, minimum, sqrt, where
from .ops.linalg import linear, matmul
from .ops.loss import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .ops.layer_functions import batch_norm, dropout, embedding
from .ops.reduction import max, mean, min, sum, var
from .ops.shaping import (broadcast_to, cat, concatenate, flatten, getitem, pad, permute, reshape,
                        squeeze, stack, sum_to, transpose, unsqueeze)
from .autograd import backward as _backward
from .tensor import Tensor

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow",
    "matmul", "linear",
    "exp", "log", "sqrt", "abs", "clip", "clamp", "maximum", "minimum", "where",
    "sum", "mean", "var", "max", "min",
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
Tensor.exp, Tensor.log, Tensor.sqrt, Tensor.abs = exp, log, sqrt, abs
Tensor.clip = Tensor.clamp = clip
Tensor.relu, Tensor.sigmoid, Tensor.tanh = relu, sigmoid, tanh
Tensor.softmax, Tensor.log_softmax = softmax, log_softmax
Tensor.flatten, Tensor.squeeze, Tensor.unsqueeze, Tensor.broadcast_to = flatten, squeeze, unsqueeze, broadcast_to
Tensor.reshape = Tensor.view = lambda self, *shape: reshape(self, _shape_args(shape))
Tensor.transpose = lambda self, *axes: transpose(self, _shape_args(axes) or None)
Tensor.permute = lambda self, *axes: permute(self, _shape_args(axes))
Tensor.T = property(transpose, doc="All axes reversed (the matrix transpose for 2-D tensors).")
