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
        shadow = state["shadow"]
        if len(shadow) != len(self.shadow):
            raise ValueError(f"EMA state has {len(shadow)} weights but the module has {len(self.shadow)}")
        for avg, saved in zip(self.shadow, shadow):
            if tuple(avg.shape) != tuple(saved.shape):
                raise ValueError(f"EMA state shape {tuple(saved.shape)} does not match weight {tuple(avg.shape)}")
            avg[...] = backend.get_array_module(avg).asarray(saved)  # onto avg's device
        self.decay, self.updates = state["decay"], state["updates"]
