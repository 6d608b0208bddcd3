"""``cupy.random`` in the stand-in: ``default_rng`` and the ``Generator`` methods CuPy has.

The draws come from NumPy's Philox generator, not from the PCG64 stream minigan's CPU generator
uses, so the "device" gives other numbers than the CPU for the same seed, as real CuPy (XORWOW)
does: a test that assumes both devices draw the same numbers fails here too.
"""
import numpy as _np

from ._core import numpy_backed as _numpy_backed
from ._names import check_name as _check_name


class Generator:
    """``cupy.random.Generator``: NumPy's methods of the names CuPy's Generator has."""

    def __init__(self, bit_generator):
        self._rng = _np.random.Generator(bit_generator)

    def __getattr__(self, name):
        _check_name("cupy.random.Generator", name)
        return _numpy_backed(getattr(self._rng, name))


def default_rng(seed=None):
    return Generator(_np.random.Philox(seed))


def __getattr__(name):
    _check_name("cupy.random", name)
    raise NotImplementedError(f"cupy.random.{name} exists in CuPy but the stand-in does not "
                              "provide it; add it to tests/cupy_standin/random.py")
