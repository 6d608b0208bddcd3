"""``Tensor``: an ndarray that remembers how it was made, so gradients can flow back through it.

A Tensor holds

* ``data``          -- the NumPy or CuPy array with the values;
* ``requires_grad`` -- whether gradients should be computed for it;
* ``creator``       -- the ``Function`` call that produced it (None for a leaf you made yourself);
* ``grad``          -- after ``backward()``, the gradient as a Tensor (leaves only, as in PyTorch);
* ``_version``      -- how many times ``data`` was changed in place. A Function notes the versions
  of the tensors it saves, and backward refuses to use one that has changed since.

Arithmetic on Tensors (``x + y``, ``x.sum()``, ``x.backward()``) calls the ops in
``minigan.functional``; each op records itself as the ``creator`` of its output while grad mode is
on, and that chain of creators is the graph that ``backward()`` walks. This file imports nothing
above it, so those operators and methods are bound to Tensor at the end of ``functional.py``,
where the ops are.

The end of this file turns op arguments (numbers, lists, arrays) into Tensors without changing
anyone's dtype: NumPy promotes ``float32 * float64-array`` and ``float32 * int64-array`` to
float64, which is how DeZero's GAN silently trains in float64. Here a Python number or an
integer/bool array takes the dtype of the float Tensor it meets, and two different float dtypes
are refused by ``Function.__call__`` with a message saying how to convert. Last, ``pytorch_alias``
lets the ops take PyTorch's argument names beside NumPy's (``dim`` for ``axis``, ``keepdim`` for
``keepdims``).
"""
import operator

import numpy as np

from . import backend

# Python floats become float32 tensors (as in PyTorch): training works in float32.
DEFAULT_FLOAT = np.float32


def _is_float(dtype):
    return dtype.kind == "f"


