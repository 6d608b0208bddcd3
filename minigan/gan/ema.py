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
        self.updates = 0

    @no_grad()
    def update(self):
        """Move each averaged weight a step (1 - decay) towards the current weight, in place."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for avg, p in zip(self.shadow, self.params):
            avg *= d
            avg += (1 - d) * p.data

    @contextlib.contextmanager
    def applied(self):
        """Swap the averaged weights into the module for the ``with`` block, then swap back."""
        current = [p.data for p in self.params]
        for p, avg in zip(self.params, self.shadow):
            p.data = avg
        try:
            yield self.module
        finally:
            for p, data in zip(self.params, current):
                p.data = data

    def state_dict(self):
        return {"decay": self.decay, "updates": self.updates, "shadow": [a.copy() for a in self.shadow]}

    def load_state_dict(self, state):
        """Restore a ``state_dict()``: the averaged weights, the update count and the decay. Every
        weight is checked before any is copied, so nothing changes if the state does not fit."""
        self._prepare_load(state)()

    def _prepare_load(self, state):
        """Check ``state`` (raising before anything changes) and return a function that copies it
        in and cannot fail: ``Trainer.load_checkpoint`` checks every part of a checkpoint first."""
        if not isinstance(state, dict) or not {"decay", "updates", "shadow"} <= set(state):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"EMA state must be a dict with 'decay', 'updates' and 'shadow', got {got}")
        shadow, updates = state["shadow"], state["updates"]
        if len(shadow) != len(self.shadow):
            raise ValueError(f"EMA state has {len(shadow)} weights but the module has {len(self.shadow)}")
        for i, (avg, saved) in enumerate(zip(self.shadow, shadow)):
            if not hasattr(saved, "dtype") or saved.dtype.kind != "f":
                raise ValueError(f"EMA weight {i} must be a float array, got {getattr(saved, 'dtype', type(saved))}")
            if tuple(avg.shape) != tuple(saved.shape):
                raise ValueError(f"EMA weight {i} has shape {tuple(saved.shape)} in the state, "
                                 f"{tuple(avg.shape)} here")
        if isinstance(updates, bool) or int(updates) != updates or updates < 0:
            raise ValueError(f"EMA updates must be a whole number >= 0, got {updates!r}")
        if not 0 < state["decay"] < 1:
            raise ValueError(f"EMA decay must be in (0, 1), got {state['decay']}")

        def copy_in():
            for avg, saved in zip(self.shadow, shadow):
                avg[...] = backend.get_array_module(avg).asarray(saved)  # onto avg's device
            self.decay, self.updates = state["decay"], int(updates)
        return copy_in
