"""The IDX file format, in which MNIST and Fashion-MNIST are published.

An IDX file is a small header followed by one array, all big-endian:

    bytes 0-1   two zero bytes
    byte  2     the element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     the number of dimensions, ndim
    then        ndim big-endian uint32 sizes, e.g. 60000, 28, 28
    then        the elements in C order (last index fastest), each big-endian

So MNIST's ``train-images-idx3-ubyte`` starts ``00 00 08 03 | 00 00 ea 60 | 00 00 00 1c |
00 00 00 1c`` (uint8, 3 dimensions, 60000 x 28 x 28) and its labels file ``00 00 08 01 |
00 00 ea 60`` (uint8, 1 dimension, 60000). The files are usually distributed gzipped; ``read_idx``
recognises gzip by the file's first two bytes (1f 8b), not by its name.

A file is never trusted with memory: ``read_idx`` reads and checks the header first, refuses data
larger than ``max_bytes``, then reads exactly the bytes the header promises straight into the array
(and one more, to notice extra data). A gzipped file is inflated only that far, so a small file that
would inflate to gigabytes (a "gzip bomb") costs no more memory than an honest one.

``write_idx`` writes the same format (tests use it to make small files) atomically, with
``minigan.files.atomic_file``: under a temporary name in the same folder, flushed to disk, then
renamed over the target, so a crash never leaves half a file behind.
"""
import gzip
import io
import math
import os
import zlib

import numpy as np

from ..files import atomic_file

# IDX type code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
# The most data read_idx accepts unless told otherwise: 256 MiB, five times MNIST's largest file
# (train images, 47 MB). Larger IDX files exist (EMNIST byclass, 550 MB): pass max_bytes for those.
MAX_BYTES = 256 * 2**20
READ_CHUNK = 2**20  # data is read (and inflated) 1 MiB at a time


class IDXError(ValueError):
    """A file is not a well-formed IDX file (or not the IDX array that was expected)."""


def _hex(data):
    return " ".join(f"{b:02x}" for b in data) or "(nothing)"


def _type_codes():
    return ", ".join(f"0x{code:02X} {dtype.newbyteorder('=').name}" for code, dtype in IDX_DTYPES.items())


def read_idx(path, max_bytes=MAX_BYTES):
    """Read an IDX file (raw or gzipped) into a NumPy array in native byte order.

    ``max_bytes`` is the most data the header may promise (default ``MAX_BYTES``, 256 MiB); nothing
    beyond the header is read before that check. Raises IDXError, naming ``path``, when the file is
    not gzip or IDX, has an unknown type code, promises more than ``max_bytes``, or holds fewer (or
    more) bytes than its header promises.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        is_gzip = f.read(2) == GZIP_MAGIC
        f.seek(0)
        if not is_gzip:  # a raw file's size is known, so a wrong one is refused before reading
            return _read_stream(f, path, max_bytes, size=os.fstat(f.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=f) as unzipped:
                return _read_stream(unzipped, path, max_bytes)
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:  # EOFError: the gzip stream was cut short
            raise IDXError(f"{path}: starts like a gzip file (1f 8b) but cannot be decompressed ({e}); "
                           "the file is probably truncated or corrupt: delete it and fetch it again") from None


def parse_idx(raw, path="<bytes>", max_bytes=MAX_BYTES):
    """Parse the bytes of an (uncompressed) IDX file; ``path`` is only used in error messages."""
    return _read_stream(io.BytesIO(raw), path, max_bytes, size=len(raw))


def _read_header(f, path):
    """Read and check the header at the start of the stream ``f``: (dtype, shape, header size)."""
    magic = f.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
        raise IDXError(f"{path}: not an IDX file: expected the magic number 00 00 <type> <ndim>, "
                       f"found {_hex(magic)}")
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02X} in the magic number {_hex(magic)}; "
                       f"expected one of {_type_codes()}")
    if ndim == 0:
        raise IDXError(f"{path}: the IDX header says 0 dimensions (magic {_hex(magic)}); expected at least 1")
    sizes = f.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise IDXError(f"{path}: truncated IDX header: {ndim} dimensions need {4 + 4 * ndim} header bytes, "
                       f"found {4 + len(sizes)}")
    shape = tuple(int(s) for s in np.frombuffer(sizes, dtype=">u4"))
    return IDX_DTYPES[code], shape, 4 + 4 * ndim


def _read_stream(f, path, max_bytes, size=None):
    """Read one IDX array from the binary stream ``f``: the header, then exactly the data it promises.

    ``size`` is the stream's length when it is known (a raw file); a gzip stream's is not, so there
    the length is checked by reading, never further than the header's promise plus one byte.
    """
    dtype, shape, header_size = _read_header(f, path)
    expected = math.prod(shape) * dtype.itemsize  # Python ints: exact however large the header's sizes
    promise = f"shape {shape} of {dtype.newbyteorder('=').name}, i.e. {expected:,} bytes of data"
    if expected > max_bytes:
        raise IDXError(f"{path}: the IDX header promises {promise}, more than max_bytes={max_bytes:,}; "
                       "pass a larger max_bytes to read_idx if the file really is that big")
    if size is not None and size - header_size != expected:
        raise _wrong_size(path, promise, expected, size - header_size)
    native = dtype.newbyteorder("=")
    array = np.empty(shape, dtype=native)
    found = _read_into(f, array.reshape(-1).view(np.uint8))
    if found < expected:
        raise _wrong_size(path, promise, expected, found)
    if f.read(1):  # one byte tells that more follows; counting the rest could mean inflating gigabytes
        raise _wrong_size(path, promise, expected, None)
    if native != dtype:  # the file is big-endian and this machine is not: swap each element's bytes
        array.byteswap(inplace=True)
    return array


def _read_into(f, buffer):
    """Fill ``buffer`` (a writable byte array) from ``f``; return how many bytes came (fewer at the end).

    In 1 MiB pieces: a gzip stream inflates each ``readinto`` into a temporary bytes object first,
    so one big call would briefly hold the data twice.
    """
    view = memoryview(buffer)
    done = 0
    while done < len(view):
        n = f.readinto(view[done:done + READ_CHUNK])
        if not n:
            break
        done += n
    return done


def _wrong_size(path, promise, expected, found):
    """The IDXError for data of the wrong length; ``found`` None: more than expected, not counted."""
    if found is None:
        return IDXError(f"{path}: has extra bytes after the data: the header promises {promise}, "
                        f"found more than {expected:,} (stopped reading there)")
    what = "truncated" if found < expected else "has extra bytes after the data"
    return IDXError(f"{path}: {what}: the header promises {promise}, found {found:,}")


def idx_bytes(array):
    """The bytes of ``array`` as an (uncompressed) IDX file."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"IDX files hold {_type_codes()}; got an array of dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX files hold arrays with 1 to 255 dimensions, got shape {array.shape}")
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=None):
    """Write ``array`` to ``path`` as an IDX file, atomically.

    ``compress``: True gzips the file, False writes it raw, None (the default) gzips when the
    name ends in ``.gz``. The gzip header carries no time stamp, so the same array always gives
    the same bytes.
    """
    path = os.fspath(path)
    if compress is None:
        compress = path.endswith(".gz")
    data = idx_bytes(array)
    if compress:
        data = gzip.compress(data, compresslevel=9, mtime=0)
    with atomic_file(path) as f:
        f.write(data)
