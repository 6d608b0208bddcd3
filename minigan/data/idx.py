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

``write_idx`` writes the same format (tests use it to make small files) atomically: under a
temporary name in the same folder, flushed to disk, then renamed over the target, so a crash never
leaves half a file behind. ``atomic_write`` is that step on its own.
"""
import gzip
import os
import uuid
import zlib

import numpy as np

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


class IDXError(ValueError):
    """A file is not a well-formed IDX file (or not the IDX array that was expected)."""


def _hex(data):
    return " ".join(f"{b:02x}" for b in data) or "(nothing)"


def _type_codes():
    return ", ".join(f"0x{code:02X} {dtype.newbyteorder('=').name}" for code, dtype in IDX_DTYPES.items())


def read_idx(path):
    """Read an IDX file (raw or gzipped) into a NumPy array in native byte order.

    Raises IDXError, naming ``path``, when the file is not gzip or IDX, has an unknown type code,
    or holds fewer (or more) bytes than its header promises.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:  # EOFError: the gzip stream was cut short
            raise IDXError(f"{path}: starts like a gzip file (1f 8b) but cannot be decompressed ({e}); "
                           "the file is probably truncated or corrupt: delete it and fetch it again") from None
    return parse_idx(raw, path)


def parse_idx(raw, path="<bytes>"):
    """Parse the bytes of an (uncompressed) IDX file; ``path`` is only used in error messages."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IDXError(f"{path}: not an IDX file: expected the magic number 00 00 <type> <ndim>, "
                       f"found {_hex(raw[:4])}")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02X} in the magic number {_hex(raw[:4])}; "
                       f"expected one of {_type_codes()}")
    if ndim == 0:
        raise IDXError(f"{path}: the IDX header says 0 dimensions (magic {_hex(raw[:4])}); expected at least 1")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IDXError(f"{path}: truncated IDX header: {ndim} dimensions need {header_size} header bytes, "
                       f"found {len(raw)}")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        what = "truncated" if found < expected else "has extra bytes after the data"
        raise IDXError(f"{path}: {what}: the header promises shape {shape} of {dtype.newbyteorder('=').name}, "
                       f"i.e. {expected:,} bytes of data, found {found:,}")
    array = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


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
    atomic_write(path, data)


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` so that ``path`` is never seen half-written.

    The bytes go to a temporary file in the same folder, are flushed to disk (fsync), and the
    temporary file is renamed over ``path`` (os.replace, atomic on one file system). On any error
    the temporary file is removed and ``path`` is left as it was.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
