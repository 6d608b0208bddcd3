"""``save`` and ``load``: checkpoints as ``.npz`` files that cannot run code when opened.

PyTorch's ``torch.save`` pickles, and unpickling a file can run any code inside it. A minigan
checkpoint holds only two kinds of thing, and is always read with ``allow_pickle=False``:

* the arrays, one ``.npy`` entry each, named after where they sit (``G.main.0.weight``);
* the structure around them (dicts, lists, tuples, numbers, strings, None) as JSON text, stored
  as one uint8 array under ``__minigan_structure__``. Each dict becomes
  ``{"dict": [[key, value], ...]}`` (keys stay ints or strings), each list ``{"list": [...]}``,
  each tuple ``{"tuple": [...]}``, each array ``{"array": "<entry name>"}``; Python numbers,
  strings and None are written as themselves, so they come back with the same type.

So ``load(path)`` rebuilds exactly what was saved: an optimiser's state_dict
``{"state": {0: {"step": 3, "exp_avg": array}}, "param_groups": [{"betas": (0.9, 0.999), ...}]}``
comes back with int keys, tuples and Python scalars intact. Tensors are stored as arrays and come
back as NumPy arrays (pass them to ``load_state_dict``, which copies them to the right device).

Writing is atomic (``files.atomic_file``): the file is written under a temporary name in the same
folder, flushed to disk (fsync), then renamed over ``path`` with ``os.replace``. A crash part-way
leaves the previous checkpoint untouched, never a half-written one. The temporary's name holds the
writer's machine and process id (``.ckpt.npz.<host>.<pid>.<random>.tmp``), so when a writer is
killed (``kill -9``) the next save to the same path sees that its writer is gone and removes it; a
temporary whose writer cannot be checked (another machine, Windows) is removed once it is a day old.

Reading trusts nothing in the file, and every damaged or hostile file raises ``CheckpointError``
naming the file and what is wrong with it:

* the arrays may take at most ``max_bytes`` once decompressed (by default 16 times the file's size,
  and at least 64 MiB; ``save`` does not compress, so its files need 1 times). Each entry's declared
  size, in the zip directory and in its .npy header, is checked before anything is inflated, and
  no more than that is ever read, so a few kilobytes cannot ask for gigabytes;
* an entry is read once however often the structure refers to it, and every reference gets that
  same array (``save`` never writes such a file: writing into one in place changes them all);
* the structure may nest at most ``MAX_DEPTH`` (100) levels, and ``save`` refuses deeper objects.
"""
import json
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

from . import backend
from .files import atomic_file
from .tensor import Tensor

STRUCTURE = "__minigan_structure__"
FORMAT = "minigan-checkpoint"
VERSION = 1
_NUMPY_SAVEZ_ARGS = {"file", "allow_pickle"}  # names np.savez would take as its own arguments
MAX_DEPTH = 100  # levels of nesting in a structure: far more than any real checkpoint needs
SIZE_RATIO = 16  # by default the arrays may take 16 times the file's size once decompressed ...
MIN_SIZE_LIMIT = 64 * 2 ** 20  # ... and at least 64 MiB, for small files of well-compressed arrays
_CHUNK = 2 ** 20  # arrays are read 1 MiB at a time, straight into their own memory
# What damaged zip members and .npy headers raise: BadZipFile (bad CRC), zlib.error (bad deflate
# data), EOFError (cut short), struct.error, LookupError, OverflowError (bad fields),
# NotImplementedError (an unknown compression), RuntimeError (an encrypted member, or a header
# nested too deeply for ast), ValueError and TypeError (a bad header); OSError (a read error).
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, struct.error, LookupError, OverflowError,
            NotImplementedError, RuntimeError, ValueError, TypeError, OSError)


class CheckpointError(ValueError):
    """A file is not a readable minigan checkpoint, or an object cannot be stored in one."""


# --- save ----------------------------------------------------------------------------------------

def _entry_name(where, taken):
    """A readable, unique .npz entry name from the path of keys to an array (e.g. G.main.0.weight)."""
    base = re.sub(r"[^A-Za-z0-9_.\-]", "_", ".".join(str(k) for k in where)) or "array"
    name, n = base, 1
    while name in taken:
        name, n = f"{base}#{n}", n + 1
    return name


def _describe(where):
    return "obj" + "".join(f"[{k!r}]" for k in where)


