"""Loss modules: ``BCEWithLogitsLoss``, ``BCELoss``, ``MSELoss``, ``CrossEntropyLoss``.

Each is a thin wrapper of a loss function of ``minigan.functional`` that remembers one setting,
the ``reduction``, so that PyTorch code such as ``criterion = nn.BCEWithLogitsLoss()`` then
``loss = criterion(logits, targets)`` runs unchanged. The computation, its backward rule and
its checks (shapes must match, targets must be class indices, ...) live in the function, which
``help(F.binary_cross_entropy_with_logits)`` and the others explain; these classes add nothing
to them.

``reduction`` says what is done with the per-element losses: ``'mean'`` (the default) averages
them, ``'sum'`` adds them up and ``'none'`` returns them all, shaped like the input (for
``CrossEntropyLoss``, one per sample).

Only the arguments the functions support are accepted: the per-class ``weight`` of every
PyTorch loss, BCEWithLogitsLoss's ``pos_weight``, and CrossEntropyLoss's ``ignore_index`` and
``label_smoothing`` are not there (passing one raises ``TypeError``), rather than being accepted
and ignored.
"""
from .. import functional as F
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    """What every loss module shares: the ``reduction`` argument, checked when the loss is made
    (not at its first call, where a typo would surface far from where it was written)."""

    def __init__(self, reduction="mean"):
        super().__init__()
        if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', "
                             f"got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self):
        # PyTorch prints MSELoss() whatever the reduction; showing a non-default one says more.
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(input) against targets in [0, 1], computed stably from the
    logits: the loss of a GAN discriminator that outputs logits, and of its generator.

        loss_i = -[t_i log sigmoid(x_i) + (1 - t_i) log(1 - sigmoid(x_i))] = softplus(x_i) - t_i x_i

    then reduced by ``reduction``. ``input`` (logits) and ``target`` have the same shape, any
    shape. Computed by ``F.binary_cross_entropy_with_logits``, whose docstring gives the backward
    rule (gx = gy * (sigmoid(x) - t)). PyTorch's ``weight`` and ``pos_weight`` are not supported.
    """

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities p in [0, 1] (e.g. after a Sigmoid layer) against
    targets in [0, 1]. Prefer ``BCEWithLogitsLoss`` on the logits: here a probability rounded to
    exactly 0 or 1 makes log(0), clamped to -100 as PyTorch does.

        loss_i = -[t_i log p_i + (1 - t_i) log(1 - p_i)]

    then reduced by ``reduction``. ``input`` and ``target`` have the same shape. Computed by
    ``F.binary_cross_entropy``, whose docstring gives the backward rule. PyTorch's ``weight`` is
    not supported.
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error (the least-squares GAN's loss):

        loss_i = (x_i - t_i)^2

    then reduced by ``reduction`` (so the default is mean((x - t)^2)). ``input`` and ``target``
    have the same shape; they are not broadcast. Computed by ``F.mse_loss``, whose docstring
    gives the backward rule (gx = gy * 2 (x - t) / n for the mean).
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Multi-class cross-entropy of logits (N, C) against integer class indices (N,), each in
    [0, C), as a classifier (or an auxiliary-classifier GAN's discriminator) uses:

        loss_n = -log softmax(x_n)[t_n] = logsumexp(x_n) - x_n[t_n]

    then reduced by ``reduction`` (``'none'`` gives one loss per sample, shape (N,)). Computed by
    ``F.cross_entropy``, whose docstring gives the backward rule
    (gx = gy * (softmax(x) - onehot(t))). Only (N, C) logits with class-index targets are
    supported: not PyTorch's extra dimensions (N, C, d1, ...), probability targets, ``weight``,
    ``ignore_index`` or ``label_smoothing``.
    """

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)
