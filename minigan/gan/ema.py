"""An exponential moving average of a network's weights (commonly of G, for nicer samples).

    ema = EMA(G, decay=0.999)
    ...after every G update:  ema.update()
    with ema.applied():        # G temporarily carries the averaged weights
        samples = G(z)

theta_ema <- d * theta_ema + (1 - d) * theta, with d = min(decay, (1 + t) / (10 + t)) after t
updates: the warm-up keeps the average from clinging to the random initial weights early in a
run (with d = 0.999 from the start, 70% of the average would still be the initial weights after
370 updates). The averaged generator moves slowly and smooths out the oscillation of
adversarial training, which is why its samples look better.

Batch norm's running mean and variance are not weights, but they must match the weights that
use them: the live G's statistics describe the live G's activations, not the averaged G's. So the
running statistics are averaged the same way and swapped in with the weights (PyTorch's
``AveragedModel(..., use_buffers=True)`` does this for every buffer). Measured on the MNIST
MLP (docs/recipes.md): with the live statistics, EMA samples scored 0.02 lower mid-run (while the
learning rate was still high); at the end of a run the two agreed within 0.005.
"""
import contextlib

from .. import backend
from ..autograd import no_grad


class EMA:
    def __init__(self, module, decay=0.999):
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.module, self.decay = module, decay
        self.params = [p for p in module.parameters()]
        self.shadow = [p.data.copy() for p in self.params]
        # batch norm's running statistics only: not its int batch counter, and not spectral norm's
        # power-iteration vectors u and v, whose average would no longer be a unit vector
        self.buffers = [b for name, b in module.named_buffers() if b is not None
                        and name.rsplit(".", 1)[-1] in ("running_mean", "running_var")]
        self.shadow_buffers = [b.data.copy() for b in self.buffers]
        # every averaged array beside the tensor it follows (the arrays only ever change in place)
        self._pairs = list(zip(self.shadow + self.shadow_buffers, self.params + self.buffers))
        self.updates = 0

    @no_grad()
    def update(self):
        """Move each averaged weight (and running statistic) a step (1 - decay) towards the current
        one, in place."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for avg, t in self._pairs:
            avg *= d
            avg += (1 - d) * t.data

    @contextlib.contextmanager
    def applied(self):
        """Swap the averaged weights and statistics into the module for the ``with`` block, then swap back."""
        current = [t.data for _, t in self._pairs]
        for avg, t in self._pairs:
            t.data = avg
        try:
            yield self.module
        finally:
            for (_, t), data in zip(self._pairs, current):
                t.data = data

    @no_grad()
    def copy_to(self):
        """Write the averaged weights and statistics into the module for good (for a G that will
        only draw samples from now on, as ``examples/judge_digits.py`` loads one)."""
        for avg, t in self._pairs:
            t.data[...] = avg

    def state_dict(self):
        return {"decay": self.decay, "updates": self.updates, "shadow": [a.copy() for a in self.shadow],
                "buffers": [a.copy() for a in self.shadow_buffers]}

    def load_state_dict(self, state):
        """Restore a ``state_dict()``: the averaged weights and statistics, the update count and the
        decay. Everything is checked before anything is copied, so nothing changes if the state does
        not fit. A state without "buffers" (saved before statistics were averaged) starts their
        average from the module's current statistics."""
        self._prepare_load(state)()

    def _prepare_load(self, state):
        """Check ``state`` (raising before anything changes) and return a function that copies it
        in and cannot fail: ``Trainer.load_checkpoint`` checks every part of a checkpoint first."""
        if not isinstance(state, dict) or not {"decay", "updates", "shadow"} <= set(state):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"EMA state must be a dict with 'decay', 'updates' and 'shadow', got {got}")
        shadow, updates = state["shadow"], state["updates"]
        buffers = state.get("buffers")  # None in checkpoints made before the statistics were averaged
        for what, mine, saved in (("weight", self.shadow, shadow), ("statistic", self.shadow_buffers, buffers)):
            if saved is None:
                continue
            if len(saved) != len(mine):
                raise ValueError(f"EMA state has {len(saved)} {what}s but the module has {len(mine)}")
            for i, (avg, value) in enumerate(zip(mine, saved)):
                if not hasattr(value, "dtype") or value.dtype.kind != "f":
                    raise ValueError(f"EMA {what} {i} must be a float array, got {getattr(value, 'dtype', type(value))}")
                if tuple(avg.shape) != tuple(value.shape):
                    raise ValueError(f"EMA {what} {i} has shape {tuple(value.shape)} in the state, "
                                     f"{tuple(avg.shape)} here")
        if isinstance(updates, bool) or int(updates) != updates or updates < 0:
            raise ValueError(f"EMA updates must be a whole number >= 0, got {updates!r}")
        if not 0 < state["decay"] < 1:
            raise ValueError(f"EMA decay must be in (0, 1), got {state['decay']}")

        def copy_in():
            # without saved statistics, the module's own (just loaded with its weights) stand in
            stats = buffers if buffers is not None else [b.data for b in self.buffers]
            for (avg, _), saved in zip(self._pairs, list(shadow) + list(stats)):
                avg[...] = backend.get_array_module(avg).asarray(saved)  # onto avg's device
            self.decay, self.updates = state["decay"], int(updates)
        return copy_in
