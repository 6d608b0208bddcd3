"""GAN training pieces: the objectives (``losses.py``), the gradient penalties (``penalties.py``),
one training step (``step.py``) and its guards (``guards.py``), the training loop around it
(``trainer.py``), the example's networks (``models.py``) and InfoGAN's codes, Q head and step
(``infogan.py``). The scores that judge samples are in
``minigan.metrics``.

    import minigan.gan as gan

    objective = gan.get_loss("wgan-gp")        # its losses, penalty, clipping and recipe
    g_opt = objective.make_optimizer(G.parameters())
    d_opt = objective.make_optimizer(D.parameters())
    for step, (real, labels) in enumerate(batches):
        record = gan.train_step(G, D, objective, g_opt, d_opt, real, step=step, z_dim=100)

Read ``losses.py`` first: each objective's docstring gives D's and G's formulas and what the
objective teaches; then ``step.py``, the D and G updates every run goes through; then
``penalties.py`` for double backprop (a gradient of a gradient).
"""
from .losses import (LOSSES, GANLoss, HingeLoss, LSGANLoss, MinimaxLoss, NonSaturatingLoss, WGANGPLoss,
                     WGANLoss, canonical_name, clip_weights_, get_loss)
from .penalties import GradientPenalty, R1Penalty, gradient_penalty, input_gradient, r1_penalty
from .ema import EMA
from .guards import TrainingDiverged, check_finite, check_gradients
from .step import train_step
from .infogan import Codes, InfoDiscriminator, QHead, build_info, code_prior, info_step, mutual_information_loss
from .trainer import Trainer
from . import models

__all__ = [
    "get_loss", "canonical_name", "LOSSES", "GANLoss", "MinimaxLoss", "NonSaturatingLoss", "LSGANLoss", "WGANLoss",
    "WGANGPLoss", "HingeLoss", "clip_weights_",
    "gradient_penalty", "r1_penalty", "input_gradient", "GradientPenalty", "R1Penalty",
    "train_step", "Trainer", "TrainingDiverged", "check_finite", "check_gradients", "EMA", "models",
    "Codes", "QHead", "InfoDiscriminator", "mutual_information_loss", "info_step", "build_info", "code_prior",
]
