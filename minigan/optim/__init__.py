"""Optimisers: they change the parameters, in place, using the gradients that ``backward`` left.

    opt = minigan.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for x in batches:
        opt.zero_grad()          # gradients accumulate: clear them first
        loss = ...
        loss.backward()          # fills p.grad for every parameter p
        opt.step()               # p.data ← the update rule of the optimiser

Read ``optimizer.py`` (parameter groups, state, saving) first, then one rule per file:
``sgd.py``, ``adam.py``, ``adamw.py`` (Adam with decoupled weight decay), ``rmsprop.py``. Each
class docstring gives its equations.
"""
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop"]
