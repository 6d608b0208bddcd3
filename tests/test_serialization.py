"""``minigan.save`` / ``minigan.load``: exact round trips of nested checkpoints, no pickle ever,
atomic writes, and errors that name the file."""
import math
import os
import zipfile

import numpy as np
import pytest

import minigan
import minigan.nn as nn
from minigan.serialization import STRUCTURE, CheckpointError

from test_nn_module import dcgan_generator


def assert_same(a, b, where="obj"):
    """Equal values *and* equal types, all the way down (a tuple must not come back as a list)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} came back as {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def optimizer_like_state():
    rng = np.random.default_rng(0)
    return {
        "state": {0: {"step": 3, "exp_avg": rng.standard_normal((4, 3)).astype(np.float32),
                      "exp_avg_sq": rng.random((4, 3)).astype(np.float32)},
                  1: {"step": 3, "exp_avg": np.zeros(3, np.float32), "exp_avg_sq": np.ones(3, np.float32)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                          "amsgrad": False, "params": [0, 1], "name": None}],
    }


def test_round_trip_keeps_structure_types_and_values(tmp_path):
    obj = {
        "optimizer": optimizer_like_state(),
        "epoch": 7, "loss": 0.6931471805599453, "tiny": 5e-324, "inf": float("inf"), "nan": float("nan"),
        "neg_zero": -0.0, "big": 2 ** 70, "flag": True, "none": None, "note": "résumé ✓",
        "empty": {}, "empty_list": [], "empty_tuple": (), "nested": [(1, [2.5, (None,)]), {"k": 1}],
        "np_scalars": [np.float32(0.1), np.int64(-3), np.bool_(True)],
        "arrays": {"i8": np.arange(5, dtype=np.int8), "b": np.array([True, False]), "scalar": np.array(2.5),
                   "f64": np.linspace(0, 1, 6).reshape(2, 3), "u": np.array(["a", "bc"])},
        -1: "an int key", 10 ** 20: "a big int key",
    }
    path = tmp_path / "checkpoint.npz"
    minigan.save(obj, path)
    back = minigan.load(path)
    assert_same(obj, back)
    assert type(back["np_scalars"][0]) is np.float32 and back["np_scalars"][0] == np.float32(0.1)
    assert isinstance(back["optimizer"]["param_groups"][0]["betas"], tuple)
    assert list(back["optimizer"]["state"]) == [0, 1]  # int keys stay ints


def test_tensors_and_state_dicts_come_back_as_numpy_arrays(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    obj = {"model": model.state_dict(), "t": minigan.randn(2, 2, dtype="float64"), "p": model[0].weight}
    minigan.save(obj, tmp_path / "c.npz")
    back = minigan.load(tmp_path / "c.npz")
    assert isinstance(back["t"], np.ndarray) and back["t"].dtype == np.float64
    np.testing.assert_array_equal(back["p"], model[0].weight.data)
    assert list(back["model"]) == list(model.state_dict())
    assert back["model"]["1.num_batches_tracked"].dtype == np.int64
    with np.load(tmp_path / "c.npz") as z:  # readable entry names for anyone opening the file
        assert {"model.0.weight", "model.1.running_var", "t", "p", STRUCTURE} <= set(z.files)


def test_entry_names_never_collide(tmp_path):
    obj = {"a.b": np.zeros(1), "a": {"b": np.ones(1)}, "file": np.full(1, 2.0), "x/y": np.full(1, 3.0)}
    minigan.save(obj, tmp_path / "c.npz")
    assert_same(obj, minigan.load(tmp_path / "c.npz"))


def test_a_model_round_trip_gives_identical_outputs(tmp_path):
    """The DCGAN generator in eval mode: weights and batch norm running statistics all restored."""
    g = dcgan_generator()
    for _ in range(2):  # move the running statistics away from their initial 0 / 1
        g(minigan.randn(4, 100))
    g.eval()
    z = minigan.randn(3, 100)
    expected = g(z).data
    minigan.save({"G": g.state_dict(), "step": 2}, tmp_path / "g.npz")

    fresh = dcgan_generator().eval()
    assert not np.array_equal(fresh(z).data, expected)
    fresh.load_state_dict(minigan.load(tmp_path / "g.npz")["G"])
    np.testing.assert_array_equal(fresh(z).data, expected)
    assert int(fresh[1].num_batches_tracked.data) == 2


def test_objects_in_an_npz_are_refused_not_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weights=np.zeros(2), payload=np.array([{"run": "code"}], dtype=object))
    with pytest.raises(CheckpointError, match=r"entry 'payload' of '.*evil.npz' holds Python objects"):
        minigan.load(path)


def test_save_refuses_what_a_checkpoint_cannot_hold(tmp_path):
    with pytest.raises(CheckpointError, match=r"cannot store an object of type set at obj\['opt'\]\[0\]"):
        minigan.save({"opt": [{1, 2}]}, tmp_path / "c.npz")
    with pytest.raises(CheckpointError, match="save its state_dict"):
        minigan.save({"G": nn.Linear(2, 2)}, tmp_path / "c.npz")
    with pytest.raises(CheckpointError, match=r"dict keys must be str or int, got tuple key \(1, 2\)"):
        minigan.save({(1, 2): 0}, tmp_path / "c.npz")
    with pytest.raises(CheckpointError, match="dtype object"):
        minigan.save(np.array([None]), tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []
    with pytest.raises(FileNotFoundError, match="folder .*missing.* does not exist"):
        minigan.save({}, tmp_path / "missing" / "c.npz")


def test_a_crash_while_writing_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    minigan.save({"step": 1, "w": np.arange(3.0)}, path)
    before = path.read_bytes()

    def savez_that_dies_half_way(file, **arrays):
        file.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", savez_that_dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        minigan.save({"step": 2, "w": np.arange(4.0)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]  # no temporary file left behind
    assert_same(minigan.load(path), {"step": 1, "w": np.arange(3.0)})


def test_save_overwrites_and_writes_exactly_the_path_given(tmp_path):
    path = tmp_path / "latest.ckpt"  # no .npz suffix is added
    minigan.save({"step": 1}, path)
    minigan.save({"step": 2}, str(path))
    assert os.listdir(tmp_path) == ["latest.ckpt"]
    assert minigan.load(path) == {"step": 2}


def test_load_errors_name_the_path(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at '.*nope.npz'"):
        minigan.load(missing)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        minigan.load(tmp_path)
    text = tmp_path / "notes.npz"
    text.write_text("just some text, not a checkpoint")
    with pytest.raises(CheckpointError, match=r"'.*notes.npz' is not a minigan checkpoint"):
        minigan.load(text)
    good = tmp_path / "good.npz"
    minigan.save({"w": np.arange(1000.0)}, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CheckpointError, match=r"'.*truncated.npz' looks like an .npz file "
                                              r"but cannot be read"):
        minigan.load(truncated)
    npy = tmp_path / "single.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(CheckpointError, match="single .npy array, not a minigan checkpoint"):
        minigan.load(npy)


def test_a_damaged_structure_is_reported(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, **{STRUCTURE: np.frombuffer(b"{not json", dtype=np.uint8)})
    with pytest.raises(CheckpointError, match="damaged structure description"):
        minigan.load(path)
    np.savez(path, **{STRUCTURE: np.frombuffer(b'{"format": "minigan-checkpoint", "version": 1, '
                                                b'"root": {"array": "gone"}}', dtype=np.uint8)})
    with pytest.raises(CheckpointError, match="no entry 'gone'"):
        minigan.load(path)
    np.savez(path, **{STRUCTURE: np.frombuffer(b'{"format": "minigan-checkpoint", "version": 1, '
                                                b'"root": {"dict": [1, 2]}}', dtype=np.uint8)})
    with pytest.raises(CheckpointError, match="damaged structure description"):
        minigan.load(path)


def test_a_plain_numpy_npz_loads_as_a_dict(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, weight=np.ones((2, 2)), bias=np.zeros(2))
    back = minigan.load(path)
    assert set(back) == {"weight", "bias"} and back["weight"].shape == (2, 2)
    with zipfile.ZipFile(path) as z:
        assert "weight.npy" in z.namelist()


def test_a_zip_that_is_not_an_npz_is_reported(tmp_path):
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="entry 'readme.txt' of '.*archive.zip' is not a NumPy array"):
        minigan.load(path)
