"""2-D convolution and transposed convolution (NCHW), via im2col and one matrix product.

Output sizes (the same as PyTorch's), for each spatial axis with kernel k, stride s, padding p,
dilation d and, for the transposed convolution, output_padding op:

    conv2d:            H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1
    conv_transpose2d:  H_out = (H - 1) s - 2p + d(k - 1) + op + 1

im2col: each output pixel of a convolution sees one k x k window of the (padded) input. Laying
every window out as a column turns the convolution into one matrix product:

    input (C, H, W), k = 2, s = 1          columns: one per output pixel
    +----+----+----+                        (0,0) (0,1) (1,0) (1,1)
    | a  | b  | c  |                          a     b     d     e
    +----+----+----+      im2col  -->         b     c     e     f
    | d  | e  | f  |                          d     e     g     h
    +----+----+----+                          e     f     h     i
    | g  | h  | i  |
    +----+----+----+                       y = W.reshape(O, C*k*k) @ columns

The windows are read through a strided *view* of the input (no Python loop), copied once into
the column matrix. col2im, the reverse, adds each column back to the pixels it came from; it is
a loop over the k*k kernel offsets, each one a strided slice of the whole batch.

Three ops, whose backward rules are each other, so every second derivative exists:

    Conv2dOp(x, W):              gx = conv_transpose2d(gy, W),   gW = Conv2dGradWeightOp(x, gy)
    ConvTranspose2dOp(x, W):     gx = conv2d(gy, W),             gW = Conv2dGradWeightOp(gy, x)
    Conv2dGradWeightOp(x, gy):   gx = conv_transpose2d(gy, ggW), ggy = conv2d(x, ggW)

(DeZero's weight-gradient op uses its own output instead of the upstream gradient in its
backward, so second derivatives through conv weights fail there; ours are gradgradchecked.)
"""
from .. import backend
from ..autograd import Function
from ..tensor import as_tensor
from .shaping import getitem


