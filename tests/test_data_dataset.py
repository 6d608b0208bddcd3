"""DataLoader over a map-style dataset (``__len__`` and ``__getitem__``): batches stacked from the
samples, the same order as arrays for the same seed, and errors that name the sample at fault."""
import numpy as np
import pytest

import minigan
from minigan import Tensor
from minigan.data import DataLoader, to_unit_range


class Pairs:
    """(image, label) samples made on demand, as a dataset reading from disk would; counts its calls."""

    def __init__(self, n=23):
        self.images = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2)  # sample i holds 4i .. 4i+3
        self.calls = []

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        self.calls.append(i)
        return self.images[i], i % 10  # the label a Python int, as most datasets return it


class Returning:
    """A dataset of ``n`` samples whose ``dataset[i]`` is ``make(i)``."""

    def __init__(self, make, n=6):
        self.make, self.n = make, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.make(i)


def test_a_dataset_of_pairs_gives_tuples_of_tensors():
    loader = DataLoader(Pairs(), batch_size=4, seed=0)
    assert len(loader) == 5  # 23 // 4, the last 3 dropped
    for x, y in loader:
        assert isinstance(x, Tensor) and isinstance(y, Tensor)
        assert x.shape == (4, 2, 2) and x.dtype == np.uint8
        assert y.shape == (4,) and y.dtype == np.int64  # Python ints -> int64, as in PyTorch
        assert x.device == "cpu" and not x.requires_grad
        np.testing.assert_array_equal(y.numpy(), (x.numpy()[:, 0, 0] // 4) % 10)  # labels stay with images


@pytest.mark.parametrize("shuffle, drop_last", [(True, True), (True, False), (False, False)])
def test_a_dataset_and_its_arrays_give_the_same_batches_for_the_same_seed(shuffle, drop_last):
    ds = Pairs()
    labels = np.arange(len(ds)) % 10
    from_dataset = DataLoader(ds, batch_size=5, shuffle=shuffle, drop_last=drop_last, seed=11)
    from_arrays = DataLoader((ds.images, labels), batch_size=5, shuffle=shuffle, drop_last=drop_last, seed=11)
    for epoch in range(2):  # every epoch a new order, the same in both
        a, b = list(from_dataset), list(from_arrays)
        assert len(a) == len(b) == len(from_arrays)
        for (xa, ya), (xb, yb) in zip(a, b):
            np.testing.assert_array_equal(xa.numpy(), xb.numpy())
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    assert from_dataset.order(1).tolist() == from_arrays.order(1).tolist()


def test_each_epoch_asks_for_each_batched_sample_once_with_python_ints():
    ds = Pairs(23)
    loader = DataLoader(ds, batch_size=5, seed=3)
    batches = iter(loader)
    next(batches)
    assert ds.calls == loader.order(0)[:5].tolist()  # lazily: only the first batch's samples so far
    list(batches)
    assert sorted(ds.calls) == sorted(loader.order(0)[:20].tolist())  # drop_last: 3 never asked for
    assert all(type(i) is int for i in ds.calls)


def test_resuming_at_an_epoch_repeats_its_order():
    run = DataLoader(Pairs(), batch_size=4, seed=5)
    epochs = [[x.numpy() for x, _ in run] for _ in range(3)]
    resumed = DataLoader(Pairs(), batch_size=4, seed=5)
    resumed.set_epoch(2)
    for got, expected in zip([x.numpy() for x, _ in resumed], epochs[2]):
        np.testing.assert_array_equal(got, expected)


def test_lone_arrays_give_lone_tensors():
    data = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    loader = DataLoader(Returning(lambda i: data[i], n=10), batch_size=4, shuffle=False, drop_last=False)
    batches = list(loader)
    assert all(isinstance(b, Tensor) for b in batches)
    assert [b.shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in batches]), data)


def test_fields_may_be_tensors_numpy_scalars_and_python_numbers():
    def sample(i):
        return minigan.tensor([float(i), 1.0]), np.float64(i / 2), i / 4, i % 2 == 0, np.uint8(i)
    t, half, quarter, even, byte = next(iter(DataLoader(Returning(sample), batch_size=6, shuffle=False)))
    assert t.dtype == np.float32 and t.shape == (6, 2)
    assert half.dtype == np.float64  # a NumPy scalar keeps its dtype
    assert quarter.dtype == np.float32  # a Python float becomes float32, as minigan.tensor makes it
    assert even.dtype == np.bool_ and byte.dtype == np.uint8
    np.testing.assert_array_equal(quarter.numpy(), np.arange(6, dtype=np.float32) / 4)
    np.testing.assert_array_equal(even.numpy(), np.arange(6) % 2 == 0)


def test_a_lone_number_per_sample_gives_a_vector():
    batch = next(iter(DataLoader(Returning(lambda i: i * 10), batch_size=6, shuffle=False)))
    assert batch.shape == (6,) and batch.dtype == np.int64
    assert batch.numpy().tolist() == [0, 10, 20, 30, 40, 50]


def test_transform_and_device_work_as_for_arrays():
    ds = Pairs(12)
    loader = DataLoader(ds, batch_size=4, seed=0, device="cpu",
                        transform=lambda x, y: (to_unit_range(x), y.astype(np.int32)))
    x, y = next(iter(loader))
    assert x.dtype == np.float32 and float(x.numpy().min()) >= -1 and y.dtype == np.int32
    with pytest.raises(TypeError, match="transform must return 2 arrays"):
        next(iter(DataLoader(ds, batch_size=4, transform=lambda x, y: x)))


