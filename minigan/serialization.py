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

Writing is atomic: the file is written under a temporary name in the same folder, flushed to disk
(fsync), then renamed over ``path`` with ``os.replace``. A crash part-way leaves the previous
checkpoint untouched, never a half-written one.
"""
import json
import os
import re
import uuid
import zipfile
from collections.abc import Mapping

import numpy as np

from . import backend
from .tensor import Tensor

STRUCTURE = "__minigan_structure__"
FORMAT = "minigan-checkpoint"
VERSION = 1
_NUMPY_SAVEZ_ARGS = {"file", "allow_pickle"}  # names np.savez would take as its own arguments


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
    # A fresh name in the same folder (os.replace only renames atomically within one file system).
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(temporary, "xb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them the checkpoint
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    if os.name == "posix":  # make the rename itself durable; best effort, the file is complete already
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass  # some file systems cannot fsync a folder
        finally:
            os.close(fd)


# --- load ----------------------------------------------------------------------------------------

def _decode(spec, read_array, path):
    if spec is None or isinstance(spec, (bool, int, float, str)):
        return spec
    if isinstance(spec, dict) and len(spec) == 1:
        (kind, body), = spec.items()
        if kind == "dict":
            return {key: _decode(value, read_array, path) for key, value in body}
        if kind == "list":
            return [_decode(v, read_array, path) for v in body]
        if kind == "tuple":
            return tuple(_decode(v, read_array, path) for v in body)
        if kind == "array":
            return read_array(body)
    if isinstance(spec, dict) and set(spec) == {"scalar", "dtype"}:
        return np.dtype(spec["dtype"]).type(spec["scalar"])
    raise CheckpointError(f"load: '{path}' has a damaged structure description (unexpected {spec!r:.80})")


def load(path):
    """Read a checkpoint written by ``save`` and return the same structure (arrays as NumPy arrays).

    Never unpickles: a file holding Python objects is refused. An ``.npz`` written by
    ``numpy.savez`` (no minigan structure) loads as a dict of entry name -> array.
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
    try:
        npz = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"load: '{path}' looks like an .npz file but cannot be read; it may be "
                              f"truncated or corrupt ({e})") from None

    with npz:
        def read(name):
            if name not in npz.files:
                raise CheckpointError(f"load: '{path}' has no entry '{name}' that its structure refers to")
            try:
                value = npz[name]
            except ValueError as e:
                if "allow_pickle" in str(e):
                    raise CheckpointError(
                        f"load: entry '{name}' of '{path}' holds Python objects (a pickled object array); "
                        "minigan never unpickles checkpoints, since unpickling can run arbitrary code"
                    ) from None
                raise CheckpointError(f"load: entry '{name}' of '{path}' is corrupt: {e}") from None
            except (OSError, EOFError, zipfile.BadZipFile) as e:
                raise CheckpointError(f"load: entry '{name}' of '{path}' is corrupt: {e}") from None
            if not isinstance(value, np.ndarray):  # a zip member that is not an .npy file
                raise CheckpointError(f"load: entry '{name}' of '{path}' is not a NumPy array (.npy)")
            return value

        if STRUCTURE not in npz.files:
            return {name: read(name) for name in npz.files}
        try:
            structure = json.loads(read(STRUCTURE).tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
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
        except (TypeError, ValueError) as e:  # e.g. a "dict" whose items are not [key, value] pairs
            raise CheckpointError(f"load: '{path}' has a damaged structure description: {e}") from None
