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
A backward pass also frees what each Function saved as soon as it has used it, unless asked to
``retain_graph``: a second pass over the same graph is then an error, as in PyTorch.

Trust: the walk's order is fixed (no dependence on memory addresses), a tensor changed in place
after a Function saved it is detected (version counters), each call of a Function instance is a
graph node of its own, and grad mode belongs to the thread that set it.
"""
import functools
import heapq
import itertools
import threading
import weakref

import numpy as np

from . import backend
from .tensor import Tensor, as_tensor

# --- grad mode ---------------------------------------------------------------------------------


class _GradMode(threading.local):
    """Whether ops record a graph, one setting per thread (as in PyTorch): ``no_grad()`` in a
    data-loading thread must not switch recording off in the training thread. ``saved`` is the
    stack of modes that ``set_grad_enabled`` blocks will restore on exit."""
    enabled = True

    def __init__(self):
        self.saved = []


_grad_mode = _GradMode()


def is_grad_enabled():
    return _grad_mode.enabled


class set_grad_enabled:
    """Turn graph recording on or off inside a ``with`` block, or for a whole function when used
    as a decorator; the previous mode comes back on exit, also after an exception. A small class
    rather than a generator: it runs on every backward and every optimiser step."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        # The previous mode goes on this thread's stack, not on self, so one instance can be
        # entered by several threads, or nested, and each exit restores what its entry found.
        _grad_mode.saved.append(_grad_mode.enabled)
        _grad_mode.enabled = self.mode

    def __exit__(self, *exc):
        _grad_mode.enabled = _grad_mode.saved.pop()

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

    Each call is one node of the graph: calling the same instance twice (``f(x) + f(y)``) gives
    each call a fresh copy of the instance as it was built, as ``Function.apply`` does in PyTorch.
    Python numbers passed as inputs take the float dtype of the tensors beside them.
    """

    #: Whether ``backward`` reads the *values* of the inputs, and of the output. Backward then
    #: checks that they were not changed in place since forward (each Tensor counts its in-place
    #: changes in ``_version``). Ops that need only shapes (add, sum, reshape...) set
    #: ``saves_inputs = False``, so that, as in PyTorch, changing their inputs afterwards is fine.
    saves_inputs = True
    saves_output = False
    #: Set by ops whose output can be a view of their first input's memory (reshape, transpose,
    #: slicing, broadcast_to): such an output shares the input's version counter.
    may_return_view = False

    _as_built = None   # on an instance's first call: its attributes as the constructor set them
    _released = False  # becomes True once a backward pass has freed what forward saved

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("minigan."):
            REGISTRY[cls.__name__] = cls

    def __call__(self, *inputs):
        # This runs for every op of every step, so it is written for speed (plain loops, the
        # single-output case first). The idea is all in the class docstring.
        if self._as_built is not None:  # a second call of one instance: it gets a node of its own
            return self._fresh()(*inputs)
        self._as_built = self.__dict__.copy()
        xs = inputs
        for x in inputs:
            if not isinstance(x, Tensor):  # a number or an array among the inputs (a Parameter is a Tensor)
                xs = _wrap_inputs(self, inputs)
                break
        arrays = [x._data for x in xs]
        if len(arrays) > 1 and (backend.uses_gpu() or
                                len({a.dtype for a in arrays}) > 1):  # the rare cases
            _check_inputs(self, xs, arrays)
        try:
            ys = self.forward(*arrays)
        except ValueError as e:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise ShapeError(f"{type(self).__name__} got input shapes {shapes}: {e}") from None
        outputs = tuple(Tensor(y) for y in ys) if type(ys) is tuple else (Tensor(ys),)
        if self.may_return_view:  # a view of the input shares its version counter (see Tensor._version)
            _share_counter_with_views(xs[0], outputs[0])

        if _grad_mode.enabled:
            needs = tuple([x._requires_grad for x in xs])
            if True in needs:  # record this call in the graph
                generation = 0
                for x in xs:
                    f = x.creator
                    if f is not None and f.generation > generation:
                        generation = f.generation
                self.generation = generation + 1
                self.sequence = next(_creation_order)  # breaks ties between equal generations
                self.inputs = xs
                self.needs_input_grad = needs
                if self.saves_inputs:
                    self._input_versions = [x._version for x in xs]
                self._output_refs = [weakref.ref(y) for y in outputs]
                if len(outputs) > 1:  # an output may die before backward: remember its shape
                    self._output_meta = [(y.shape, y.dtype) for y in outputs]
                for y in outputs:
                    y.creator = self
                    y._requires_grad = y._data.dtype.kind == "f"
        return outputs if type(ys) is tuple else outputs[0]

    def _fresh(self):
        """A new node of the same op, with the attributes the constructor gave this one."""
        node = object.__new__(type(self))
        node.__dict__.update(self._as_built)
        return node

    def _release(self):
        """Forget what forward saved for backward (inputs, masks, ...), so a backward pass that
        does not retain the graph frees its memory as it goes. The node stays in the graph,
        marked, so that a second pass through it can say what happened."""
        self.__dict__ = {"generation": self.generation, "sequence": self.sequence, "inputs": (),
                         "_released": True,
                         "_as_built": self._as_built}  # so that a later call still gets a new node

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


#: Numbers recorded Functions in the order they were created. A consumer is always created after
#: the creators of its inputs, so this order never contradicts the graph, and it does not depend
#: on where objects happen to sit in memory. (next() on a count is atomic, so threads may share it.)
_creation_order = itertools.count()


def _wrap_inputs(fn, inputs):
    """Accept raw arrays and Python numbers as op inputs; reject everything else clearly.

    A number takes the float dtype and the device of the first float tensor or array beside it,
    so ``Scale()(x32, 0.5)`` stays float32 (and on x32's device); a float alone is float32.
    """
    like = next((x for x in inputs if isinstance(x, Tensor) and x.dtype.kind == "f"), None)
    if like is None:
        like = next((Tensor(x) for x in inputs if hasattr(x, "dtype") and x.dtype.kind == "f"), None)
    xs = []
    for x in inputs:
        if isinstance(x, Tensor):
            xs.append(x)
        elif isinstance(x, (bool, np.bool_)):
            xs.append(as_tensor(x))
        elif isinstance(x, (int, float, np.number)):
            xs.append(as_tensor(x, like=like))
        elif hasattr(x, "shape") and hasattr(x, "dtype"):  # a NumPy or CuPy array keeps its dtype
            xs.append(as_tensor(x))
        else:
            raise TypeError(f"{type(fn).__name__} expected a Tensor, array or number as input, "
                            f"got {type(x).__name__}")
    return xs


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
    if backend.uses_gpu():
        devices = {x.device for x in xs}
        if len(devices) > 1:
            where = ", ".join(f"input {i} on '{x.device}'" for i, x in enumerate(xs))
            raise backend.DeviceError(f"{type(fn).__name__} got tensors on different devices ({where}); "
                                      "move them to one device with .to('cpu') or .to('gpu')")


# --- the backward walk -------------------------------------------------------------------------

def _run_backward(roots, root_grads, create_graph, retain_graph, wanted=None):
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    Functions are processed in decreasing ``generation`` (a topological order: every consumer of
    a tensor is processed before its creator, so its gradient is complete when it is used); ties
    go to the one created last. So the order, and with it the order in which gradients are summed
    (float addition is not associative), is the same in every run. The walk uses a heap, not
    recursion, so a chain of any length works. Unless ``retain_graph``, each Function frees what
    it saved as soon as its backward has run.

    Returns ``{id(tensor): [tensor, grad]}`` for every leaf reached and for every tensor in
    ``wanted`` (or that asked to retain its gradient).
    """
    grads = {}         # id(tensor) -> [tensor, gradient so far]
    heap, seen = [], set()  # functions waiting to run, latest (generation, creation) first
    keep = set(wanted or ())

    def accumulate(t, g):
        entry = grads.get(id(t))
        if entry is None:
            grads[id(t)] = [t, g]
        else:
            entry[1] = entry[1] + g
        f = t.creator
        if f is not None and id(f) not in seen:
            if f._released:
                raise RuntimeError(
                    f"Trying to backward through the graph a second time: {type(f).__name__}, which "
                    f"made a tensor of shape {t.shape}, already freed what it saved for backward. "
                    "Pass retain_graph=True to the first backward() (or grad()) if you need to go "
                    "through the graph again, or recompute the forward pass")
            seen.add(id(f))
            heapq.heappush(heap, (-f.generation, -f.sequence, f))

    with set_grad_enabled(create_graph):
        for t, g in zip(roots, root_grads):
            accumulate(t, g)
        while heap:
            f = heapq.heappop(heap)[2]
            ys = [ref() for ref in f._output_refs]  # usually just one; alive until f is done
            _check_saved_versions(f, ys)
            gys = []
            for k, y in enumerate(ys):
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
                if gx._data.shape != x._data.shape:
                    raise ShapeError(f"{type(f).__name__}.backward returned a gradient of shape "
                                     f"{gx.shape} for an input of shape {x.shape}")
                accumulate(x, gx)
            if not retain_graph:
                f._release()
    return grads


def _share_counter_with_views(x, y):
    """Give y x's version counter if y's array is a view of x's memory (reshape of a contiguous
    array, a transpose, a basic slice...); a copy (NumPy made one) keeps a counter of its own."""
    xp = backend.get_array_module(x._data)
    if xp.may_share_memory(x._data, y._data):
        y._counter = x._counter


def _check_saved_versions(f, outputs):
    """Refuse to run ``f.backward`` on values changed in place since ``f`` saved them (an
    optimiser step between forward and backward, say): its gradient would be silently wrong."""
    if f.saves_inputs:
        for i, (x, version) in enumerate(zip(f.inputs, f._input_versions)):
            if x._version != version:
                raise _modified(f, f"input {i}", x, version)
    if f.saves_output:
        for y in outputs:
            if y is not None and y._version != 0:
                raise _modified(f, "the output", y, 0)


def _modified(f, which, t, expected):
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {which} of {type(f).__name__}, a {t.dtype} tensor of shape {t.shape}, is at "
        f"version {t._version}; expected version {expected} instead. It was changed after the "
        f"forward pass that recorded {type(f).__name__} (for example by an optimiser step or a "
        "write to .data): call backward() before changing it, or run the forward pass again")


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


