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

``lr_scheduler.py`` (``minigan.optim.lr_scheduler``) changes the learning rates as training goes
on: ``StepLR``, ``ExponentialLR``, ``LambdaLR`` and ``CosineAnnealingLR``, stepped once per epoch::

    scheduler = minigan.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for epoch in range(epochs):
        ...                      # the epoch's opt.step() calls
        scheduler.step()         # group["lr"] ← the next epoch's rate
"""
from . import lr_scheduler
from .adam import Adam
from .adamw import AdamW
from .lr_scheduler import CosineAnnealingLR, ExponentialLR, LambdaLR, LRScheduler, StepLR
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler", "LRScheduler", "StepLR",
           "ExponentialLR", "LambdaLR", "CosineAnnealingLR"]
