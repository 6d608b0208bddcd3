"""Learning-rate schedulers: they change each parameter group's ``lr`` as training goes on, as
PyTorch's ``torch.optim.lr_scheduler`` does.

    opt = minigan.optim.Adam(model.parameters(), lr=2e-4)
    scheduler = minigan.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        for x in batches:
            ...                     # zero_grad, backward, opt.step(): with this epoch's lr
        scheduler.step()            # then the next epoch's lr, once the epoch is over

A scheduler counts epochs in ``last_epoch`` (0 when it is made, one more at each ``step()``) and
writes that epoch's learning rate into ``group["lr"]`` of every parameter group, which is where
the optimiser reads it. ``base_lrs`` are the rates the schedule starts from: each group's
``"initial_lr"``, which the scheduler sets to the group's ``lr`` when it is made, as PyTorch does
(a group that has one already keeps it: after loading an optimiser's state dict, say).
``get_last_lr()`` gives the rates it set last. With e = ``last_epoch``, in closed form::

    StepLR             lr_e = base · γ^⌊e / step_size⌋           (γ = gamma)
    ExponentialLR      lr_e = base · γ^e
    LambdaLR           lr_e = base · λ(e)                        (λ = lr_lambda)
    CosineAnnealingLR  lr_e = η_min + (base − η_min) · (1 + cos(π e / T_max)) / 2

StepLR, ExponentialLR and CosineAnnealingLR compute lr_e from lr_{e−1}, the group's lr one epoch
before (lr_e = γ · lr_{e−1}, ...), as PyTorch does: their floats are then PyTorch's to the last
bit, where the closed forms differ in the last digits (by up to 1e-13, relative, over 300 epochs),
and a change made to ``lr`` from outside (by hand, or by a second scheduler) carries on into the
later epochs. LambdaLR uses its closed form, as PyTorch does.

``state_dict()`` holds everything but the optimiser (LambdaLR saves no functions, only the
attributes of callable objects), as plain numbers and lists that ``minigan.save`` can write. The
groups' current ``lr`` is in the optimiser's state dict: save and load both (``Trainer`` does).
PyTorch's ``last_epoch`` argument, to make a scheduler part-way through, is left out:
``load_state_dict`` resumes one.
"""
import copy
import math
import types

import numpy as np

from ..checks import check_int, check_number
from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``LRScheduler(optimizer)``. A subclass sets its hyperparameters, calls this
    ``__init__``, and defines ``get_lr()`` (the rates of epoch ``last_epoch``) and
    ``_check_settings(where)`` (checks its hyperparameters, when made and when loaded)."""

    _not_saved = ("optimizer",)  # what state_dict leaves out

    def __init__(self, optimizer):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name} expected an optimiser such as minigan.optim.Adam(...), "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self._check_settings(name)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])  # the rate the schedule starts from
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._set_lrs(self.get_lr())  # epoch 0: LambdaLR sets base · λ(0); the others keep lr as it is

    def _check_settings(self, where):
        """Check (and turn into Python numbers) the subclass's hyperparameters, in place."""

    def get_lr(self):
        """The rates of epoch ``last_epoch``, one per parameter group, as ``step`` sets them. (The
        recursive schedules compute them from the groups' current rates: after ``step``, read
        ``get_last_lr()``, not this.)"""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr(self)")

    def step(self):
        """Go on to the next epoch and set its learning rates. Call it after the optimiser's
        steps of the epoch that ended, as in PyTorch."""
        self._check_groups(type(self).__name__ + ".step")
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def get_last_lr(self):
        """The learning rates this scheduler set last, one per parameter group."""
        return list(self._last_lr)

    def _set_lrs(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def _check_groups(self, where):
        groups, made_for = len(self.optimizer.param_groups), len(self.base_lrs)
        if groups != made_for:
            raise ValueError(f"{where}: the optimiser has {groups} parameter group(s) but the scheduler "
                             f"has {made_for} base rate(s); make the scheduler after adding every group")

    # --- saving and loading --------------------------------------------------------------------

    def state_dict(self):
        """Everything in ``self.__dict__`` but the optimiser, as PyTorch: ``last_epoch``,
        ``base_lrs``, ``_last_lr`` and the hyperparameters (lists copied, so it is a snapshot)."""
        return {key: list(value) if isinstance(value, list) else value
                for key, value in vars(self).items() if key not in self._not_saved}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()`` of a scheduler of the same type, made for as many parameter
        groups. Everything is checked before anything changes. It does not change the optimiser's
        rates: load the optimiser's state dict too."""
        self._prepare_load(state_dict)()

    def _prepare_load(self, state_dict):
        """Check ``state_dict`` as ``load_state_dict`` does, raising before anything changes, and
        return a function that installs it (and cannot fail), as ``Optimizer._prepare_load``."""
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        expected = sorted(self.state_dict())
        if not isinstance(state_dict, dict) or sorted(map(str, state_dict)) != expected:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{where} expected a dict with the keys {expected} (from {name}.state_dict()), "
                             f"got {got}; another type of scheduler saves other keys")
        self._check_groups(where)
        values = {key: _plain(value) for key, value in state_dict.items() if key not in self._not_saved}
        for key in ("base_lrs", "_last_lr"):
            values[key] = _rates(where, key, values[key], len(self.base_lrs))
        values["last_epoch"] = check_int(where, "last_epoch", values["last_epoch"], low=0)
        loaded = copy.copy(self)  # a scratch scheduler: the hyperparameters are checked on it
        vars(loaded).update(values)
        loaded._check_settings(where)

        def install():
            vars(self).update({key: getattr(loaded, key) for key in values})
        return install


