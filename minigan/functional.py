"""The ops as functions: ``import minigan.functional as F`` then ``F.relu(x)``, ``F.matmul(a, b)``...

Each function here checks and converts its arguments, then calls a ``Function`` subclass from
``minigan/ops/`` whose docstring gives its forward formula and backward rule.
"""
from .ops.activation import leaky_relu, log_sigmoid, log_softmax, relu, sigmoid, softmax, softplus, tanh
from .ops.arithmetic import add, div, mul, neg, pow, sub
from .ops.conv import conv2d, conv_transpose2d
from .ops.elementwise import abs, clamp, clip, exp, log, maximum, minimum, sqrt, where
from .ops.linalg import linear, matmul
from .ops.loss import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .ops.nn import batch_norm, dropout, embedding
from .ops.reduction import max, mean, min, sum, var
from .ops.shape import (broadcast_to, cat, concatenate, flatten, getitem, pad, permute, reshape,
                        squeeze, stack, sum_to, transpose, unsqueeze)

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
