"""Reverse-mode automatic differentiation: ``Function``, grad mode, and the backward walk.

How the graph is built (define-by-run)
--------------------------------------
Every op is a ``Function`` subclass with two methods:

* ``forward(*arrays)``  -- computes the output from raw NumPy/CuPy arrays;
* ``backward(*grads)``  -- given the gradient of the loss with respect to each output
  (as Tensors), returns the gradient with respect to each input: the vector-Jacobian product.

Calling ``Exp()(x)`` runs ``forward`` and, when grad mode is on and some input requires grad,
records the call as the output's ``creator``. The creators, linked through their inputs, form
the graph.

Because ``backward`` is written with minigan ops (``gy * y``, not ``gy.data * y.data``), running
it while recording gives a graph of the gradient itself, which can be differentiated again.
That is all ``create_graph=True`` does, and why WGAN-GP's gradient penalty works.

Memory: a Function holds its inputs strongly (backward needs them) but its outputs only through
weak references, so there is no reference cycle and a graph is freed as soon as the loss is.
"""
import functools
import heapq
import weakref

from . import backend
from .tensor import Tensor

# --- grad mode ---------------------------------------------------------------------------------


class _GradMode:
    enabled = True


def is_grad_enabled():
    return _GradMode.enabled


class set_grad_enabled:
    """Turn graph recording on or off inside a ``with`` block, or for a whole function when used
    as a decorator. A small class rather than a generator: it runs on every backward and every
    optimiser step."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc):
        _GradMode.enabled = self.previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        return wrapper


def no_grad():
    """``with minigan.no_grad():`` runs ops without recording a graph (evaluation, updates).
    Also a decorator: ``@minigan.no_grad()``."""
    return set_grad_enabled(False)


def enable_grad():
    return set_grad_enabled(True)


# --- Function ----------------------------------------------------------------------------------

class ShapeError(ValueError):
    """An op got inputs whose shapes do not fit together."""


#: Every Function subclass defined inside minigan, by name. The test suite walks it to prove
#: that each op has a numerical gradient check (tests/test_registry.py).
REGISTRY = {}


class Function:
    """Base class of every op. Subclass it, write ``forward`` and ``backward``, and call it.

    Example, a new op written exactly as the built-in ones are::

        class Cube(minigan.Function):
            '''y = x**3;  backward: gx = gy * 3 x**2'''
            def forward(self, x):
                return x ** 3
            def backward(self, gy):
                x, = self.inputs
                return gy * 3 * x ** 2

        y = Cube()(x)

    Inside ``backward``: ``self.inputs`` are the input Tensors, ``self.output`` the output Tensor
    (single-output ops), ``self.needs_input_grad[i]`` says whether input i wants a gradient (so
    expensive work can be skipped), and anything ``forward`` stored on ``self`` is available.
    Return one gradient per input (a Tensor, or None where there is none).
    """

    #: Whether the op's backward, being written with minigan ops, can itself be differentiated.
    #: A gradgradcheck case is required for every registered op where this is True.
    double_backward = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("minigan."):
            REGISTRY[cls.__name__] = cls

    def __call__(self, *inputs):
        # This runs for every op of every step, so it is written for speed (plain loops, the
        # single-output case first). The idea is all in the class docstring.
        xs = [x if type(x) is Tensor else _wrap(x, self) for x in inputs]
        arrays = [x.data for x in xs]
        if len(arrays) > 1 and (backend._cupy is not None or
                                len({a.dtype for a in arrays}) > 1):  # the rare cases
            _check_inputs(self, xs, arrays)
        try:
            ys = self.forward(*arrays)
        except ValueError as e:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise ShapeError(f"{type(self).__name__} got input shapes {shapes}: {e}") from None
        outputs = tuple(Tensor(y) for y in ys) if type(ys) is tuple else (Tensor(ys),)

        if _GradMode.enabled:
            needs = tuple([x._requires_grad for x in xs])
            if True in needs:  # record this call in the graph
                generation = 0
                for x in xs:
                    f = x.creator
                    if f is not None and f.generation > generation:
                        generation = f.generation
                self.generation = generation + 1
                self.inputs = xs
                self.needs_input_grad = needs
                self._output_refs = [weakref.ref(y) for y in outputs]
                if len(outputs) > 1:  # an output may die before backward: remember its shape
                    self._output_meta = [(y.shape, y.dtype) for y in outputs]
                for y in outputs:
                    y.creator = self
                    y._requires_grad = y.data.dtype.kind == "f"
        return outputs if type(ys) is tuple else outputs[0]

    @property
    def output(self):
        """The output Tensor of a single-output op (held weakly, alive during backward)."""
        return self._output_refs[0]()

    @property
    def outputs(self):
        return [ref() for ref in self._output_refs]

    def forward(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, *grads):
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, *grads)")


def _wrap(x, fn):
    """Accept raw arrays and Python numbers as op inputs; reject everything else clearly."""
    if isinstance(x, Tensor):  # a subclass of Tensor
        return x
    xp = backend.get_array_module(x)
    if isinstance(x, (xp.ndarray, int, float, bool)) or hasattr(x, "dtype"):
        return Tensor(x)
    raise TypeError(f"{type(fn).__name__} expected a Tensor, array or number as input, "
                    f"got {type(x).__name__}")


def _check_inputs(fn, xs, arrays):
    """Refuse to mix float32 with float64 (NumPy would silently promote to float64) or devices."""
    first = None
    for a in arrays:
        dt = a.dtype
        if dt.kind == "f":
            if first is None:
                first = dt
            elif dt != first:
                raise TypeError(
                    f"{type(fn).__name__} got inputs of dtypes {first} and {dt}; minigan does not mix "
                    "float types silently (a float64 array would turn a float32 model into float64). "
                    "Convert one with .float() or .double()")
    if backend._cupy is not None:
        devices = {x.device for x in xs}
        if len(devices) > 1:
            where = ", ".join(f"input {i} on '{x.device}'" for i, x in enumerate(xs))
            raise backend.DeviceError(f"{type(fn).__name__} got tensors on different devices ({where}); "
                                      "move them to one device with .to('cpu') or .to('gpu')")


# --- the backward walk -------------------------------------------------------------------------

def _run_backward(roots, root_grads, create_graph, wanted=None):
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    Functions are processed in decreasing ``generation`` (a topological order: every consumer of
    a tensor is processed before its creator, so its gradient is complete when it is used). The
    walk uses a heap, not recursion, so a chain of any length works.

    Returns ``{id(tensor): [tensor, grad]}`` for every leaf reached and for every tensor in
    ``wanted`` (or that asked to retain its gradient).
    """
    grads = {}         # id(tensor) -> [tensor, gradient so far]
    heap, seen = [], set()  # functions waiting to run, most recent generation first
    keep = set(wanted or ())

    def accumulate(t, g):
        entry = grads.get(id(t))
        if entry is None:
            grads[id(t)] = [t, g]
        else:
            entry[1] = entry[1] + g
        f = t.creator
        if f is not None and id(f) not in seen:
            seen.add(id(f))
            heapq.heappush(heap, (-f.generation, id(f), f))

    with set_grad_enabled(create_graph):
        for t, g in zip(roots, root_grads):
            accumulate(t, g)
        while heap:
            f = heapq.heappop(heap)[2]
            gys = []
            for k, ref in enumerate(f._output_refs):  # usually just one
                y = ref()
                entry = None if y is None else (
                    grads.get(id(y)) if (id(y) in keep or y._retain_grad) else grads.pop(id(y), None))
                if entry is None:  # this output of a multi-output op did not reach the roots
                    shape, dtype = f._output_meta[k]
                    xp = backend.get_array_module(f.inputs[0].data)
                    gys.append(Tensor(xp.zeros(shape, dtype=dtype)))
                else:
                    gys.append(entry[1])
            gxs = f.backward(*gys)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            if len(gxs) != len(f.inputs):
                raise RuntimeError(f"{type(f).__name__}.backward returned {len(gxs)} gradients "
                                   f"for {len(f.inputs)} inputs")
            for x, gx in zip(f.inputs, gxs):
                if gx is None or not x._requires_grad:
                    continue
                if type(gx) is not Tensor and not isinstance(gx, Tensor):
                    raise TypeError(f"{type(f).__name__}.backward must return Tensors (or None), "
                                    f"got {type(gx).__name__}")
                if gx.data.shape != x.data.shape:
                    raise ShapeError(f"{type(f).__name__}.backward returned a gradient of shape "
                                     f"{gx.shape} for an input of shape {x.shape}")
                accumulate(x, gx)
    return grads


