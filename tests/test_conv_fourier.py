"""The Fourier path of the stride-1 convolutions (minigan/ops/fourier.py) against the definition.

Small shapes never take that path on their own (``fourier.pays`` keeps it for big products), so
the ``fourier_everywhere`` fixture lowers its thresholds to let every stride-1 convolution take
it. Then, over hypothesis-drawn shapes: values against the plain-loop references, gradcheck and
gradgradcheck of conv2d and conv_transpose2d (whose backward rules use Conv2dGradWeightOp, so
all three ops are checked on this path), float32 kept, and the spectra reused, not recomputed.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minigan
import minigan.functional as F
from minigan import Tensor
from minigan.ops import fourier

from conv_reference import np_conv2d, np_conv_transpose2d


@pytest.fixture
def fourier_everywhere(monkeypatch):
    """Every stride-1 convolution takes the Fourier path, however small."""
    monkeypatch.setattr(fourier, "MIN_FLOPS", 0)
    monkeypatch.setattr(fourier, "MAX_WORK_RATIO", float("inf"))


@pytest.fixture
def count_spectra(monkeypatch):
    """A list that gets one entry per image spectrum computed (``fourier.spectrum`` calls)."""
    calls, spectrum = [], fourier.spectrum

    def counted(a, grid, offset=(0, 0)):
        calls.append((a.shape, grid, offset))
        return spectrum(a, grid, offset)
    monkeypatch.setattr(fourier, "spectrum", counted)
    return calls


@st.composite
def stride1_config(draw):
    """(x shape, kernel (kh, kw), padding, C_out) of a stride-1 convolution with output >= 1x1."""
    n, cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 8))  # conv2d's output H + 2p - k + 1 >= 1
    w = draw(st.integers(max(1, kw - 2 * pw), 8))
    return (n, cin, h, w), (kh, kw), (ph, pw), cout


def _tensors(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


# The fixture sets two thresholds and nothing in a test changes them, so it needs no reset between
# hypothesis's examples (which is what this health check warns about).
FIXED_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FIXED_SETTINGS
@given(stride1_config())
def test_conv2d_by_fourier_matches_the_definition_and_gradchecks(fourier_everywhere, config):
    x_shape, (kh, kw), p, cout = config
    x, W, b = _tensors(0, x_shape, (cout, x_shape[1], kh, kw), (cout,))
    y = F.conv2d(x, W, b, 1, p)
    np.testing.assert_allclose(y.numpy(), np_conv2d(x.numpy(), W.numpy(), b.numpy(), 1, p, 1),
                               rtol=1e-10, atol=1e-10)
    minigan.gradcheck(lambda x, W, b: F.conv2d(x, W, b, 1, p), [x, W, b])
    minigan.gradgradcheck(lambda x, W: F.conv2d(x, W, None, 1, p), [x, W])


@FIXED_SETTINGS
@given(stride1_config())
def test_conv_transpose2d_by_fourier_matches_the_definition_and_gradchecks(fourier_everywhere, config):
    # the drawn conv2d's output shape is a valid input of the transposed convolution that undoes it
    (n, cin, h, w), (kh, kw), p, cout = config
    hy, wy = h + 2 * p[0] - kh + 1, w + 2 * p[1] - kw + 1
    x, W, b = _tensors(1, (n, cout, hy, wy), (cout, cin, kh, kw), (cin,))
    y = F.conv_transpose2d(x, W, b, 1, p)
    assert y.shape == (n, cin, h, w)
    np.testing.assert_allclose(y.numpy(), np_conv_transpose2d(x.numpy(), W.numpy(), b.numpy(), 1, p, 0, 1),
                               rtol=1e-10, atol=1e-10)
    minigan.gradcheck(lambda x, W, b: F.conv_transpose2d(x, W, b, 1, p), [x, W, b])
    minigan.gradgradcheck(lambda x, W: F.conv_transpose2d(x, W, None, 1, p), [x, W])


def test_strided_and_dilated_convolutions_keep_im2col(fourier_everywhere, count_spectra):
    """The theorem needs stride 1 and dilation 1; other convolutions never reach fourier.py."""
    x, W = _tensors(2, (1, 2, 9, 9), (3, 2, 3, 3))
    F.conv2d(x, W, stride=2, padding=1).sum().backward()
    F.conv2d(x, W, padding=2, dilation=2).sum().backward()
    F.conv_transpose2d(x, W.transpose(1, 0, 2, 3), stride=2).sum().backward()
    assert count_spectra == []


def test_the_spectra_are_made_once_and_reused(fourier_everywhere, count_spectra):
    """conv_transpose2d's forward transforms x; its backward transforms gy once (for conv2d(gy, W))
    and hands both spectra to the weight gradient, which then transforms nothing itself. Likewise
    conv2d's weight gradient reuses the forward's spectrum of x."""
    x, W = _tensors(3, (2, 3, 5, 5), (3, 4, 3, 3))
    F.conv_transpose2d(x, W, padding=1).sum().backward()
    assert len(count_spectra) == 2
    count_spectra.clear()
    x, W = _tensors(4, (2, 3, 5, 5), (4, 3, 3, 3))
    F.conv2d(x, W, padding=1).sum().backward()
    assert len(count_spectra) == 2  # x in the forward, gy in the backward's conv_transpose2d


def test_float32_stays_float32_and_agrees_with_im2col(monkeypatch):
    """On the DCGAN generator's 5x5 layer (7x7 images, where fourier.pays chooses this path by
    itself), float32 in gives float32 out, in the forward and in every gradient, within float32
    rounding of the im2col path."""
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal((64, 64, 7, 7)).astype(np.float32)
    w_np = (0.05 * rng.standard_normal((64, 32, 5, 5))).astype(np.float32)
    gy_np = rng.standard_normal((64, 32, 7, 7)).astype(np.float32)
    # the conv2d this is the adjoint of: 32 channels -> 64; at this size the path is chosen
    assert fourier.pays(64, 32, 64, (7, 7), (7, 7), (5, 5))

    results = []
    for min_flops in (fourier.MIN_FLOPS, float("inf")):  # the Fourier path as chosen, then im2col
        monkeypatch.setattr(fourier, "MIN_FLOPS", min_flops)
        x, W = Tensor(x_np, requires_grad=True), Tensor(w_np, requires_grad=True)
        y = F.conv_transpose2d(x, W, padding=2)
        y.backward(Tensor(gy_np))
        results.append([y.numpy(), x.grad.numpy(), W.grad.numpy()])
    for by_fourier, by_im2col in zip(*results):
        assert by_fourier.dtype == np.float32
        scale = np.abs(by_im2col).max()
        np.testing.assert_allclose(by_fourier, by_im2col, rtol=0, atol=2e-6 * scale)


@pytest.mark.parametrize("n, c, o, in_hw, out_hw, kernel, expected", [
    (64, 256, 128, (7, 7), (7, 7), (5, 5), True),      # dcgan_bn's G layer, as the conv2d it is the adjoint of
    (64, 64, 128, (7, 7), (7, 7), (5, 5), True),       # --arch dcgan's (width 0.5)
    (64, 32, 32, (14, 14), (14, 14), (5, 5), True),    # timed 2.3x faster
    (8, 64, 128, (7, 7), (7, 7), (5, 5), False),       # batch 8: timed 0.6x (the kernel's transform dominates)
    (64, 64, 64, (28, 28), (28, 28), (3, 3), False),   # 3x3 kernel, 28x28: timed 0.97x
    (64, 64, 64, (7, 7), (7, 7), (1, 1), False),       # 1x1 kernel: nothing to save
    (2, 3, 4, (7, 7), (7, 7), (5, 5), False),          # tiny: below MIN_FLOPS
])
def test_pays_follows_the_timed_cases(n, c, o, in_hw, out_hw, kernel, expected):
    """fourier.pays on layers timed on the 2-core machine (its docstring has the figures)."""
    assert fourier.pays(n, c, o, in_hw, out_hw, kernel) == expected


@pytest.mark.gpu
def test_the_fourier_path_on_the_gpu_agrees_with_the_cpu(fourier_everywhere):
    """The same code runs on CuPy (complex arrays, batched products): values and gradients agree."""
    x_np = np.random.default_rng(6).standard_normal((2, 3, 6, 5))
    w_np = np.random.default_rng(7).standard_normal((3, 4, 3, 3))
    out = []
    for device in ("cpu", "gpu"):
        x = Tensor(x_np, requires_grad=True).to(device)
        W = Tensor(w_np, requires_grad=True).to(device)
        y = F.conv_transpose2d(x, W, padding=1)
        y2 = F.conv2d(y, W, padding=1)  # W (3, 4, 3, 3) maps the 4 channels back to 3
        (y2 * y2).sum().backward()
        out.append([t.to("cpu").numpy() for t in (y2, x.grad, W.grad)])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
