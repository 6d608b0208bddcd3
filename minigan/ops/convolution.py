"""2-D convolution and transposed convolution (NCHW), via im2col and one matrix product.

(Big stride-1 convolutions take another way to the same numbers: the discrete Fourier transform,
in fourier.py, which needs about a quarter of the multiply-adds for the DCGAN's 5x5 layers on 7x7
images. ``_fourier_grid`` decides; everything below describes im2col.)

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

Layout. The ops take and return arrays of NCHW *shape*, but inside they keep images as
(C, H, W, N) in memory: channels first and the batch innermost. Each op copies its image input
into that layout (``_to_internal``, which writes the zero padding in the same copy, and copies
nothing when the input is already laid out so), and returns its output as an NCHW-shaped *view*
of its (C, H, W, N) result (``_to_nchw``: no copy). In between, the column matrix has one row
per (c, i, j) and one column per (oh, ow, n), the matrix products read and write (C, H*W*N)
matrices as they are, and col2im adds into a (C, H, W, N) image.

Why the batch innermost: im2col copies, and col2im adds, one kernel offset of every window at a
time. With NCHW the innermost run of such a copy is a stretch of an image row (7 to 28 values,
every other one at stride 2), so NumPy runs a great many short inner loops; with the batch
innermost every run is N contiguous values (64 in the example, and OW*N at stride 1), which
makes im2col and col2im about 2-2.5x faster for the DCGAN's layers (batch 64, 5x5 kernels).

Why a view and not an NCHW copy: a transposing copy costs about as much as seven additions of
the same size (NumPy walks one side of it in long strides). Elementwise ops (leaky ReLU, batch
norm, dropout, their backward rules) keep the memory order of their inputs, so the next
convolution finds its input already in (C, H, W, N) order and copies nothing; a chain
conv -> batch norm -> leaky ReLU -> conv converts no image at all. Only a reshape (Flatten
before a Linear layer) pays for one conversion. This made a DCGAN training step about 7%
faster. What it asks of other ops: arrays that meet a conv output elementwise should have its
layout too, or that one op does the transposing (dropout draws its mask in its input's memory
order for that reason, see ``layer_functions.dropout``).

Three ops, whose backward rules are each other, so every second derivative exists:

    Conv2dOp(x, W):              gx = conv_transpose2d(gy, W),   gW = Conv2dGradWeightOp(x, gy)
    ConvTranspose2dOp(x, W):     gx = conv2d(gy, W),             gW = Conv2dGradWeightOp(gy, x)
    Conv2dGradWeightOp(x, gy):   gx = conv_transpose2d(gy, ggW), ggy = conv2d(x, ggW)

Conv2dGradWeightOp(x, gy) multiplies gy by the columns of x, so it is handed the columns when
they exist already: conv2d's forward keeps those of x, and conv_transpose2d's backward passes on
those that conv2d(gy, W) just made of gy. Each column matrix is then built once per step. On the
Fourier path the same holds for the spectra of x and of gy, which every op there keeps for the
next: each image is transformed once per step.

(DeZero's weight-gradient op uses its own output instead of the upstream gradient in its
backward, so second derivatives through conv weights fail there; ours are gradgradchecked.)
"""
from .. import backend
from ..autograd import Function
from ..performance import matmul  # a @ b, with BLAS threads chosen by its size
from ..tensor import as_tensor
from . import fourier
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


def _to_internal(a, padding=(0, 0)):
    """NCHW (N, C, H, W) -> the internal layout (C, H + 2ph, W + 2pw, N), zero-padded, in one
    copy (see the module docstring).

    The padding costs no pass of its own: ``a`` is written straight into the interior of a zero
    buffer that already has the new layout (padding in NCHW first, as ``xp.pad`` would, and then
    transposing would copy everything twice)."""
    xp = backend.get_array_module(a)
    n, c, h, w = a.shape
    ph, pw = padding
    if not (ph or pw):  # no copy at all if a is already laid out this way (a conv's output is)
        return xp.ascontiguousarray(a.transpose(1, 2, 3, 0))
    out = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=a.dtype)
    out[:, ph:ph + h, pw:pw + w] = a.transpose(1, 2, 3, 0)
    return out


def _to_nchw(a):
    """The internal layout (C, H, W, N) -> an NCHW-shaped view of it (N, C, H, W), without copying
    (see "Layout" in the module docstring)."""
    return a.transpose(3, 0, 1, 2)