def test_batches_are_copies_of_the_samples():
    ds = Pairs(8)
    x, _ = next(iter(DataLoader(ds, batch_size=8, shuffle=False)))
    x.data[...] = 0
    assert ds.images.max() == 31


def test_arrays_tensors_and_tuples_keep_their_meaning():
    """Things that also have __len__ and __getitem__ are still cut as arrays, not sampled one by one."""
    x = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    for data in (x, minigan.tensor(x), (x, x[:, 0]), [x, x[:, 0]], (minigan.tensor(x),), [[0.5, 1.5], [2.5, 3.5]]):
        loader = DataLoader(data, batch_size=2, shuffle=False)
        assert loader.arrays is not None, type(data).__name__
    assert DataLoader(Pairs(), batch_size=2).arrays is None
    assert repr(DataLoader(Pairs(), batch_size=2, seed=1)).startswith("DataLoader(Pairs of 23 samples")


@pytest.mark.parametrize("data, got", [
    (5, "int"), (3.5, "float"), (None, "NoneType"), (object(), "object"),
    ("abc", "str"), ({0: np.ones(2), 1: np.ones(2)}, "dict; a dict is not a dataset"),
    ((i for i in range(3)), "generator; an iterable without __getitem__"),
    ({1, 2, 3}, "set; an iterable without __getitem__"),
])
def test_what_is_neither_arrays_nor_a_dataset_is_refused_saying_what_is_accepted(data, got):
    with pytest.raises(TypeError, match=r"DataLoader expects an array or Tensor, a tuple or list of arrays .*"
                                        r"or a map-style dataset \(an object with __len__ and __getitem__.*; "
                                        f"got {got}"):
        DataLoader(data, batch_size=1)


def test_a_list_of_samples_is_told_to_become_a_dataset():
    samples = [(np.zeros((2, 2)), 3), (np.ones((2, 2)), 4)]
    with pytest.raises(TypeError, match=r"element 0 of the list is a tuple that is not an array of numbers; a "
                                        r"list means one array per field.*pass a dataset"):
        DataLoader(samples, batch_size=1)


def test_samples_of_different_shapes_are_named():
    def sample(i):
        return np.zeros((2, 3) if i != 4 else (3, 2), np.float32), i
    with pytest.raises(ValueError, match=r"field 0 of dataset\[4\] has shape \(3, 2\) but field 0 of "
                                         r"dataset\[0\] has shape \(2, 3\)"):
        list(DataLoader(Returning(sample), batch_size=6, shuffle=False))
    lone = Returning(lambda i: np.zeros(3 if i else 4))
    with pytest.raises(ValueError, match=r"DataLoader: dataset\[1\] has shape \(3,\) but dataset\[0\] "
                                         r"has shape \(4,\)"):
        list(DataLoader(lone, batch_size=6, shuffle=False))


def test_samples_of_different_dtypes_are_named():
    ds = Returning(lambda i: np.zeros(2, np.float64 if i == 2 else np.float32))
    with pytest.raises(TypeError, match=r"dataset\[2\] has dtype float64 but dataset\[0\] has dtype float32"):
        list(DataLoader(ds, batch_size=6, shuffle=False))


@pytest.mark.parametrize("make, got", [
    (lambda i: {"image": np.zeros(2)}, r"dataset\[0\] returned dict;"),
    (lambda i: None, r"dataset\[0\] returned NoneType;"),
    (lambda i: "img.png", r"dataset\[0\] returned str;"),
    (lambda i: (np.zeros(2), "seven"), r"dataset\[0\] returned a tuple whose field 1 is str;"),
    (lambda i: (np.zeros(2), [1, 2]), r"dataset\[0\] returned a tuple whose field 1 is list;"),
    (lambda i: np.array(["a", "b"]), r"dataset\[0\] returned ndarray of dtype <U1;"),
    (lambda i: (), r"dataset\[0\] returned an empty tuple;"),
    (lambda i: (np.zeros(2), 1) if i < 3 else np.zeros(2),
     r"dataset\[3\] returned a lone array or number but dataset\[0\] returned a tuple of 2 fields"),
    (lambda i: (np.zeros(2), 1) if i < 3 else (np.zeros(2), 1, 2),
     r"dataset\[3\] returned a tuple of 3 fields but dataset\[0\] returned a tuple of 2 fields"),
])
def test_samples_that_are_not_arrays_are_named(make, got):
    with pytest.raises(TypeError, match=got):
        list(DataLoader(Returning(make), batch_size=6, shuffle=False))


@pytest.mark.gpu
def test_dataset_batches_on_the_gpu_match_the_cpu():
    on_gpu = DataLoader(Pairs(), batch_size=4, seed=0, device="gpu")
    on_cpu = DataLoader(Pairs(), batch_size=4, seed=0, device="cpu")
    (gx, gy), (cx, cy) = next(iter(on_gpu)), next(iter(on_cpu))
    assert gx.device == "gpu" and gy.device == "gpu"
    np.testing.assert_array_equal(gx.numpy(), cx.numpy())
    cupy_samples = Returning(lambda i: minigan.backend.to_device(np.full(3, i, np.float32), "gpu"))
    batch = next(iter(DataLoader(cupy_samples, batch_size=6, shuffle=False, device="gpu")))
    assert batch.device == "gpu" and batch.numpy()[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
