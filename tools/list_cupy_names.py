"""Write the names real CuPy exposes, module by module, to tests/cupy_standin/cupy_names.json.

The CuPy stand-in the tests run the ``gpu`` suite against (``tests/cupy_standin``) may expose
only names that real CuPy has, so that code passing on the stand-in cannot reach for a NumPy-only
function that would fail on a real GPU. This script reads those names from an installed CuPy.
No GPU is needed: ``pip install cupy-cuda12x`` installs and imports on any Linux machine (only
allocating memory fails), so ``dir()`` works. Keep CuPy out of minigan's own environment (it would
make minigan think a GPU may be present); use a separate one:

    python3 -m venv /tmp/cupyvenv && /tmp/cupyvenv/bin/pip install cupy-cuda12x numpy
    /tmp/cupyvenv/bin/python tools/list_cupy_names.py

Rerun it when CuPy's major version moves; tests/test_cupy_standin.py compares the stand-in with
the installed CuPy itself when it can import one, and with this file otherwise.
"""
import json
import pathlib
import sys

#: What minigan (through the stand-in) may touch: modules list their public names, classes all of
#: theirs (``__float__`` or ``__array_ufunc__`` matter as much as ``sum``).
MODULES = ["cupy", "cupy.random", "cupy.linalg", "cupy.lib", "cupy.lib.stride_tricks",
           "cupy.cuda", "cupy.cuda.runtime"]
CLASSES = ["cupy.ndarray", "cupy.ufunc", "cupy.random.Generator", "cupy.cuda.Device",
           "cupy.cuda.MemoryPool"]

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "cupy_standin" / "cupy_names.json"


def resolve(dotted):
    """The object a dotted name such as ``cupy.random.Generator`` refers to."""
    import importlib
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part)
    return obj


def _has(obj, name):
    try:
        return hasattr(obj, name)
    except Exception:  # a lazily imported submodule that fails to load here
        return False


def names_of(dotted):
    """The names one module (public only) or class (all) has. ``dir()`` misses names a module
    makes on first access (``cupy.random.Generator``), so a module is also asked, one by one, for
    the names of its NumPy counterpart (``numpy.random``...)."""
    obj = resolve(dotted)
    names = set(dir(obj))
    if dotted in MODULES:
        try:
            counterpart = resolve("numpy" + dotted[len("cupy"):])
        except (ImportError, AttributeError):
            counterpart = None
        names |= {n for n in dir(counterpart) if _has(obj, n)} if counterpart is not None else set()
        names = {n for n in names if not n.startswith("_")}
    return sorted(names)


def main():
    import cupy
    listing = {"cupy_version": cupy.__version__,
               "generated_by": "tools/list_cupy_names.py",
               "names": {dotted: names_of(dotted) for dotted in MODULES + CLASSES}}
    OUT.write_text(json.dumps(listing, indent=1) + "\n")
    counts = ", ".join(f"{k} {len(v)}" for k, v in listing["names"].items())
    print(f"wrote {OUT} from CuPy {cupy.__version__}: {counts}")


if __name__ == "__main__":
    sys.exit(main())