def _root_grad(t, g, what):
    """Check or make the upstream gradient for a root tensor."""
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"{what} needs an upstream gradient for a non-scalar output of shape {t.shape}: "
                "pass grad=... of the same shape, or reduce the output first (e.g. .sum() or .mean())")
        xp = backend.get_array_module(t.data)
        return Tensor(xp.ones_like(t.data))
    g = g if isinstance(g, Tensor) else Tensor(g)
    if g.shape != t.shape:
        raise ShapeError(f"{what}: upstream gradient has shape {g.shape} but the output has shape {t.shape}")
    if g.dtype != t.dtype:
        g = Tensor(g.data.astype(t.dtype))
    return g


def backward(tensor, grad=None, create_graph=False):
    """See ``Tensor.backward``: accumulate d(tensor)/d(leaf) into each leaf's ``.grad``."""
    if not tensor._requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad: none of the tensors it was "
            "computed from has requires_grad=True (or it was computed under no_grad())")
    grads = _run_backward([tensor], [_root_grad(tensor, grad, "backward()")], create_graph)
    given = set()
    for t, g in grads.values():
        if t.creator is None or t._retain_grad:
            if not create_graph:
                g = _own(g, given)
            t.grad = g if t.grad is None else t.grad + g


def _own(g, given):
    """``g`` if it is safe to hand out as one tensor's ``.grad``, else a private copy.

    A backward rule may pass one gradient on to several inputs (a + b gives both the same
    upstream gradient) or return a read-only broadcast view; writing into one ``p.grad`` in place
    (``p.grad.data *= 0.5``, as clipping does) must never change another's. As in PyTorch,
    every leaf gets a gradient of its own.
    """
    data = g.data
    if id(g) in given or not data.flags.writeable or data.base is not None:
        g = Tensor(data.copy())
    given.add(id(g))
    return g


def grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple of Tensors, without touching any ``.grad``.

    ``outputs`` and ``inputs`` are Tensors or sequences of them; ``grad_outputs`` gives the
    upstream gradient of each output (may be None for scalars). With ``create_graph=True`` the
    result is itself differentiable: ``minigan.grad(D(x).sum(), x, create_graph=True)`` is how a
    gradient penalty is written. An input the outputs do not depend on is an error unless
    ``allow_unused=True`` (then its gradient is None).
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad; set requires_grad=True on it")
    for i, t in enumerate(outputs):
        if not t._requires_grad:
            raise RuntimeError(f"grad(): output {i} does not require grad (it does not depend on any "
                               "tensor with requires_grad=True)")
    roots = [_root_grad(t, g, "grad()") for t, g in zip(outputs, grad_outputs)]
    found = _run_backward(outputs, roots, create_graph, wanted=[id(t) for t in inputs])
    result = []
    for i, t in enumerate(inputs):
        entry = found.get(id(t))
        if entry is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
        result.append(None if entry is None else entry[1])
    return tuple(result)


def graph_functions(*tensors):
    """The set of Function classes in the graph behind ``tensors`` (used by the registry test)."""
    found, stack, seen = set(), [t.creator for t in tensors if t.creator is not None], set()
    while stack:
        f = stack.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        found.add(type(f))
        stack.extend(x.creator for x in f.inputs if x.creator is not None)
    return found
