"""``DataLoader``: cut arrays, or a dataset, into (shuffled) batches of minigan Tensors, reproducibly.

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

Arrays or a dataset. Arrays held in memory are cut with one fancy index per batch (``x[index]``),
which is fast. A map-style dataset, as in PyTorch, is any object with ``__len__`` and
``__getitem__`` (``dataset[i]`` is sample i, for i in ``range(len(dataset))``): use one when
samples are made on demand (read from disk, augmented). Each batch is then ``dataset[i]`` for
each index, stacked: one array per field when samples are tuples, e.g. ``(image, label)``.
Fields may be arrays, Tensors, NumPy scalars or Python numbers (labels); numbers become arrays
as ``minigan.tensor`` makes them (int -> int64, float -> float32; PyTorch would make float64).
Both kinds of data visit the same indices in the same order for the same seed.
"""
import math
from collections.abc import Mapping

import numpy as np

from .. import backend
from ..checks import check_int, check_seed
from ..tensor import DEFAULT_FLOAT, Tensor


_ACCEPTED = ("an array or Tensor, a tuple or list of arrays sharing their first dimension (one per "
             "field, e.g. (images, labels)), or a map-style dataset (an object with __len__ and "
             "__getitem__, whose dataset[i] is an array, a number or a tuple of them)")


class DataLoader:
    """Batches of ``dataset``: an array or Tensor, a tuple of arrays sharing their first dimension
    (one per field, e.g. ``(images, labels)``), or a map-style dataset (``__len__`` and
    ``__getitem__``; see the module docstring).

    batch_size: samples per batch. shuffle: a new order each epoch (else the stored order).
    drop_last:  skip the last, smaller batch (GAN code usually wants equal batches).
    seed:       int; None draws one from minigan's generator (see the module docstring).
    device:     where the Tensors go ("cpu", "gpu"; None = minigan's default device).
    transform:  a function called on each batch of arrays before it becomes Tensors:
                ``transform(x)`` for one array, ``transform(x, y, ...)`` for a tuple, returning
                the same structure (e.g. ``lambda x, y: (to_unit_range(x), y)``).
    """

    def __init__(self, dataset, batch_size, shuffle=True, drop_last=True, seed=None, device=None, transform=None):
        self.dataset = dataset
        if _holds_arrays(dataset):
            self.single = not isinstance(dataset, (tuple, list))
            self.arrays = _check_arrays([dataset] if self.single else list(dataset), type(dataset).__name__)
            self.num_samples = self.arrays[0].shape[0]
        else:
            _check_dataset(dataset)
            self.single = None  # known from the samples themselves, batch by batch
            self.arrays = None
            self.num_samples = len(dataset)
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
        if self.arrays is not None:
            xp = backend.get_array_module(*self.arrays)
            if xp is not np:
                index = xp.asarray(index)
            single, batch = self.single, [a[index] for a in self.arrays]  # fancy indexing copies
        else:
            single, batch = _stack_samples(self.dataset, index)  # stacking copies too
        if self.transform is not None:
            n_fields = len(batch)
            batch = self.transform(*batch)
            if single:
                batch = [batch]
            elif not isinstance(batch, (tuple, list)) or len(batch) != n_fields:
                raise TypeError(f"transform must return {n_fields} arrays (one per input array), "
                                f"got {type(batch).__name__}")
        tensors = tuple(b if isinstance(b, Tensor) and b.device == self.device
                        else Tensor(backend.to_device(b.data if isinstance(b, Tensor) else b, self.device))
                        for b in batch)
        return tensors[0] if single else tensors

    def __repr__(self):
        source = "" if self.arrays is not None else f"{type(self.dataset).__name__} of "
        return (f"DataLoader({source}{self.num_samples:,} samples, batch_size={self.batch_size}, "
                f"{len(self)} batches, shuffle={self.shuffle}, seed={self.seed}, epoch={self.epoch}, "
                f"device={self.device!r})")


# --- telling arrays from datasets, and checking both ------------------------------------------------

def _is_array(x):
    return isinstance(x, Tensor) or (hasattr(x, "shape") and hasattr(x, "dtype"))  # NumPy, CuPy


def _holds_arrays(data):
    """True for an array, a Tensor, or a tuple/list (of arrays, one per field): what DataLoader
    took before it took datasets, and still means the same. Everything else may be a dataset."""
    return _is_array(data) or isinstance(data, (tuple, list))


