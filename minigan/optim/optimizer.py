"""``Optimizer``: the base class of SGD, Adam, AdamW and RMSprop, with PyTorch's interface.

An optimiser holds

* ``param_groups`` -- a list of dicts. Each has ``"params"`` (a list of Tensors) and that group's
  hyperparameters (``"lr"``, ``"betas"``, ...), so a generator and a discriminator, or two layers,
  can be trained with different learning rates by one optimiser;
* ``state`` -- a dict keyed by parameter Tensor: each parameter's buffers (Adam's moments, SGD's
  momentum) and its step count, made on that parameter's first step.

``step()`` reads every parameter's ``.grad`` and changes ``p.data`` *in place*; subclasses write
the update rule for one parameter in ``_update``. Updates work on the raw arrays (``p.data``,
``p.grad.data``), so they record no graph, and they take their array module (NumPy or CuPy) from
the parameter, so one code path serves the CPU and the GPU.

``state_dict()`` / ``load_state_dict()`` save and restore all of it in PyTorch's layout, with
NumPy arrays in place of tensors::

    {"state":        {0: {"step": 3, "exp_avg": array, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

Parameters are numbered 0, 1, 2, ... across the groups, in order.
"""
import math
import numbers

import numpy as np

from .. import backend
from ..autograd import ShapeError, enable_grad
from ..tensor import Tensor


class _Required:
    """The default of a hyperparameter that has none (SGD's ``lr``)."""

    def __repr__(self):
        return "<required>"


required = _Required()


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of Tensors with ``requires_grad=True`` (e.g. ``model.parameters()``),
    or a list of dicts ``{"params": [...], "lr": ...}``, one per parameter group; a group's own
    entries override ``defaults``, the subclass's hyperparameters.
    """

    def __init__(self, params, defaults):
        self.defaults = {key: _plain(value) for key, value in defaults.items()}
        self.state = {}
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name} expected an iterable of Tensors (e.g. model.parameters() or "
                            f"[w, b]), got a single Tensor of shape {params.shape}; wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name} expected an ordered iterable of Tensors such as a list, got a "
                            "set: its order changes between runs, so a saved state_dict would not fit")
        if isinstance(params, dict):
            raise TypeError(f"{name} expected an iterable of Tensors or a list of parameter-group "
                            "dicts, got a single dict; wrap it in a list: [{'params': ..., 'lr': ...}]")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name} expected an iterable of Tensors or of parameter-group dicts, "
                            f"got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name} got an empty parameter list (note that a generator such as "
                             "model.parameters() is used up after one pass)")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # --- parameter groups ----------------------------------------------------------------------

    def add_param_group(self, group):
        """Add a dict ``{"params": [...], <hyperparameter>: value, ...}`` as a new group; missing
        hyperparameters take the optimiser's defaults."""
        name, index = type(self).__name__, len(self.param_groups)
        where = f"{name} parameter group {index}"
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{where}: expected a dict with a 'params' entry, got {group!r:.80}")
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{where}: expected an ordered iterable of Tensors such as a list, "
                            "got a set (its order changes between runs)")
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{where} has an empty parameter list (note that a generator such as "
                             "model.parameters() is used up after one pass)")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: expected Tensors, got {type(p).__name__} at position {i}")
            if not p.requires_grad:
                raise ValueError(f"{where}: the Tensor of shape {p.shape} at position {i} does not "
                                 "require grad, so it would never change; make it with "
                                 "requires_grad=True or leave it out")
            if not p.is_leaf:
                raise ValueError(f"{where}: the Tensor of shape {p.shape} at position {i} was "
                                 "computed by an op; an optimiser updates leaves (parameters) only")
        # Tensors compare elementwise, so look parameters up by identity, never with ``in``.
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(f"{where}: the Tensor of shape {p.shape} at position {i} appears "
                                 "twice (in this group or an earlier one); it would be updated twice")
            seen.add(id(p))

        new_group = {"params": params}
        for key, value in group.items():
            if key != "params":
                new_group[key] = _plain(value)
        for key, default in self.defaults.items():
            if key not in new_group:
                if default is required:
                    raise ValueError(f"{where} has no {key!r} and {name} has no default for it: pass "
                                     f"{key}=..., e.g. {name}(params, {key}=0.01), or set {key!r} in "
                                     "every parameter group")
                new_group[key] = default
        self._check_group(new_group, where)
        self.param_groups.append(new_group)

    def _check_group(self, group, where):
        """Check a group's hyperparameters; subclasses raise ValueError/TypeError naming the bad one."""

    # --- the update ----------------------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Forget the gradients before the next backward (they accumulate, as in PyTorch).

        ``set_to_none=True`` sets ``p.grad = None`` (then ``step`` skips ``p`` until a new backward
        gives it a gradient); ``False`` gives every existing gradient as zeros instead.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:  # a new array of zeros, never written into one that a graph may hold
                    xp = backend.get_array_module(p.grad.data)
                    p.grad = Tensor(xp.zeros_like(p.grad.data))

    def step(self, closure=None):
        """Update every parameter that has a gradient, in place; parameters whose ``.grad`` is
        None are left as they are. ``closure``, if given, recomputes the loss (with a backward)
        and its result is returned, as in PyTorch."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta, g = p.data, p.grad.data
                if g.shape != theta.shape:
                    raise ShapeError(f"{type(self).__name__}: a parameter of shape {theta.shape} has "
                                     f"a gradient of shape {g.shape}")
                self._update(theta, g, self.state.setdefault(p, {}), group)
                p._version += 1  # changed in place: a graph that saved p can no longer use it
        return loss

    def _update(self, theta, g, state, group):
        """Update one parameter's array ``theta`` in place from its gradient ``g``.

        ``state`` is this parameter's dict in ``self.state`` (empty on its first step) and
        ``group`` its parameter group (the hyperparameters).
        """
        raise NotImplementedError(f"{type(self).__name__} must define "
                                  "_update(self, theta, g, state, group)")

    # --- saving and loading --------------------------------------------------------------------

    def state_dict(self):
        """Everything needed to resume: hyperparameters and per-parameter state, as plain Python
        values and NumPy arrays (copied, also from the GPU), in PyTorch's layout (module docstring)."""
        index = {}  # id(parameter) -> its number across all groups
        param_groups = []
        for group in self.param_groups:
            saved = {key: value for key, value in group.items() if key != "params"}
            saved["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            param_groups.append(saved)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = {key: _saved(value) for key, value in self.state[p].items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()`` taken from an optimiser of the same type, with the same
        groups and parameter shapes. Hyperparameters come from the saved groups, as in PyTorch
        (``Trainer.load_checkpoint`` keeps the ones given now instead); buffers are copied onto
        each parameter's device with its dtype. Everything is checked before anything changes, so
        nothing changes if the state dict does not fit."""
        self._prepare_load(state_dict)()

    def _prepare_load(self, state_dict):
        """Check ``state_dict`` as ``load_state_dict`` does, raising before anything changes, and
        return a function that installs it (and cannot fail): two steps, so that
        ``Trainer.load_checkpoint`` can check both networks and both optimisers first."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict expected a dict with keys 'state' and "
                             f"'param_groups' (from state_dict()), got {got}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                             f"group(s) but this optimiser has {len(self.param_groups)}")
        param_of = {}  # saved number -> this optimiser's parameter
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{name}.load_state_dict: parameter group {i} of the state dict "
                                 f"should be a dict with a 'params' entry, got {saved!r:.80}")
            lacking = [key for key in self.defaults if key not in saved]
            if lacking:  # each optimiser type has its own hyperparameters: Adam's betas, RMSprop's alpha
                held = [key for key in saved if key != "params"]
                raise ValueError(f"{name}.load_state_dict: parameter group {i} of the state dict has no "
                                 f"{', '.join(map(repr, lacking))}, which every {name} group has; it has "
                                 f"{', '.join(map(repr, held))}: was it saved by another type of optimiser?")
            numbers_saved = [int(k) for k in saved["params"]]
            if len(numbers_saved) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has {len(numbers_saved)} "
                                 f"parameter(s) in the state dict but {len(group['params'])} here")
            param_of.update(zip(numbers_saved, group["params"]))

        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            new_group = dict(group)
            new_group.update({key: _plain(value) for key, value in saved.items() if key != "params"})
            self._check_group(new_group, f"{name}.load_state_dict, parameter group {i}")
            new_groups.append(new_group)
        new_state = {}
        for number, saved in state_dict["state"].items():
            number = int(number)  # a file format may give the keys back as strings
            if number not in param_of:
                raise ValueError(f"{name}.load_state_dict: the state dict has state for parameter "
                                 f"{number}, but its groups list only parameters {sorted(param_of)}")
            p = param_of[number]
            new_state[p] = {key: _restored(value, key, p, number, name) for key, value in saved.items()}

        def install():
            self.param_groups, self.state = new_groups, new_state
        return install

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params"]
        return "\n".join(lines + [")"])