def pair(value, name, where, minimum=0):
    """``(value, value)`` for an int, ``tuple(value)`` for a pair of ints: the (height, width)
    form of a kernel size, stride, padding or dilation. Raises ValueError, naming ``where`` and
    ``name``, unless both are ints >= ``minimum`` (1 for kernel sizes, strides and dilations).
    The layers in nn/conv.py check their arguments with this same function."""
    both = (value, value) if isinstance(value, int) else value
    if (not isinstance(both, (tuple, list)) or len(both) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in both)):
        raise ValueError(f"{where}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return tuple(both)


def conv_output_size(size, k, s, p, d):
    """H_out of conv2d for one axis (see the module docstring)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_output_size(size, k, s, p, d, op):
    """H_out of conv_transpose2d for one axis (see the module docstring)."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def _columns(x, kernel, out_hw, stride, padding, dilation):
    """im2col: the (C*kh*kw, N*OH*OW) matrix whose column for output pixel (n, oh, ow) holds the
    kh x kw window of every channel of the zero-padded x that this pixel sees.

    The windows are first read through a strided *view* of shape (C, kh, kw, N, OH, OW), made
    without copying; the reshape then copies them once. That axis order keeps the copy's inner
    loop running along image rows, which is what makes it fast.
    """
    xp = backend.get_array_module(x)
    (kh, kw), (oh, ow), (sh, sw), (ph, pw), (dh, dw) = kernel, out_hw, stride, padding, dilation
    if ph or pw:  # zero padding by hand: xp.pad is general and several times slower
        n, c, h, w = x.shape
        padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
        padded[:, :, ph:ph + h, pw:pw + w] = x
        x = padded
    n, c = x.shape[:2]
    sN, sC, sH, sW = x.strides
    windows = xp.lib.stride_tricks.as_strided(
        x, shape=(c, kh, kw, n, oh, ow), strides=(sC, sH * dh, sW * dw, sN, sH * sh, sW * sw))
    return windows.reshape(c * kh * kw, n * oh * ow)


def _col2im(cols, out_hw, stride, padding, dilation):
    """The reverse of im2col: cols of shape (kh, kw, C, N, H, W) are added back onto an image
    (N, C, *out_hw). Value (i, j, c, n, h, w) belongs to padded pixel (n, c, h*s + i*d, w*s + j*d).

    A loop over the kh*kw kernel offsets adds one whole block cols[i, j] at a time, at a strided
    slice of the image. The image is built channel-first, (C, N, H, W), so that each block is
    contiguous, and turned into NCHW once at the end.
    """
    xp = backend.get_array_module(cols)
    kh, kw, c, n, h, w = cols.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh, ow = out_hw
    # room for every window, even ones that reach past the padded image (they are cropped off)
    full_h = max(oh + 2 * ph, (h - 1) * sh + (kh - 1) * dh + 1)
    full_w = max(ow + 2 * pw, (w - 1) * sw + (kw - 1) * dw + 1)
    img = xp.zeros((c, n, full_h, full_w), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            img[:, :, i * dh:i * dh + (h - 1) * sh + 1:sh,
                j * dw:j * dw + (w - 1) * sw + 1:sw] += cols[i, j]
    return xp.ascontiguousarray(img[:, :, ph:ph + oh, pw:pw + ow].transpose(1, 0, 2, 3))


def _channels_first(a):
    """(N, C, H, W) -> the (C, N*H*W) matrix: one row per channel."""
    n, c, h, w = a.shape
    return a.transpose(1, 0, 2, 3).reshape(c, n * h * w)


class Conv2dOp(Function):
    """The graph node of ``conv2d`` (just below, with the formula and the backward rule)."""

    def __init__(self, stride, padding, dilation):
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, W, b=None):
        xp = backend.get_array_module(x, W)
        n, c, h, w = x.shape
        o, _, kh, kw = W.shape
        oh, ow = (conv_output_size(size, k, s, p, d) for size, k, s, p, d in
                  zip((h, w), (kh, kw), self.stride, self.padding, self.dilation))
        cols = _columns(x, (kh, kw), (oh, ow), self.stride, self.padding, self.dilation)
        self.cols = cols  # kept for the weight gradient, which needs the same columns
        y = W.reshape(o, c * kh * kw) @ cols             # (O, N*OH*OW): the one matrix product
        if b is not None:
            y += b.reshape(o, 1)
        return xp.ascontiguousarray(y.reshape(o, n, oh, ow).transpose(1, 0, 2, 3))

    def backward(self, gy):
        x, W = self.inputs[:2]
        need = self.needs_input_grad
        s, p, d = self.stride, self.padding, self.dilation
        gx = gW = gb = None
        if need[0]:
            op = tuple(size - conv_transpose_output_size(g, k, s_, p_, d_, 0) for size, g, k, s_, p_, d_ in
                       zip(x.shape[2:], gy.shape[2:], W.shape[2:], s, p, d))
            gx = ConvTranspose2dOp(s, p, op, d)(gy, W)
        if need[1]:
            gW = Conv2dGradWeightOp(W.shape[2:], s, p, d, cols=self.cols)(x, gy)
        if len(self.inputs) == 3 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, gb)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution (cross-correlation) of x (N, C, H, W) with weight (O, C, kh, kw), as im2col
    and one matrix product.

    y[n, o] = sum_c W[o, c] (*) x[n, c] + b[o];
    backward: gx = conv_transpose2d(gy, W), gW = Conv2dGradWeightOp(x, gy), gb = gy summed over (N, H, W)
    """
    x, weight = as_tensor(x), as_tensor(weight)
    _check_conv_args(x, weight, "conv2d", transposed=False)
    s, d = pair(stride, "stride", "conv2d", 1), pair(dilation, "dilation", "conv2d", 1)
    p = pair(padding, "padding", "conv2d")
    out = [conv_output_size(n, k, s_, p_, d_) for n, k, s_, p_, d_ in zip(x.shape[2:], weight.shape[2:], s, p, d)]
    if min(out) < 1:
        raise ValueError(f"conv2d: input of shape {x.shape} is too small for kernel {tuple(weight.shape[2:])} "
                         f"with padding {p} and dilation {d} (output would be {tuple(out)})")
    args = (x, weight) if bias is None else (x, weight, _check_bias(bias, weight.shape[0], weight, "conv2d"))
    return Conv2dOp(s, p, d)(*args)


class ConvTranspose2dOp(Function):
    """The graph node of ``conv_transpose2d`` (just below, with the formula and the backward rule)."""

    def __init__(self, stride, padding, output_padding, dilation):
        self.stride, self.padding = stride, padding
        self.output_padding, self.dilation = output_padding, dilation

    def forward(self, x, W, b=None):
        n, cin, h, w = x.shape
        _, cout, kh, kw = W.shape
        out_hw = tuple(conv_transpose_output_size(size, k, s, p, d, op) for size, k, s, p, d, op in
                       zip((h, w), (kh, kw), self.stride, self.padding, self.dilation, self.output_padding))
        # each input pixel's contribution to every (kernel offset, output channel): one matrix product
        W_rows = W.transpose(2, 3, 1, 0).reshape(kh * kw * cout, cin)
        cols = W_rows @ _channels_first(x)               # (kh*kw*C_out, N*H*W)
        y = _col2im(cols.reshape(kh, kw, cout, n, h, w), out_hw, self.stride, self.padding, self.dilation)
        if b is not None:
            y += b.reshape(1, cout, 1, 1)
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        need = self.needs_input_grad
        s, p, d = self.stride, self.padding, self.dilation
        gx = _crop(Conv2dOp(s, p, d)(gy, W), x.shape) if need[0] else None
        gW = Conv2dGradWeightOp(W.shape[2:], s, p, d)(gy, x) if need[1] else None
        if len(self.inputs) == 2:
            return gx, gW
        return gx, gW, (gy.sum(axis=(0, 2, 3)) if need[2] else None)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Transposed 2-D convolution of x (N, C_in, H, W) with weight (C_in, C_out, kh, kw): the
    transpose (adjoint) of conv2d. Every input pixel scatters W[c_in] * x[n, c_in, h, w] onto a
    window of the output (col2im).

    y = conv2d's adjoint applied to x;
    backward: gx = conv2d(gy, W), gW = Conv2dGradWeightOp(gy, x), gb = gy summed over (N, H, W)
    """
    x, weight = as_tensor(x), as_tensor(weight)
    _check_conv_args(x, weight, "conv_transpose2d", transposed=True)
    s, d = pair(stride, "stride", "conv_transpose2d", 1), pair(dilation, "dilation", "conv_transpose2d", 1)
    p, op = pair(padding, "padding", "conv_transpose2d"), pair(output_padding, "output_padding", "conv_transpose2d")
    if any(o >= s_ and o >= d_ for o, s_, d_ in zip(op, s, d)):
        raise ValueError(f"conv_transpose2d: output_padding {op} must be smaller than stride {s} or "
                         f"dilation {d}")
    out = [conv_transpose_output_size(n, k, s_, p_, d_, o_)
           for n, k, s_, p_, d_, o_ in zip(x.shape[2:], weight.shape[2:], s, p, d, op)]
    if min(out) < 1:
        raise ValueError(f"conv_transpose2d: output size {tuple(out)} is not positive for input {x.shape}, "
                         f"kernel {tuple(weight.shape[2:])}, stride {s}, padding {p}")
    cout = weight.shape[1]
    args = (x, weight) if bias is None else (x, weight, _check_bias(bias, cout, weight, "conv_transpose2d"))
    return ConvTranspose2dOp(s, p, op, d)(*args)


