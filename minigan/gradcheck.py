"""Numerical gradient checks: is each op's backward rule really the derivative of its forward?

``gradcheck(fn, inputs)`` compares two ways of computing the same numbers, in float64:

* analytic: backpropagate an upstream gradient ``v`` through ``fn``, giving v^T J for each
  input (J is the Jacobian of fn's output with respect to that input);
* numerical: the same quantity as a central difference of the scalar L(x) = sum(v * fn(x)):
  dL/dx_j ~ (L(x + eps e_j) - L(x - eps e_j)) / (2 eps).

Why ``v`` is random: with v = all ones (as DeZero's checker uses), a backward that forgets to
multiply by the upstream gradient still gives the right answer, so the bug hides. A random v
exposes it. ``tests/test_gradcheck.py`` plants exactly that bug and shows the check catch it.

Modes: ``"full"`` perturbs every element (2 forward passes per element, exact location of any
error); ``"fast"`` perturbs along one random unit direction u and compares the directional
derivative with sum(grad * u) (2 forward passes per input, as Chainer and PyTorch's fast mode
do); ``"auto"`` uses full mode for inputs of at most ``FULL_MODE_LIMIT`` elements.

``gradgradcheck`` checks second derivatives by running ``gradcheck`` on the function
(inputs, v) -> grad(fn(inputs), inputs, v, create_graph=True).
"""
import numpy as np

from . import backend
from .autograd import grad
from .tensor import Tensor

