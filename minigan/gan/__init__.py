"""GAN training pieces: the objectives (``losses.py``), the gradient penalties (``penalties.py``),
the training loop (``trainer.py``), the example's networks (``models.py``) and scores (``metrics.py``).

    import minigan.gan as gan

    loss = gan.get_loss("wgan-gp")
    d_loss = loss.d_loss(D(real), D(fake.detach())) + loss.penalty(D, real, fake)
    g_loss = loss.g_loss(D(fake))

Read ``losses.py`` first: each objective's docstring gives D's and G's formulas and what the
objective teaches; then ``penalties.py`` for double backprop (a gradient of a gradient).
"""
from .losses import (LOSSES, GANLoss, HingeLoss, LSGANLoss, MinimaxLoss, NonSaturatingLoss, WGANGPLoss,
                     WGANLoss, clip_weights_, get_loss)
from .penalties import GradientPenalty, R1Penalty, gradient_penalty, input_gradient, r1_penalty
from .ema import EMA
from .metrics import classifier_score, frechet_distance
from .trainer import RECIPES, Trainer, TrainingDiverged, check_finite
from . import models

__all__ = [
    "get_loss", "LOSSES", "GANLoss", "MinimaxLoss", "NonSaturatingLoss", "LSGANLoss", "WGANLoss",
    "WGANGPLoss", "HingeLoss", "clip_weights_",
    "gradient_penalty", "r1_penalty", "input_gradient", "GradientPenalty", "R1Penalty",
    "Trainer", "TrainingDiverged", "RECIPES", "check_finite", "EMA", "models",
    "classifier_score", "frechet_distance",
]
