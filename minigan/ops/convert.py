"""Turning op arguments into Tensors without changing anyone's dtype.

NumPy promotes ``float32 * float64-array`` and ``float32 * int64-array`` to float64, which is how
DeZero's GAN silently trains in float64. Here a Python number or an integer/bool array takes the
dtype of the float Tensor it meets, and two different float dtypes are refused by
``Function.__call__`` with a message saying how to convert.
"""
import numpy as np

from .. import backend
from ..tensor import DEFAULT_FLOAT, Tensor


def as_tensor(x, like=None):
    """``x`` as a Tensor; numbers and non-float arrays take ``like``'s float dtype when it has one."""
    if like is None and type(x) is Tensor:  # the common case, first
        return x
    if isinstance(x, Tensor):
        if like is not None and x.dtype.kind != "f" and like.dtype.kind == "f":
            return Tensor(x.data.astype(like.dtype))
        return x
    if isinstance(x, (bool, int, float, np.number)):
        if like is not None and like.dtype.kind == "f":
            dtype = like.dtype
        elif isinstance(x, float) or (isinstance(x, np.number) and np.dtype(type(x)).kind == "f"):
            dtype = DEFAULT_FLOAT
        else:
            dtype = None
        xp = np if like is None else backend.get_array_module(like.data)
        return Tensor(xp.asarray(x, dtype=dtype))
    if hasattr(x, "dtype") and hasattr(x, "shape"):  # a NumPy or CuPy array
        _check_numeric(x, x)
        if like is not None and x.dtype.kind != "f" and like.dtype.kind == "f":
            x = x.astype(like.dtype)
        return Tensor(x)
    if isinstance(x, (list, tuple)):
        arr = np.asarray(x)
        _check_numeric(arr, x)
        if arr.dtype.kind == "f":  # Python floats are numbers: like's float dtype, else float32
            arr = arr.astype(like.dtype if like is not None and like.dtype.kind == "f" else DEFAULT_FLOAT)
        if like is not None:  # a list has no device of its own: it goes where like is
            arr = backend.get_array_module(like.data).asarray(arr)
        return as_tensor(arr, like)
    raise TypeError(f"expected a Tensor, an array or a number, got {type(x).__name__}")


def _check_numeric(arr, original):
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"expected numbers (bool, int or float), got {original!r:.60} of dtype {arr.dtype}")


def as_float_tensor(x):
    """``as_tensor`` for ops that only make sense on real numbers (exp, log, sigmoid...):
    integer and bool inputs become float32, as in PyTorch."""
    x = as_tensor(x)
    return x if x.dtype.kind == "f" else Tensor(x.data.astype(DEFAULT_FLOAT))


def binary_operands(a, b):
    """Both operands of a binary op as Tensors; a number or integer operand takes the other's float dtype."""
    if type(a) is Tensor and type(b) is Tensor and a.data.dtype == b.data.dtype:  # the common case
        return a, b
    if not isinstance(a, Tensor) and isinstance(b, Tensor):
        a = as_tensor(a, like=b)
    else:
        a = as_tensor(a)
    b = as_tensor(b, like=a)
    if a.dtype.kind != "f" and b.dtype.kind == "f":
        a = as_tensor(a, like=b)
    return a, b