def _check_arrays(arrays, container):
    """The arrays of a tuple/list (or the one array) as NumPy/CuPy arrays sharing their first dimension."""
    if not arrays:
        raise ValueError(f"DataLoader needs at least one array, got an empty {container}")
    checked = []
    for i, a in enumerate(arrays):
        if isinstance(a, Tensor):
            a = a.data
        elif not _is_array(a):
            converted = None
            try:
                converted = np.asarray(a)  # nested lists of numbers are fine
            except ValueError:  # ragged: e.g. a list of (image, label) samples
                pass
            if converted is None or converted.dtype.kind not in "biuf":
                raise TypeError(
                    f"DataLoader: element {i} of the {container} is a {type(a).__name__} that is not an "
                    f"array of numbers; a {container} means one array per field, e.g. (images, labels), "
                    "each with one row per sample. For a list of samples, stack them (np.stack) or pass "
                    "a dataset (an object with __len__ and __getitem__)")
            a = converted
        checked.append(a)
    lengths = [a.shape[0] if a.ndim else None for a in checked]
    if None in lengths or len(set(lengths)) != 1:
        shapes = ", ".join(str(tuple(a.shape)) for a in checked)
        raise ValueError(f"DataLoader arrays must share their first dimension (the sample count); "
                         f"got shapes {shapes}")
    return checked


def _check_dataset(dataset):
    """Refuse, saying what is accepted, anything that is not a map-style dataset."""
    kind = type(dataset)
    map_style = hasattr(kind, "__len__") and hasattr(kind, "__getitem__")
    if map_style and not isinstance(dataset, (str, bytes, Mapping)):  # those index by other things
        return
    hint = ""
    if isinstance(dataset, Mapping):
        hint = "; a dict is not a dataset (dataset[i] must work for i in range(len(dataset)))"
    elif hasattr(kind, "__iter__") and not map_style:
        hint = ("; an iterable without __getitem__ (an iterable-style dataset, a generator) cannot "
                "be shuffled by index: make a list of its samples and stack them, or give it __getitem__")
    raise TypeError(f"DataLoader expects {_ACCEPTED}; got {kind.__name__}{hint}")


def _field_array(value):
    """One field of one sample as an array, or None when it is not an array or a number."""
    if isinstance(value, Tensor):
        value = value.data
    elif isinstance(value, np.generic):  # first: np.float64 is also a Python float
        value = np.asarray(value)  # a NumPy scalar keeps its dtype
    elif isinstance(value, bool):
        return np.asarray(value)
    elif isinstance(value, int):
        return np.asarray(value, dtype=np.int64)  # as minigan.tensor (and PyTorch) make ints
    elif isinstance(value, float):
        return np.asarray(value, dtype=DEFAULT_FLOAT)  # float32, as minigan.tensor makes floats
    elif not _is_array(value):
        return None
    return value if value.dtype.kind in "biuf" else None


def _sample_fields(sample, i):
    """(is_tuple, one array per field) for ``sample = dataset[i]``; TypeError naming i otherwise."""
    is_tuple = isinstance(sample, (tuple, list))
    fields = list(sample) if is_tuple else [sample]
    arrays = [_field_array(f) for f in fields]
    bad = next((k for k, a in enumerate(arrays) if a is None), None)  # "is": "in" would compare arrays
    if fields and bad is None:
        return is_tuple, arrays
    if not fields:
        got = f"an empty {type(sample).__name__}"
    else:
        dtype = getattr(fields[bad], "dtype", None)
        got = type(fields[bad]).__name__ + ("" if dtype is None else f" of dtype {dtype}")
        if is_tuple:
            got = f"a {type(sample).__name__} whose field {bad} is {got}"
    raise TypeError(f"DataLoader: dataset[{i}] returned {got}; expected an array, a Tensor or a number "
                    "(or a tuple of them, one per field) holding numbers")


def _stack_samples(dataset, index):
    """(single, fields) for one batch of ``dataset``: ``dataset[i]`` for each i in ``index``,
    stacked field by field; single: the samples are lone arrays, not tuples."""
    def structure(is_tuple, arrays):
        return f"a tuple of {len(arrays)} fields" if is_tuple else "a lone array or number"

    for n, i in enumerate(int(i) for i in index):  # Python ints, as PyTorch's DataLoader passes them
        is_tuple, arrays = _sample_fields(dataset[i], i)
        if n == 0:  # the batch's first sample sets the fields, shapes and dtypes the others must have
            first, first_is_tuple, first_arrays = i, is_tuple, arrays
            columns = [[] for _ in arrays]
        elif is_tuple != first_is_tuple or len(arrays) != len(first_arrays):
            raise TypeError(f"DataLoader: dataset[{i}] returned {structure(is_tuple, arrays)} but "
                            f"dataset[{first}] returned {structure(first_is_tuple, first_arrays)}")
        for k, (a, a0) in enumerate(zip(arrays, first_arrays)):
            field = f"field {k} of " if is_tuple else ""
            if a.shape != a0.shape:
                raise ValueError(f"DataLoader: {field}dataset[{i}] has shape {tuple(a.shape)} but {field}"
                                 f"dataset[{first}] has shape {tuple(a0.shape)}; the samples of a batch are "
                                 "stacked, so they must share their shape")
            if a.dtype != a0.dtype:
                raise TypeError(f"DataLoader: {field}dataset[{i}] has dtype {a.dtype} but {field}"
                                f"dataset[{first}] has dtype {a0.dtype}; a batch holds one dtype per field "
                                "(convert in __getitem__)")
            columns[k].append(a)
    return not first_is_tuple, [backend.get_array_module(*column).stack(column) for column in columns]


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