class Tensor:
    """An array that remembers how it was made (the attributes are listed at the top of this file).

    Where Tensor differs from NumPy and PyTorch:

    * ``x.size`` is NumPy's element count, an int (``x.size == 12``, ``range(x.size)``), that can
      also be called as PyTorch's method: ``x.size()`` is the shape (a plain tuple, where PyTorch
      gives a ``torch.Size``) and ``x.size(1)`` the length of dimension 1 (see ``Size``).
    * In-place arithmetic (``x += y``, ``W -= lr * W.grad``) follows PyTorch where no graph has to
      record it: under ``no_grad()``, or when neither operand requires grad, the values are
      written into x's own array and x stays the same tensor (a leaf that requires grad stays
      one). With grad mode on, a leaf that requires grad refuses, as in PyTorch; otherwise
      ``x += y`` gives a new tensor, exactly as ``x = x + y`` does, where PyTorch would change x
      in place and record that in the graph. The rules are in ``functional.py``, where they are
      bound; ``zero_()`` and ``fill_()`` follow them too.
    * Ops take NumPy's ``axis=``/``keepdims=`` or PyTorch's ``dim=``/``keepdim=``; ``x.max(dim=1)``
      gives the values only (PyTorch's ``amax``), not PyTorch's (values, indices).
    """
    __slots__ = ("_data", "_counter", "grad", "creator", "name", "_requires_grad", "_retain_grad",
                 "__weakref__")
    # Make ``ndarray + Tensor`` call Tensor.__radd__ instead of NumPy broadcasting over a Tensor.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, name=None):
        if type(data) is not np.ndarray:  # every op output is one already: keep that path short
            if isinstance(data, Tensor):
                data = data.data
            elif not isinstance(data, backend.get_array_module(data).ndarray):
                original, data = data, np.asarray(data)
                if data.dtype.kind not in "biuf":
                    raise TypeError(f"Tensor needs numbers (bool, int or float), got {original!r:.60}")
                if data.dtype.kind == "f" and not hasattr(original, "dtype"):
                    data = data.astype(DEFAULT_FLOAT)  # Python floats are float32, as in tensor()
        self._data = data
        self._counter = [0]  # the version counter, in a list so that views can share it
        self.grad = None
        self.creator = None
        self.name = name
        self._retain_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @property
    def _version(self):
        """How many times the values were changed in place. A tensor that shares memory with
        another (``detach()``, or a view made by reshape, transpose, slicing...) shares its
        counter too, as in PyTorch: writing through either one is a change to both."""
        return self._counter[0]

    @_version.setter
    def _version(self, value):
        self._counter[0] = value

    @property
    def data(self):
        """The values: a NumPy or CuPy array."""
        return self._data

    @data.setter
    def data(self, array):
        # An in-place change as far as autograd can tell (``p.data -= lr * g`` lands here too):
        # a graph that saved this tensor must not use it any more.
        self._data = array
        self._version += 1

    def _write(self, values):
        """Write ``values`` into ``data`` in place (broadcast to its shape) and count the change.
        minigan's own in-place writes (initialisers, loading weights) go through here."""
        self._data[...] = values
        self._version += 1

    # --- gradient bookkeeping -----------------------------------------------------------------

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not _is_float(self.data.dtype):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                "convert first, e.g. minigan.tensor(data, dtype='float32', requires_grad=True)")
        if not flag and self.creator is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables: this "
                               f"tensor was computed by {type(self.creator).__name__}, so it cannot "
                               "stop requiring grad; use .detach() to get a copy outside the graph")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return ``self``, so that it chains as in PyTorch:
        ``w = minigan.randn(3, 4).requires_grad_()``. Only float tensors can require grad, and a
        tensor computed by an op cannot stop requiring it (``.detach()`` gives one that does not).
        """
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad_() takes True or False, got {requires_grad!r:.40}")
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (inputs, parameters)."""
        return self.creator is None

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after ``backward()`` (leaves keep it anyway)."""
        self._retain_grad = True
        return self

    def zero_grad(self):
        self.grad = None

    def detach(self):
        """The same values as a new leaf outside the graph (shares memory and the version
        counter, like PyTorch: an in-place change through it is seen by graphs that saved self)."""
        t = Tensor(self.data)
        t._counter = self._counter
        return t

    # --- array-like properties ---------------------------------------------------------------

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        """The number of elements, an int as in NumPy; also callable as PyTorch's method:
        ``x.size()`` is the shape and ``x.size(d)`` the length of dimension d (see ``Size``)."""
        return Size(self._data.size, self._data.shape)

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    def __len__(self):
        return len(self.data)

    def numpy(self):
        """The values as a NumPy array (copied from the GPU when needed)."""
        return backend.as_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def to(self, device=None, dtype=None):
        """A copy on ``device`` and/or with ``dtype``; ``self`` when nothing changes.

        The copy is a new leaf (gradients do not flow back across devices or dtypes).
        """
        data = self.data
        if device is not None:
            data = backend.to_device(data, device)
        if dtype is not None:
            data = data.astype(dtype, copy=False)
        if data is self.data:
            return self
        return Tensor(data, requires_grad=self.requires_grad and _is_float(data.dtype))

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    def cpu(self):
        return self.to("cpu")

    def gpu(self):
        return self.to("gpu")

    cuda = gpu

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = []
        if self.dtype != DEFAULT_FLOAT and _is_float(self.dtype):
            extras.append(f"dtype={self.dtype}")
        if self.device != backend.CPU:
            extras.append(f"device='{self.device}'")
        if self.creator is not None:
            extras.append(f"grad_fn={type(self.creator).__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    # Tensors compare elementwise (like arrays), so hash by identity as PyTorch does.
    __hash__ = object.__hash__

    # Comparisons are not differentiable: they return boolean tensors outside the graph.
    def __lt__(self, other): return Tensor(self.data < _data(other))
    def __le__(self, other): return Tensor(self.data <= _data(other))
    def __gt__(self, other): return Tensor(self.data > _data(other))
    def __ge__(self, other): return Tensor(self.data >= _data(other))
    def __eq__(self, other): return Tensor(self.data == _data(other))
    def __ne__(self, other): return Tensor(self.data != _data(other))


def _data(x):
    return x.data if isinstance(x, Tensor) else x


class Size(int):
    """What ``x.size`` gives: NumPy's element count, that PyTorch code can also call.

    NumPy's ``a.size`` is a number and PyTorch's ``t.size()`` a method; code of both kinds reads
    tensors, so this is an int (``x.size == 12``, ``x.size * 2``, ``range(x.size)`` and
    ``f"{x.size}"`` behave as for any int; arithmetic gives plain ints) with a ``__call__``:

    * ``x.size()``  -- the shape, a tuple (PyTorch returns ``torch.Size``, a tuple too);
    * ``x.size(d)`` -- the length of dimension ``d``, counted from the end when negative.
    """

    def __new__(cls, count, shape):
        size = super().__new__(cls, count)
        size.shape = tuple(shape)  # int subclasses cannot have __slots__; the __dict__ holds it
        return size

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        try:
            d = operator.index(dim)  # Python and NumPy ints; 1.0 is refused
        except TypeError:
            raise TypeError(f"size(dim): dim must be an int, got {type(dim).__name__} {dim!r:.40}") from None
        ndim = len(self.shape)
        if not -ndim <= d < ndim:
            expected = (f"expected -{ndim} <= dim < {ndim}" if ndim else
                        "a 0-d tensor has no dimensions; size() gives its shape ()")
            raise IndexError(f"size({dim}): dimension {dim} is out of range for a tensor with "
                             f"ndim {ndim} (shape {self.shape}); {expected}")
        return self.shape[d]

    def __reduce__(self):
        # pickle and copy see the number only (the shape belongs to the tensor, not to the count)
        return int, (int(self),)


# --- factories ---------------------------------------------------------------------------------

def tensor(data, requires_grad=False, device=None, dtype=None):
    """Make a leaf Tensor from a list, number, NumPy/CuPy array or Tensor (the data is copied).

    Python floats become float32 (as in PyTorch); arrays keep their dtype unless ``dtype`` says
    otherwise. ``device`` defaults to ``$MINIGAN_DEVICE`` (cpu when unset).
    """
    if isinstance(data, Tensor):
        data = data.data
    device = backend.normalize_device(device)
    xp = backend.xp_for(device)
    if dtype is None and not hasattr(data, "dtype"):
        probe = np.asarray(data)
        if probe.dtype.kind not in "biuf":
            raise TypeError(f"tensor() needs numbers, nested lists of numbers or an array, got {data!r:.80}")
        dtype = DEFAULT_FLOAT if probe.dtype.kind == "f" else probe.dtype
        data = probe
    if backend.device_of(data) != device:
        data = backend.to_device(data, device)
    arr = xp.array(data, dtype=dtype, copy=True)
    return Tensor(arr, requires_grad=requires_grad)


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def zeros(*shape, requires_grad=False, device=None, dtype=DEFAULT_FLOAT):
    """A tensor of zeros; ``zeros(2, 3)`` and ``zeros((2, 3))`` both work."""
    xp = backend.xp_for(backend.normalize_device(device))
    return Tensor(xp.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, requires_grad=False, device=None, dtype=DEFAULT_FLOAT):
    """A tensor of ones; ``ones(2, 3)`` and ``ones((2, 3))`` both work."""
    xp = backend.xp_for(backend.normalize_device(device))
    return Tensor(xp.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(t, requires_grad=False):
    xp = backend.get_array_module(t.data)
    return Tensor(xp.zeros_like(t.data), requires_grad=requires_grad)


def ones_like(t, requires_grad=False):
    xp = backend.get_array_module(t.data)
    return Tensor(xp.ones_like(t.data), requires_grad=requires_grad)


def randn(*shape, requires_grad=False, device=None, dtype=DEFAULT_FLOAT):
    """Samples of N(0, 1) from minigan's seeded generator (see ``manual_seed``)."""
    rng = backend.generator(device)
    return Tensor(rng.standard_normal(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def rand(*shape, requires_grad=False, device=None, dtype=DEFAULT_FLOAT):
    """Samples of U[0, 1) from minigan's seeded generator (see ``manual_seed``)."""
    rng = backend.generator(device)
    return Tensor(rng.random(_shape(shape), dtype=dtype), requires_grad=requires_grad)


# --- turning op arguments into Tensors, without changing anyone's dtype ------------------------

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


# --- PyTorch's names for NumPy's arguments (dim for axis, keepdim for keepdims) -----------------

class default:
    """The default of an op argument that PyTorch spells differently, e.g. ``keepdims=default(False)``.

    It lets ``pytorch_alias`` tell "not passed" from "passed, with the default's value", so that
    ``softmax(x, axis=-1, dim=0)`` is an error rather than a silent choice; ``help()`` shows the
    plain value: ``softmax(x, axis=-1, *, dim=None)``.
    """
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return repr(self.value)


def pytorch_alias(op, name, value, alias, alias_value):
    """The value of argument ``name`` (NumPy's spelling), given as ``name`` or as ``alias``
    (PyTorch's): ``sum(x, axis=1)`` and ``sum(x, dim=1)`` mean the same. Passing both is a
    TypeError naming both; None, or a ``default(...)`` left in place, counts as not passed.
    """
    if alias_value is None:
        return value.value if type(value) is default else value
    if value is not None and type(value) is not default:
        raise TypeError(f"{op}() got both {name}={value!r} and {alias}={alias_value!r}; {alias} is "
                        f"PyTorch's name for {name}, so pass only one of them")
    return alias_value