def backward(tensor, grad=None, retain_graph=None, create_graph=False):
    """``tensor.backward()``: compute d(tensor)/d(leaf) for every leaf that requires grad and add
    it to ``leaf.grad``. (``functional.py`` binds this function to Tensor as its method.)

    ``grad`` is the upstream gradient (same shape as tensor); it may be omitted only for a
    scalar, where it is 1. With ``create_graph=True`` the backward pass is itself recorded,
    so the gradients can be differentiated again (gradient penalties need this).
    The pass frees the graph's saved tensors as it goes, so a second ``backward()`` through
    the same graph is an error unless the first had ``retain_graph=True`` (the default is
    ``create_graph``). PyTorch lets a second pass through ops that saved nothing (a sum, a
    reshape) go through; minigan refuses every second pass, one rule that is easy to remember.
    Gradients accumulate across calls, as in PyTorch: zero them between steps.
    """
    if not tensor._requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad: none of the tensors it was "
            "computed from has requires_grad=True (or it was computed under no_grad())")
    if retain_graph is None:  # a graph of the gradient refers to the forward graph: keep it
        retain_graph = create_graph
    grads = _run_backward([tensor], [_root_grad(tensor, grad, "backward()")], create_graph, retain_graph)
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


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple of Tensors, without touching any ``.grad``.

    ``outputs`` and ``inputs`` are Tensors or sequences of them; ``grad_outputs`` gives the
    upstream gradient of each output (may be None for scalars). With ``create_graph=True`` the
    result is itself differentiable: ``minigan.grad(D(x).sum(), x, create_graph=True)`` is how a
    gradient penalty is written. ``retain_graph`` (default: ``create_graph``) keeps the graph for
    another pass, as in ``backward``. An input the outputs do not depend on is an error unless
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
    if retain_graph is None:
        retain_graph = create_graph
    found = _run_backward(outputs, roots, create_graph, retain_graph, wanted=[id(t) for t in inputs])
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