def _columns(xi, kernel, out_hw, stride, dilation):
    """im2col: the (C*kh*kw, OH*OW*N) matrix whose column for output pixel (oh, ow, n) holds the
    kh x kw window of every channel of the padded image that this pixel sees. ``xi`` is the
    image in the internal layout, already padded, (C, H, W, N) (see ``_to_internal``).

    The windows are first read through a strided *view* of shape (C, kh, kw, OH, OW, N), made
    without copying: xi[c, oh*s + i*d, ow*s + j*d, n] sits at (c, i, j, oh, ow, n). The reshape
    then copies them once. With the batch innermost, the copy runs over contiguous stretches of
    N values (of OW*N values when the stride is 1: consecutive windows then sit side by side),
    not over the 7 to 28 values of an image row as it would from NCHW: 1.9-2.6x faster for the
    DCGAN's layers, the conversion to the internal layout included.
    """
    xp = backend.get_array_module(xi)
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    c, n = xi.shape[0], xi.shape[3]
    sC, sH, sW, sN = xi.strides
    windows = xp.lib.stride_tricks.as_strided(
        xi, shape=(c, kh, kw, oh, ow, n), strides=(sC, sH * dh, sW * dw, sH * sh, sW * sw, sN))
    return windows.reshape(c * kh * kw, oh * ow * n)


