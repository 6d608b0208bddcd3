"""``save_safetensors`` and ``load_safetensors``: weights in the safetensors format, for PyTorch.

``minigan.save`` writes checkpoints that only minigan reads. To take a trained network to PyTorch,
write its state dict as a ``.safetensors`` file, the format PyTorch's ecosystem uses for weights
because loading it never unpickles (so it cannot run code). minigan's state dict keys, shapes and
dtypes are PyTorch's (``body.0.weight``, ``body.1.running_mean``, ``body.1.num_batches_tracked``), so
the same architecture written with ``torch.nn`` takes the file as it is::

    minigan.save_safetensors(G.state_dict(), "G.safetensors")

    # in PyTorch
    from safetensors.torch import load_file
    G_torch.load_state_dict(load_file("G.safetensors"))      # strict: every key must match

The format is small enough to write by hand, so it is written here with NumPy and the standard
library (the ``safetensors`` package is only used by the tests, to read our files back):

    8 bytes    N, the length of the header: an unsigned 64-bit integer, little-endian
    N bytes    the header: UTF-8 JSON, padded with spaces so that N is a multiple of 8, e.g.
               {"__metadata__": {"epoch": "20"},                         (optional; str -> str)
                "body.0.weight": {"dtype": "F32", "shape": [256, 100], "data_offsets": [0, 102400]},
                ...}
    the rest   every tensor's bytes, C order (row-major), little-endian, back to back with no gaps;
               ``data_offsets`` [begin, end) count from the first byte after the header

``save_safetensors`` lays the file out as the reference writer (the ``safetensors`` package) does,
byte for byte: the tensors with the widest dtypes first (8-byte, then 4, 2, 1), by name within a
dtype, so that every tensor starts at a multiple of its item size; compact JSON with the metadata
first (its keys sorted here; the reference's order there is arbitrary). ``load_safetensors``
trusts nothing in the file: see its docstring.
"""
import json
import math
import os
from collections.abc import Mapping

import numpy as np

from . import backend
from .files import atomic_file
from .serialization import CheckpointError
from .tensor import Tensor

