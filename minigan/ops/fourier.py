"""Stride-1 convolutions through the discrete Fourier transform: the fast path of convolution.py.

The convolution theorem: on a circular grid of S points, correlating two signals multiplies
their discrete Fourier transforms (one of them conjugated), so

    y[h] = sum_i W[i] x[h + i]            becomes      Y[f] = conj(W^[f]) X^[f]

one product per frequency f instead of one per kernel tap. For a layer with C input and O output
channels, every frequency's product is a small matrix product, (O x C) @ (C x N) over the batch,
so the whole convolution is one *batched* matrix product over the frequencies, between the
transforms of its three arrays. Where the grid is at least as big as the padded image, nothing
wraps around the circle and the circular result is the ordinary one.

What it saves. im2col multiplies every output pixel by every kernel tap: OH*OW*kh*kw
multiply-adds per (output channel, input channel, image). The Fourier way does 4*Sh*(Sw//2 + 1)
(a complex multiply-add is four real ones; a real image needs only the frequencies 0..Sw//2 along
W, the rest are their conjugates). For the DCGAN generator's 5x5 transposed convolution on 7x7
images, 49*25 = 1225 against 4*11*6 = 264: 4.6 times fewer, and no im2col or col2im. On the
2-core machine of benchmarks/RESULTS.md that layer's three products (forward, input gradient,
weight gradient) took 94 ms of a 285-ms dcgan_bn step by im2col and about 30 by this path.
Strided layers keep im2col (convolution.py): at stride 2 only a quarter of the grid's outputs are
wanted, so the saving shrinks to 0.6 of the work, spread over many small per-frequency products,
and that was slower (tried; benchmarks/RESULTS.md). So do small layers, where the transforms cost
more than they save (``pays``).

The transforms are matrix products too, with the DFT matrix F[f, t] = exp(-2 pi i f t / S) along
each axis (``_dft``), so the padding costs nothing: an image placed at offset p on the grid is
transformed with the columns of F for t = p..p+H-1, and the zeros are never written. Arrays are
NCHW-shaped on the outside (convolution.py's internal (C, H, W, N) memory order, or any other);
spectra are (Sh * (Sw//2 + 1), C, N) complex arrays, one (C, N) matrix per frequency, the shape
the batched product wants.

The three ops of convolution.py call the three functions below for stride 1 and dilation 1, with
the same grid S for each pair of arrays they share, so a spectrum made by one is reused by the
next (conv2d's input spectrum by its weight gradient). Their results agree with im2col's to float
rounding; tests/test_conv_fourier.py checks this path against the plain-loop definitions, with
gradcheck and gradgradcheck.
"""
import math

import numpy as np

from .. import backend
from ..performance import matmul  # a @ b, with BLAS threads chosen by its size

#: Use the Fourier path only where the cost model of ``pays`` puts it at most at this fraction
#: of im2col's multiply-adds (its products are complex and smaller, so they run slower per
#: multiply-add than im2col's one big product)...
MAX_WORK_RATIO = 0.5
#: ...and only for layers of at least this many FLOPs (im2col's count): the layers timed for
#: ``pays`` had 1.6e8 and more, and smaller ones were not timed. Tests set both thresholds so
#: that small shapes take this path too.
MIN_FLOPS = 10**8


def pays(n, c, o, in_hw, out_hw, kernel):
    """Whether the Fourier path is worth it for the stride-1 conv2d of n images of c channels
    and size ``in_hw`` into o channels of ``out_hw`` (a transposed convolution asks about the
    conv2d it is the adjoint of; its backward ops ask about the same one, so all three agree).

    The model counts real multiply-adds. im2col: OH*OW*kh*kw per (o, c, image). This path:
    4 per complex one, on the grid Sh x (Sw//2 + 1) = F frequencies: the products, 4F(N + kh*kw)
    per (o, c) with the kernel's transform; the image's transform, 4(Sw//2 + 1)(H*W + Sh*H) per
    (c, image), and the inverse one, 4(Sw//2 + 1) OH (Sh + OW) per (o, image). Measured on the
    2-core machine, forward and backward of one layer, batch 64, float32: a 5x5 kernel on 7x7
    images (model 0.33-0.45) 1.5-2.3x faster than im2col, on 14x14 and 28x28 (0.43, 0.88) 2.3x
    and 1.7x; a 3x3 kernel on 7x7 (0.54-0.62) 1.0-1.2x, on 14x14 and 28x28 (0.64, 0.77) 0.96x;
    the 5x5 one on 7x7 at batch 8 (0.95) 0.6x, as the kernel's transform no longer shrinks
    against the products. So the threshold 0.5 leaves out a few wins and, of the cases timed,
    no loss.
    """
    (h, w), (oh, ow), (kh, kw) = in_hw, out_hw, kernel
    sh, sw = oh + kh - 1, ow + kw - 1  # the grid: the padded input (stride 1)
    half = sw // 2 + 1
    direct = oh * ow * kh * kw * c * o * n
    products = 4 * sh * half * c * o * (n + kh * kw)
    transforms = 4 * half * n * (c * (h * w + sh * h) + o * oh * (sh + ow))
    return 2 * direct >= MIN_FLOPS and products + transforms <= MAX_WORK_RATIO * direct


