"""Initialisers: fill a Parameter's values in place, as ``torch.nn.init`` does.

Why initialisation matters: each layer multiplies its input by a weight matrix. If the weights
are too large the activations (and gradients) grow layer after layer; too small and they shrink
to nothing. The recipes below pick the spread of the weights from the layer's *fan*:

* fan_in  = inputs feeding one output  = in_features, or in_channels * kh * kw for a conv;
* fan_out = outputs fed by one input   = out_features, or out_channels * kh * kw.

Xavier (Glorot) keeps the variance the same forwards and backwards: std = gain * sqrt(2 / (fan_in
+ fan_out)). Kaiming (He) keeps it the same through ReLU-like layers: std = gain / sqrt(fan).
A uniform U(-b, b) has std b / sqrt(3), so the ``_uniform_`` variants use b = sqrt(3) * std.

Every function here writes into ``tensor.data`` in place, keeps its dtype (a float32 Parameter
stays float32), returns the tensor, and draws from ``minigan.backend.generator(device)``, so
``minigan.manual_seed`` makes every initialisation repeat exactly.
"""
import math

import numpy as np

from .. import backend
from ..tensor import Tensor


def _check(tensor, fn, float_only=True):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn} expects a Tensor or Parameter, got {type(tensor).__name__}")
    if float_only and tensor.dtype.kind != "f":
        raise TypeError(f"{fn} fills float tensors, got dtype {tensor.dtype}")


def _draw(tensor, kind):
    """Standard-normal or U[0, 1) samples shaped and typed like ``tensor``, on its device."""
    rng = backend.generator(tensor.device)
    dtype = tensor.dtype if tensor.dtype in (np.float32, np.float64) else np.float64
    sample = rng.standard_normal if kind == "normal" else rng.random
    return sample(tensor.shape, dtype=dtype)


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of U(a, b)."""
    _check(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    u = _draw(tensor, "uniform")
    u *= b - a
    u += a
    tensor._write(u)
    return tensor


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std^2)."""
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    z = _draw(tensor, "normal")
    z *= std
    z += mean
    tensor._write(z)
    return tensor


def constant_(tensor, val):
    """Fill with the number ``val``."""
    _check(tensor, "constant_", float_only=False)
    tensor._write(val)
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel): in * prod(kernel), out * prod(kernel).

    As in PyTorch this reads axis 1 as "in" and axis 0 as "out" whatever the layer, so for a
    ConvTranspose2d weight (in_channels, out_channels, kh, kw) fan_in is out_channels * kh * kw.
    """
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 axes, got shape {tensor.shape}")
    receptive_field = 1
    for k in tensor.shape[2:]:
        receptive_field *= k
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def calculate_gain(nonlinearity, param=None):
    """The factor that makes up for how much an activation shrinks the variance of its input:
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for
    leaky_relu (slope ``param``, default 0.01), 3/4 for selu."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(linear + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0):
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He uniform: U(-b, b) with b = sqrt(3) * gain / sqrt(fan), gain = calculate_gain(nonlinearity, a).

    PyTorch's Linear and Conv layers use a = sqrt(5), which gives b = 1 / sqrt(fan_in).
    """
    _check(tensor, "kaiming_uniform_")
    if tensor.size == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    _check(tensor, "kaiming_normal_")
    if tensor.size == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


def dcgan_init_(module):
    """The DCGAN paper's initialisation, for every layer inside ``module``; returns it.

    Linear, Conv2d and ConvTranspose2d weights ~ N(0, 0.02), their biases 0; batch norm
    weights ~ N(1, 0.02), biases 0. (The paper gives only the N(0, 0.02) weights; zero biases
    are the usual choice.) The same as PyTorch's tutorial ``model.apply(weights_init)``.
    """
    for m in module.modules():
        # Layers are recognised by the names of their classes and base classes, as PyTorch's
        # tutorial does: this file cannot import the layers, because they import it.
        kinds = {cls.__name__ for cls in type(m).__mro__}
        if kinds & {"Linear", "Conv2d", "ConvTranspose2d"}:
            # under spectral_norm the learned weight is weight_orig (m.weight is recomputed from it)
            normal_(getattr(m, "weight_orig", m.weight), 0.0, 0.02)
            if m.bias is not None:
                zeros_(m.bias)
        elif "_BatchNorm" in kinds and m.weight is not None:
            normal_(m.weight, 1.0, 0.02)
            zeros_(m.bias)
    return module


def default_init_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: weight and bias ~ U(-1/sqrt(fan_in),
    1/sqrt(fan_in)), the weight's written as kaiming_uniform_ with a = sqrt(5). fan_in is
    weight.shape[1] * (kernel area), so for ConvTranspose2d it counts output channels."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in)
        uniform_(bias, -bound, bound)
    return weight
