"""``minigan.save`` / ``minigan.load``: exact round trips of nested checkpoints, no pickle ever,
atomic writes, and errors that name the file."""
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import minigan
import minigan.nn as nn
from minigan import files
from minigan.serialization import FORMAT, STRUCTURE, CheckpointError

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


# --- hostile or damaged files: every one is refused with a CheckpointError, before any big allocation

def npy_bytes(array=None, header=None, data=b""):
    """An .npy file as bytes: ``array`` written by NumPy, or a hand-made ``header`` followed by ``data``."""
    f = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(f, array)
    else:
        np.lib.format.write_array_header_1_0(f, header)
        f.write(data)
    return f.getvalue()


def structure_npy(root):
    text = json.dumps({"format": FORMAT, "version": 1, "root": root})
    return npy_bytes(np.frombuffer(text.encode(), dtype=np.uint8))


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_an_entry_referred_to_many_times_is_read_once(tmp_path):
    """Fault: each reference re-read (and re-inflated) the entry, so a tiny file could ask for
    gigabytes. Now an entry is read once and every reference gets that same array."""
    path = tmp_path / "refs.npz"
    write_zip(path, {"w.npy": npy_bytes(np.zeros(2 ** 20, np.uint8)),  # 1 MiB, ~1 KB once compressed
                     STRUCTURE + ".npy": structure_npy({"list": [{"array": "w"}] * 3000})},
              zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 64 * 1024
    back = minigan.load(path, max_bytes=2 * 2 ** 20)  # 3000 reads would need 3 GiB
    assert len(back) == 3000 and all(a is back[0] for a in back)  # one shared array, as documented
    assert back[0].shape == (2 ** 20,) and back[0].flags.writeable


def test_a_decompression_bomb_is_refused_before_it_is_inflated(tmp_path):
    """Fault: no bound on decompressed size. ~80 KB of deflated zeros that inflate to 80 MiB are
    refused under the default limit (16 x the file size, at least 64 MiB) and load with max_bytes."""
    path = tmp_path / "bomb.npz"
    size = 80 * 2 ** 20
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("w.npy", "w") as f:
        f.write(npy_bytes(header={"descr": "|u1", "fortran_order": False, "shape": (size,)}))
        for _ in range(size // 2 ** 20):
            f.write(bytes(2 ** 20))
    assert path.stat().st_size < 200 * 1024
    with pytest.raises(CheckpointError, match=r"entry 'w' of '.*bomb.npz' holds \d+ bytes once "
                                              r"decompressed.*limit of 67108864 bytes.*max_bytes"):
        minigan.load(path)
    assert minigan.load(path, max_bytes=100 * 2 ** 20)["w"].shape == (size,)
    minigan.save({"a": np.zeros(100), "b": np.zeros(100)}, tmp_path / "c.npz")  # 800 bytes each
    with pytest.raises(CheckpointError, match="limit of 1000 bytes"):  # the limit counts every entry
        minigan.load(tmp_path / "c.npz", max_bytes=1000)


def test_huge_or_inconsistent_declared_shapes_are_refused_before_allocating(tmp_path):
    """Fault: a header declaring 2 PiB raised MemoryError; one whose size overflows int64 or whose
    data is longer than declared slipped through. The declared size is checked with Python ints."""
    path = tmp_path / "shapes.npz"
    cases = {
        (2 ** 24, 2 ** 24): r"declares shape \(16777216, 16777216\) of float64 \(2251799813685248 bytes\)",
        (2 ** 40, 2 ** 40): r"declares shape \(1099511627776, 1099511627776\) of float64",
        (2, -3): r"shape \(2, -3\)",
    }
    for shape, message in cases.items():
        write_zip(path, {"w.npy": npy_bytes(header={"descr": "<f8", "fortran_order": False, "shape": shape},
                                            data=bytes(16))})
        with pytest.raises(CheckpointError, match=r"entry 'w' of '.*shapes.npz' .*" + message):
            minigan.load(path)
    write_zip(path, {"w.npy": npy_bytes(np.arange(3.0)) + b"extra bytes"})
    with pytest.raises(CheckpointError, match="holds more data than its header declares"):
        minigan.load(path)
    write_zip(path, {"w.npy": npy_bytes(np.arange(3.0))[:-4]})
    with pytest.raises(CheckpointError, match=r"truncated: expected 24 bytes of data, found 20"):
        minigan.load(path)
    write_zip(path, {"w.npy": npy_bytes(np.arange(6.0).reshape(2, 3).T)})  # Fortran order still loads
    np.testing.assert_array_equal(minigan.load(path)["w"], np.arange(6.0).reshape(2, 3).T)


def test_corrupt_compressed_data_is_reported(tmp_path):
    """Fault: zlib.error, NotImplementedError and RuntimeError escaped from damaged zip members."""
    path = tmp_path / "corrupt.npz"
    write_zip(path, {"w.npy": npy_bytes(np.arange(1000.0))}, zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    start = 30 + len("w.npy")  # the member's data follows its 30-byte local header and its name
    data[start:start + 64] = b"\xff" * 64  # a deflate block of the reserved type 3: invalid
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"entry 'w' of '.*corrupt.npz' is corrupt: .*invalid"):
        minigan.load(path)

    write_zip(path, {"w.npy": npy_bytes(np.arange(3.0))})
    good = path.read_bytes()
    central = good.index(b"PK\x01\x02")  # the member's entry in the central directory
    for offset, field, message in [(10, b"\x63\x00", "compression"), (8, b"\x01\x00", "encrypted")]:
        data = bytearray(good)
        data[central + offset:central + offset + 2] = field  # compression method 99 / encrypted flag
        path.write_bytes(bytes(data))
        with pytest.raises(CheckpointError, match=f"entry 'w' of '.*corrupt.npz' is corrupt: .*{message}"):
            minigan.load(path)


def test_a_structure_nested_too_deeply_is_refused(tmp_path):
    """Fault: 10,000 levels raised RecursionError, and any depth below that loaded. Now load refuses
    more than 100 levels with a clear message, and save refuses to write what load would refuse."""
    path = tmp_path / "deep.npz"
    for depth, message in [(10_000, "nested too deeply"), (101, "nested more than 100 levels deep")]:
        root = '{"list": [' * depth + '"leaf"' + "]}" * depth  # built as text: json.dumps would recurse
        text = f'{{"format": "{FORMAT}", "version": 1, "root": {root}}}'
        write_zip(path, {STRUCTURE + ".npy": npy_bytes(np.frombuffer(text.encode(), np.uint8))})
        with pytest.raises(CheckpointError, match=f"'.*deep.npz' has a structure {message}"):
            minigan.load(path)
    obj = "leaf"
    for _ in range(100):
        obj = [obj]
    minigan.save(obj, path)
    assert minigan.load(path) == obj  # 100 levels: fine both ways
    with pytest.raises(CheckpointError, match=r"save: obj\[0\]\[0\].* is nested more than 100 levels deep"):
        minigan.save([obj], path)


def test_damaged_scalars_are_reported(tmp_path):
    """Fault: a scalar of dtype void allocated what its value asked for (MemoryError); an
    out-of-range value raised OverflowError."""
    path = tmp_path / "scalars.npz"
    for spec in [{"scalar": 10 ** 15, "dtype": "|V8"}, {"scalar": 1000, "dtype": "|i1"},
                 {"scalar": [1.0], "dtype": "<f4"}, {"scalar": 1, "dtype": "no such type"}]:
        write_zip(path, {STRUCTURE + ".npy": structure_npy({"list": [spec]})})
        with pytest.raises(CheckpointError, match="'.*scalars.npz' has a damaged structure description"):
            minigan.load(path)


# --- temporaries left by a writer that died ----------------------------------------------------

def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()  # reaped: its pid now names no process
    return child.pid


@pytest.mark.skipif(os.name != "posix", reason="whether a process is alive is checked on POSIX only")
def test_save_removes_temporaries_left_by_dead_writers(tmp_path):
    """Fault: temporaries of a killed save stayed forever. Now the next save to the same path removes
    those whose writer is gone (or that are a day old), and leaves live writers' and others' alone."""
    path = tmp_path / "ckpt.npz"
    dead, alive = dead_pid(), os.getpid()
    host = files._HOST  # the machine's name, as atomic_file writes it into temporaries' names
    stale = [f".ckpt.npz.{host}.{dead}.0123456789ab.tmp",
             ".ckpt.npz.0123456789ab.tmp",  # the older name, without host and pid: made a day old below
             f".ckpt.npz.{host}.{alive}.00000000000a.tmp"]  # made a day old below
    kept = [f".ckpt.npz.{host}.{alive}.00000000000b.tmp",  # a save in progress
            f".ckpt.npz.otherhost.{dead}.00000000000c.tmp",  # another machine's pid: age decides
            f".ckpt.npz.bak.{host}.{dead}.00000000000d.tmp",  # another checkpoint's temporary
            ".ckpt.npz.notes.tmp"]  # not a temporary of save at all
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"PK\x03\x04 half a zip file")
    a_day_ago = time.time() - 25 * 3600
    for name in stale[1:]:
        os.utime(tmp_path / name, (a_day_ago, a_day_ago))
    minigan.save({"step": 1}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["ckpt.npz"])


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_save_killed_with_sigkill_leaves_a_temporary_the_next_save_removes(tmp_path):
    path = tmp_path / "ckpt.npz"
    minigan.save({"step": 1}, path)
    # The child pauses in save's fsync (the temporary is written, not yet renamed) and is killed there.
    child_code = ("import os, sys, time\nimport numpy as np\nimport minigan\n"
                  "def pause(fd):\n    print('written', flush=True)\n    time.sleep(60)\n"
                  "os.fsync = pause\nminigan.save({'w': np.zeros(10 ** 6)}, sys.argv[1])\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(minigan.__file__)))
    child = subprocess.Popen([sys.executable, "-c", child_code, str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": root})
    try:
        assert child.stdout.readline() == "written\n", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    orphans = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert len(orphans) == 1 and f".{child.pid}." in orphans[0]
    assert minigan.load(path) == {"step": 1}  # the kill left the previous checkpoint intact
    minigan.save({"step": 2}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"]
