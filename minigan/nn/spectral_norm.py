"""Spectral normalisation (Miyato et al. 2018): keep a layer's weight at spectral norm 1.

A discriminator whose every layer has spectral norm (largest singular value) at most 1, with
1-Lipschitz activations such as leaky-ReLU between them, is itself 1-Lipschitz: it cannot change
its output faster than its input changes. That tames the gradients G receives, which is what
WGAN's weight clipping and gradient penalty also aim at, at the cost of one matrix-vector product
per layer per step. ``spectral_norm(layer)`` makes the layer use

    weight = weight_orig / σ,     σ = uᵀ W v  ≈  the largest singular value of W,

where W is ``weight_orig`` viewed as a matrix (out, in·kh·kw) and u, v are estimates of its top
singular vectors. In training mode each forward pass first improves them by power iteration,

    v ← Wᵀu / ‖Wᵀu‖,    u ← W v / ‖W v‖        (``n_power_iterations`` times, without a graph),

so the estimate follows W as it is trained. Backward treats u and v as constants:

    σ = Σ W ⊙ (u vᵀ),     dσ/dW = u vᵀ,     d weight = g / σ − (Σ g ⊙ W) / σ² · u vᵀ

(g the upstream gradient). These are built from minigan ops, so second derivatives (a gradient
penalty on a spectrally normalised critic) come for free. At convergence u vᵀ is exactly the
derivative of the top singular value, so treating u, v as constants loses nothing there.

As in PyTorch: the learned Parameter is renamed ``weight_orig``; u and v are buffers
``weight_u`` and ``weight_v`` (saved in the state dict, not learned); ``weight`` becomes a plain
Tensor recomputed before every forward by a forward pre-hook; in eval mode no power iteration runs.
"""
from .. import backend
from .. import functional as F
from ..autograd import no_grad
from ..checks import check_int
from ..tensor import Tensor, randn
from .conv import ConvTranspose2d
from .module import Module, Parameter


def _normalize(a, eps):
    xp = backend.get_array_module(a)
    return a / max(float(xp.linalg.norm(a)), eps)


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``, u and v."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def as_matrix(self, w):
        """The weight array as a matrix: axis ``dim`` becomes the rows, the rest is flattened."""
        xp = backend.get_array_module(w)
        moved = xp.moveaxis(w, self.dim, 0)
        return moved.reshape(moved.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        w = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        if do_power_iteration:  # on raw arrays: no graph, u and v are constants to backward
            w_mat = self.as_matrix(w.data)
            for _ in range(self.n_power_iterations):
                v._write(_normalize(w_mat.T @ u.data, self.eps))
                u._write(_normalize(w_mat @ v.data, self.eps))
        # u vᵀ shaped like W; a new array, so that the next power iteration (which writes into
        # the buffers) cannot change a constant that this step's graph still holds
        xp = backend.get_array_module(w.data)
        moved_shape = xp.moveaxis(w.data, self.dim, 0).shape
        uv = xp.moveaxis(xp.outer(u.data, v.data).reshape(moved_shape), 0, self.dim)
        sigma = F.sum(w * Tensor(uv))
        return w / sigma

    def __call__(self, module, args):
        object.__setattr__(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Apply spectral normalisation to the Parameter ``name`` of ``module``; returns the module.

    ``dim`` is the output axis of the weight: 0 for Linear and Conv2d, 1 for ConvTranspose2d,
    whose weight is (in, out, kh, kw) (the default picks it). ``D = nn.Sequential(
    spectral_norm(nn.Linear(784, 256)), nn.LeakyReLU(0.2), ...)`` is how an SNGAN critic is built.
    """
    if not isinstance(module, Module):
        raise TypeError(f"spectral_norm expects a Module, got {type(module).__name__}")
    layer = type(module).__name__
    if any(isinstance(h, SpectralNorm) and h.name == name for h in module._forward_pre_hooks.values()):
        raise RuntimeError(f"spectral_norm was already applied to {layer}.{name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm: {layer} has no Parameter named {name!r} "
                         f"(its Parameters: {sorted(n for n, p in module._parameters.items() if p is not None)})")
    n_power_iterations = check_int("spectral_norm", "n_power_iterations", n_power_iterations, low=1)
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    if not -weight.ndim <= dim < weight.ndim:
        raise ValueError(f"spectral_norm: dim {dim} is out of range for {layer}.{name} of shape {weight.shape}")
    fn = SpectralNorm(name, n_power_iterations, dim % weight.ndim, eps)

    h, w = fn.as_matrix(weight.data).shape
    device, dtype = backend.device_of(weight.data), weight.dtype
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)  # the same object: an optimiser holding it still works
    module.register_buffer(name + "_u", Tensor(_normalize(randn(h, device=device, dtype=dtype).data, eps)))
    module.register_buffer(name + "_v", Tensor(_normalize(randn(w, device=device, dtype=dtype).data, eps)))
    object.__setattr__(module, name, fn.compute_weight(module, do_power_iteration=False).detach())
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``name`` becomes an ordinary Parameter again, holding the current
    normalised weight (weight_orig / σ with the stored u, v). Returns the module."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            with no_grad():
                weight = hook.compute_weight(module, do_power_iteration=False)
            del module._forward_pre_hooks[key]
            for suffix in ("_orig", "_u", "_v"):
                delattr(module, name + suffix)
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight.data))
            return module
    raise ValueError(f"spectral_norm was not applied to {type(module).__name__}.{name}")
