"""Functions that layers are made of: dropout, batch normalisation, embedding lookup.

All three are compositions of ops that already have checked backward rules (mul, mean,
sqrt, getitem), so their gradients, and their second derivatives, are exact by construction:
batch norm in training mode can sit under a gradient penalty. (DeZero's batch norm uses cached
arrays in its backward, so its second derivative is not exact.)
"""
import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor, as_tensor
from .elementwise import sqrt
from .reduction import mean
from .shaping import getitem, reshape


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), so the expected
    value is unchanged (inverted dropout); the identity when not training or p == 0. Masks come
    from minigan's seeded generator (``minigan.manual_seed``).

    y = x * m / (1 - p), m ~ Bernoulli(1 - p);  backward: gx = gy * m / (1 - p) (through mul)
    """
    x = as_tensor(x)
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = _uniform_like(x.data, backend.generator(x.device)) >= p
    scale = x.dtype.type(1 / (1 - p))
    return x * Tensor(keep.astype(x.dtype) * scale)


def _uniform_like(a, generator):
    """Uniform numbers in [0, 1) of a's shape, laid out in memory as ``a`` is.

    Why: a convolution's output is an NCHW view of a (C, H, W, N) array (ops/convolution.py,
    "Layout"). A mask drawn in NCHW order would make ``x * mask`` walk one of the two in long
    strides, which costs as much as transposing it, in forward and again in backward. The numbers
    are drawn in a's memory order, so for an ordinary C-ordered ``a`` they are exactly
    ``generator.random(a.shape)``."""
    order = sorted(range(a.ndim), key=lambda i: -a.strides[i])  # a's axes, outermost in memory first
    r = generator.random(tuple(a.shape[i] for i in order), dtype=np.float32)
    return r.transpose([order.index(axis) for axis in range(a.ndim)])  # back to a's axis order


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=True,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) over the batch (and the spatial axes for 4-D input).

    training: y = (x - mean_B) / sqrt(var_B + eps) * weight + bias, with the batch's own biased
              statistics, and the running statistics updated in place (as PyTorch does):
              running = (1 - momentum) * running + momentum * batch (unbiased variance there);
    eval:     the same with running_mean and running_var in place of the batch statistics.
    backward: through the ops it is made of (mean, var, sub, sqrt, div, ...), so it is exact to
              any order.
    """
    x = as_tensor(x)
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"batch_norm: expected input of shape (N, C), (N, C, L) or (N, C, H, W), got {x.shape}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: {name} must have shape ({c},) for input {x.shape}, got {tuple(t.shape)}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)  # how per-channel vectors broadcast against x
    if training:
        count = x.size // c
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input {x.shape}")
        mu = mean(x, axes, keepdims=True)
        centred = x - mu
        sigma2 = mean(centred * centred, axes, keepdims=True)  # the biased variance, as var(x)
        if running_mean is not None:
            with no_grad():
                m = momentum
                running_mean.data *= 1 - m
                running_mean.data += m * mu.data.reshape(c)
                running_var.data *= 1 - m
                running_var.data += m * sigma2.data.reshape(c) * (count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: eval mode needs running_mean and running_var")
        mu, sigma2 = reshape(running_mean.detach(), shape), reshape(running_var.detach(), shape)
        centred = x - mu
    # (x - mean) / sqrt(var + eps) * weight, with the two per-channel factors multiplied first:
    # one multiplication of the whole batch instead of a division and a multiplication.
    scale = 1 / sqrt(sigma2 + eps)
    if weight is not None:
        scale = scale * reshape(weight, shape)
    y = centred * scale
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def embedding(indices, weight):
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``indices`` of any shape.

    y = weight[indices];  backward: through getitem: the upstream gradient of each lookup is
    added to the row it came from.
    """
    idx = indices.data if isinstance(indices, Tensor) else indices
    idx = idx if hasattr(idx, "dtype") else np.asarray(idx)  # a list or an int: on the host
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    n = weight.shape[0]
    # Checked where the indices are, before they move: host indices cost no copy from the GPU,
    # and device indices one (a single flag), not two (their min and their max).
    if idx.size and bool(((idx < 0) | (idx >= n)).any()):
        raise IndexError(f"embedding: indices must be in [0, {n}), got values from {int(idx.min())} "
                         f"to {int(idx.max())}")
    return getitem(weight, backend.get_array_module(weight.data).asarray(idx))