_LRScheduler = LRScheduler  # the name in PyTorch before 2.0, for code written for it


class StepLR(LRScheduler):
    """``StepLR(optimizer, step_size, gamma=0.1)``: multiply the learning rate by γ = ``gamma``
    every ``step_size`` epochs::

        lr_e = γ · lr_{e−1}   when e is a multiple of step_size,   else lr_e = lr_{e−1}
             = base · γ^⌊e / step_size⌋                             (closed form)

    With step_size=30, gamma=0.1 and lr=0.05: 0.05 for epochs 0-29, 0.005 for 30-59, ...
    """

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def _check_settings(self, where):
        self.step_size = check_int(where, "step_size", self.step_size, low=1)
        self.gamma = float(check_number(where, "gamma", self.gamma, low=0))

    def get_lr(self):
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lrs                                 # lr_e = lr_{e−1}
        return [lr * self.gamma for lr in lrs]         # lr_e = γ · lr_{e−1}


class ExponentialLR(LRScheduler):
    """``ExponentialLR(optimizer, gamma)``: multiply the learning rate by γ = ``gamma`` every
    epoch::

        lr_e = γ · lr_{e−1} = base · γ^e

    γ = 0.99 halves the rate in about 69 epochs (0.99^69 ≈ 0.5).
    """

    def __init__(self, optimizer, gamma):
        self.gamma = gamma
        super().__init__(optimizer)

    def _check_settings(self, where):
        self.gamma = float(check_number(where, "gamma", self.gamma, low=0))

    def get_lr(self):
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch == 0:
            return lrs                                 # lr_0 = the rate the group has
        return [lr * self.gamma for lr in lrs]         # lr_e = γ · lr_{e−1}