def _col2im(cols, out_hw, stride, padding, dilation):
    """The reverse of im2col: cols of shape (kh, kw, C, H, W, N) are added back onto an image
    (C, *out_hw, N) in the internal layout. Value (i, j, c, h, w, n) belongs to padded pixel
    (c, h*s + i*d, w*s + j*d, n).

    A loop over the kh*kw kernel offsets adds one whole block cols[i, j] at a time, at a strided
    slice of the image. With the batch innermost each addition runs over contiguous stretches of
    N values (W*N when the stride is 1) instead of image rows: 1.8-2.7x faster for the DCGAN's
    layers, the final conversion to NCHW included. cols[i, j] is one contiguous block (which is
    why ConvTranspose2dOp orders its rows (i, j, c)); blocks strided over the channels would make
    the additions about 30% slower. Returns a view, cropped to the unpadded image.
    """
    xp = backend.get_array_module(cols)
    kh, kw, c, h, w, n = cols.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh, ow = out_hw
    # room for every window, even ones that reach past the padded image (they are cropped off)
    full_h = max(oh + 2 * ph, (h - 1) * sh + (kh - 1) * dh + 1)
    full_w = max(ow + 2 * pw, (w - 1) * sw + (kw - 1) * dw + 1)
    img = xp.zeros((c, full_h, full_w, n), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            img[:, i * dh:i * dh + (h - 1) * sh + 1:sh,
                j * dw:j * dw + (w - 1) * sw + 1:sw] += cols[i, j]
    return img[:, ph:ph + oh, pw:pw + ow]


def _fourier_grid(n, c, o, in_hw, out_hw, kernel, stride, padding, dilation):
    """The transform grid (the padded input) if the stride-1 conv2d of n images, c channels of
    ``in_hw`` -> o channels of ``out_hw``, is better done by the Fourier path (fourier.py), else
    None. A transposed convolution and the backward ops pass the conv2d they belong to."""
    if stride != (1, 1) or dilation != (1, 1) or not fourier.pays(n, c, o, in_hw, out_hw, kernel):
        return None
    return tuple(size + 2 * p for size, p in zip(in_hw, padding))


def _image(y):
    """A (H, W, C, N) result of the Fourier path as the internal layout (C, H, W, N), one copy."""
    return backend.get_array_module(y).ascontiguousarray(y.transpose(2, 0, 1, 3))


class Conv2dOp(Function):
    """The graph node of ``conv2d`` (just below, with the formula and the backward rule)."""

    def __init__(self, stride, padding, dilation):
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, W, b=None):
        n, c, h, w = x.shape
        o, _, kh, kw = W.shape
        oh, ow = (conv_output_size(size, k, s, p, d) for size, k, s, p, d in
                  zip((h, w), (kh, kw), self.stride, self.padding, self.dilation))
        self.cols = self.spectrum = None  # kept for the weight gradient, which needs the same
        grid = _fourier_grid(n, c, o, (h, w), (oh, ow), (kh, kw), self.stride, self.padding, self.dilation)
        if grid:  # stride 1, big enough: y^ = conj(W^) x^ per frequency (fourier.py)
            self.spectrum = fourier.spectrum(x, grid, self.padding)
            y_hat = matmul(fourier.weight_spectrum(W, grid, conjugate=True), self.spectrum)   # (F, O, N)
            y = _image(fourier.from_spectrum(y_hat, grid, (0, 0), (oh, ow)))
        else:
            self.cols = _columns(_to_internal(x, self.padding), (kh, kw), (oh, ow), self.stride, self.dilation)
            y = matmul(W.reshape(o, c * kh * kw), self.cols)     # (O, OH*OW*N): the one matrix product
            y = y.reshape(o, oh, ow, n)
        if b is not None:
            y += b.reshape(o, 1, 1, 1)
        return _to_nchw(y)

    def backward(self, gy):
        x, W = self.inputs[:2]
        need = self.needs_input_grad
        s, p, d = self.stride, self.padding, self.dilation
        gx = gW = gb = gy_spectrum = None
        if need[0]:
            op = tuple(size - conv_transpose_output_size(g, k, s_, p_, d_, 0) for size, g, k, s_, p_, d_ in
                       zip(x.shape[2:], gy.shape[2:], W.shape[2:], s, p, d))
            transposed = ConvTranspose2dOp(s, p, op, d)
            gx = transposed(gy, W)
            gy_spectrum = transposed.spectrum  # gy's, on the grid the weight gradient uses too
        if need[1]:
            gW = Conv2dGradWeightOp(W.shape[2:], s, p, d, cols=self.cols, x_spectrum=self.spectrum,
                                    gy_spectrum=gy_spectrum)(x, gy)
        if len(self.inputs) == 3 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, gb)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution (cross-correlation) of x (N, C, H, W) with weight (O, C, kh, kw), as im2col
    and one matrix product (or, if stride 1 and big, by the Fourier transform: fourier.py).

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
        self.spectrum = None  # x's, kept for the weight gradient
        # asks about the conv2d whose adjoint this is, from y back to x; its grid, y padded, is
        # the full output before the padding is cropped: H + kh - 1 (stride 1)
        grid = _fourier_grid(n, cout, cin, out_hw, (h, w), (kh, kw), self.stride, self.padding, self.dilation)
        if grid:  # stride 1, big enough: y^ = W^ x^ per frequency (fourier.py)
            self.spectrum = fourier.spectrum(x, grid)
            y_hat = matmul(fourier.weight_spectrum(W, grid).transpose(0, 2, 1), self.spectrum)  # (F, C_out, N)
            y = _image(fourier.from_spectrum(y_hat, grid, self.padding, out_hw))
        else:
            # each input pixel's contribution to every (kernel offset, output channel): one matrix
            # product. W's rows are reordered (kernel offset, output channel), a small copy, so
            # that each offset's block cols[i, j] comes out contiguous for col2im.
            W_rows = W.transpose(2, 3, 1, 0).reshape(kh * kw * cout, cin)
            cols = matmul(W_rows, _to_internal(x).reshape(cin, h * w * n))   # (kh*kw*C_out, H*W*N)
            y = _col2im(cols.reshape(kh, kw, cout, h, w, n), out_hw, self.stride, self.padding, self.dilation)
        if b is not None:
            y += b.reshape(cout, 1, 1, 1)
        return _to_nchw(y)

    def backward(self, gy):
        x, W = self.inputs[:2]
        need = self.needs_input_grad
        s, p, d = self.stride, self.padding, self.dilation
        gx = gW = cols = gy_spectrum = None
        if need[0]:
            conv = Conv2dOp(s, p, d)
            gx = conv(gy, W)
            if gx.shape == x.shape:  # then the columns (or spectrum) of gy that conv made are the
                cols, gy_spectrum = conv.cols, conv.spectrum  # ones gW needs (a cropped gx has
            gx = _crop(gx, x.shape)                          # them for pixels that x lacks)
        if need[1]:
            gW = Conv2dGradWeightOp(W.shape[2:], s, p, d, cols=cols, x_spectrum=gy_spectrum,
                                    gy_spectrum=self.spectrum)(gy, x)
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

    def __init__(self, kernel, stride, padding, dilation, cols=None, x_spectrum=None, gy_spectrum=None):
        self.kernel = tuple(kernel)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        # im2col of x, or the Fourier spectra of x and gy, when an op already made them (see the
        # module docstring); each is used only by the path that made it
        self.cols, self.x_spectrum, self.gy_spectrum = cols, x_spectrum, gy_spectrum

    def forward(self, x, gy):
        c, h, w = x.shape[1:]
        n, o, oh, ow = gy.shape
        kh, kw = self.kernel
        grid = _fourier_grid(n, c, o, (h, w), (oh, ow), self.kernel, self.stride, self.padding, self.dilation)
        if grid:  # stride 1, big enough: gW^ = conj(gy^) x^, summed over the batch (fourier.py)
            x_hat = self.x_spectrum if self.x_spectrum is not None else fourier.spectrum(x, grid, self.padding)
            gy_hat = self.gy_spectrum if self.gy_spectrum is not None else fourier.spectrum(gy, grid)
            gW_hat = matmul(gy_hat.conj(), x_hat.transpose(0, 2, 1))                  # (F, O, C)
            gW = fourier.from_spectrum(gW_hat, grid, (0, 0), self.kernel)            # (kh, kw, O, C)
            return backend.get_array_module(gW).ascontiguousarray(gW.transpose(2, 3, 0, 1))
        cols = self.cols
        if cols is None:
            cols = _columns(_to_internal(x, self.padding), self.kernel, (oh, ow), self.stride, self.dilation)
        gy_rows = _to_internal(gy).reshape(o, oh * ow * n)   # columns in the order of cols': (oh, ow, n)
        # gW = gy_rows @ cols^T, (O, OH*OW*N) @ (OH*OW*N, C*kh*kw), computed as (cols @ gy_rows^T)^T:
        # the same numbers, but OpenBLAS runs this orientation 10-25% faster when O is small (32 or
        # 64 output channels, measured on the DCGAN's layers); the transpose copies only O*C*kh*kw values.
        return matmul(cols, gy_rows.T).T.reshape(o, c, kh, kw)

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
