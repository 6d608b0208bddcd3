"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, as PyTorch's ``AdamW``."""
from .adam import Adam


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)``.

    Adam's update (``adam.py``), with the weight decay taken out of the gradient. For each
    parameter θ with gradient g_t at step t (α = lr, λ = weight_decay), as PyTorch::

        θ ← θ_{t−1} − α λ θ_{t−1}                decay: θ shrinks by the factor (1 − α λ)
        m_t = β1 m_{t−1} + (1 − β1) g_t
        v_t = β2 v_{t−1} + (1 − β2) g_t²
        m̂_t = m_t / (1 − β1^t),   v̂_t = v_t / (1 − β2^t)
        θ_t = θ − α m̂_t / (√v̂_t + ε)            the Adam step, from the decayed θ

    Why decouple? ``Adam(weight_decay=λ)`` adds λ θ to g_t, so the decay passes through the
    moments and is divided by √v̂_t like the rest of the gradient: weights whose gradients are
    large are decayed less than the others. AdamW shrinks every weight by the same factor each
    step, whatever its gradient, which is what weight decay does in plain SGD; Loshchilov &
    Hutter found that models trained so generalise better. As in PyTorch, the decay is α λ, so a
    learning-rate schedule scales it too (the paper multiplies λ by the schedule's factor, not by
    α). g_t is the gradient at θ_{t−1}, computed before the step (``backward`` runs first).

    ``amsgrad=True`` divides by the largest second moment seen so far, as in ``Adam``. Every
    parameter group holds ``decoupled_weight_decay: True``, as PyTorch's AdamW groups do, so that
    an AdamW state dict is never loaded into an ``Adam`` (or the reverse) by mistake.
    """

    decoupled_weight_decay = True  # Adam._update shrinks θ instead of adding λ θ to g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
