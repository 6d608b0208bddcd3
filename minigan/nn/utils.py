"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``, as ``torch.nn.utils``; also
``spectral_norm`` and ``remove_spectral_norm`` (written in ``nn/spectral_norm.py``).

Both run between ``loss.backward()`` and ``opt.step()`` and change the parameters' ``.grad``
(hence the trailing underscore), never the parameters themselves. They give each parameter a new
gradient Tensor rather than writing into the old array, so that a gradient made with
``create_graph=True``, which is part of a graph, is never changed under that graph.

Not to be confused with the *weight* clipping of the original WGAN, which clamps the critic's
parameters after each step: ``p.data.clip(-0.01, 0.01, out=p.data)``.
"""
import math
import numbers

from .. import backend
from ..checks import check_number
from ..tensor import Tensor, zeros
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401  (re-exported)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all the gradients by one factor so that their total norm is at most ``max_norm``.

    With g the gradients of all parameters taken together as one vector::

        total = ‖g‖_p = (Σ |g_i|^p)^(1/p)          (p = norm_type; p = inf: max |g_i|)
        if total > max_norm:   g ← g · max_norm / (total + 1e-6)

    Parameters whose ``.grad`` is None are skipped; ``parameters`` may be one Tensor or an
    iterable of them. Returns ``total``, the norm *before* clipping, as a 0-d Tensor (its growth
    over training is a useful warning sign in GANs). If it is NaN or infinite the gradients are
    left as they are, or, with ``error_if_nonfinite=True``, a RuntimeError says so.
    """
    parameters = _as_list(parameters, "clip_grad_norm_")
    max_norm = float(check_number("clip_grad_norm_", "max_norm", max_norm, low=0))
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        norm_type = math.inf
    # Not check_number: "inf" may come as a string, and any bad norm_type has been a ValueError.
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real) or not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be a number > 0 or inf, got {norm_type!r}")
    norm_type = float(norm_type)

    with_grad = [p for p in parameters if p.grad is not None]
    if not with_grad:
        return zeros(())
    xp = backend.get_array_module(*[p.grad.data for p in with_grad])
    # ‖g‖_p is the p-norm of the per-parameter p-norms (for p = inf too: a max of maxima)
    norms = xp.stack([xp.linalg.norm(p.grad.data.ravel(), ord=norm_type) for p in with_grad])
    total = xp.linalg.norm(norms, ord=norm_type)
    total_value = float(total)
    if error_if_nonfinite and not math.isfinite(total_value):
        raise RuntimeError(f"clip_grad_norm_: the total {norm_type:g}-norm of the gradients is "
                           f"{total_value}; pass error_if_nonfinite=False to clip anyway")
    if math.isfinite(total_value) and total_value > max_norm:
        scale = max_norm / (total_value + 1e-6)
        for p in with_grad:
            p.grad = Tensor(p.grad.data * scale)
    return Tensor(xp.asarray(total))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient entry to [−clip_value, clip_value]; parameters whose ``.grad`` is
    None are skipped. ``parameters`` may be one Tensor or an iterable of them."""
    parameters = _as_list(parameters, "clip_grad_value_")
    clip_value = float(check_number("clip_grad_value_", "clip_value", clip_value, low=0))
    for p in parameters:
        if p.grad is not None:
            xp = backend.get_array_module(p.grad.data)
            p.grad = Tensor(xp.clip(p.grad.data, -clip_value, clip_value))


def _as_list(parameters, fn):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn} expected Tensors, got {type(p).__name__} at position {i}")
    return parameters

