"""``Parameter`` and ``Module``: how a network keeps track of its weights.

A ``Parameter`` is a Tensor that a layer learns. A ``Module`` is a layer or a whole network: it
owns Parameters, buffers (state that is saved but not learned, such as batch norm's running
mean) and child Modules. Plain attribute assignment registers them::

    class Generator(Module):
        def __init__(self):
            super().__init__()                  # creates the registries: call it first
            self.fc = Linear(100, 784)          # a Module  -> a child
            self.scale = Parameter(ones(784))   # a Parameter -> learned
            self.register_buffer("calls", zeros(1))  # a buffer -> saved, not learned

        def forward(self, z):
            return self.fc(z) * self.scale

``Module.__setattr__`` sorts each value into one of three ordered dicts (``_parameters``,
``_buffers``, ``_modules``); everything else (``parameters()``, ``state_dict()``, ``to()``,
``train()``) walks those dicts, children first-to-last, depth first. Names are dotted paths,
exactly as in PyTorch: ``fc.weight``, ``main.1.running_mean``.
"""
import itertools
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .. import backend
from ..tensor import DEFAULT_FLOAT, Tensor, tensor

# --- Parameter ---------------------------------------------------------------------------------


class Parameter(Tensor):
    """A Tensor that a Module learns: created with ``requires_grad=True``, float only.

    ``Parameter(data)`` accepts a Tensor (its memory is shared, as in PyTorch), a NumPy/CuPy
    array, or nested lists of floats (which become float32). Assigning one to a Module attribute
    registers it, so ``module.parameters()`` finds it.
    """
    __slots__ = ()

    def __init__(self, data):
        if isinstance(data, Tensor):
            data = data.data
        elif not hasattr(data, "dtype"):
            data = tensor(data).data  # lists and numbers: Python floats become float32
        if data.dtype.kind != "f":
            raise TypeError(f"Parameter needs floating-point data (float32 or float64), got dtype "
                            f"{data.dtype}; convert first, e.g. Parameter(x.astype('float32'))")
        super().__init__(data, requires_grad=True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def empty_parameter(shape, device=None, dtype=None):
    """A zero-filled Parameter of ``shape`` that a layer's ``reset_parameters`` then fills in.

    ``dtype`` defaults to float32 and must be a float type; ``device`` to minigan's default.
    """
    dtype = np.dtype(DEFAULT_FLOAT if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"layer parameters must be float (float32 or float64), got dtype={dtype}")
    xp = backend.xp_for(backend.normalize_device(device))
    return Parameter(xp.zeros(shape, dtype=dtype))


class RemovableHandle:
    """What ``register_forward_pre_hook`` and ``register_forward_hook`` return:
    ``handle.remove()`` unregisters the hook (a second ``remove()`` does nothing), and
    ``with module.register_forward_hook(h):`` keeps it only for the block.

    Each hook is stored under a key drawn from one counter shared by every handle, never reused:
    were keys counted per module, removing the newest hook and registering another would hand the
    new one the old key, and the old handle's ``remove()`` would take away the wrong hook. The
    handle holds its module's hook dict by weak reference, so a hook that keeps its own handle (to
    remove itself) makes no reference cycle.
    """

    _next_id = itertools.count()

    def __init__(self, hooks):
        self.id = next(RemovableHandle._next_id)
        self._hooks = weakref.ref(hooks)

    def remove(self):
        hooks = self._hooks()
        if hooks is not None:  # None: the module itself is gone
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def _add_hook(hooks, hook, method, signature):
    """Store ``hook`` in the ordered dict ``hooks`` (so hooks run in registration order) and
    return its handle."""
    if not callable(hook):
        raise TypeError(f"{method} expects a function {signature}, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


#: What ``load_state_dict`` returns: the keys it could not fill, and the keys it did not use.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_DEVICE_NAMES = ("cpu", "gpu", "cuda", "auto")


def _check_name(owner, name, kind):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
    if name == "" or "." in name:
        raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
    if hasattr(owner, name) and name not in owner._parameters and name not in owner._buffers \
            and name not in owner._modules:
        raise KeyError(f"cannot register {kind} {name!r}: {type(owner).__name__} already has an "
                       "attribute of that name")


# --- Module ------------------------------------------------------------------------------------


class Module:
    """Base class of every layer and network: subclass it, call ``super().__init__()`` first,
    assign layers and Parameters as attributes, and write ``forward``. ``module(x)`` calls
    ``forward(x)``."""

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, ...)")

    def __call__(self, *args, **kwargs):
        # The hot path is forward alone: with no hooks, each dict costs one truthiness check.
        if self._forward_pre_hooks:  # usually none; spectral_norm registers one
            for hook in list(self._forward_pre_hooks.values()):  # a copy: a hook may remove itself
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
        return output

    def register_forward_pre_hook(self, hook):
        """Run ``hook(module, args)`` before every ``forward`` (spectral_norm uses one to
        recompute the weight); if it returns a value, that replaces the positional arguments.
        Hooks run in the order they were registered. Returns a handle whose ``remove()`` takes the
        hook away again."""
        return _add_hook(self._forward_pre_hooks, hook, "register_forward_pre_hook",
                         "hook(module, args)")

    def register_forward_hook(self, hook):
        """Run ``hook(module, args, output)`` after every ``forward`` (to record activations, or
        to check them); if it returns a value other than None, that replaces the output, and the
        next hook sees the replacement. ``args`` are the positional arguments ``forward`` got
        (after any pre-hooks). Hooks run in the order they were registered, and a hook may remove
        itself while it runs. Returns a handle whose ``remove()`` takes the hook away again::

            activations = {}
            handle = model[0].register_forward_hook(
                lambda module, args, output: activations.update(first=output.detach()))
            model(x)
            handle.remove()
        """
        return _add_hook(self._forward_hooks, hook, "register_forward_hook",
                         "hook(module, args, output)")

    # --- registration ----------------------------------------------------------------------

    def _registries(self, name):
        registries = tuple(self.__dict__.get(r) for r in ("_parameters", "_buffers", "_modules"))
        if registries[0] is None:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran: call super().__init__() at "
                f"the start of {type(self).__name__}.__init__")
        return registries

    def __setattr__(self, name, value):
        registered = any(name in self.__dict__.get(r, ()) for r in ("_parameters", "_buffers", "_modules"))
        if not registered and not isinstance(value, (Parameter, Module)):
            object.__setattr__(self, name, value)  # a plain attribute: a number, a string, a Tensor...
            return
        params, buffers, modules = self._registries(name)
        if isinstance(value, (Parameter, Module)):
            self.__dict__.pop(name, None)  # assignment replaces a plain attribute of that name
        if isinstance(value, Parameter) or (value is None and name in params):
            self.register_parameter(name, value)
        elif isinstance(value, Module) or (value is None and name in modules):
            self.add_module(name, value)
        elif name in buffers:
            self.register_buffer(name, value)
        else:
            kind, expected = ("parameter", "a Parameter") if name in params else ("child module", "a Module")
            raise TypeError(f"cannot assign {type(value).__name__} as {kind} {name!r} "
                            f"({expected} or None expected)")

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the three registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                return
        object.__delattr__(self, name)

    def _forget(self, name, keep):
        """Remove ``name`` from every registry but ``keep`` and from the plain attributes, so a
        name lives in one place. Left in ``keep``, a replaced entry keeps its position, as in
        PyTorch: ``model.fc = Linear(...)`` again does not move fc's keys in ``state_dict``."""
        for registry in self._registries(name):
            if registry is not keep:
                registry.pop(name, None)
        self.__dict__.pop(name, None)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        self._registries(name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"parameter {name!r} must be a Parameter or None, got {type(param).__name__}")
        if name not in self._parameters:
            _check_name(self, name, "parameter")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, value):
        """Register a Tensor that is saved in ``state_dict`` and moved by ``to()`` but not learned
        (batch norm's running statistics); None registers an absent buffer."""
        self._registries(name)
        if value is not None and (not isinstance(value, Tensor) or isinstance(value, Parameter)):
            raise TypeError(f"buffer {name!r} must be a Tensor (not a Parameter) or None, got "
                            f"{type(value).__name__}")
        if name not in self._buffers:
            _check_name(self, name, "buffer")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = value

    def add_module(self, name, module):
        """Register a child Module under ``name`` (``Sequential`` uses "0", "1", ...)."""
        self._registries(name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"child {name!r} must be a Module or None, got {type(module).__name__}")
        if name not in self._modules:
            _check_name(self, name, "module")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    # --- walking the tree --------------------------------------------------------------------

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module (named ``prefix``, "" by default) and every
        descendant, depth first, each parent before its children, as PyTorch lists them. A module
        shared by two parents is listed once, under the first name met."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m)
                        for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))  # reversed: the first child is popped first

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) for the direct children only."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_tensors(self, registry, recurse):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, t in getattr(module, registry).items():
                if t is None or id(t) in seen:  # a shared Parameter is listed once
                    continue
                seen.add(id(t))
                yield (f"{prefix}.{name}" if prefix else name), t

    def named_parameters(self, recurse=True):
        """(dotted name, Parameter) pairs, e.g. ("main.0.weight", ...), each Parameter once."""
        return self._named_tensors("_parameters", recurse)

    def parameters(self, recurse=True):
        """Every Parameter of this module and its descendants: what an optimiser updates."""
        for _, p in self.named_parameters(recurse):
            yield p

    def named_buffers(self, recurse=True):
        return self._named_tensors("_buffers", recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse):
            yield b

    def num_parameters(self):
        """The number of learned numbers (elements of all Parameters, shared ones counted once)."""
        return sum(p.size for p in self.parameters())

    def apply(self, fn):
        """Call ``fn(m)`` on every descendant and then on this module, children first, as
        PyTorch does (``model.apply(init_fn)``); returns self. Unlike ``modules()``, a module
        shared by two parents is visited once per parent, as in PyTorch."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes, gradients, devices, dtypes ------------------------------------------------------

    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses batch statistics) for the whole tree."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: dropout is the identity, batch norm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Turn gradients of every Parameter on or off (e.g. freeze D while G trains); returns self."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self):
        """Forget the gradients of every Parameter (``.grad = None``, as PyTorch's default)."""
        for p in self.parameters():
            p.grad = None

    def _apply(self, convert, floats_only):
        """Replace ``.data`` (and ``.grad``) of every Parameter and buffer by ``convert(data)``."""
        for t in list(self.parameters()) + list(self.buffers()):
            if floats_only and t.data.dtype.kind != "f":
                continue  # a counter such as num_batches_tracked stays an integer
            t.data = convert(t.data)
            if t.grad is not None:
                t.grad = Tensor(convert(t.grad.data))
        return self

    def to(self, *args, device=None, dtype=None):
        """Move to a device and/or convert float Parameters and buffers to a dtype, in place;
        returns self. ``to("gpu")``, ``to("float64")``, ``to(np.float64)``, ``to("cpu", "float32")``.
        Integer buffers keep their dtype (as in PyTorch)."""
        for arg in args:
            if isinstance(arg, str) and arg.strip().lower().split(":")[0] in _DEVICE_NAMES:
                device = arg
            else:
                dtype = arg
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise TypeError(f"to() expects a device ('cpu', 'gpu') or a float dtype, "
                                f"got {dtype!r}") from None
            if dtype.kind != "f":
                raise TypeError(f"Module.to() only converts to float dtypes, got {dtype}")
            self._apply(lambda a: a.astype(dtype, copy=False), floats_only=True)
        if device is not None:
            device = backend.normalize_device(device)
            self._apply(lambda a: backend.to_device(a, device), floats_only=False)
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def cpu(self):
        return self.to("cpu")

    def gpu(self):
        return self.to("gpu")

    cuda = gpu

    # --- saving and loading --------------------------------------------------------------------

    def _state_tensors(self, prefix=""):
        """(key, tensor) for every Parameter and buffer: own ones first, then each child's."""
        for registry in (self._parameters, self._buffers):
            for name, t in registry.items():
                if t is not None:
                    yield prefix + name, t
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_tensors(prefix + name + ".")

    def state_dict(self):
        """An ordered dict of key -> NumPy array (a copy) for every Parameter and buffer, with
        PyTorch's keys (``0.weight``, ``1.running_mean``, ...): what a checkpoint stores.

        Unlike PyTorch, whose state dict holds tensors that share memory with the parameters, the
        values here are NumPy arrays copied to the host: a snapshot that later training does not
        change, ready for ``minigan.save``, ``minigan.save_safetensors`` or ``np.testing``.
        ``load_state_dict`` takes them back (as it takes Tensors and CuPy arrays)."""
        state = OrderedDict()
        for key, t in self._state_tensors():
            array = backend.as_numpy(t.data)
            state[key] = array.copy() if array is t.data else array
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into the Parameters and buffers, in place.

        Values may be NumPy/CuPy arrays or Tensors, on any device; each is converted to the
        device and dtype of the tensor it fills. A shape mismatch is always an error, and so is a
        float value for an integer buffer (it would be truncated); with ``strict`` (the default)
        so are missing and unexpected keys. Every value is checked before any is copied, so
        nothing is changed unless everything fits. Returns ``IncompatibleKeys(missing_keys,
        unexpected_keys)``.
        """
        return self._prepare_load(state_dict, strict)()

    def _prepare_load(self, state_dict, strict=True):
        """Check ``state_dict`` as ``load_state_dict`` does, raising before anything changes, and
        return a function that copies the values in (it cannot fail) and returns the
        ``IncompatibleKeys``. Two steps, so that ``Trainer.load_checkpoint`` can check G, D and
        both optimisers before it changes any of them."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expects a dict of name -> array, "
                            f"got {type(state_dict).__name__}")
        own = OrderedDict(self._state_tensors())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors, updates = [], []
        for key, t in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else value
            if not (hasattr(value, "shape") and hasattr(value, "dtype")):
                errors.append(f"value for {key!r} must be an array or Tensor, got {type(value).__name__}")
            elif value.dtype.kind not in "biuf":
                errors.append(f"value for {key!r} must hold numbers, got dtype {value.dtype}")
            elif tuple(value.shape) != t.shape:
                errors.append(f"size mismatch for {key!r}: the checkpoint has shape {tuple(value.shape)}, "
                              f"the model has shape {t.shape}")
            elif value.dtype.kind == "f" and t.dtype.kind != "f":
                errors.append(f"dtype mismatch for {key!r}: the checkpoint has {value.dtype}, the model "
                              f"holds whole numbers ({t.dtype})")
            else:
                updates.append((t, value))
        if strict and missing:
            errors.append("missing key(s) in state_dict: " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            errors.append("unexpected key(s) in state_dict: " + ", ".join(repr(k) for k in unexpected))
        if errors:
            raise RuntimeError(f"error(s) in loading state_dict for {type(self).__name__}:\n    " +
                               "\n    ".join(errors))

        def copy_in():
            for t, value in updates:
                t._write(backend.to_device(value, t.device).astype(t.dtype, copy=False))
            return IncompatibleKeys(missing, unexpected)
        return copy_in

    # --- printing ---------------------------------------------------------------------------------

    def extra_repr(self):
        """The layer's configuration, shown inside its parentheses (override in each layer)."""
        return ""

    def _parameter_note(self):
        own = [(n, p) for n, p in self._parameters.items() if p is not None]
        if not own:
            return ""
        shapes = ", ".join(f"{n} {p.shape}" for n, p in own)
        count = sum(p.size for _, p in own)
        return f"  # {shapes}: {count:,} parameter{'' if count == 1 else 's'}"

    def _tree_lines(self):
        name, extra, note = type(self).__name__, self.extra_repr(), self._parameter_note()
        if not self._modules:
            return [f"{name}({extra}){note}"]
        lines = [f"{name}({note}"]
        if extra:
            lines += ["  " + line for line in extra.split("\n")]
        for child_name, child in self._modules.items():
            sub = ["None"] if child is None else child._tree_lines()
            lines.append(f"  ({child_name}): {sub[0]}")
            lines += ["  " + line for line in sub[1:]]
        lines.append(")")
        return lines

    def __repr__(self):
        """The layer tree: each layer's configuration and parameter shapes; for a module with
        children, a last line with the total number of parameters."""
        lines = self._tree_lines()
        if self._modules:
            lines.append(f"Total parameters: {self.num_parameters():,}")
        return "\n".join(lines)
