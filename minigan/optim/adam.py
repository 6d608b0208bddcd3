"""Adam (Kingma & Ba, 2015), with PyTorch's weight decay and AMSGrad options; ``adamw.py`` is
Adam with decoupled weight decay."""
import math

from .. import backend
from ..checks import check_flag, check_number
from .optimizer import Optimizer


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)``.

    Algorithm 1 of Kingma & Ba (2015), for each parameter θ with gradient g_t at step t
    (α = lr, β1, β2 = betas, ε = eps)::

        m_t = β1 m_{t−1} + (1 − β1) g_t          first moment: a running mean of the gradient
        v_t = β2 v_{t−1} + (1 − β2) g_t²         second moment: a running mean of its square
        m̂_t = m_t / (1 − β1^t)                   bias correction: m_0 = v_0 = 0 pulls the early
        v̂_t = v_t / (1 − β2^t)                   averages towards zero; this undoes it
        θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε)

    so every coordinate moves by about α, whatever the scale of its gradient.

    ``weight_decay`` = λ adds λ θ_{t−1} to g_t first (an L2 penalty, as PyTorch's ``Adam``; this is
    not ``AdamW``'s decoupled decay, which shrinks θ itself: see ``adamw.py``). ``amsgrad=True``
    (Reddi et al., 2018) divides by the largest second moment seen so far instead, as PyTorch does::

        v_max = max(v_max, v_t),   v̂_t = v_max / (1 − β2^t)

    In GANs: DCGAN (Radford et al., 2016) trains both networks with lr = 2e-4 and betas = (0.5, 0.999)
    (the paper found that β1 = 0.9 made training oscillate); WGAN-GP (Gulrajani et al., 2017)
    uses lr = 1e-4 and betas = (0, 0.9).
    """

    decoupled_weight_decay = False  # AdamW sets it: shrink θ instead of adding λθ to the gradient

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        if self.decoupled_weight_decay:
            # AdamW's groups say so, as PyTorch's do: Adam and AdamW keep the same buffers, and this
            # entry is how load_state_dict tells their state dicts apart (see _check_group).
            defaults["decoupled_weight_decay"] = True
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        # setting=True: a bad value reads "invalid lr = -0.1; expected a number >= 0"
        check_number(where, "lr", group["lr"], low=0, setting=True)
        betas = group["betas"]
        if not isinstance(betas, tuple) or len(betas) != 2:
            raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got {betas!r:.60}")
        check_number(where, "beta1 (betas[0])", betas[0], low=0, high=1, high_open=True, setting=True)
        check_number(where, "beta2 (betas[1])", betas[1], low=0, high=1, high_open=True, setting=True)
        check_number(where, "eps", group["eps"], low=0, setting=True)
        check_number(where, "weight_decay", group["weight_decay"], low=0, setting=True)
        check_flag(where, "amsgrad", group["amsgrad"])
        decoupled = check_flag(where, "decoupled_weight_decay", group.get("decoupled_weight_decay", False))
        if decoupled != self.decoupled_weight_decay:  # AdamW's state in an Adam, or an Adam group in an AdamW
            owner = "AdamW" if decoupled else "Adam"
            raise ValueError(f"{where}: decoupled_weight_decay = {decoupled!r} makes this a group of "
                             f"{owner}, not of {type(self).__name__} (the two decay the weights "
                             f"differently); give it to {owner}")

    def _update(self, theta, g, state, group):
        alpha, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        xp = backend.get_array_module(theta)
        if not state:  # this parameter's first step: make its moments, once
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(theta)         # m
            state["exp_avg_sq"] = xp.zeros_like(theta)      # v
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros_like(theta)  # the largest v so far

        if weight_decay != 0 and self.decoupled_weight_decay:
            theta *= 1 - alpha * weight_decay  # θ ← θ − α λ θ   (AdamW: θ shrinks, apart from g)
        elif weight_decay != 0:
            g = g + weight_decay * theta       # g_t ← g_t + λ θ  (Adam: the gradient of (λ/2)·|θ|²)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]

        # The equations of the class docstring, one per line on the right. Written plainly they
        # would make seven temporary arrays the size of θ each step; here every step goes into one
        # scratch array (out=, and in-place operators): a step over 1.7M weights, 4.8 -> 3.4 ms.
        scratch = xp.multiply(g, 1 - beta1)    # (1 − β1) g_t
        m *= beta1
        m += scratch                           # m_t = β1 m_{t−1} + (1 − β1) g_t
        xp.multiply(g, g, out=scratch)
        scratch *= 1 - beta2                   # (1 − β2) g_t²
        v *= beta2
        v += scratch                           # v_t = β2 v_{t−1} + (1 − β2) g_t²
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        # θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε), with m̂_t = m_t / (1 − β1^t) and v̂_t = v_t / (1 − β2^t).
        # The two corrections are numbers, so they are applied to numbers where they can be (as
        # PyTorch does): θ_t = θ_{t−1} − (α / (1 − β1^t)) m_t / (√v_t / √(1 − β2^t) + ε).
        xp.sqrt(v, out=scratch)
        scratch /= math.sqrt(1 - beta2 ** t)   # √v̂_t
        scratch += eps                         # √v̂_t + ε
        xp.divide(m, scratch, out=scratch)     # m_t / (√v̂_t + ε)
        scratch *= alpha / (1 - beta1 ** t)    # α m̂_t / (√v̂_t + ε)
        theta -= scratch
