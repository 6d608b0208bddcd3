"""Nonlinearities (activation functions): relu, leaky_relu, sigmoid, tanh, softplus, log_sigmoid,
softmax and log_softmax.

relu and leaky_relu have a kink at 0 where the derivative jumps; like PyTorch we use the
slope of the left side there (0 for relu, ``negative_slope`` for leaky_relu). Their gradient
checks keep inputs away from 0, where a finite difference straddling the kink would be wrong.
"""
from .. import backend
from ..autograd import Function
from ..tensor import Tensor, as_float_tensor, as_tensor, default, pytorch_alias
from .elementwise import exp, log
from .reduction import sum


class ReLUOp(Function):
    """The graph node of ``relu`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward uses what forward kept (a mask), not the inputs

    def forward(self, x):
        mask = (x > 0).astype(x.dtype)
        self.mask = Tensor(mask)  # a constant in the graph: relu'' = 0 away from the kink
        return x * mask

    def backward(self, gy):
        return gy * self.mask


def relu(x):
    """The rectifier: max(x, 0), elementwise.

    y = max(x, 0);  backward: gx = gy * [x > 0]
    """
    return ReLUOp()(as_tensor(x))


class LeakyReLUOp(Function):
    """The graph node of ``leaky_relu`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward uses what forward kept (a mask), not the inputs

    def __init__(self, negative_slope):
        self.s = negative_slope

    def forward(self, x):
        # slope = 1 where x > 0, else s. Built with three cheap passes (mask, scale, shift), not
        # xp.where(x > 0, 1, s): where with two scalars runs several times slower (a DCGAN step
        # spent 40 ms in it).
        slope = (x > 0).astype(x.dtype)
        slope *= 1 - self.s
        slope += self.s
        self.slope = Tensor(slope)  # a constant in the graph
        return x * slope

    def backward(self, gy):
        return gy * self.slope


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise (GAN discriminators use 0.2).

    y = x if x > 0 else s x;  backward: gx = gy * (1 if x > 0 else s)
    """
    return LeakyReLUOp(negative_slope)(as_tensor(x))


class SigmoidOp(Function):
    """The graph node of ``sigmoid`` (just below, with the formula and the backward rule)."""
    saves_inputs, saves_output = False, True  # backward uses the output y only

    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1, e) / (1 + e)

    def backward(self, gy):
        y = self.output
        return gy * y * (1 - y)


def sigmoid(x):
    """The logistic function, computed stably.

    y = 1 / (1 + e^-x);  backward: gx = gy * y * (1 - y)
    Computed from e = e^-|x| (never overflows) as 1 / (1 + e) for x >= 0 and e / (1 + e) for
    x < 0, so tiny values like sigmoid(-30) keep their precision instead of rounding to 0.
    """
    return SigmoidOp()(as_float_tensor(x))


class TanhOp(Function):
    """The graph node of ``tanh`` (just below, with the formula and the backward rule)."""
    saves_inputs, saves_output = False, True  # backward uses the output y only

    def forward(self, x):
        return backend.get_array_module(x).tanh(x)

    def backward(self, gy):
        y = self.output
        return gy * (1 - y * y)


def tanh(x):
    """The hyperbolic tangent, elementwise.

    y = tanh(x);  backward: gx = gy * (1 - y^2)
    """
    return TanhOp()(as_float_tensor(x))


class SoftplusOp(Function):
    """The graph node of ``softplus`` (just below, with the formula and the backward rule)."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


def softplus(x):
    """log(1 + e^x), computed stably: the smooth version of relu.

    y = log(1 + e^x);  backward: gx = gy * sigmoid(x)
    Computed as max(x, 0) + log(1 + e^-|x|): the exponent is never positive, so nothing
    overflows (softplus(1000) = 1000, softplus(-1000) = 0, no inf or NaN).
    """
    return SoftplusOp()(as_float_tensor(x))


def log_sigmoid(x):
    """log(sigmoid(x)), stable for any x (the log of a sigmoid that rounded to 0 is not).

    y = -softplus(-x);  backward: through neg and softplus, gx = gy * sigmoid(-x).
    """
    return -softplus(-as_float_tensor(x))


def log_softmax(x, axis=default(-1), *, dim=None):
    """The log of softmax along ``axis`` (``dim`` is PyTorch's name for it; pass one).

    y = x - m - log(sum(exp(x - m))), with m = max(x) so that exp never overflows (m is a
    constant: the result does not depend on it);  backward: through the ops it is made of,
    gx = gy - softmax(x) * sum(gy).
    """
    axis = pytorch_alias("log_softmax", "axis", axis, "dim", dim)
    x = as_float_tensor(x)
    m = Tensor(x.data.max(axis=axis, keepdims=True))
    shifted = x - m
    return shifted - log(sum(exp(shifted), axis=axis, keepdims=True))


def softmax(x, axis=default(-1), *, dim=None):
    """Probabilities that sum to 1 along ``axis`` (``dim`` is PyTorch's name for it; pass one).

    y_i = exp(x_i) / sum_j exp(x_j), computed as exp(log_softmax(x));  backward: through those
    ops, gx = y * (gy - sum(gy * y)).
    """
    return exp(log_softmax(x, pytorch_alias("softmax", "axis", axis, "dim", dim)))
