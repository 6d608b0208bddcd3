"""A strict CuPy stand-in for tests: CuPy's API, run by NumPy on the CPU.

minigan's GPU path cannot be tested without a GPU, yet the mistakes that break it are visible
without one: NumPy handed a device array, a NumPy-only function reached through ``xp``, a value
copied to the host in the middle of a training step. This package imports as a module that looks
like ``cupy`` to minigan's backend (``MINIGAN_FAKE_CUPY=1``, set by tests/conftest.py when no real
GPU answers) and makes each of those mistakes fail or show:

* its ``ndarray`` (``_core.py``) refuses implicit conversion to NumPy and counts every explicit
  transfer in ``_core.TRANSFERS``;
* every name is checked against the names real CuPy has (``_names.py``, cupy_names.json); names
  CuPy and NumPy share are served by NumPy through one wrapper (``numpy_backed``), the few that
  differ are written out (``asarray``, ``asnumpy``, ``random``, ``cuda``).

It is not used outside tests, and it is no GPU: it says nothing about speed or CUDA kernels.
"""
import numpy as _np

from . import _core, cuda, lib, linalg, random
from ._core import ndarray, ufunc
from ._names import check_name as _check_name

__version__ = "0.0.0+standin"
_TRANSFERS = _core.TRANSFERS


def asarray(a, dtype=None, order=None, *, blocking=False):
    """``a`` as a device array: the same array when it is one already (and the dtype fits), else
    a copy from the host (counted)."""
    if type(a) is ndarray:
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    return array(a, dtype=dtype, order=order)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    """A new device array: copied on the device, or from the host (counted)."""
    if type(obj) is ndarray:
        return ndarray._of(_np.array(obj._a, dtype=dtype, copy=True, order=order, ndmin=ndmin))
    _TRANSFERS.host_to_device += 1
    return ndarray._of(_np.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """A NumPy array: ``a.get()`` for a device array (counted), ``numpy.asarray`` otherwise."""
    if type(a) is ndarray:
        return a.get(order=order)
    return _np.asarray(a, order=order)


def get_array_module(*args):
    """cupy itself when any argument is a device array, numpy otherwise."""
    import sys
    return sys.modules[__name__] if any(type(a) is ndarray for a in args) else _np


def _is_dtype_like(value):
    return isinstance(value, type) and (issubclass(value, (_np.generic, _np.dtype))
                                        or value in (_np.finfo, _np.iinfo))


def __getattr__(name):
    """Every other ``cupy.<name>``: NumPy's function of that name, on device arrays, provided real
    CuPy has the name too; dtypes and constants as NumPy has them (CuPy re-exports NumPy's)."""
    _check_name("cupy", name)
    value = getattr(_np, name, None)
    if isinstance(value, _np.ufunc):
        value = ufunc(value)
    elif callable(value) and not isinstance(value, type):
        value = _core.numpy_backed(value)
    elif not (_is_dtype_like(value) or isinstance(value, (float, int)) or name == "newaxis"):
        raise NotImplementedError(f"cupy.{name} exists in CuPy but the stand-in does not provide "
                                  "it; add it to tests/cupy_standin")
    globals()[name] = value  # made once: later look-ups do not come back here
    return value
