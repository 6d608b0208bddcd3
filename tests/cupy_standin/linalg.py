"""``cupy.linalg`` in the stand-in: NumPy's functions of the names CuPy's linalg has."""
import numpy as _np

from ._core import numpy_backed as _numpy_backed
from ._names import check_name as _check_name


def __getattr__(name):
    _check_name("cupy.linalg", name)
    value = _numpy_backed(getattr(_np.linalg, name))
    globals()[name] = value
    return value
