"""The IDX reader and writer: round trips for every type, gzip by magic bytes, and every error."""
import gzip
import math
import os
import tracemalloc

import numpy as np
import pytest

from minigan.data import IDXError, read_idx, write_idx
from minigan.data import idx as idx_module

DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_type(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = tmp_path / "a.idx"
    write_idx(path, array, compress=compress)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    back[0, 0, 0] = 1  # a writable copy, not a view of the file's bytes


def test_header_is_the_mnist_layout(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((2, 28, 28), dtype=np.uint8))
    raw = path.read_bytes()
    assert raw[:16] == bytes.fromhex("00000803" "00000002" "0000001c" "0000001c")
    assert len(raw) == 16 + 2 * 28 * 28
    write_idx(path, np.array([1, 256], dtype=np.int32))  # data is big-endian
    assert path.read_bytes() == bytes.fromhex("00000c01" "00000002" "00000001" "00000100")


def test_gzip_is_recognised_by_its_magic_bytes_not_the_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    gz_without_suffix, raw_with_suffix = tmp_path / "labels", tmp_path / "labels-raw.gz"
    write_idx(gz_without_suffix, labels, compress=True)
    write_idx(raw_with_suffix, labels, compress=False)
    assert gz_without_suffix.read_bytes()[:2] == b"\x1f\x8b"
    assert raw_with_suffix.read_bytes()[:2] == b"\x00\x00"
    np.testing.assert_array_equal(read_idx(gz_without_suffix), labels)
    np.testing.assert_array_equal(read_idx(raw_with_suffix), labels)


def test_compression_follows_the_suffix_by_default_and_is_reproducible(tmp_path):
    array = np.arange(100, dtype=np.uint8).reshape(10, 10)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b", array)
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "b").read_bytes()[:2] == b"\x00\x00"
    first = (tmp_path / "a.gz").read_bytes()
    write_idx(tmp_path / "a.gz", array)  # no time stamp in the gzip header: the same bytes again
    assert (tmp_path / "a.gz").read_bytes() == first


def test_wrong_magic_shows_the_bytes_and_the_path(tmp_path):
    path = tmp_path / "not-idx.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(IDXError, match=r"not an IDX file.*00 00 <type> <ndim>.*found 89 50 4e 47") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(IDXError, match=r"found \(nothing\)"):
        read_idx(path)


def test_unknown_type_code(tmp_path):
    path = tmp_path / "odd"
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 42]))
    with pytest.raises(IDXError, match=r"unknown IDX type code 0x07.*expected one of 0x08 uint8.*0x0E float64"):
        read_idx(path)


def test_truncated_data_says_expected_and_found(tmp_path):
    path = tmp_path / "short.gz"
    write_idx(path, np.zeros((3, 28, 28), dtype=np.uint8))
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:16 + 100]))
    with pytest.raises(IDXError, match=r"truncated.*shape \(3, 28, 28\) of uint8.*2,352 bytes of data, found 100") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_truncated_header(tmp_path):
    path = tmp_path / "header"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 5]))
    with pytest.raises(IDXError, match=r"truncated IDX header: 3 dimensions need 16 header bytes, found 8"):
        read_idx(path)


def test_extra_bytes_after_the_data(tmp_path):
    path = tmp_path / "long"
    write_idx(path, np.zeros(4, dtype=np.int16))
    path.write_bytes(path.read_bytes() + b"xx")
    with pytest.raises(IDXError, match=r"extra bytes.*8 bytes of data, found 10"):
        read_idx(path)