class LambdaLR(LRScheduler):
    """``LambdaLR(optimizer, lr_lambda)``: the base rate times a factor that a function of the
    epoch gives::

        lr_e = base · λ(e)

    ``lr_lambda`` is one function for every group, or a list of them, one per group. E.g. a
    linear warm-up over 5 epochs, ``lambda e: min(1.0, (e + 1) / 5)``, or the shape of pix2pix's
    and CycleGAN's schedule, constant for 100 epochs and then linearly down to 0 at epoch 200,
    ``lambda e: max(0.0, min(1.0, (200 - e) / 100))``. λ(e) must be a number >= 0.

    ``state_dict`` cannot hold functions: for each function it saves None, or, for a callable
    object (an instance of a class with ``__call__``), its attributes (``vars(fn)``), as PyTorch
    does. So make the scheduler with the same functions again before loading a state dict.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda):
        self.lr_lambdas = lr_lambda  # made a list, one per group, by _check_settings
        super().__init__(optimizer)

    def _check_settings(self, where):
        n = len(self.optimizer.param_groups)
        lambdas = self.lr_lambdas
        if callable(lambdas):
            lambdas = [lambdas] * n
        elif not isinstance(lambdas, (list, tuple)):
            raise TypeError(f"{where}: lr_lambda must be a function of the epoch, or a list of them (one "
                            f"per parameter group), got {type(lambdas).__name__} {lambdas!r:.40}")
        if len(lambdas) != n:
            raise ValueError(f"{where}: expected {n} lr_lambdas, one per parameter group, got {len(lambdas)}")
        for i, fn in enumerate(lambdas):
            if not callable(fn):
                raise TypeError(f"{where}: lr_lambda[{i}] must be a function of the epoch, "
                                f"got {type(fn).__name__} {fn!r:.40}")
        self.lr_lambdas = list(lambdas)

    def get_lr(self):
        lrs = []
        for i, (base, fn) in enumerate(zip(self.base_lrs, self.lr_lambdas)):
            factor = fn(self.last_epoch)
            check_number("LambdaLR", f"lr_lambda({self.last_epoch})" + (f" of group {i}" if i else ""),
                         factor, low=0)
            lrs.append(base * float(factor))             # lr_e = base · λ(e)
        return lrs

    def state_dict(self):
        state = super().state_dict()
        state["lr_lambdas"] = [_lambda_state(fn) for fn in self.lr_lambdas]
        return state

    def _prepare_load(self, state_dict):
        install_rest = super()._prepare_load(state_dict)
        where = "LambdaLR.load_state_dict"
        saved = state_dict["lr_lambdas"]
        if not isinstance(saved, (list, tuple)) or len(saved) != len(self.lr_lambdas):
            raise ValueError(f"{where}: lr_lambdas should be a list of {len(self.lr_lambdas)} entries (None or "
                             f"a dict of attributes), got {saved!r:.80}")
        for i, (fn, attributes) in enumerate(zip(self.lr_lambdas, saved)):
            if attributes is None:
                continue
            if not isinstance(attributes, dict):
                raise ValueError(f"{where}: lr_lambdas[{i}] should be None or a dict of attributes, "
                                 f"got {type(attributes).__name__}")
            if _lambda_state(fn) is None:
                raise ValueError(f"{where}: lr_lambdas[{i}] holds the attributes of a callable object, "
                                 f"but this LambdaLR's function {i} is a plain function, with none")

        def install():
            install_rest()
            for fn, attributes in zip(self.lr_lambdas, saved):
                if attributes is not None:
                    vars(fn).update(attributes)
        return install


class CosineAnnealingLR(LRScheduler):
    """``CosineAnnealingLR(optimizer, T_max, eta_min=0)``: the learning rate follows half a cosine
    from the base rate down to η_min = ``eta_min`` over ``T_max`` epochs (Loshchilov & Hutter,
    2017, SGDR, without the restarts)::

        lr_e = η_min + (base − η_min) · (1 + cos(π e / T_max)) / 2

    computed from lr_{e−1} as PyTorch does::

        lr_e − η_min = (lr_{e−1} − η_min) · (1 + cos(π e / T_max)) / (1 + cos(π (e − 1) / T_max))

    After T_max epochs the cosine goes on, as in PyTorch: the rate climbs back to the base rate at
    2 T_max, and so on (a period of 2 T_max). Make T_max the length of the run to end at η_min.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def _check_settings(self, where):
        self.T_max = check_int(where, "T_max", self.T_max, low=1)
        self.eta_min = float(check_number(where, "eta_min", self.eta_min, low=0))

    def get_lr(self):
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if e == 0:
            return lrs                                 # lr_0 = the rate the group has
        if (e - 1 - T) % (2 * T) == 0:
            # Epoch e − 1 was at the bottom (lr = η_min), where the ratio below would divide by
            # 1 + cos(π (e − 1) / T_max) = 0: step up by the closed form's difference instead.
            rise = (1 - math.cos(math.pi / T)) / 2
            return [lr + (base - eta_min) * rise for lr, base in zip(lrs, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in lrs]


# --- helpers -------------------------------------------------------------------------------------

def _plain(value):
    """NumPy scalars and arrays (as a file may give them back) as Python numbers and lists."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return value


def _rates(where, key, value, n):
    """A list of ``n`` learning rates (numbers >= 0) from a state dict, as Python floats."""
    value = _plain(value)
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ValueError(f"{where}: {key} should be a list of {n} learning rate(s), one per parameter "
                         f"group, got {value!r:.80}")
    return [float(check_number(where, f"{key}[{i}]", _plain(lr), low=0)) for i, lr in enumerate(value)]


def _lambda_state(fn):
    """What LambdaLR saves of ``fn``: a callable object's attributes (a copy), or None for a
    function (a ``def`` or a lambda), whose code cannot be saved without pickle."""
    if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__"):
        return None
    return dict(vars(fn))