# The dtypes minigan reads and writes: name in the header -> NumPy dtype (little-endian). The
# order is the reference writer's: a file holds the tensors of later dtypes first. BF16 and the
# 8-bit floats have no NumPy dtype, and complex numbers no place in minigan.
DTYPES = {
    "BOOL": np.dtype("?"), "U8": np.dtype("u1"), "I8": np.dtype("i1"),
    "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "F16": np.dtype("<f2"),
    "I32": np.dtype("<i4"), "U32": np.dtype("<u4"), "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "U64": np.dtype("<u8"),
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
_RANK = {name: i for i, name in enumerate(DTYPES)}
METADATA = "__metadata__"
HEADER_LIMIT = 100_000_000  # bytes of header JSON: the reference reader's limit too
_ENTRY_FIELDS = {"dtype", "shape", "data_offsets"}


# --- save ----------------------------------------------------------------------------------------

def save_safetensors(state_dict, path, metadata=None):
    """Write ``state_dict`` (name -> NumPy array, CuPy array or Tensor) to ``path`` in the
    safetensors format, atomically. ``metadata``: an optional dict of str -> str stored in the
    header (e.g. ``{"epoch": "20"}``). Read it back with ``load_safetensors``, or in PyTorch with
    ``safetensors.torch.load_file``."""
    path = os.fspath(path)
    if not isinstance(state_dict, Mapping):
        hint = "; pass its .state_dict()" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(f"save_safetensors expects a dict of name -> array or Tensor, "
                        f"got {type(state_dict).__name__}{hint}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save_safetensors: names must be strings, got {type(name).__name__} {name!r}")
        if name == METADATA:
            raise ValueError(f"save_safetensors: {METADATA!r} is reserved for the metadata; "
                             "pass metadata=... instead")
        data = value.data if isinstance(value, Tensor) else value
        if not (hasattr(data, "shape") and hasattr(data, "dtype")):
            raise TypeError(f"save_safetensors: the value for {name!r} must be an array or Tensor, "
                            f"got {type(value).__name__}")
        array = backend.as_numpy(data)  # CuPy arrays are copied to the host
        little = array.dtype.newbyteorder("<")
        if little not in _NAMES:
            raise TypeError(f"save_safetensors: {name!r} has dtype {array.dtype}; the format holds "
                            f"{', '.join(str(d) for d in DTYPES.values())}")
        arrays[name] = array.astype(little, order="C", copy=False)  # C order, little-endian
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError(f"save_safetensors: metadata must be a dict of str -> str, got {metadata!r:.80}")
        metadata = dict(sorted(metadata.items()))

    # Widest dtypes first, then by name: each tensor starts at a multiple of its item size.
    names = sorted(arrays, key=lambda n: (-_RANK[_NAMES[arrays[n].dtype]], n))
    header = {} if metadata is None else {METADATA: metadata}
    offset = 0
    for name in names:
        array = arrays[name]
        header[name] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # spaces up to a multiple of 8: the data starts aligned

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save_safetensors: folder '{folder}' does not exist (saving to '{path}')")
    with atomic_file(path) as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for name in names:
            f.write(arrays[name].reshape(-1).view(np.uint8))  # the array's own bytes, not a copy


# --- load ----------------------------------------------------------------------------------------

def load_safetensors(path, device=None):
    """Read a safetensors file and return a dict of name -> array, in the file's order, ready
    for ``Module.load_state_dict``. ``device``: where the arrays go ("cpu" gives NumPy arrays,
    "gpu" CuPy arrays; None = minigan's default device, as everywhere in minigan).

    The file is checked before anything is allocated, and every damaged or hostile file raises
    ``CheckpointError`` naming the file and what is wrong: a header length over 100 MB or past the
    end of the file; a header that is not UTF-8 JSON, not an object, or names a tensor twice; an
    entry without exactly ``dtype``, ``shape`` and ``data_offsets``; a dtype minigan does not read
    (BF16 included: convert in PyTorch first, ``{k: v.float() for k, v in sd.items()}``); a shape
    whose size times the item size differs from its offsets; offsets that overlap, leave a gap,
    or do not end exactly at the end of the file. So no more is read or allocated than the file
    holds.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_safetensors: no file at '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"load_safetensors: '{path}' is a folder; expected a .safetensors file")
    device = backend.normalize_device(device)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        header, header_size = _read_header(f, size, path)
        entries = _check_entries(header, size - 8 - header_size, path)
        arrays = {}
        # The entries cover the data exactly and in this order, so they are read front to back.
        for name, dtype, shape, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
            try:
                array = np.empty(shape, dtype)
            except ValueError as e:  # e.g. an empty shape (0, 2**62): its other sizes are too large
                raise CheckpointError(f"load_safetensors: tensor {name!r} of '{path}' has shape {shape}, "
                                      f"which NumPy cannot make: {e}") from None
            got = f.readinto(array.reshape(-1).view(np.uint8))  # straight into the array's memory
            if got != end - begin:
                raise CheckpointError(f"load_safetensors: '{path}' ends inside tensor {name!r} (it "
                                      f"changed while being read?): expected {end - begin} bytes, got {got}")
            if dtype == np.bool_ and array.view(np.uint8).max(initial=0) > 1:
                raise CheckpointError(f"load_safetensors: tensor {name!r} of '{path}' is BOOL but holds "
                                      "bytes other than 0 and 1")
            arrays[name] = array.astype(dtype.newbyteorder("="), copy=False)  # native order
    return {name: backend.to_device(arrays[name], device) for name, *_ in entries}


def _refuse_duplicates(pairs):
    """JSON object hook: a dict, refusing a key given twice (plain json.loads keeps the last)."""
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise CheckpointError(f"names {key!r} twice")
        seen[key] = value
    return seen


def _read_header(f, size, path):
    """The header as a dict and its length in bytes, read no further than its checked length."""
    if size < 8:
        raise CheckpointError(f"load_safetensors: '{path}' is {size} bytes long; a safetensors file "
                              "starts with the 8-byte length of its header")
    n = int.from_bytes(f.read(8), "little")
    if n > HEADER_LIMIT:
        raise CheckpointError(f"load_safetensors: '{path}' declares a header of {n} bytes; the limit "
                              f"is {HEADER_LIMIT} (is it a safetensors file?)")
    if 8 + n > size:
        raise CheckpointError(f"load_safetensors: '{path}' declares a header of {n} bytes but holds only "
                              f"{size - 8} after the length (truncated, or not a safetensors file)")
    try:
        header = json.loads(f.read(n).decode("utf-8"), object_pairs_hook=_refuse_duplicates)
    except CheckpointError as e:
        raise CheckpointError(f"load_safetensors: the header of '{path}' {e}") from None
    except RecursionError:  # json recurses once per level of nesting
        raise CheckpointError(f"load_safetensors: the header of '{path}' is nested too deeply") from None
    except ValueError as e:  # not UTF-8 (UnicodeDecodeError) or not JSON
        raise CheckpointError(f"load_safetensors: the header of '{path}' is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load_safetensors: the header of '{path}' is a JSON "
                              f"{type(header).__name__}; expected an object of name -> tensor")
    return header, n


def _is_count(x):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2 ** 63


def _check_entries(header, data_size, path):
    """[(name, dtype, shape, begin, end)] in the header's order, once every entry is checked
    and the offsets are known to cover the ``data_size`` bytes after the header exactly."""
    where = f"load_safetensors: '{path}'"
    metadata = header.get(METADATA, {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{where} has {METADATA} {metadata!r:.80}; expected an object of str -> str")
    entries = []
    for name, entry in header.items():
        if name == METADATA:
            continue
        if not isinstance(entry, dict) or set(entry) != _ENTRY_FIELDS:
            raise CheckpointError(f"{where}: the entry for {name!r} is {entry!r:.80}; expected an object "
                                  "with exactly dtype, shape and data_offsets")
        code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if code not in DTYPES:
            hint = (" (convert in PyTorch first, e.g. {k: v.float() for k, v in sd.items()})"
                    if code in ("BF16", "F8_E4M3", "F8_E5M2") else "")
            raise CheckpointError(f"{where}: tensor {name!r} has dtype {code!r:.40}; minigan reads "
                                  f"{', '.join(DTYPES)}{hint}")
        if not isinstance(shape, list) or len(shape) > 32 or not all(_is_count(d) for d in shape):
            raise CheckpointError(f"{where}: tensor {name!r} has shape {shape!r:.80}; expected a list of "
                                  "at most 32 sizes, each 0 or more")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)
                and offsets[0] <= offsets[1]):
            raise CheckpointError(f"{where}: tensor {name!r} has data_offsets {offsets!r:.80}; expected "
                                  "[begin, end] with 0 <= begin <= end")
        begin, end = offsets
        nbytes = math.prod(shape) * DTYPES[code].itemsize  # Python ints: no overflow
        if nbytes != end - begin:
            raise CheckpointError(f"{where}: tensor {name!r} of shape {tuple(shape)} and dtype {code} needs "
                                  f"{nbytes} bytes, but its data_offsets [{begin}, {end}] hold {end - begin}")
        entries.append((name, DTYPES[code], tuple(shape), begin, end))

    # Back to back from 0 to the end of the file: no overlaps, no gaps, nothing left over.
    covered, previous = 0, None
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin < covered:
            raise CheckpointError(f"{where}: tensor {name!r} at bytes [{begin}, {end}] overlaps "
                                  f"tensor {previous!r}, which ends at {covered}")
        if begin > covered:
            raise CheckpointError(f"{where}: bytes [{covered}, {begin}] of the data belong to no tensor")
        covered, previous = end, name
    if covered != data_size:
        raise CheckpointError(f"{where}: its tensors cover {covered} bytes but the file holds {data_size} "
                              f"after the header ({'truncated' if covered > data_size else 'extra bytes'})")
    return entries