_matrices = {}  # (array module, dtype, what) -> a DFT matrix already on that device


def _dft(xp, dtype, size, first, count, freqs, inverse=False):
    """The DFT matrix exp(-2 pi i f t / size), (freqs, count), for frequencies f = 0..freqs-1 and
    grid positions t = first..first+count-1; if ``inverse``, exp(+2 pi i f t / size) / size
    as a (count, freqs) matrix. Made once per device and dtype, then kept."""
    def build():
        f, t = np.arange(freqs)[:, None], np.arange(first, first + count)[None, :]
        m = np.exp(-2j * math.pi * f * t / size)
        return m.conj().T / size if inverse else m
    return _kept(xp, dtype, ("dft", size, first, count, freqs, inverse), build)


def _kept(xp, dtype, what, build):
    """``build()`` (a NumPy matrix) as a ``dtype`` array of module ``xp``, built once and kept."""
    key = (xp.__name__, np.dtype(dtype).str, what)
    m = _matrices.get(key)
    if m is None:
        m = _matrices[key] = xp.asarray(build().astype(dtype))
    return m


def complex_dtype(real_dtype):
    """complex64 for float32 arrays, complex128 for float64 ones."""
    return np.result_type(real_dtype, np.complex64)


def spectrum(a, grid, offset=(0, 0)):
    """The 2-D DFT of the images of ``a`` (NCHW shape, any memory order) placed at ``offset`` on a
    zero grid of size ``grid``: (Sh * (Sw//2 + 1), C, N), frequencies (fh, fw) in row-major order.

    X^[fh, fw] = sum_{h, w} x[h, w] exp(-2 pi i (fh (h + ph) / Sh + fw (w + pw) / Sw)), done as
    one product along W (each image row) and one along H.
    """
    xp = backend.get_array_module(a)
    n, c, h, w = a.shape
    (sh, sw), (ph, pw) = grid, offset
    dtype = complex_dtype(a.dtype)
    half = sw // 2 + 1
    fw = _dft(xp, dtype, sw, pw, w, half)   # (Sw//2 + 1, W)
    fh = _dft(xp, dtype, sh, ph, h, sh)     # (Sh, H)
    rows = xp.ascontiguousarray(a.transpose(2, 3, 1, 0), dtype=dtype)       # (H, W, C, N): one copy
    along_w = matmul(fw, rows.reshape(h, w, c * n))                          # (H, Sw//2 + 1, C*N)
    return matmul(fh, along_w.reshape(h, half * c * n)).reshape(sh * half, c, n)


def weight_spectrum(weight, grid, conjugate=False):
    """The 2-D DFT of each kernel of ``weight`` (A, B, kh, kw) at offset 0 on the grid, as
    (Sh * (Sw//2 + 1), A, B); its complex conjugate if ``conjugate`` (for correlations)."""
    xp = backend.get_array_module(weight)
    a, b, kh, kw = weight.shape
    sh, sw = grid
    dtype = complex_dtype(weight.dtype)
    half = sw // 2 + 1

    def build():  # (Sh * half, kh * kw): both axes' DFT matrices at once, fh[fh, i] * fw[fw, j]
        fh, fw = _dft(np, np.complex128, sh, 0, kh, sh), _dft(np, np.complex128, sw, 0, kw, half)
        both = (fh[:, None, :, None] * fw[None, :, None, :]).reshape(sh * half, kh * kw)
        return both.conj() if conjugate else both  # conj(F @ w) = conj(F) @ w for a real w
    both = _kept(xp, dtype, ("kernel", grid, (kh, kw), conjugate), build)
    return matmul(both, weight.reshape(a * b, kh * kw).T.astype(dtype)).reshape(sh * half, a, b)


def from_spectrum(spec, grid, start, count):
    """The inverse of ``spectrum``, read at grid rows start[0]..start[0]+count[0]-1 and columns
    start[1]..start[1]+count[1]-1 only: a real (count_h, count_w, C, N) array (a strided view).

    Along W only the frequencies 0..Sw//2 are stored: each other one is the conjugate of a stored
    one, so it adds the same real part again. The stored ones get weight 2 for that reason, except
    f = 0 (and f = Sw/2 for even Sw), which have no partner.
    """
    xp = backend.get_array_module(spec)
    (sh, sw), (rh, rw), (oh, ow) = grid, start, count
    half = sw // 2 + 1
    _, c, n = spec.shape
    ih = _dft(xp, spec.dtype, sh, rh, oh, sh, inverse=True)   # (OH, Sh)

    def build():  # (OW, half): the inverse DFT along W, each frequency with its weight
        f = np.arange(half)
        weights = np.where((f == 0) | (2 * f == sw), 1.0, 2.0)
        return weights * _dft(np, np.complex128, sw, rw, ow, half, inverse=True)
    iw = _kept(xp, spec.dtype, ("inverse half", sw, rw, ow), build)
    along_h = matmul(ih, spec.reshape(sh, half * c * n))                     # (OH, half * C*N)
    return matmul(iw, along_h.reshape(oh, half, c * n)).real.reshape(oh, ow, c, n)
