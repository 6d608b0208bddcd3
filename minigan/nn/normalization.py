"""Batch normalisation layers: ``BatchNorm1d`` (input (N, C) or (N, C, L)) and ``BatchNorm2d``
(input (N, C, H, W)).

Each channel c is normalised with a mean and variance, then scaled and shifted by learned
weight[c] (init 1) and bias[c] (init 0):

    y = (x - mean) / sqrt(var + eps) * weight + bias

* training mode: mean and var are the batch's own (over N, and H, W for images; var biased),
  and the running estimates are updated in place:
  running = (1 - momentum) * running + momentum * batch_statistic (unbiased var there);
* eval mode: the running estimates are used, so one sample's output no longer depends on the
  rest of its batch.

The running statistics are buffers: saved in ``state_dict``, moved by ``to()``, never learned.
``num_batches_tracked`` counts training batches; with ``momentum=None`` the running statistics
are the plain average over all batches so far (momentum = 1 / num_batches_tracked), as in PyTorch.
"""
import numpy as np

from .. import backend
from .. import functional as F
from ..checks import check_int, check_number
from ..tensor import Tensor, as_tensor
from . import init
from .module import Module, empty_parameter


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input shapes they accept."""

    _allowed_ndim = ()
    _shape_words = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *,
                 device=None, dtype=None):
        super().__init__()
        layer = type(self).__name__
        self.num_features = check_int(layer, "num_features", num_features, low=1)
        check_number(layer, "momentum", momentum, low=0, high=1, or_none=True)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = empty_parameter((self.num_features,), device, dtype)
            self.bias = empty_parameter((self.num_features,), device, dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            stats = empty_parameter((self.num_features,), device, dtype).data  # zeros of the right kind
            self.register_buffer("running_mean", Tensor(stats.copy()))
            self.register_buffer("running_var", Tensor(stats.copy()))
            xp = backend.get_array_module(stats)
            self.register_buffer("num_batches_tracked", Tensor(xp.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        layer = type(self).__name__
        x = as_tensor(x)
        if x.ndim not in self._allowed_ndim:
            raise ValueError(f"{layer}: expected input of shape {self._shape_words}, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{layer}({self.num_features}): input has {x.shape[1]} channels on axis 1 "
                             f"(shape {x.shape}), expected {self.num_features}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if momentum is None:  # cumulative average over the batches seen so far
                momentum = 1.0 / int(self.num_batches_tracked.data)
        # Batch statistics when training, or when there are no running statistics to use.
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=use_batch_stats, momentum=momentum, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) features (or (N, C, L) sequences), per feature C."""
    _allowed_ndim = (2, 3)
    _shape_words = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) images, per channel C (statistics over N, H and W)."""
    _allowed_ndim = (4,)
    _shape_words = "(N, C, H, W)"
