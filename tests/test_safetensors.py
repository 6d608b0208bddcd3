"""``save_safetensors`` / ``load_safetensors``: the file layout, exact round trips, agreement with the
``safetensors`` package (where installed), refusal of damaged and hostile files, and a trained
generator that draws the same images in PyTorch (where PyTorch is installed; never required)."""
import json
import os
import struct

import numpy as np
import pytest

import minigan
from minigan.gan import models
from minigan.safetensors import DTYPES, HEADER_LIMIT
from minigan.serialization import CheckpointError


def mixed_state():
    """One tensor of every dtype the format holds here, with a 0-d and an empty one among them."""
    rng = np.random.default_rng(0)
    return {
        "body.0.weight": rng.standard_normal((3, 4)).astype(np.float32),
        "body.0.bias": minigan.randn(3),  # a Tensor
        "body.1.running_var": rng.random(5),  # float64
        "body.1.num_batches_tracked": np.array(7, dtype=np.int64),  # 0-d, as BatchNorm's counter
        "empty": np.zeros((0, 3), dtype=np.float32),
        "half": rng.standard_normal(3).astype(np.float16),
        "flags": np.array([True, False, True]),
        **{f"int.{d}": np.arange(-2, 3).astype(d) for d in ("i1", "i2", "i4", "u1", "u2", "u4", "u8")},
    }


def as_array(value):
    return value.numpy() if isinstance(value, minigan.Tensor) else value


