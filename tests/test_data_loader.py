"""DataLoader: batch shapes and types, reproducible shuffling by (seed, epoch), transforms, devices."""
import numpy as np
import pytest

import minigan
from minigan import Tensor
from minigan.data import DataLoader, from_unit_range, to_unit_range


def toy_data(n=103):
    x = np.arange(n * 4, dtype=np.float32).reshape(n, 2, 2)  # sample i holds 4i .. 4i+3
    y = (np.arange(n) % 10).astype(np.uint8)
    return x, y


def indices(batch_x):
    return (batch_x.numpy()[:, 0, 0] // 4).astype(int)


def epoch_order(loader):
    return np.concatenate([indices(x) for x, _ in loader])


def test_batches_of_a_tuple_are_tuples_of_tensors():
    x, y = toy_data()
    loader = DataLoader((x, y), batch_size=10, seed=0)
    assert len(loader) == 10  # 103 // 10, the last 3 dropped
    batches = list(loader)
    assert len(batches) == 10
    for bx, by in batches:
        assert isinstance(bx, Tensor) and isinstance(by, Tensor)
        assert bx.shape == (10, 2, 2) and bx.dtype == np.float32
        assert by.shape == (10,) and by.dtype == np.uint8
        assert bx.device == "cpu" and not bx.requires_grad
        np.testing.assert_array_equal(by.numpy(), indices(bx) % 10)  # images stay with their labels


def test_a_single_array_gives_single_tensors():
    x, _ = toy_data(20)
    batches = list(DataLoader(x, batch_size=8, drop_last=False, shuffle=False))
    assert [b.shape[0] for b in batches] == [8, 8, 4]
    assert all(isinstance(b, Tensor) for b in batches)
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in batches]), x)


def test_without_drop_last_every_sample_appears_once_per_epoch():
    x, y = toy_data()
    loader = DataLoader((x, y), batch_size=10, drop_last=False, seed=1)
    assert len(loader) == 11
    order = epoch_order(loader)
    assert sorted(order) == list(range(103))
    assert not np.array_equal(order, np.arange(103))  # it was shuffled


def test_same_seed_same_orders_and_each_epoch_new():
    x, y = toy_data()
    a = DataLoader((x, y), batch_size=10, seed=7)
    b = DataLoader((x, y), batch_size=10, seed=7)
    a0, a1 = epoch_order(a), epoch_order(a)
    np.testing.assert_array_equal(a0, epoch_order(b))
    np.testing.assert_array_equal(a1, epoch_order(b))
    assert not np.array_equal(a0, a1)
    assert a.epoch == 2
    assert not np.array_equal(a0, epoch_order(DataLoader((x, y), batch_size=10, seed=8)))


def test_set_epoch_reproduces_that_epoch_when_resuming():
    x, y = toy_data()
    run = DataLoader((x, y), batch_size=10, seed=3)
    orders = [epoch_order(run) for _ in range(4)]
    resumed = DataLoader((x, y), batch_size=10, seed=3)
    resumed.set_epoch(2)
    np.testing.assert_array_equal(epoch_order(resumed), orders[2])
    np.testing.assert_array_equal(epoch_order(resumed), orders[3])
    np.testing.assert_array_equal(resumed.order(1)[:100], orders[1])


def test_without_seed_manual_seed_makes_it_repeat():
    x, y = toy_data()
    minigan.manual_seed(5)
    a = DataLoader((x, y), batch_size=10)
    minigan.manual_seed(5)
    b = DataLoader((x, y), batch_size=10)
    minigan.manual_seed(6)
    c = DataLoader((x, y), batch_size=10)
    assert a.seed == b.seed != c.seed
    np.testing.assert_array_equal(epoch_order(a), epoch_order(b))
    assert not np.array_equal(a.order(0), c.order(0))


def test_no_shuffle_keeps_the_order():
    x, y = toy_data()
    loader = DataLoader((x, y), batch_size=10, shuffle=False)
    np.testing.assert_array_equal(epoch_order(loader), np.arange(100))
    np.testing.assert_array_equal(epoch_order(loader), np.arange(100))


