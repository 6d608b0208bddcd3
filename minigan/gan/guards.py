"""The guards that stop a GAN run going wrong before it does harm (``step.py`` runs them).

* ``check_finite``: a loss that is NaN or inf, checked before ``backward()``;
* ``check_gradients``: a gradient that is NaN or inf, checked before ``optimizer.step()`` (a
  finite loss can still have one: the slope of sqrt at 0 is infinite, and inf * 0 = NaN);
* ``non_finite``: where a state about to be saved as a checkpoint holds NaN or inf
  (``Trainer.save_checkpoint`` refuses it, so the last good checkpoint is never replaced).

Each raises ``TrainingDiverged`` with a message that names the step, what went wrong and where,
and says that the weights and the last checkpoint are intact.
"""
import math

import numpy as np

from .. import backend
from ..tensor import Tensor


class TrainingDiverged(RuntimeError):
    """A loss or gradient became NaN or infinite (the run stopped before that update), or a state
    holding NaN or inf was about to be saved as a checkpoint (it was not)."""


def check_finite(which, loss, step):
    """Raise TrainingDiverged when ``loss`` (a Tensor or a number) is NaN or infinite, else return
    its value as a float. Call it before ``backward()``, so that a bad step never reaches the
    weights or a checkpoint; log the value it returns rather than reading the loss again (on a GPU
    each read is a copy to the host, and the step waits for it)."""
    value = loss.item() if isinstance(loss, Tensor) else float(loss)
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"{which} became {value} at step {step}: training stopped before this step's update, so "
            "the weights and the last checkpoint are intact. Try a lower learning rate or a different "
            "loss (e.g. --loss nonsaturating), and resume from the last checkpoint")
    return value


def grad_norm(params):
    """The L2 norm of all the parameters' gradients together (a sign of how hard a network is
    pushed). NaN or inf if any gradient holds one, so it doubles as a cheap finiteness check."""
    squares = [(p.grad.data.astype(np.float64) ** 2).sum() for p in params if p.grad is not None]
    return math.sqrt(float(sum(squares)))  # one transfer from the GPU, not one per parameter


def check_gradients(which, optimizer, module, step):
    """Return the L2 norm of the gradients ``optimizer`` is about to apply, or raise
    TrainingDiverged naming the parameter whose gradient holds NaN or inf. Call it between
    ``backward()`` and ``optimizer.step()``: a finite loss can still have a NaN gradient (the
    slope of sqrt at 0 is infinite, and inf * 0 = NaN), and the step would write it into the
    weights. ``which`` ("G" or "D") names ``module``, the network the optimiser trains."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    norm = grad_norm(params)
    if math.isfinite(norm):  # the usual case: one sum says that every gradient is finite
        return norm
    names = {id(p): name for name, p in module.named_parameters()}
    for p in params:
        bad = nan_or_inf(p.grad.data) if p.grad is not None else None
        if bad:
            raise TrainingDiverged(
                f"the gradient of {which}'s parameter {names.get(id(p), '?')!r} "
                f"(shape {p.shape}) holds {bad} at step {step}, though the loss is finite: training "
                f"stopped before {which}'s update, so {which}'s weights and the last checkpoint are intact. "
                "Look for an op with an infinite slope where it is used (sqrt or log at 0), try a lower "
                "learning rate, and resume from the last checkpoint")
    return norm  # every gradient is finite: only the sum of their squares overflowed


def nan_or_inf(array):
    """"NaN" or "inf" when the float array (or number) holds one, None when all of it is finite."""
    xp = backend.get_array_module(array) if hasattr(array, "dtype") else np
    if bool(xp.isfinite(array).all()):  # one reduction per array: the usual answer
        return None
    return "NaN" if bool(xp.isnan(array).any()) else "inf"


def non_finite(value, where):
    """Where in ``value`` (nested dicts, lists, arrays, numbers) the first NaN or inf is, as
    "G['body.0.weight'] holds NaN", or None when everything is finite."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    elif isinstance(value, float) or getattr(getattr(value, "dtype", None), "kind", None) == "f":
        bad = nan_or_inf(value)
        return f"{where} holds {bad}" if bad else None
    else:  # ints, strings, None
        return None
    for key, item in items:
        bad = non_finite(item, f"{where}[{key!r}]")
        if bad:
            return bad
    return None
