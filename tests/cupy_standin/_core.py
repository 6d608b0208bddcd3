"""The stand-in's array type and the wrapper that runs NumPy behind CuPy's names.

``ndarray`` holds a NumPy array (``_a``) and behaves like ``cupy.ndarray`` where minigan could
tell the difference:

* it is not a NumPy array: ``np.asarray(x)`` raises CuPy's TypeError, NumPy ufuncs and functions
  given one refuse it (stricter than CuPy, which forwards ``np.exp(x)`` to ``cupy.exp``: minigan's
  rule is that code takes its module from ``get_array_module``, so ``np.exp`` on device data is a bug
  even where CuPy would rescue it), and combining it with a NumPy array raises, as CuPy does;
* every value crossing between "device" and host is counted in ``TRANSFERS``: ``.get()``,
  ``cupy.asnumpy``, ``.item()``, ``.tolist()``, ``float()``/``int()``/``bool()`` (size-1 only),
  ``repr`` one way; ``cupy.asarray``/``cupy.array`` of host data and host values written into a
  device array the other;
* results are always arrays: a reduction or ``x[i, j]`` gives a 0-d array, never a NumPy scalar,
  so ``if x.max() > 0`` costs a transfer here exactly as on a GPU;
* it cannot be weak-referenced and only names CuPy's ndarray has are reachable.
"""
import numpy as np

from ._names import check_name

#: CuPy's own words when NumPy is handed a device array.
IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")


class Transfers:
    """How many times data crossed between the "device" and the host since the last reset."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.device_to_host = 0
        self.host_to_device = 0

    def __repr__(self):
        return f"Transfers(device_to_host={self.device_to_host}, host_to_device={self.host_to_device})"


TRANSFERS = Transfers()

_HOST_SCALARS = (bool, int, float, complex, np.generic)


def unwrap(value):
    """The NumPy data behind ``value`` for a call into NumPy: stand-in arrays give their buffer,
    lists and tuples are unwrapped item by item, a NumPy array is refused (CuPy raises the same
    TypeError: host arrays never enter device code implicitly)."""
    if type(value) is ndarray:
        return value._a
    if isinstance(value, np.ndarray):
        raise TypeError(f"Unsupported type {type(value)}")
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v) for v in value)
    return value


def wrap(value):
    """Stand-in arrays for what NumPy returned: arrays and NumPy scalars (as 0-d arrays, as CuPy
    never returns scalars), inside tuples and lists too; everything else unchanged."""
    if isinstance(value, np.ndarray):
        return ndarray._of(value)
    if isinstance(value, np.generic):
        return ndarray._of(np.asarray(value))
    if isinstance(value, (list, tuple)):
        return type(value)(wrap(v) for v in value)
    return value


def numpy_backed(function):
    """``function`` (a NumPy function) taking and returning stand-in arrays."""
    def call(*args, **kwargs):
        return wrap(function(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()}))
    call.__name__ = call.__qualname__ = getattr(function, "__name__", "function")
    call.__doc__ = f"The stand-in's {call.__name__}: NumPy's, on the arrays' host buffers."
    return call


class ufunc:
    """A NumPy ufunc behind CuPy's ``ufunc``: callable, with the methods CuPy's ufuncs have."""

    def __init__(self, np_ufunc):
        self._ufunc = np_ufunc
        self.name, self.nin, self.nout = np_ufunc.__name__, np_ufunc.nin, np_ufunc.nout

    def __call__(self, *args, **kwargs):
        return numpy_backed(self._ufunc)(*args, **kwargs)

    def at(self, a, indices, b=None):
        """``a[indices] op= b``, repeated indices applied each time; like CuPy, the indices may be
        host arrays, copied to the device (counted)."""
        args = (indices,) if b is None else (indices, unwrap(b))
        getattr(self._ufunc, "at")(unwrap(a), ndarray._index(args[0]), *args[1:])

    def __getattr__(self, name):  # reduce, accumulate, outer, reduceat
        check_name("cupy.ufunc", name)
        return numpy_backed(getattr(self._ufunc, name))

    def __repr__(self):
        return f"<ufunc '{self.name}'>"


def _operand(other):
    """The NumPy value for the right-hand side of ``x <op> other``, or None to defer to
    ``other``'s reflected operator (as CuPy does for objects with ``__array_ufunc__ = None``,
    such as minigan's Tensor)."""
    if type(other) is ndarray:
        return other._a
    if isinstance(other, _HOST_SCALARS):
        return other
    if getattr(other, "__array_ufunc__", False) is None:
        return None
    raise TypeError(f"Unsupported type {type(other)}")


def _binary(name):
    def method(self, other):
        value = _operand(other)
        if value is None:
            return NotImplemented
        result = getattr(self._a, name)(value)
        return self if name.startswith("__i") else wrap(result)
    method.__name__ = name
    return method