def test_batches_are_copies():
    x, _ = toy_data(10)
    batch = next(iter(DataLoader(x, batch_size=10, shuffle=False)))
    batch.data[...] = -1
    assert x.min() == 0


def test_transform_sees_numpy_batches():
    images = np.full((12, 28, 28), 255, dtype=np.uint8)
    labels = np.arange(12, dtype=np.uint8)
    loader = DataLoader((images, labels), batch_size=4, seed=0,
                        transform=lambda x, y: (to_unit_range(x), y.astype(np.int64)))
    x, y = next(iter(loader))
    assert x.dtype == np.float32 and float(x.numpy().min()) == 1.0
    assert y.dtype == np.int64
    single = DataLoader(images, batch_size=4, transform=lambda x: x[:, ::2, ::2])
    assert next(iter(single)).shape == (4, 14, 14)


def test_transform_must_keep_the_structure():
    x, y = toy_data(10)
    loader = DataLoader((x, y), batch_size=5, transform=lambda a, b: a)
    with pytest.raises(TypeError, match="transform must return 2 arrays"):
        next(iter(loader))


def test_tensors_are_accepted_as_data():
    t = minigan.randn(6, 3)
    batch = next(iter(DataLoader(t, batch_size=6, shuffle=False)))
    np.testing.assert_array_equal(batch.numpy(), t.numpy())


def test_errors_name_what_was_expected():
    x, y = toy_data(10)
    with pytest.raises(ValueError, match=r"share their first dimension.*\(10, 2, 2\), \(9,\)"):
        DataLoader((x, y[:9]), batch_size=2)
    with pytest.raises(ValueError, match=r"batch_size must be a positive int, got 0"):
        DataLoader(x, batch_size=0)
    with pytest.raises(ValueError, match=r"batch_size 64 is larger than the 10 samples"):
        DataLoader(x, batch_size=64)
    assert len(DataLoader(x, batch_size=64, drop_last=False)) == 1
    with pytest.raises(ValueError, match="at least one array"):
        DataLoader((), batch_size=1)
    with pytest.raises(TypeError, match="seed must be a non-negative int"):
        DataLoader(x, batch_size=2, seed=-1)
    with pytest.raises(ValueError, match="epoch must be a non-negative int"):
        DataLoader(x, batch_size=2).set_epoch(-3)


def test_unit_range_round_trip():
    pixels = np.arange(256, dtype=np.uint8)
    unit = to_unit_range(pixels)
    assert unit.dtype == np.float32
    assert unit[0] == -1.0 and unit[255] == 1.0 and unit.min() >= -1 and unit.max() <= 1
    np.testing.assert_array_equal(from_unit_range(unit), pixels)
    assert from_unit_range(np.array([-3.0, 0.0, 7.0], dtype=np.float32)).tolist() == [0, 128, 255]
    t = to_unit_range(Tensor(pixels))
    assert isinstance(t, Tensor) and t.dtype == np.float32
    back = from_unit_range(t)
    assert isinstance(back, Tensor) and back.dtype == np.uint8


def test_unit_range_type_errors():
    with pytest.raises(TypeError, match="expects uint8 pixels 0..255, got float32"):
        to_unit_range(np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="expects floats in \\[-1, 1\\], got uint8"):
        from_unit_range(np.zeros(3, dtype=np.uint8))


@pytest.mark.gpu
def test_batches_on_the_gpu():
    x, y = toy_data(40)
    loader = DataLoader((x, y), batch_size=8, seed=0, device="gpu")
    bx, by = next(iter(loader))
    assert bx.device == "gpu" and by.device == "gpu"
    cpu = DataLoader((x, y), batch_size=8, seed=0, device="cpu")
    cx, _ = next(iter(cpu))
    np.testing.assert_array_equal(bx.numpy(), cx.numpy())  # the same order on either device
    gx = next(iter(DataLoader(bx.data, batch_size=8, shuffle=False, device="gpu")))  # data already on the GPU
    np.testing.assert_array_equal(gx.numpy(), bx.numpy())