FULL_MODE_LIMIT = 1000


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the numerical one."""


def _as_list(outputs):
    return [outputs] if isinstance(outputs, Tensor) else list(outputs)


def _label(i, t):
    return f"input {i}" + (f" ({t.name})" if t.name else "") + f" of shape {t.shape}"


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, mode="auto", seed=0):
    """Check the first derivatives of ``fn`` at ``inputs``; return True or raise GradcheckError.

    ``inputs``: a Tensor or a sequence of them (other values are passed through unchecked);
    every float64 Tensor with ``requires_grad=True`` is checked. ``fn`` must be deterministic
    and return a Tensor or a tuple of Tensors. A check passes where
    |analytic - numerical| <= atol + rtol * |numerical| for every element (or direction).
    """
    if mode not in ("auto", "full", "fast"):
        raise ValueError(f"gradcheck: mode must be 'auto', 'full' or 'fast', got {mode!r}")
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i, t in checked:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck: {_label(i, t)} is {t.dtype}; finite differences need float64 "
                            "(float32 rounding swamps them): pass .double() inputs")
    rng = np.random.default_rng(seed)

    all_outputs = _as_list(fn(*inputs))
    keep = [k for k, y in enumerate(all_outputs) if y.requires_grad]  # the others have no gradient
    outputs = [all_outputs[k] for k in keep]
    if not outputs:
        raise ValueError("gradcheck: no output of fn depends on an input that requires grad")
    xp = backend.get_array_module(outputs[0].data)
    upstream = [Tensor(xp.asarray(rng.uniform(-1, 1, y.shape))) for y in outputs]
    analytic = grad(outputs, [t for _, t in checked], grad_outputs=upstream, allow_unused=True)

    def L():
        """sum over outputs of <v, fn(inputs)>: the scalar whose gradient backward computes."""
        ys = _as_list(fn(*inputs))  # in grad mode: fn may take gradients itself (a penalty does)
        return sum(float((v.data * ys[k].data).sum()) for v, k in zip(upstream, keep))

    for (i, t), g in zip(checked, analytic):
        g = xp.zeros_like(t.data) if g is None else g.data
        use_full = mode == "full" or (mode == "auto" and t.size <= FULL_MODE_LIMIT)
        if use_full:
            _check_elements(L, i, t, g, eps, atol, rtol)
        else:
            _check_direction(L, i, t, g, eps, atol, rtol, rng)
    return True


def _check_elements(L, i, t, g, eps, atol, rtol):
    """Central difference for every element of ``t``; report the worst one."""
    numeric = np.empty(t.size)
    for j in range(t.size):
        at = np.unravel_index(j, t.shape)  # works for any strides, so t.data is perturbed in place
        original = t.data[at].item()
        t.data[at] = original + eps
        plus = L()
        t.data[at] = original - eps
        minus = L()
        t.data[at] = original
        numeric[j] = (plus - minus) / (2 * eps)
    analytic = backend.as_numpy(g).reshape(-1).astype(np.float64)
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    bad = ~(excess <= 0)  # NaN (from a NaN gradient or value) counts as a failure
    if bad.any():
        worst = int(np.argmax(np.where(bad, np.nan_to_num(excess, nan=np.inf), -np.inf)))
        index = tuple(int(k) for k in np.unravel_index(worst, t.shape))
        a, n = analytic[worst], numeric[worst]
        raise GradcheckError(
            f"gradcheck failed for {_label(i, t)}: worst element at index {index}: analytic gradient "
            f"{a:.8g}, numerical {n:.8g}, difference {abs(a - n):.3g} > tolerance "
            f"atol + rtol*|numerical| = {atol + rtol * abs(n):.3g}")


def _check_direction(L, i, t, g, eps, atol, rtol, rng):
    """Central difference along one random unit direction; on failure, locate the worst element."""
    xp = backend.get_array_module(t.data)
    u = rng.standard_normal(t.shape)
    u /= np.linalg.norm(u)
    u = xp.asarray(u)
    original = t.data.copy()
    try:
        t.data += eps * u
        plus = L()
        t.data[...] = original - eps * u
        minus = L()
    finally:
        t.data[...] = original
    numeric = (plus - minus) / (2 * eps)
    analytic = float((g * u).sum())
    if abs(analytic - numeric) <= atol + rtol * abs(numeric):  # False for NaN, as it should be
        return
    if t.size <= 50 * FULL_MODE_LIMIT:  # affordable: find which element is wrong
        _check_elements(L, i, t, g, eps, atol, rtol)
    raise GradcheckError(
        f"gradcheck failed for {_label(i, t)} along a random direction u: analytic sum(grad * u) = "
        f"{analytic:.8g}, numerical {numeric:.8g}, difference {abs(analytic - numeric):.3g} > tolerance "
        f"{atol + rtol * abs(numeric):.3g}; run with mode='full' to locate the worst element")


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, mode="auto", seed=0):
    """Check the second derivatives of ``fn``: gradcheck of (inputs, v) -> v^T J(inputs).

    The first-order gradient is built with ``create_graph=True`` and is checked as a function of
    both the inputs and the upstream gradient v (as PyTorch's gradgradcheck does). Errors name
    the inputs of that function: fn's own inputs first, then ``grad_output[k]``.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    wanted = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wanted:
        raise ValueError("gradgradcheck: no input has requires_grad=True, so there is nothing to check")
    outputs = [y for y in _as_list(fn(*inputs)) if y.requires_grad]
    if not outputs:
        raise ValueError("gradgradcheck: no output of fn depends on an input that requires grad")
    rng = np.random.default_rng(seed + 1)
    xp = backend.get_array_module(outputs[0].data)
    upstream = []
    for k, y in enumerate(outputs):
        v = Tensor(xp.asarray(rng.uniform(-1, 1, y.shape)), requires_grad=True)
        v.name = f"grad_output[{k}]"
        upstream.append(v)
    n = len(inputs)

    def first_derivative(*args):
        xs, vs = list(args[:n]), list(args[n:])
        ys = [y for y in _as_list(fn(*xs)) if y.requires_grad]
        gs = grad(ys, [xs[k] for k in wanted], grad_outputs=vs, create_graph=True, allow_unused=True)
        return tuple(Tensor(xp.zeros_like(xs[k].data)) if g is None else g for k, g in zip(wanted, gs))

    return gradcheck(first_derivative, inputs + upstream, eps=eps, atol=atol, rtol=rtol, mode=mode,
                     seed=seed)
