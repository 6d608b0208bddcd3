"""The names real CuPy exposes, read from cupy_names.json (written by tools/list_cupy_names.py).

The stand-in reaches every name through ``check_name`` first, so a NumPy-only function (or an
ndarray method CuPy lacks) fails here, on the CPU, instead of on a learner's first GPU run.
"""
import json
import pathlib

_LISTING = json.loads((pathlib.Path(__file__).with_name("cupy_names.json")).read_text())
CUPY_VERSION = _LISTING["cupy_version"]
NAMES = {where: frozenset(names) for where, names in _LISTING["names"].items()}


def check_name(where, name):
    """Raise AttributeError, as CuPy would, unless real CuPy's ``where`` (e.g. ``"cupy"``,
    ``"cupy.ndarray"``) has ``name``."""
    if name not in NAMES[where]:
        raise AttributeError(f"{where} has no attribute {name!r} (the CuPy stand-in offers only "
                             f"names real CuPy {CUPY_VERSION} has: tests/cupy_standin/cupy_names.json)")