def read_layout(path):
    """(header length, header dict, raw header bytes, data bytes), parsed by hand from the spec."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return n, json.loads(raw[8:8 + n]), raw[8:8 + n], raw[8 + n:]


# --- the file and the round trip -----------------------------------------------------------------

def test_the_file_is_laid_out_as_the_format_says(tmp_path):
    path = tmp_path / "w.safetensors"
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    minigan.save_safetensors({"w": w, "n": np.array(3, np.int64), "b": np.array([1.5], np.float64)}, path,
                             metadata={"epoch": "20"})
    n, header, raw_header, data = read_layout(path)
    assert n % 8 == 0 and raw_header == raw_header.rstrip(b" ") + b" " * (n - len(raw_header.rstrip(b" ")))
    assert list(header) == ["__metadata__", "n", "b", "w"]  # metadata, then 8-byte items by name, then 4-byte
    assert header["__metadata__"] == {"epoch": "20"}
    assert header["w"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [16, 40]}
    assert header["n"] == {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}
    assert len(data) == 40
    assert data[:8] == (3).to_bytes(8, "little") and data[8:16] == struct.pack("<d", 1.5)
    assert data[16:40] == struct.pack("<6f", *range(6))  # C order, little-endian


def test_round_trip_keeps_names_dtypes_shapes_and_values(tmp_path):
    state = mixed_state()
    path = tmp_path / "s.safetensors"
    minigan.save_safetensors(state, path)
    back = minigan.load_safetensors(path, device="cpu")
    assert set(back) == set(state)
    for name, value in state.items():
        expected = as_array(value)
        assert type(back[name]) is np.ndarray and back[name].dtype == expected.dtype, name
        assert back[name].shape == expected.shape and back[name].flags.writeable, name
        np.testing.assert_array_equal(back[name], expected, err_msg=name)
    assert {a.dtype for a in back.values()} == set(DTYPES.values())  # every dtype was tried


def test_odd_inputs_are_written_as_plain_little_endian_c_order(tmp_path):
    transposed = np.arange(6, dtype=np.float32).reshape(2, 3).T  # not C-contiguous
    big_endian = np.arange(3, dtype=">f4")
    path = tmp_path / "o.safetensors"
    minigan.save_safetensors({"t": transposed, "b": big_endian}, path)
    back = minigan.load_safetensors(path)
    np.testing.assert_array_equal(back["t"], transposed)
    np.testing.assert_array_equal(back["b"], big_endian)
    assert back["b"].dtype == np.float32 and back["b"].dtype.isnative


def test_a_generator_state_dict_round_trips_into_a_fresh_generator(tmp_path):
    G = models.dcgan_generator(z_dim=8, width=0.125, num_classes=10)
    with minigan.no_grad():
        G(minigan.randn(6, 8), labels=np.arange(6))  # train mode: batch norm's running statistics move
    path = tmp_path / "G.safetensors"
    minigan.save_safetensors(G.state_dict(), path)

    minigan.manual_seed(1)
    H = models.dcgan_generator(z_dim=8, width=0.125, num_classes=10)
    H.load_state_dict(minigan.load_safetensors(path))  # strict: every key found, none left over
    G.eval(), H.eval()
    z = minigan.randn(4, 8)
    with minigan.no_grad():
        np.testing.assert_array_equal(G(z, labels=3).numpy(), H(z, labels=3).numpy())
    assert int(H.state_dict()["body.1.num_batches_tracked"]) == 1


def test_save_is_atomic_and_checks_everything_before_writing(tmp_path):
    path = tmp_path / "w.safetensors"
    minigan.save_safetensors({"w": np.ones(2, np.float32)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"'bad' has dtype complex128"):
        minigan.save_safetensors({"w": np.zeros(2, np.float32), "bad": np.zeros(2, complex)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temporary left behind


def test_save_errors_name_what_was_expected(tmp_path):
    path = tmp_path / "x.safetensors"
    G = models.mlp_generator(z_dim=4, hidden=(8,))
    with pytest.raises(TypeError, match=r"expects a dict of name -> array or Tensor, got Generator; "
                                        r"pass its .state_dict\(\)"):
        minigan.save_safetensors(G, path)
    with pytest.raises(TypeError, match=r"names must be strings, got int 0"):
        minigan.save_safetensors({0: np.ones(1)}, path)
    with pytest.raises(ValueError, match=r"'__metadata__' is reserved"):
        minigan.save_safetensors({"__metadata__": np.ones(1)}, path)
    with pytest.raises(TypeError, match=r"value for 'w' must be an array or Tensor, got list"):
        minigan.save_safetensors({"w": [1.0, 2.0]}, path)
    with pytest.raises(TypeError, match=r"'o' has dtype object"):
        minigan.save_safetensors({"o": np.array([None])}, path)
    with pytest.raises(TypeError, match=r"metadata must be a dict of str -> str, got \{'epoch': 20\}"):
        minigan.save_safetensors({"w": np.ones(1)}, path, metadata={"epoch": 20})
    with pytest.raises(FileNotFoundError, match=r"folder .*no_such_folder' does not exist"):
        minigan.save_safetensors({"w": np.ones(1)}, tmp_path / "no_such_folder" / "x.safetensors")
    assert not path.exists()


# --- the reference implementation (the safetensors package), where installed --------------------

def test_the_safetensors_package_reads_our_files_and_writes_the_same_bytes(tmp_path):
    st = pytest.importorskip("safetensors.numpy", reason="the safetensors package is not installed")
    state = {name: as_array(value) for name, value in mixed_state().items()}
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    minigan.save_safetensors(state, ours, metadata={"format": "pt"})
    back = st.load_file(str(ours))
    assert set(back) == set(state)
    for name in state:
        assert back[name].dtype == state[name].dtype and back[name].shape == state[name].shape, name
        np.testing.assert_array_equal(back[name], state[name], err_msg=name)

    st.save_file(state, str(theirs), metadata={"format": "pt"})
    assert ours.read_bytes() == theirs.read_bytes()  # the same layout, byte for byte
    for name, array in minigan.load_safetensors(theirs).items():
        np.testing.assert_array_equal(array, state[name], err_msg=name)


# --- damaged and hostile files ------------------------------------------------------------------

def write_raw(path, header, data=b"", length=None):
    """A file with ``header`` (a dict, or raw bytes) and ``data``; ``length`` overrides N."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode("utf-8")
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)
    return path


def f32(shape, begin, end):
    return {"dtype": "F32", "shape": shape, "data_offsets": [begin, end]}


