"""Gradient penalties: regularisers on the critic's gradient with respect to its *input*.

Both penalties below need d D(x) / d x, and then their own gradient with respect to D's weights.
That is a derivative of a derivative ("double backprop"), and it is why the input gradient is
taken with ``minigan.grad(..., create_graph=True)``: the backward pass is itself recorded, so
``penalty.backward()`` can flow through it into D's parameters.

* ``gradient_penalty`` (WGAN-GP, Gulrajani et al. 2017): keeps ||grad_x D|| near 1 on points
  between real and fake samples, a soft version of the 1-Lipschitz constraint that WGAN's
  weight clipping enforces crudely. With ``center=0`` it pushes the norm towards 0 there instead
  (the zero-centred penalty of Thanh-Tung et al. 2019): D's output then changes slowly along
  the lines from fake to real points, so G's samples feel a gradient towards the data wherever
  they are, and D cannot carve a cliff around each real point.
* ``r1_penalty`` (Mescheder et al. 2018): pushes ||grad_x D|| towards 0 on real data only, so the
  discriminator stops "overshooting" around the data and training settles.

Both use ``mean`` over the batch. ``D`` is any callable Tensor -> Tensor (a Module, a function).
A critic penalised per sample should not use batch norm: it mixes samples, so the gradient for
one sample would depend on the others. Use no normalisation (or layer norm) there.
"""
from dataclasses import dataclass

import numpy as np

from ..checks import check_number
from .. import backend
from .. import functional as F
from ..autograd import enable_grad, grad
from ..tensor import Tensor, as_tensor

#: Added under the square root of ||g||^2: sqrt's derivative 1/(2 sqrt(s)) is infinite at s = 0,
#: which would turn a sample whose input gradient is exactly 0 (all ReLUs off) into NaN. The norm
#: then reads 1e-6 instead of 0; for any norm near 1 the change is below 1e-12.
NORM_EPS = 1e-12


def gradient_penalty(D, real, fake, lambda_=10.0, eps=None, center=1.0):
    """WGAN-GP's penalty:  lambda * mean over samples of (||grad_x D(x_hat)||_2 - center)^2.

    center = 1 is WGAN-GP's; center = 0 is the zero-centred penalty, lambda * mean ||grad||^2,
    computed without the square root (whose derivative is infinite at a zero gradient).
    x_hat = eps * real + (1 - eps) * fake, with one eps ~ U(0, 1) per sample, drawn from
    minigan's seeded generator (``minigan.manual_seed``); pass ``eps`` (a number, or N values)
    to fix it. ``fake`` is detached: the penalty trains D, never G. ``real`` normally does not
    require grad, and then x_hat is a fresh leaf; if it does, the penalty is differentiable with
    respect to it as well (the gradient checks use that).

    Add the result to the critic's loss: ``d_loss = loss.d_loss(r, f) + gradient_penalty(D, x, x_fake)``.
    """
    real, fake = _batch(real, "real"), _batch(fake, "fake")
    if real.shape != fake.shape or real.dtype != fake.dtype:
        raise ValueError(f"gradient_penalty: real and fake must have the same shape and dtype to be "
                         f"interpolated, got {real.shape} {real.dtype} and {fake.shape} {fake.dtype}")
    lambda_ = _weight(lambda_, "lambda_", "gradient_penalty")
    center = _weight(center, "center", "gradient_penalty")
    eps = _interpolation_weights(eps, real)
    with enable_grad():  # the penalty is a gradient: it needs a graph even inside no_grad()
        x_hat = eps * real + (1 - eps) * fake.detach()
        if not x_hat.requires_grad:
            x_hat.requires_grad = True  # a leaf, so that we can ask for d D / d x_hat
        g = input_gradient(D, x_hat, "gradient_penalty")
        if center == 0:
            return lambda_ * squared_norms(g).mean()   # (||g|| - 0)^2 = ||g||^2: no square root needed
        norm = F.sqrt(squared_norms(g) + NORM_EPS)   # ||g||_2, one per sample
        return lambda_ * ((norm - center) ** 2).mean()