class Conv2dGradWeightOp(Function):
    """gW[o, c, i, j] = sum_{n, h, w} gy[n, o, h, w] * xpad[n, c, h*s + i*d, w*s + j*d]: the weight
    gradient of conv2d(x, W) given its upstream gradient gy (bilinear in x and gy);
    backward: gx = conv_transpose2d(gy, ggW), ggy = conv2d(x, ggW)"""

    def __init__(self, kernel, stride, padding, dilation, cols=None):
        self.kernel = tuple(kernel)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.cols = cols  # im2col of x, when the conv2d forward already made it

    def forward(self, x, gy):
        c = x.shape[1]
        o, oh, ow = gy.shape[1:]
        kh, kw = self.kernel
        cols = self.cols
        if cols is None:
            cols = _columns(x, self.kernel, (oh, ow), self.stride, self.padding, self.dilation)
        return (_channels_first(gy) @ cols.T).reshape(o, c, kh, kw)   # (O, N*OH*OW) @ (N*OH*OW, C*kh*kw)

    def backward(self, ggW):
        x, gy = self.inputs
        need = self.needs_input_grad
        s, p, d = self.stride, self.padding, self.dilation
        gx = ggy = None
        if need[0]:
            op = tuple(size - conv_transpose_output_size(g, k, s_, p_, d_, 0) for size, g, k, s_, p_, d_ in
                       zip(x.shape[2:], gy.shape[2:], self.kernel, s, p, d))
            gx = ConvTranspose2dOp(s, p, op, d)(gy, ggW)
        if need[1]:
            ggy = _crop(Conv2dOp(s, p, d)(x, ggW), gy.shape)
        return gx, ggy


def _crop(t, shape):
    """Drop trailing rows/columns that no input pixel reached.

    A transposed convolution with output_padding >= stride (allowed when dilation is larger)
    has trailing output positions that no input pixel touches; the convolution in its backward
    rule then yields a gradient for them, which belongs to no input and is cut off here.
    """
    if t.shape[2:] == tuple(shape[2:]):
        return t
    return getitem(t, (slice(None), slice(None), slice(0, shape[2]), slice(0, shape[3])))


def _check_conv_args(x, weight, op, transposed):
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape}")
    if weight.ndim != 4:
        layout = "(C_in, C_out, kh, kw)" if transposed else "(C_out, C_in, kh, kw)"
        raise ValueError(f"{op}: weight must be 4-D {layout}, got shape {weight.shape}")
    if x.shape[1] != weight.shape[0 if transposed else 1]:
        raise ValueError(f"{op}: input has {x.shape[1]} channels (shape {x.shape}) but weight of shape "
                         f"{weight.shape} expects {weight.shape[0 if transposed else 1]}")


def _check_bias(bias, channels, weight, op):
    bias = as_tensor(bias, like=weight)
    if bias.shape != (channels,):
        raise ValueError(f"{op}: bias must have shape ({channels},) for weight of shape {weight.shape}, "
                         f"got {bias.shape}")
    return bias
