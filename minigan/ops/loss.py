"""Losses: binary cross-entropy (from logits, and from probabilities) and mean squared error.

GAN discriminators output logits, and ``binary_cross_entropy_with_logits`` is the loss to use:
written as softplus(x) - t*x it never overflows and never takes log(0), for any logit.
"""
import numpy as np

from .. import backend
from ..diagnostics import warn
from ..autograd import Function, ShapeError
from .nonlinear import log_softmax, sigmoid
from ..tensor import Tensor, as_tensor
from .elementwise import clip, log
from .reduction import mean, sum
from .shaping import getitem

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _same_shape(x, target, op):
    """Losses refuse to broadcast: logits (N, 1) against targets (N,) would silently give (N, N)."""
    if x.shape != target.shape:
        raise ShapeError(f"{op}: input has shape {x.shape} but target has shape {target.shape}; they must "
                         "match (reshape one, e.g. target.reshape(input.shape))")


class BCEWithLogitsOp(Function):
    """The graph node of ``binary_cross_entropy_with_logits`` (just below, with the formula and
    the backward rule)."""

    def forward(self, x, t):
        xp = backend.get_array_module(x, t)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x))) - t * x

    def backward(self, gy):
        x, t = self.inputs
        need_x, need_t = self.needs_input_grad
        return (gy * (sigmoid(x) - t) if need_x else None,
                -(gy * x) if need_t else None)


def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    """BCE of sigmoid(logits) against targets in [0, 1], computed stably from the logits.

    loss = -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = softplus(x) - t x;
    backward: gx = gy * (sigmoid(x) - t),  gt = -gy * x
    Fused: one op rather than three, since it is the loss of every GAN step, and sigmoid(x) - t
    is the gradient every textbook derives for it.
    """
    x = as_tensor(logits)
    t = as_tensor(targets, like=x)
    _same_shape(x, t, "binary_cross_entropy_with_logits")
    return _reduce(BCEWithLogitsOp()(x, t), reduction, "binary_cross_entropy_with_logits")


class BinaryCrossEntropyOp(Function):
    """The graph node of ``binary_cross_entropy`` (just below, with the formula and the backward rule)."""

    def forward(self, p, t):
        xp = backend.get_array_module(p, t)
        with np.errstate(divide="ignore"):  # log(0) = -inf is clamped just below
            log_p = xp.maximum(xp.log(p), -100)
            log_1mp = xp.maximum(xp.log(1 - p), -100)
        return -(t * log_p + (1 - t) * log_1mp)

    def backward(self, gy):
        p, t = self.inputs
        need_p, need_t = self.needs_input_grad
        gp = gy * (p - t) / clip(p * (1 - p), 1e-12, None) if need_p else None
        gt = gy * (clip(log(1 - p), -100, None) - clip(log(p), -100, None)) if need_t else None
        return gp, gt


def binary_cross_entropy(probs, targets, reduction="mean"):
    """BCE of probabilities in [0, 1] against targets. Prefer the ``_with_logits`` form: here a
    probability that rounded to exactly 0 or 1 makes log(0), clamped to -100 (with a warning).

    loss = -[t log p + (1 - t) log(1 - p)], each log clamped at -100 as PyTorch does;
    backward: gp = gy * (p - t) / max(p (1 - p), 1e-12),  gt = gy * (log(1 - p) - log p)
    """
    p = as_tensor(probs)
    t = as_tensor(targets, like=p)
    _same_shape(p, t, "binary_cross_entropy")
    if ((p.data < 0) | (p.data > 1)).any():
        raise ValueError("binary_cross_entropy: every input must be a probability in [0, 1]; got values "
                         f"from {float(p.data.min()):.4g} to {float(p.data.max()):.4g}. If these are logits, "
                         "use binary_cross_entropy_with_logits")
    if ((p.data == 0) | (p.data == 1)).any():
        warn("binary_cross_entropy: some probabilities are exactly 0 or 1, so log(0) = -inf was "
                      "clamped to -100 (as PyTorch does) and the gradient there is wrong. Compute the loss "
                      "from logits with binary_cross_entropy_with_logits instead")
    return _reduce(BinaryCrossEntropyOp()(p, t), reduction, "binary_cross_entropy")


def mse_loss(input, target, reduction="mean"):
    """The mean squared error; shapes must match (no broadcasting).

    loss = mean((input - target)^2);  backward: through sub, mul and mean,
    g_input = gy * 2 (input - target) / n.
    """
    x = as_tensor(input)
    t = as_tensor(target, like=x)
    _same_shape(x, t, "mse_loss")
    d = x - t
    return _reduce(d * d, reduction, "mse_loss")


def cross_entropy(logits, targets, reduction="mean"):
    """Multi-class cross-entropy of ``logits`` (N, C) against integer class ``targets`` (N,)
    (PyTorch's F.cross_entropy, without weights).

    loss_n = -log_softmax(logits_n)[targets_n];  backward: through log_softmax and getitem,
    g_logits = gy * (softmax(logits) - onehot(targets)).
    """
    x = as_tensor(logits)
    t = targets.data if isinstance(targets, Tensor) else targets
    xp = backend.get_array_module(x.data)
    t = xp.asarray(t)
    if x.ndim != 2 or t.shape != (x.shape[0],):
        raise ShapeError(f"cross_entropy: expected logits (N, C) and targets (N,), got {x.shape} and {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be class indices (integers), got dtype {t.dtype}")
    if t.size and (int(t.min()) < 0 or int(t.max()) >= x.shape[1]):
        raise ValueError(f"cross_entropy: targets must be in [0, {x.shape[1]}), got {int(t.min())}..{int(t.max())}")
    picked = getitem(log_softmax(x, axis=1), (xp.arange(x.shape[0]), t))
    return _reduce(-picked, reduction, "cross_entropy")
