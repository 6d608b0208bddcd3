"""``Conv2d`` and ``ConvTranspose2d`` layers (NCHW), on top of ``F.conv2d`` / ``F.conv_transpose2d``.

Output size along each spatial axis (kernel k, stride s, padding p, dilation d), as in PyTorch:

    Conv2d:           H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1
    ConvTranspose2d:  H_out = (H - 1) s - 2p + d(k - 1) + output_padding + 1

A discriminator shrinks images with strided Conv2d; a generator grows them with strided
ConvTranspose2d (k=5, s=2, p=2, output_padding=1 doubles the size: 7 -> 14 -> 28).
"""

from ..checks import check_int
from .. import functional as F
from ..ops.convolution import pair
from . import init
from .module import Module, empty_parameter


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: arguments, parameters, initialisation, repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 output_padding, weight_shape, device, dtype):
        super().__init__()
        layer = type(self).__name__
        self.in_channels = check_int(layer, "in_channels", in_channels, low=1)
        self.out_channels = check_int(layer, "out_channels", out_channels, low=1)
        self.kernel_size = pair(kernel_size, "kernel_size", layer, 1)
        self.stride = pair(stride, "stride", layer, 1)
        self.padding = pair(padding, "padding", layer)
        self.dilation = pair(dilation, "dilation", layer, 1)
        self.output_padding = pair(output_padding, "output_padding", layer)
        if groups != 1:
            raise NotImplementedError(f"{layer}: only groups=1 is supported, got groups={groups!r}")
        self.groups = 1
        self.weight = empty_parameter(weight_shape + self.kernel_size, device, dtype)
        if bias:
            self.bias = empty_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_init_(self.weight, self.bias)  # PyTorch's default (see nn/init.py)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution: input (N, in_channels, H, W) -> (N, out_channels, H_out, W_out).

    weight: (out_channels, in_channels, kh, kw), bias: (out_channels,). The arguments come in
    PyTorch's order; only ``groups=1`` is supported.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, *, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         0, (out_channels, in_channels), device, dtype)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d with respect to its input, used as an
    upsampling layer): (N, in_channels, H, W) -> (N, out_channels, H_out, W_out).

    weight: (in_channels, out_channels, kh, kw) -- note the order, as in PyTorch -- bias:
    (out_channels,). The arguments come in PyTorch's order (dilation after bias); only
    ``groups=1`` is supported. ``output_padding`` adds rows/columns on one side to pick between
    the output sizes that a strided convolution would map to the same input size.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, *, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         output_padding, (in_channels, out_channels), device, dtype)
        if any(op >= s and op >= d for op, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be smaller than "
                             f"stride {self.stride} or dilation {self.dilation}")

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.dilation)
