"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""
from ..checks import check_flag, check_number
from .optimizer import Optimizer, required


class SGD(Optimizer):
    """``SGD(params, lr, momentum=0, dampening=0, nesterov=False, weight_decay=0)``, as PyTorch.

    For each parameter θ with gradient g, at step t (γ = lr, μ = momentum, τ = dampening,
    λ = weight_decay)::

        g   ← g + λ θ                       (weight decay: the gradient of (λ/2)·|θ|²)
        b_t = g                             at t = 1            (momentum buffer, when μ ≠ 0)
        b_t = μ b_{t−1} + (1 − τ) g         after
        g   ← g + μ b_t  (Nesterov)   or   g ← b_t  (classical momentum)
        θ   ← θ − γ g

    With μ = 0 this is plain gradient descent, θ ← θ − γ g. GANs rarely use SGD: the adversarial
    game tends to oscillate without the per-coordinate step sizes of Adam or RMSprop, but plain
    SGD is the baseline every other rule is compared with.
    """

    def __init__(self, params, lr=required, momentum=0, dampening=0, nesterov=False, weight_decay=0):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        # setting=True: a bad value reads "invalid lr = -0.1; expected a number >= 0"
        check_number(where, "lr", group["lr"], low=0, setting=True)
        check_number(where, "momentum", group["momentum"], low=0, setting=True)
        check_number(where, "dampening", group["dampening"], low=float("-inf"), setting=True)  # any but NaN
        check_number(where, "weight_decay", group["weight_decay"], low=0, setting=True)
        check_flag(where, "nesterov", group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{where}: Nesterov momentum needs momentum > 0 and dampening = 0, got "
                             f"momentum = {group['momentum']!r} and dampening = {group['dampening']!r}")

    def _update(self, theta, g, state, group):
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        weight_decay = group["weight_decay"]

        if weight_decay != 0:
            g = g + weight_decay * theta
        if mu != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()      # b_1 = g  (a copy: updated in place later)
            else:
                b *= mu
                b += (1 - tau) * g                           # b_t = μ b_{t−1} + (1 − τ) g
            g = g + mu * b if group["nesterov"] else b
        theta -= lr * g                                      # θ ← θ − γ g