def test_cut_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    write_idx(path, np.random.default_rng(0).integers(0, 255, (50, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IDXError, match=r"starts like a gzip file.*cannot be decompressed") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nothing-here")


@pytest.mark.parametrize("dtype", ["uint16", "int64", "bool", "complex64"])
def test_write_rejects_types_idx_cannot_hold(tmp_path, dtype):
    with pytest.raises(TypeError, match=f"got an array of dtype {dtype}"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=dtype))


def test_write_rejects_a_scalar(tmp_path):
    with pytest.raises(ValueError, match=r"1 to 255 dimensions, got shape \(\)"):
        write_idx(tmp_path / "x", np.uint8(3))


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "labels.gz"
    write_idx(path, np.arange(5, dtype=np.uint8))
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(idx_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        write_idx(path, np.arange(7, dtype=np.uint8))
    assert path.read_bytes() == before  # the old file is untouched
    assert os.listdir(tmp_path) == ["labels.gz"]  # and the temporary file is gone


# --- bounds: the header is checked before any data is read or inflated ---------------------------

MNIST_10_HEADER = bytes.fromhex("00000803" "0000000a" "0000001c" "0000001c")  # uint8, 10 x 28 x 28


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    # Before: the whole stream (200 MiB) was inflated, then found too long. Now: at most the 7,840
    # bytes the header promises, plus one, are inflated.
    path = tmp_path / "bomb.gz"
    zeros = bytes(1 << 20)
    with gzip.GzipFile(path, "wb", compresslevel=1, mtime=0) as f:  # streamed, so the test stays light
        f.write(MNIST_10_HEADER)
        for _ in range(200):
            f.write(zeros)
    assert path.stat().st_size < 2_000_000  # 200 MiB of zeros gzip to well under 1 MB
    tracemalloc.start()
    try:
        with pytest.raises(IDXError, match=r"extra bytes.*shape \(10, 28, 28\) of uint8.*7,840 bytes of data") as e:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(e.value)
    assert peak < 16 * 2**20, f"reading a gzip bomb took {peak:,} bytes of memory"


@pytest.mark.parametrize("dims", [(2**31 - 1,) * 4, (2**16,) * 4], ids=["huge", "product-is-2**64"])
def test_huge_dimensions_are_refused_with_the_exact_size(tmp_path, dims):
    # Before: the size was computed in int64, which overflows; 2**16 ** 4 wrapped to 0 and passed
    # the check for a file with no data at all.
    path = tmp_path / "huge"
    path.write_bytes(bytes([0, 0, 0x08, len(dims)]) + np.array(dims, dtype=">u4").tobytes())
    with pytest.raises(IDXError, match=r"more than max_bytes=268,435,456") as e:
        read_idx(path)
    message = str(e.value)
    assert str(path) in message and str(dims) in message and f"{math.prod(dims):,} bytes" in message


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_max_bytes_bounds_what_the_header_may_promise(tmp_path, compress):
    path = tmp_path / "ten"
    write_idx(path, np.zeros((10, 28, 28), dtype=np.uint8), compress=compress)
    with pytest.raises(IDXError, match=r"7,840 bytes of data, more than max_bytes=7,839"):
        read_idx(path, max_bytes=7839)
    assert read_idx(path, max_bytes=7840).shape == (10, 28, 28)


def test_a_big_promise_in_a_small_raw_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "liar"
    path.write_bytes(bytes([0, 0, 0x0E, 2]) + np.array([4000, 4000], dtype=">u4").tobytes() + bytes(8))
    tracemalloc.start()
    try:
        with pytest.raises(IDXError, match=r"truncated.*128,000,000 bytes of data, found 8"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20  # the 128 MB array was never allocated


def test_a_gzip_file_cut_in_the_data_names_expected_and_found(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(MNIST_10_HEADER + bytes(5000)))
    with pytest.raises(IDXError, match=r"truncated.*7,840 bytes of data, found 5,000") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_a_bad_gzip_checksum_is_still_noticed(tmp_path):
    path = tmp_path / "crc.gz"
    data = bytearray(gzip.compress(MNIST_10_HEADER + bytes(7840)))
    data[-8] ^= 0xFF  # the CRC-32 in the gzip trailer, read only once the whole stream is inflated
    path.write_bytes(bytes(data))
    with pytest.raises(IDXError, match=r"starts like a gzip file.*cannot be decompressed"):
        read_idx(path)