@pytest.mark.parametrize("header, data, length, message", [
    (b"{}", b"", HEADER_LIMIT + 1, r"declares a header of 100000001 bytes; the limit is 100000000"),
    (b"{}", b"", 2 ** 64 - 1, r"declares a header of 18446744073709551615 bytes"),
    (b"{}", b"", 4096, r"declares a header of 4096 bytes but holds only 2 after the length"),
    (b"\xff\xfe{}", b"", None, r"is not UTF-8 JSON"),
    (b"{'a': 1}", b"", None, r"is not UTF-8 JSON"),
    (b"[1, 2]", b"", None, r"is a JSON list; expected an object"),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"", None, r"is nested too deeply"),
    (b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], '
     b'"data_offsets": [4, 8]}}', b"\0" * 8, None, r"names 'w' twice"),
    ({"__metadata__": {"epoch": 3}}, b"", None, r"has __metadata__ \{'epoch': 3\}; expected an object of str -> str"),
    ({"w": [0, 4]}, b"", None, r"entry for 'w' is \[0, 4\]; expected an object with exactly dtype"),
    ({"w": {"dtype": "F32", "shape": [1]}}, b"", None, r"entry for 'w' .* exactly dtype, shape and data_offsets"),
    ({"w": {**f32([1], 0, 4), "extra": 1}}, b"\0" * 4, None, r"exactly dtype, shape and data_offsets"),
    ({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, None,
     r"'w' has dtype 'BF16'; minigan reads BOOL, U8.*convert in PyTorch first"),
    ({"w": {"dtype": "float32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, None, r"dtype 'float32'"),
    ({"w": f32([-1], 0, 4)}, b"\0" * 4, None, r"'w' has shape \[-1\]; expected a list of at most 32 sizes"),
    ({"w": f32([True], 0, 4)}, b"\0" * 4, None, r"'w' has shape \[True\]"),
    ({"w": f32("1", 0, 4)}, b"\0" * 4, None, r"'w' has shape '1'"),
    ({"w": f32([1] * 33, 0, 4)}, b"\0" * 4, None, r"at most 32 sizes"),
    ({"w": f32([1], -4, 0)}, b"\0" * 4, None, r"data_offsets \[-4, 0\]; expected \[begin, end\]"),
    ({"w": f32([0], 4, 0)}, b"\0" * 4, None, r"data_offsets \[4, 0\]"),
    ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}, b"\0" * 8, None, r"data_offsets \[0, 4, 8\]"),
    ({"w": f32([2, 3], 0, 4)}, b"\0" * 4, None, r"'w' of shape \(2, 3\) and dtype F32 needs 24 bytes, but its "
                                                r"data_offsets \[0, 4\] hold 4"),
    ({"a": f32([2], 0, 8), "b": f32([2], 4, 12)}, b"\0" * 12, None, r"'b' at bytes \[4, 12\] overlaps tensor 'a'"),
    ({"a": f32([1], 0, 4), "b": f32([1], 8, 12)}, b"\0" * 12, None, r"bytes \[4, 8\] of the data belong to no tensor"),
    ({"a": f32([1], 4, 8)}, b"\0" * 8, None, r"bytes \[0, 4\] of the data belong to no tensor"),
    ({"a": f32([1], 0, 4)}, b"\0" * 8, None, r"cover 4 bytes but the file holds 8 after the header \(extra bytes\)"),
    ({"a": f32([4], 0, 16)}, b"\0" * 8, None, r"cover 16 bytes but the file holds 8 after the header \(truncated\)"),
    ({"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x02", None,
     r"BOOL but holds bytes other than 0 and 1"),
])
def test_damaged_or_hostile_files_are_refused_clearly(tmp_path, header, data, length, message):
    path = write_raw(tmp_path / "bad.safetensors", header, data, length)
    with pytest.raises(CheckpointError, match=message) as caught:
        minigan.load_safetensors(path)
    assert str(path) in str(caught.value)  # every error names the file


def test_a_file_shorter_than_the_length_field_is_refused(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(b"\x10\0\0")
    with pytest.raises(CheckpointError, match=r"is 3 bytes long; a safetensors file starts with the 8-byte"):
        minigan.load_safetensors(path)


def test_huge_declared_shapes_are_refused_before_anything_is_allocated(tmp_path):
    # 2**62 float32s would be 16 EiB: the offsets are checked against the file before np.empty.
    path = write_raw(tmp_path / "huge.safetensors", {"w": f32([2 ** 31, 2 ** 31], 0, 2 ** 64)}, b"\0" * 8)
    with pytest.raises(CheckpointError, match=r"data_offsets \[0, 18446744073709551616\]"):
        minigan.load_safetensors(path)
    path = write_raw(tmp_path / "huge2.safetensors", {"w": f32([2 ** 31, 2 ** 31], 0, 2 ** 63 - 1)}, b"\0" * 8)
    with pytest.raises(CheckpointError, match=r"needs 18446744073709551616 bytes"):
        minigan.load_safetensors(path)
    path = write_raw(tmp_path / "zero.safetensors", {"w": f32([0, 2 ** 62], 0, 0)})
    with pytest.raises(CheckpointError, match=r"'w' .* has shape \(0, 4611686018427387904\), which NumPy cannot make"):
        minigan.load_safetensors(path)  # empty, but NumPy refuses sizes whose product passes its limit


def test_the_header_is_read_no_further_than_its_checked_length(tmp_path, monkeypatch):
    """A file that lies about its header length is refused having read 8 bytes, not 100 MB."""
    path = write_raw(tmp_path / "lie.safetensors", b"{}", length=HEADER_LIMIT)
    reads = []
    real_open = open

    class Counting:
        def __init__(self, f):
            self.f = f

        def read(self, n=-1):
            reads.append(n)
            return self.f.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(minigan.safetensors, "open", lambda p, mode: Counting(real_open(p, mode)), raising=False)
    with pytest.raises(CheckpointError, match="declares a header of 100000000 bytes but holds only 2"):
        minigan.load_safetensors(path)
    assert reads == [8]


def test_load_names_missing_files_and_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no file at '.*nothing.safetensors'"):
        minigan.load_safetensors(tmp_path / "nothing.safetensors")
    with pytest.raises(IsADirectoryError, match=r"is a folder; expected a .safetensors file"):
        minigan.load_safetensors(tmp_path)


# --- PyTorch: the same architecture loads the file and draws the same images ---------------------

def torch_models():
    """The example's G (MLP and DCGAN) and DCGAN D written with torch.nn, attribute for attribute."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (the round trip is optional)")
    tnn = torch.nn

    class TorchGenerator(tnn.Module):
        def __init__(self, body, num_classes, embed_dim=10):
            super().__init__()
            self.embed = tnn.Embedding(num_classes, embed_dim) if num_classes else None
            self.body = body

        def forward(self, z, labels=None):
            if self.embed is not None:
                z = torch.cat([z, self.embed(labels)], 1)
            return self.body(z).reshape(-1, 1, 28, 28)

    class TorchDiscriminator(tnn.Module):  # the DCGAN D: the label's embedding as a second channel
        def __init__(self, body, num_classes):
            super().__init__()
            self.embed = tnn.Embedding(num_classes, 28 * 28) if num_classes else None
            self.body = body

        def forward(self, x, labels=None):
            if self.embed is not None:
                x = torch.cat([x, self.embed(labels).reshape(-1, 1, 28, 28)], 1)
            return self.body(x)

    def mlp(z_dim, num_classes):
        n_in = z_dim + (10 if num_classes else 0)
        return TorchGenerator(tnn.Sequential(tnn.Linear(n_in, 256), tnn.BatchNorm1d(256), tnn.LeakyReLU(0.2),
                                             tnn.Linear(256, 512), tnn.BatchNorm1d(512), tnn.LeakyReLU(0.2),
                                             tnn.Linear(512, 1024), tnn.BatchNorm1d(1024), tnn.LeakyReLU(0.2),
                                             tnn.Linear(1024, 784), tnn.Tanh()), num_classes)

    def dcgan(z_dim, width, num_classes):
        c1, c2, c3 = (max(1, round(n * width)) for n in (256, 128, 64))
        body = tnn.Sequential(
            tnn.Linear(z_dim + (10 if num_classes else 0), 49 * c1, bias=False), tnn.BatchNorm1d(49 * c1),
            tnn.LeakyReLU(0.2), tnn.Unflatten(1, (c1, 7, 7)),
            tnn.ConvTranspose2d(c1, c2, 5, stride=1, padding=2, bias=False), tnn.BatchNorm2d(c2), tnn.LeakyReLU(0.2),
            tnn.ConvTranspose2d(c2, c3, 5, stride=2, padding=2, output_padding=1, bias=False),
            tnn.BatchNorm2d(c3), tnn.LeakyReLU(0.2),
            tnn.ConvTranspose2d(c3, 1, 5, stride=2, padding=2, output_padding=1, bias=False), tnn.Tanh())
        return TorchGenerator(body, num_classes)

    def dcgan_sn_discriminator(width, num_classes):
        c1, c2 = (max(1, round(n * width)) for n in (64, 128))
        sn = tnn.utils.spectral_norm  # the older API, whose names minigan's spectral_norm shares
        body = tnn.Sequential(
            sn(tnn.Conv2d(2 if num_classes else 1, c1, 5, stride=2, padding=2)), tnn.LeakyReLU(0.2), tnn.Dropout(0.3),
            sn(tnn.Conv2d(c1, c2, 5, stride=2, padding=2)), tnn.LeakyReLU(0.2), tnn.Dropout(0.3),
            tnn.Flatten(), sn(tnn.Linear(c2 * 49, 1)))
        return TorchDiscriminator(body, num_classes)

    return torch, mlp, dcgan, dcgan_sn_discriminator


def signature(state_dict):
    """{key: (shape, dtype name)} for a minigan (NumPy) or a PyTorch state dict."""
    return {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in state_dict.items()}


@pytest.mark.parametrize("arch, num_classes", [("mlp", None), ("mlp", 10), ("dcgan", None), ("dcgan", 10),
                                               ("sn-critic", None), ("sn-critic", 10)])
def test_a_minigan_network_loads_into_pytorch_and_gives_the_same_outputs(tmp_path, arch, num_classes):
    """The example's G (and the SNGAN critic) saved by minigan, loaded by PyTorch with
    safetensors.torch.load_file + load_state_dict(strict=True): same keys, shapes, dtypes, outputs."""
    torch, t_mlp, t_dcgan, t_sn_critic = torch_models()
    load_file = pytest.importorskip("safetensors.torch", reason="the safetensors package is not installed").load_file
    if arch == "mlp":
        ours, theirs = models.mlp_generator(100, num_classes=num_classes), t_mlp(100, num_classes)
    elif arch == "dcgan":
        ours, theirs = models.dcgan_generator(100, 0.25, num_classes=num_classes), t_dcgan(100, 0.25, num_classes)
    else:
        ours = models.spectral_normalize(models.dcgan_discriminator(0.25, num_classes=num_classes))
        theirs = t_sn_critic(0.25, num_classes)
    is_g = arch != "sn-critic"
    labels = np.arange(8) % 10 if num_classes else None
    inputs = minigan.randn(8, 100) if is_g else minigan.randn(8, 1, 28, 28)
    with minigan.no_grad():  # train mode: running statistics and power iterations move on
        for _ in range(3):
            ours(inputs, labels=labels)

    state = ours.state_dict()
    assert signature(state) == signature(theirs.state_dict())
    path = tmp_path / "net.safetensors"
    minigan.save_safetensors(state, path)
    theirs.load_state_dict(load_file(str(path)), strict=True)

    ours.eval(), theirs.eval()
    x = minigan.randn(8, 100) if is_g else minigan.randn(8, 1, 28, 28)
    with minigan.no_grad():
        mine = ours(x, labels=labels).numpy()
    with torch.no_grad():
        torch_out = theirs(torch.from_numpy(x.numpy()), None if labels is None else torch.from_numpy(labels)).numpy()
    assert torch_out.shape == mine.shape and torch_out.dtype == np.float32
    np.testing.assert_allclose(torch_out, mine, rtol=0, atol=1e-5)
    assert np.abs(mine).max() > 0.01  # outputs that mean something, not all zero


def test_a_pytorch_generator_loads_into_minigan(tmp_path):
    """The other way: weights PyTorch initialised, saved with safetensors.torch.save_file."""
    torch, _, t_dcgan, _ = torch_models()
    save_file = pytest.importorskip("safetensors.torch", reason="the safetensors package is not installed").save_file
    torch.manual_seed(0)
    theirs = t_dcgan(16, 0.125, None)
    with torch.no_grad():
        theirs(torch.randn(8, 16))  # train mode: running statistics move
    path = tmp_path / "torch.safetensors"
    save_file(theirs.state_dict(), str(path))
    ours = models.dcgan_generator(16, 0.125)
    ours.load_state_dict(minigan.load_safetensors(path))
    ours.eval(), theirs.eval()
    z = np.random.default_rng(0).standard_normal((4, 16)).astype(np.float32)
    with minigan.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(minigan.tensor(z)).numpy(), theirs(torch.from_numpy(z)).numpy(),
                                   rtol=0, atol=1e-5)


@pytest.mark.gpu
def test_gpu_arrays_are_saved_from_and_loaded_to_the_gpu(tmp_path):
    w = minigan.randn(3, 4, device="gpu")
    path = tmp_path / "g.safetensors"
    minigan.save_safetensors({"w": w, "raw": w.data}, path)
    back = minigan.load_safetensors(path, device="gpu")
    assert minigan.backend.device_of(back["w"]) == "gpu"
    np.testing.assert_array_equal(minigan.backend.as_numpy(back["raw"]), w.numpy())
    assert type(minigan.load_safetensors(path, device="cpu")["w"]) is np.ndarray
