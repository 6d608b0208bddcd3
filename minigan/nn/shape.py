"""Layers that only change the shape: ``Flatten``, ``Unflatten`` and ``Reshape``.

A DCGAN discriminator ends with Flatten (N, 128, 7, 7) -> (N, 6272) before its Linear layer;
the generator starts with the reverse, Unflatten(1, (256, 7, 7)): (N, 12544) -> (N, 256, 7, 7).
"""
from .. import functional as F
from ..checks import check_int
from ..tensor import as_tensor
from .module import Module


class Flatten(Module):
    """Merge axes start_dim..end_dim into one; the default keeps the batch axis: (N, ...) -> (N, -1)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (PyTorch's signature): Unflatten(1, (256, 7, 7))
    turns (N, 12544) into (N, 256, 7, 7). One entry of unflattened_size may be -1."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        dim = check_int("Unflatten", "dim", dim)  # any int: negative ones count from the end
        if (not isinstance(unflattened_size, (tuple, list)) or not unflattened_size or
                not all(isinstance(n, int) and (n > 0 or n == -1) for n in unflattened_size)):
            raise ValueError(f"Unflatten: unflattened_size must be a tuple of positive ints (one may be -1), "
                             f"got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        x = as_tensor(x)
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for input of shape {x.shape}")
        dim = self.dim % x.ndim
        known = 1
        for n in self.unflattened_size:
            known *= n if n > 0 else 1
        size = x.shape[dim]
        if (size % known != 0) if -1 in self.unflattened_size else (size != known):
            raise ValueError(f"Unflatten: axis {dim} of input shape {x.shape} has size {size}, which cannot "
                             f"be split into {self.unflattened_size}")
        return F.reshape(x, x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Reshape(Module):
    """``x.reshape(*shape)`` as a layer; the shape includes the batch axis, so write -1 for it:
    Reshape(-1, 256, 7, 7). (A minigan convenience; in PyTorch use Unflatten or x.view.)"""

    def __init__(self, *shape):
        super().__init__()
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if not shape or not all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
            raise TypeError(f"Reshape: expected the new shape as ints, e.g. Reshape(-1, 256, 7, 7), "
                            f"got {shape!r}")
        self.shape = shape

    def forward(self, x):
        return F.reshape(x, self.shape)

    def extra_repr(self):
        return ", ".join(str(n) for n in self.shape)