def _unary(name):
    def method(self):
        return wrap(getattr(self._a, name)())
    method.__name__ = name
    return method


class ndarray:
    """A "device" array: NumPy data that refuses to be mistaken for host data."""

    __slots__ = ("_a",)          # no __weakref__: CuPy's arrays cannot be weak-referenced either
    __array_priority__ = 100.0   # CuPy's value
    __array_ufunc__ = None       # np.exp(x) raises; ndarray + x defers to x.__radd__, which raises

    def __init__(self, shape, dtype=float):
        self._a = np.empty(shape, dtype)

    @classmethod
    def _of(cls, array):
        """Wrap a NumPy array (no copy)."""
        made = cls.__new__(cls)
        made._a = array
        return made

    # --- refusing implicit conversion ---------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise TypeError(IMPLICIT)

    def __array_function__(self, func, types, args, kwargs):
        return NotImplemented  # NumPy then raises "no implementation found for 'numpy.<func>'"

    # --- explicit, counted transfers ----------------------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        """A NumPy copy of the values: one device-to-host transfer."""
        TRANSFERS.device_to_host += 1
        return np.array(self._a, order=order)

    def _host_value(self):
        TRANSFERS.device_to_host += 1
        return self._a

    def item(self):
        return self._host_value().item()

    def tolist(self):
        return self._host_value().tolist()

    def _scalar(self, kind):
        if self._a.size != 1:
            raise TypeError("only length-1 arrays can be converted to Python scalars")
        return kind(self._host_value().reshape(()))

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __complex__(self):
        return self._scalar(complex)

    def __bool__(self):
        if self._a.size != 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous.")
        return self._scalar(bool)

    def __repr__(self):
        return repr(self._host_value())

    def __str__(self):
        return str(self._host_value())

    # --- metadata (kept on the host by CuPy too: no transfer) ---------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    base = property(lambda self: None if self._a.base is None else wrap(self._a.base))
    T = property(lambda self: wrap(self._a.T))

    @property
    def __cuda_array_interface__(self):
        """CuPy's description of its memory (version 3), with the host buffer's address standing
        in for the device pointer: enough for code asking "is this a device array?", never to be
        read through."""
        host = self._a.__array_interface__
        return {"shape": self._a.shape, "typestr": host["typestr"], "descr": host["descr"],
                "data": (host["data"][0], False), "strides": host["strides"], "version": 3,
                "stream": 1}

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (wrap(row) for row in self._a)

    # --- indexing ------------------------------------------------------------------------------
    @staticmethod
    def _index(key):
        """An index for NumPy: stand-in arrays unwrapped; a NumPy (or list) index array is copied
        to the device first, as CuPy does (counted)."""
        if isinstance(key, tuple):
            return tuple(ndarray._index(k) for k in key)
        if type(key) is ndarray:
            return key._a
        if isinstance(key, (np.ndarray, list)):
            TRANSFERS.host_to_device += 1
        return key

    def __getitem__(self, key):
        index = self._index(key)
        parts = index if isinstance(index, tuple) else (index,)
        if any(getattr(p, "dtype", None) == bool for p in parts):
            TRANSFERS.device_to_host += 1  # CuPy reads the mask's count back to size the result
        return wrap(self._a[index])  # x[i, j] is a 0-d array (a copy here, a view in CuPy)

    def __setitem__(self, key, value):
        if isinstance(value, (np.ndarray, list, tuple)):
            TRANSFERS.host_to_device += 1  # CuPy copies host values over
            value = np.asarray(value)
        else:
            value = unwrap(value)
        self._a[self._index(key)] = value

    def __copy__(self):
        return wrap(self._a.copy())

    def __deepcopy__(self, memo):
        return wrap(self._a.copy())

    def __reduce__(self):  # pickling goes through the host, as CuPy's does
        return (_from_host, (self._host_value().copy(),))

    # --- every other method: NumPy's, where CuPy's ndarray has the name -----------------------
    def __getattr__(self, name):
        check_name("cupy.ndarray", name)
        method = getattr(self._a, name)
        return numpy_backed(method) if callable(method) else wrap(method)


def _from_host(values):
    TRANSFERS.host_to_device += 1
    return ndarray._of(values)


for _name in ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
              "xor", "lshift", "rshift", "divmod"]:
    setattr(ndarray, f"__{_name}__", _binary(f"__{_name}__"))
    setattr(ndarray, f"__r{_name}__", _binary(f"__r{_name}__"))
    if _name not in ("divmod", "matmul"):  # CuPy has no __idivmod__ or __imatmul__
        setattr(ndarray, f"__i{_name}__", _binary(f"__i{_name}__"))
for _name in ["eq", "ne", "lt", "le", "gt", "ge"]:
    setattr(ndarray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ["neg", "pos", "abs", "invert"]:
    setattr(ndarray, f"__{_name}__", _unary(f"__{_name}__"))
ndarray.__hash__ = None
