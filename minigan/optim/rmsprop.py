"""RMSprop (Hinton, lecture notes 2012), with PyTorch's centered and momentum options."""
from .. import backend
from ..checks import check_flag, check_number
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)``.

    For each parameter θ with gradient g_t at step t (γ = lr, α = alpha, μ = momentum,
    λ = weight_decay), as PyTorch::

        g_t ← g_t + λ θ_{t−1}                        (weight decay, when λ ≠ 0)
        v_t = α v_{t−1} + (1 − α) g_t²               a running mean of the squared gradient
        d_t = √v_t + ε                               the step is scaled down by the gradient's size
        centered:  ḡ_t = α ḡ_{t−1} + (1 − α) g_t,   d_t = √(v_t − ḡ_t²) + ε   (the variance)
        θ_t = θ_{t−1} − γ g_t / d_t                  without momentum
        b_t = μ b_{t−1} + g_t / d_t,   θ_t = θ_{t−1} − γ b_t     with momentum μ > 0

    Unlike Adam there is no first moment and no bias correction (v_0 = 0, so the first steps are
    large: about γ / √(1 − α) per coordinate).

    In GANs: the original WGAN (Arjovsky et al., 2017) trains its critic with RMSprop, lr = 5e-5,
    clipping the critic's weights to [−0.01, 0.01] after every step; the authors found that
    momentum-based optimisers such as Adam made that training unstable.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        # setting=True: a bad value reads "invalid lr = -0.1; expected a number >= 0"
        check_number(where, "lr", group["lr"], low=0, setting=True)
        check_number(where, "alpha", group["alpha"], low=0, high=1, setting=True)
        check_number(where, "eps", group["eps"], low=0, setting=True)
        check_number(where, "weight_decay", group["weight_decay"], low=0, setting=True)
        check_number(where, "momentum", group["momentum"], low=0, setting=True)
        check_flag(where, "centered", group["centered"])

    def _update(self, theta, g, state, group):
        lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
        weight_decay = group["weight_decay"]
        xp = backend.get_array_module(theta)
        if not state:  # this parameter's first step: make its buffers, once
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(theta)           # v
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = xp.zeros_like(theta)             # ḡ
        if mu > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = xp.zeros_like(theta)      # b

        if weight_decay != 0:
            g = g + weight_decay * theta
        state["step"] += 1
        v = state["square_avg"]

        v *= alpha
        v += (1 - alpha) * (g * g)                 # v_t = α v_{t−1} + (1 − α) g_t²
        if group["centered"]:
            g_avg = state["grad_avg"]
            g_avg *= alpha
            g_avg += (1 - alpha) * g               # ḡ_t = α ḡ_{t−1} + (1 − α) g_t
            d = xp.sqrt(v - g_avg * g_avg) + eps   # d_t = √(v_t − ḡ_t²) + ε
        else:
            d = xp.sqrt(v) + eps                   # d_t = √v_t + ε
        if mu > 0:
            b = state["momentum_buffer"]
            b *= mu
            b += g / d                             # b_t = μ b_{t−1} + g_t / d_t
            theta -= lr * b                        # θ_t = θ_{t−1} − γ b_t
        else:
            theta -= lr * (g / d)                  # θ_t = θ_{t−1} − γ g_t / d_t