# --- helpers -------------------------------------------------------------------------------------

def _plain(value):
    """NumPy scalars and small arrays (as a file may give them back) as Python numbers and tuples,
    so hyperparameters never turn float32 arithmetic into float64."""
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value


def _saved(value):
    """A state entry for ``state_dict``: arrays as NumPy copies, numbers as they are."""
    if hasattr(value, "shape"):
        return np.array(backend.as_numpy(value), copy=True)
    return _plain(value)


def _restored(value, key, param, number, name):
    """A saved state entry back in the optimiser: ``step`` as an int, buffers on the parameter's
    device with its dtype (always a copy, so two optimisers never share a buffer)."""
    if key == "step":
        step = _plain(value)
        if (isinstance(step, bool) or not isinstance(step, numbers.Real) or not math.isfinite(step)
                or step != int(step) or step < 0):
            raise ValueError(f"{name}.load_state_dict: parameter {number} has step = {value!r:.40}; "
                             "expected a whole number >= 0")
        return int(step)
    if not hasattr(value, "shape"):
        return _plain(value)
    if value.dtype.kind not in "biuf":
        raise ValueError(f"{name}.load_state_dict: state {key!r} of parameter {number} must hold numbers, "
                         f"got dtype {value.dtype}")
    if tuple(value.shape) != param.shape:
        raise ValueError(f"{name}.load_state_dict: state {key!r} of parameter {number} has shape "
                         f"{tuple(value.shape)} but the parameter has shape {param.shape}")
    return backend.to_device(value, param.device).astype(param.dtype)
