"""``Tensor``: an ndarray that remembers how it was made, so gradients can flow back through it.

A Tensor holds

* ``data``          -- the NumPy or CuPy array with the values;
* ``requires_grad`` -- whether gradients should be computed for it;
* ``creator``       -- the ``Function`` call that produced it (None for a leaf you made yourself);
* ``grad``          -- after ``backward()``, the gradient as a Tensor (leaves only, as in PyTorch);
* ``_version``      -- how many times ``data`` was changed in place. A Function notes the versions
  of the tensors it saves, and backward refuses to use one that has changed since.

Arithmetic on Tensors calls the ops in ``minigan.functional``; each op records itself as the
``creator`` of its output while grad mode is on, and that chain of creators is the graph that
``backward()`` walks.
"""
import numpy as np

from . import backend

# Python floats become float32 tensors (as in PyTorch): training works in float32.
DEFAULT_FLOAT = np.float32


def _is_float(dtype):
    return dtype.kind == "f"


class Tensor:
    __slots__ = ("_data", "_version", "grad", "creator", "name", "_requires_grad", "_retain_grad",
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
        self._version = 0
        self.grad = None
        self.creator = None
        self.name = name
        self._retain_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

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
            raise RuntimeError("cannot turn off requires_grad on a tensor computed by an op; "
                               "use .detach() to get a copy outside the graph")
        self._requires_grad = bool(flag)

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (inputs, parameters)."""
        return self.creator is None

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after ``backward()`` (leaves keep it anyway)."""
        self._retain_grad = True
        return self

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to ``leaf.grad``.

        ``grad`` is the upstream gradient (same shape as self); it may be omitted only for a
        scalar, where it is 1. With ``create_graph=True`` the backward pass is itself recorded,
        so the gradients can be differentiated again (gradient penalties need this).
        The pass frees the graph's saved tensors as it goes, so a second ``backward()`` through
        the same graph is an error unless the first had ``retain_graph=True`` (the default is
        ``create_graph``). PyTorch lets a second pass through ops that saved nothing (a sum, a
        reshape) go through; minigan refuses every second pass, one rule that is easy to remember.
        Gradients accumulate across calls, as in PyTorch: zero them between steps.
        """
        _autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self):
        self.grad = None

    def detach(self):
        """The same values as a new leaf outside the graph (shares memory, like PyTorch)."""
        return Tensor(self.data)

    # --- array-like properties ---------------------------------------------------------------

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def T(self):
        """Reverse all axes (the matrix transpose for 2-D tensors)."""
        return F.transpose(self)

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

    # --- operators: each forwards to minigan.functional ----------------------------------------

    def __neg__(self): return F.neg(self)
    def __add__(self, other): return F.add(self, other)
    def __radd__(self, other): return F.add(other, self)
    def __sub__(self, other): return F.sub(self, other)
    def __rsub__(self, other): return F.sub(other, self)
    def __mul__(self, other): return F.mul(self, other)
    def __rmul__(self, other): return F.mul(other, self)
    def __truediv__(self, other): return F.div(self, other)
    def __rtruediv__(self, other): return F.div(other, self)
    def __pow__(self, other): return F.pow(self, other)
    def __rpow__(self, other): return F.pow(other, self)
    def __matmul__(self, other): return F.matmul(self, other)
    def __rmatmul__(self, other): return F.matmul(other, self)
    def __getitem__(self, index): return F.getitem(self, index)
    def __abs__(self): return F.abs(self)

    # Comparisons are not differentiable: they return boolean tensors outside the graph.
    def __lt__(self, other): return Tensor(self.data < _data(other))
    def __le__(self, other): return Tensor(self.data <= _data(other))
    def __gt__(self, other): return Tensor(self.data > _data(other))
    def __ge__(self, other): return Tensor(self.data >= _data(other))
    def __eq__(self, other): return Tensor(self.data == _data(other))
    def __ne__(self, other): return Tensor(self.data != _data(other))

    # --- methods: the same ops, for chaining --------------------------------------------------

    def sum(self, axis=None, keepdims=False): return F.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return F.mean(self, axis, keepdims)
    def var(self, axis=None, keepdims=False, ddof=0): return F.var(self, axis, keepdims, ddof)
    def max(self, axis=None, keepdims=False): return F.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return F.min(self, axis, keepdims)
    def exp(self): return F.exp(self)
    def log(self): return F.log(self)
    def sqrt(self): return F.sqrt(self)
    def abs(self): return F.abs(self)
    def clip(self, min=None, max=None): return F.clip(self, min, max)
    clamp = clip
    def relu(self): return F.relu(self)
    def sigmoid(self): return F.sigmoid(self)
    def tanh(self): return F.tanh(self)

    def reshape(self, *shape):
        return F.reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    view = reshape

    def transpose(self, *axes):
        return F.transpose(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else (axes or None))

    def permute(self, *axes):
        return F.permute(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes)

    def flatten(self, start_dim=0, end_dim=-1): return F.flatten(self, start_dim, end_dim)
    def squeeze(self, axis=None): return F.squeeze(self, axis)
    def unsqueeze(self, axis): return F.unsqueeze(self, axis)
    def broadcast_to(self, shape): return F.broadcast_to(self, shape)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


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


# The operators above call minigan.functional and autograd; imported last because both need Tensor.
from . import functional as F  # noqa: E402
from . import autograd as _autograd  # noqa: E402