def _encode(obj, where, arrays):
    """The JSON description of ``obj``; arrays found are added to ``arrays`` (name -> ndarray)."""
    if len(where) > MAX_DEPTH:
        raise CheckpointError(f"save: {_describe(where)} is nested more than {MAX_DEPTH} levels deep; "
                              "load refuses deeper structures")
    if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":  # a NumPy scalar such as np.float32(1)
        return {"scalar": obj.item(), "dtype": obj.dtype.str}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    is_array = hasattr(obj, "__array_interface__") or hasattr(obj, "__cuda_array_interface__")  # NumPy, CuPy
    if isinstance(obj, Tensor) or is_array:
        array = backend.as_numpy(obj.data if isinstance(obj, Tensor) else obj)
        if array.dtype.kind not in "biufcUS":
            raise CheckpointError(f"save: the array at {_describe(where)} has dtype {array.dtype}; "
                                  "checkpoints hold arrays of numbers or strings only (no Python objects)")
        name = _entry_name(where, arrays.keys() | _NUMPY_SAVEZ_ARGS | {STRUCTURE})
        arrays[name] = array
        return {"array": name}
    if isinstance(obj, Mapping):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise CheckpointError(f"save: dict keys must be str or int, got {type(key).__name__} key "
                                      f"{key!r} at {_describe(where)}")
            items.append([key, _encode(value, where + (key,), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {kind: [_encode(v, where + (i,), arrays) for i, v in enumerate(obj)]}
    hint = "; save its state_dict() instead" if hasattr(obj, "state_dict") else ""
    raise CheckpointError(f"save: cannot store an object of type {type(obj).__name__} at {_describe(where)}; "
                          "expected dicts, lists, tuples, arrays, Tensors, numbers, strings or None" + hint)


def save(obj, path):
    """Write ``obj`` (a nested structure of dicts, lists, tuples, arrays, Tensors, numbers,
    strings and None) to ``path`` as an ``.npz`` file, atomically. The file is written at exactly
    ``path`` (no suffix is added)."""
    path = os.fspath(path)
    arrays = {}
    structure = {"format": FORMAT, "version": VERSION, "root": _encode(obj, (), arrays)}
    text = json.dumps(structure, allow_nan=True)
    arrays[STRUCTURE] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder '{folder}' does not exist (saving to '{path}')")
    with atomic_file(path) as f:  # a temporary file, renamed to path once complete
        np.savez(f, **arrays)


# --- load ----------------------------------------------------------------------------------------

def _decode(spec, read_array, path, depth=0):
    if depth > MAX_DEPTH:
        raise CheckpointError(f"load: '{path}' has a structure nested more than {MAX_DEPTH} levels deep; "
                              "save never writes one that deep")
    if spec is None or isinstance(spec, (bool, int, float, str)):
        return spec
    if isinstance(spec, dict) and len(spec) == 1:
        (kind, body), = spec.items()
        if kind == "dict":
            return {key: _decode(value, read_array, path, depth + 1) for key, value in body}
        if kind == "list":
            return [_decode(v, read_array, path, depth + 1) for v in body]
        if kind == "tuple":
            return tuple(_decode(v, read_array, path, depth + 1) for v in body)
        if kind == "array":
            return read_array(body)
    if isinstance(spec, dict) and set(spec) == {"scalar", "dtype"}:
        dtype = np.dtype(spec["dtype"]) if isinstance(spec["dtype"], str) else None
        # Only the kinds save writes: a void scalar would allocate as many bytes as its value says.
        if dtype is not None and dtype.kind in "biuf" and isinstance(spec["scalar"], (bool, int, float)):
            return dtype.type(spec["scalar"])
    raise CheckpointError(f"load: '{path}' has a damaged structure description (unexpected {spec!r:.80})")


def _read_entry(archive, info, where, left, max_bytes):
    """The array in one .npy member of ``archive``, checked against its declared sizes first and
    read no further than they say; ``where`` names it in errors, ``left`` is what the limit allows."""
    if info.file_size > left:
        raise CheckpointError(f"load: {where} holds {info.file_size} bytes once decompressed, which "
                              f"passes the limit of {max_bytes} bytes for this file ({max_bytes - left} "
                              "read already); if you trust the file, pass load(path, max_bytes=...) "
                              "to allow more")
    with archive.open(info) as stream:
        try:
            version = np.lib.format.read_magic(stream)
        except ValueError as e:  # a zip member that is not an .npy file
            raise CheckpointError(f"load: {where} is not a NumPy array (.npy): {e}") from None
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise CheckpointError(f"load: {where} is an .npy file of format version "
                                  f"{version[0]}.{version[1]}; expected 1.0 or 2.0")
        if dtype.hasobject:
            raise CheckpointError(f"load: {where} holds Python objects (a pickled object array); minigan "
                                  "never unpickles checkpoints, since unpickling can run arbitrary code")
        if any(n < 0 for n in shape):
            raise CheckpointError(f"load: {where} declares shape {shape}; expected sizes of 0 or more")
        size = math.prod(shape) * dtype.itemsize  # Python ints: no overflow, however large the shape
        if size > info.file_size:
            raise CheckpointError(f"load: {where} declares shape {shape} of {dtype} ({size} bytes), more "
                                  f"than the {info.file_size} bytes the entry holds")

        array = np.empty(shape, dtype, order="F" if fortran_order else "C")
        memory = memoryview(array.reshape(-1, order="A").view(np.uint8))  # the array's own bytes
        done = 0
        while done < size:
            chunk = stream.read(min(_CHUNK, size - done))
            if not chunk:
                raise CheckpointError(f"load: {where} is truncated: expected {size} bytes of data, "
                                      f"found {done}")
            memory[done:done + len(chunk)] = chunk
            done += len(chunk)
        if stream.read(1):  # reading to the end also makes zipfile check the CRC
            raise CheckpointError(f"load: {where} holds more data than its header declares "
                                  f"(shape {shape} of {dtype}, {size} bytes)")
        return array


def load(path, *, max_bytes=None):
    """Read a checkpoint written by ``save`` and return the same structure (arrays as NumPy arrays).

    Never unpickles: a file holding Python objects is refused. An ``.npz`` written by
    ``numpy.savez`` (no minigan structure) loads as a dict of entry name -> array.
    ``max_bytes`` bounds what the arrays take once decompressed (default: 16 times the file's size,
    at least 64 MiB); raise it to read a trusted file whose arrays compress better than that.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at '{path}' (the file does not exist)")
    if os.path.isdir(path):
        raise IsADirectoryError(f"load: '{path}' is a folder; expected a checkpoint file (.npz)")
    with open(path, "rb") as f:
        start = f.read(6)
    if start.startswith(b"\x93NUMPY"):
        raise CheckpointError(f"load: '{path}' holds a single .npy array, not a minigan checkpoint (.npz)")
    if not start.startswith(b"PK"):  # every zip archive, so every .npz, starts with "PK"
        raise CheckpointError(f"load: '{path}' is not a minigan checkpoint: an .npz file is a zip archive "
                              f"and this file does not start like one (it starts with {start!r})")
    if max_bytes is None:
        max_bytes = max(MIN_SIZE_LIMIT, SIZE_RATIO * os.path.getsize(path))
    try:
        archive = zipfile.ZipFile(path)
    except _DAMAGED as e:
        raise CheckpointError(f"load: '{path}' looks like an .npz file but cannot be read; it may be "
                              f"truncated or corrupt ({e})") from None

    with archive:
        # Entries are named as np.load names them: the member "w.npy" holds the entry "w".
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        arrays = {}  # entry name -> array: each entry is read once, however often it is referred to
        left = max_bytes

        def read(name):
            nonlocal left
            if name not in members:
                raise CheckpointError(f"load: '{path}' has no entry '{name}' that its structure refers to")
            if name not in arrays:
                where = f"entry '{name}' of '{path}'"
                try:
                    arrays[name] = _read_entry(archive, members[name], where, left, max_bytes)
                except CheckpointError:
                    raise
                except _DAMAGED as e:
                    raise CheckpointError(f"load: {where} is corrupt: {e}") from None
                left -= members[name].file_size
            return arrays[name]

        if STRUCTURE not in members:
            return {name: read(name) for name in members}
        try:
            structure = json.loads(read(STRUCTURE).tobytes().decode("utf-8"))
        except RecursionError:  # json recurses once per level; legitimate files stay far shallower
            raise CheckpointError(f"load: '{path}' has a structure nested too deeply to parse; save "
                                  f"never nests more than {MAX_DEPTH} levels") from None
        except ValueError as e:  # not UTF-8, not JSON, or an integer with too many digits
            raise CheckpointError(f"load: '{path}' has a damaged structure description: {e}") from None
        if not isinstance(structure, dict) or structure.get("format") != FORMAT or "root" not in structure:
            raise CheckpointError(f"load: '{path}' has an entry {STRUCTURE} that is not a minigan structure")
        if structure.get("version") != VERSION:
            raise CheckpointError(f"load: '{path}' is checkpoint format version {structure.get('version')}, "
                                  f"this minigan reads version {VERSION}")
        try:
            return _decode(structure["root"], read, path)
        except CheckpointError:
            raise
        except (TypeError, ValueError, OverflowError) as e:  # e.g. a "dict" whose items are not pairs
            raise CheckpointError(f"load: '{path}' has a damaged structure description: {e}") from None