def r1_penalty(D, real, gamma=10.0):
    """R1 penalty:  gamma / 2 * mean over samples of ||grad_x D(x)||_2^2, at real samples x.

    Mescheder et al. (2018) show that this keeps GAN training from oscillating around the data:
    once D's gradient on real data is zero, G and D stop overshooting each other. Used with the
    non-saturating loss (StyleGAN takes gamma = 10). Add it to D's loss on the steps you apply it.
    """
    real = _batch(real, "real")
    gamma = _weight(gamma, "gamma", "r1_penalty")
    with enable_grad():
        x = real if real.requires_grad else Tensor(real.data, requires_grad=True)
        g = input_gradient(D, x, "r1_penalty")
        return (gamma / 2) * squared_norms(g).mean()


def input_gradient(D, x, who="input_gradient"):
    """grad_x sum(D(x)): one gradient per sample (samples do not mix in D), itself differentiable.

    Summing D's outputs is how one backward pass gives every sample its own gradient at once:
    d/dx_i sum_j D(x_j) = d D(x_i) / d x_i.
    """
    out = D(x)
    if not isinstance(out, Tensor):
        raise TypeError(f"{who}: D must return a Tensor, got {type(out).__name__}")
    g = grad(out.sum(), x, create_graph=True, allow_unused=True)[0] if out.requires_grad else None
    if g is None:
        raise ValueError(f"{who}: D's output does not depend on its input, so there is no gradient to "
                         "penalise (does D detach its input, or ignore it?)")
    return g


def squared_norms(g):
    """||g_i||^2 for each sample i: g * g summed over every axis but the batch axis."""
    return (g * g).sum(axis=tuple(range(1, g.ndim))) if g.ndim > 1 else g * g


@dataclass(frozen=True)
class GradientPenalty:
    """The WGAN-GP penalty as a setting: ``penalty(D, real, fake)`` calls ``gradient_penalty``
    (``center=0``: the zero-centred penalty)."""
    lambda_: float = 10.0
    center: float = 1.0

    def __post_init__(self):
        _weight(self.lambda_, "lambda_", "GradientPenalty")
        _weight(self.center, "center", "GradientPenalty")

    def __call__(self, D, real, fake):
        return gradient_penalty(D, real, fake, self.lambda_, center=self.center)


@dataclass(frozen=True)
class R1Penalty:
    """The R1 penalty as a setting: ``penalty(D, real, fake)`` calls ``r1_penalty`` (fake unused)."""
    gamma: float = 10.0

    def __post_init__(self):
        _weight(self.gamma, "gamma", "R1Penalty")

    def __call__(self, D, real, fake=None):
        return r1_penalty(D, real, self.gamma)


# --- argument checks -----------------------------------------------------------------------------

def _batch(x, name):
    x = as_tensor(x)
    if x.ndim == 0 or x.dtype.kind != "f":
        raise ValueError(f"{name} must be a float batch of samples, shape (N, ...), got shape {x.shape} "
                         f"and dtype {x.dtype}")
    return x


def _weight(value, name, who):
    return float(check_number(who, name, value, low=0))


def _interpolation_weights(eps, real):
    """eps as a constant Tensor shaped (N, 1, ..., 1), in real's dtype and on its device."""
    n = real.shape[0]
    if eps is None:
        eps = backend.generator(real.device).random((n,), dtype=real.dtype)
    else:
        eps = eps.data if isinstance(eps, Tensor) else eps
        eps = backend.to_device(eps if hasattr(eps, "shape") else np.asarray(eps), real.device)
        if eps.size not in (1, n):
            raise ValueError(f"gradient_penalty: eps must be one number or one per sample ({n}), got "
                             f"shape {tuple(eps.shape)}")
        eps = eps.astype(real.dtype).reshape(-1)
    return Tensor(eps.reshape((eps.size,) + (1,) * (real.ndim - 1)))
