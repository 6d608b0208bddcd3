"""``DataLoader``: cut arrays into (shuffled) batches of minigan Tensors, reproducibly.

    ds = minigan.data.mnist("train")
    loader = DataLoader((ds.images, ds.labels), batch_size=64, seed=0,
                        transform=lambda x, y: (to_unit_range(x), y))
    for epoch in range(start_epoch, epochs):
        loader.set_epoch(epoch)           # optional: iterating also advances the epoch by itself
        for x, y in loader:               # x: float32 Tensor (64, 28, 28) in [-1, 1]; y: uint8 Tensor (64,)
            ...

Shuffling. Epoch ``e`` visits the samples in the order ``loader.order(e)``, a permutation drawn
from a NumPy generator seeded with ``(seed, e)``. So

* the same ``seed`` gives the same sequence of epochs, and every epoch a different order;
* a run resumed at epoch ``k`` (``loader.set_epoch(k)``) sees exactly the order epoch ``k`` had;
* without ``seed``, one is drawn from minigan's CPU generator when the loader is made, so
  ``minigan.manual_seed(s)`` before making it makes everything repeat. ``loader.seed`` shows it.

Each ``for`` loop over the loader uses the epoch in ``loader.epoch`` and then adds one to it.

Batches are gathered on the CPU (or wherever the arrays live), passed through ``transform`` (if
any), and moved to ``device`` as Tensors outside any graph.
"""
import math

import numpy as np

from .. import backend
from ..checks import check_int, check_seed
from ..tensor import Tensor


class DataLoader:
    """Batches of ``arrays`` (one array, or a tuple of arrays sharing their first dimension).

    batch_size: samples per batch. shuffle: a new order each epoch (else the stored order).
    drop_last:  skip the last, smaller batch (GAN code usually wants equal batches).
    seed:       int; None draws one from minigan's generator (see the module docstring).
    device:     where the Tensors go ("cpu", "gpu"; None = minigan's default device).
    transform:  a function called on each batch of arrays before it becomes Tensors:
                ``transform(x)`` for one array, ``transform(x, y, ...)`` for a tuple, returning
                the same structure (e.g. ``lambda x, y: (to_unit_range(x), y)``).
    """

    def __init__(self, arrays, batch_size, shuffle=True, drop_last=True, seed=None, device=None, transform=None):
        self.single = not isinstance(arrays, (tuple, list))
        arrays = [arrays] if self.single else list(arrays)
        if not arrays:
            raise ValueError("DataLoader needs at least one array, got an empty tuple")
        arrays = [a.data if isinstance(a, Tensor) else a for a in arrays]
        arrays = [a if hasattr(a, "shape") and hasattr(a, "dtype") else np.asarray(a) for a in arrays]
        lengths = [a.shape[0] if a.ndim else None for a in arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise ValueError(f"DataLoader arrays must share their first dimension (the sample count); "
                             f"got shapes {shapes}")
        self.arrays = arrays
        self.num_samples = lengths[0]
        self.batch_size = check_int("DataLoader", "batch_size", batch_size, low=1)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if drop_last and self.num_samples < self.batch_size:
            raise ValueError(f"batch_size {batch_size} is larger than the {self.num_samples} samples and "
                             "drop_last=True, so there would be no batches; use a smaller batch_size "
                             "or drop_last=False")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {transform!r}")
        self.transform = transform
        self.device = backend.normalize_device(device)
        seed = check_seed("DataLoader", seed, or_none=True)
        if seed is None:
            seed = int(backend.generator(backend.CPU).integers(0, 2**63 - 1))
        self.seed = seed
        self.epoch = 0

    def __len__(self):
        """The number of batches in one epoch."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def set_epoch(self, epoch):
        """Make the next pass over the loader be epoch ``epoch`` (e.g. when resuming a run)."""
        self.epoch = check_int("DataLoader.set_epoch", "epoch", epoch, low=0)

    def order(self, epoch):
        """The sample indices, in the order epoch ``epoch`` visits them (int64 NumPy array)."""
        if not self.shuffle:
            return np.arange(self.num_samples)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(self.num_samples)

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        order = self.order(epoch)
        for b in range(len(self)):
            index = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield self._batch(index)

    def _batch(self, index):
        xp = backend.get_array_module(*self.arrays)
        if xp is not np:
            index = xp.asarray(index)
        batch = [a[index] for a in self.arrays]  # fancy indexing copies: batches never alias the data
        if self.transform is not None:
            batch = self.transform(*batch)
            if self.single:
                batch = [batch]
            elif not isinstance(batch, (tuple, list)) or len(batch) != len(self.arrays):
                raise TypeError(f"transform must return {len(self.arrays)} arrays (one per input array), "
                                f"got {type(batch).__name__}")
        tensors = tuple(b if isinstance(b, Tensor) and b.device == self.device
                        else Tensor(backend.to_device(b.data if isinstance(b, Tensor) else b, self.device))
                        for b in batch)
        return tensors[0] if self.single else tensors

    def __repr__(self):
        return (f"DataLoader({self.num_samples:,} samples, batch_size={self.batch_size}, {len(self)} batches, "
                f"shuffle={self.shuffle}, seed={self.seed}, epoch={self.epoch}, device={self.device!r})")


def to_unit_range(images):
    """uint8 pixels 0..255 -> float32 in [-1, 1] (0 -> -1, 255 -> 1), the range of a tanh output.

    Takes a NumPy/CuPy array or a Tensor and returns the same kind.
    """
    data = images.data if isinstance(images, Tensor) else images
    if getattr(data, "dtype", None) != np.uint8:
        raise TypeError(f"to_unit_range expects uint8 pixels 0..255, got {getattr(data, 'dtype', type(data).__name__)}")
    out = data.astype(np.float32) / np.float32(127.5) - np.float32(1)
    return Tensor(out) if isinstance(images, Tensor) else out


def from_unit_range(x):
    """float values in [-1, 1] -> uint8 pixels 0..255 (clipped, rounded): the inverse of to_unit_range.

    Takes a NumPy/CuPy array or a Tensor (e.g. a generator's output) and returns the same kind.
    """
    data = x.data if isinstance(x, Tensor) else x
    if getattr(data, "dtype", np.dtype("O")).kind != "f":
        raise TypeError(f"from_unit_range expects floats in [-1, 1], got {getattr(data, 'dtype', type(data).__name__)}")
    xp = backend.get_array_module(data)
    out = xp.rint(xp.clip((data + 1) * 127.5, 0, 255)).astype(np.uint8)
    return Tensor(out) if isinstance(x, Tensor) else out
