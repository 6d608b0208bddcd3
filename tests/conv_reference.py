"""Convolutions written from their definitions, as slow plain loops: the references the fast
im2col and Fourier implementations in minigan/ops/ are compared with. Padding is the same on both
sides of an axis: one int for both axes, or a pair (height's, width's)."""
import numpy as np


def np_conv2d(x, W, b, s, p, d):
    """Cross-correlation by its definition: one dot product per output pixel."""
    n, c, h, w = x.shape
    o, _, kh, kw = W.shape
    ph, pw = (p, p) if isinstance(p, int) else p
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - d * (kh - 1) - 1) // s + 1, (w + 2 * pw - d * (kw - 1) - 1) // s + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * s:i * s + d * (kh - 1) + 1:d, j * s:j * s + d * (kw - 1) + 1:d]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", window, W)
    return y + b[None, :, None, None]


def np_conv_transpose2d(x, W, b, s, p, op, d):
    """Each input pixel adds W[c_in] * x[n, c_in, i, j] onto its window of the output."""
    n, ci, h, w = x.shape
    _, co, kh, kw = W.shape
    ph, pw = (p, p) if isinstance(p, int) else p
    oh, ow = (h - 1) * s - 2 * ph + d * (kh - 1) + op + 1, (w - 1) * s - 2 * pw + d * (kw - 1) + op + 1
    big = np.zeros((n, co, oh + 2 * ph + d * kh, ow + 2 * pw + d * kw))
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for c in range(kw):
                    big[:, :, i * s + a * d, j * s + c * d] += x[:, :, i, j] @ W[:, :, a, c]
    return big[:, :, ph:ph + oh, pw:pw + ow] + b[None, :, None, None]
