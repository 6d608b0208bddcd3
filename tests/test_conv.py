"""conv2d and conv_transpose2d over a hypothesis-drawn grid of shapes, strides, paddings,
dilations and output paddings: output size, values against plain-loop references, and
gradients (first and second order) against finite differences.

The op table (tests/op_cases.py) checks a few hand-picked configurations; here hypothesis draws
many, so an off-by-one in the im2col strides or the col2im loop cannot hide in an untried case.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minigan
import minigan.functional as F
from minigan import Tensor
from minigan.ops.convolution import conv_output_size, conv_transpose_output_size

from conv_reference import np_conv2d, np_conv_transpose2d


@st.composite
def conv_config(draw, transposed=False):
    """A (shapes, stride, padding, dilation, output_padding) whose output is at least 1x1."""
    n, cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    s, p, d = draw(st.integers(1, 3)), draw(st.integers(0, 2)), draw(st.integers(1, 2))
    op = draw(st.integers(0, max(s, d) - 1)) if transposed else 0
    size = (lambda n_, k: conv_transpose_output_size(n_, k, s, p, d, op)) if transposed else \
        (lambda n_, k: conv_output_size(n_, k, s, p, d))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    while size(h, kh) < 1:  # grow the input until the output has at least one pixel
        h += 1
    while size(w, kw) < 1:
        w += 1
    weight = (cin, cout, kh, kw) if transposed else (cout, cin, kh, kw)
    return (n, cin, h, w), weight, s, p, d, op


def _tensors(rng, x_shape, w_shape, channels_out):
    return [Tensor(rng.standard_normal(shape), requires_grad=True)
            for shape in (x_shape, w_shape, (channels_out,))]


@settings(max_examples=30, deadline=None)
@given(conv_config())
def test_conv2d_matches_the_definition_and_gradcheck(config):
    """Output size follows floor((H + 2p - d(k-1) - 1)/s) + 1; values match the loop; gradients check."""
    x_shape, w_shape, s, p, d, _ = config
    x, W, b = _tensors(np.random.default_rng(0), x_shape, w_shape, w_shape[0])
    y = F.conv2d(x, W, b, s, p, d)
    expected = np_conv2d(x.numpy(), W.numpy(), b.numpy(), s, p, d)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)
    minigan.gradcheck(lambda x, W, b: F.conv2d(x, W, b, s, p, d), [x, W, b])


@settings(max_examples=30, deadline=None)
@given(conv_config(transposed=True))
def test_conv_transpose2d_matches_the_definition_and_gradcheck(config):
    """Output size follows (H-1)s - 2p + d(k-1) + output_padding + 1; values match; gradients check."""
    x_shape, w_shape, s, p, d, op = config
    x, W, b = _tensors(np.random.default_rng(1), x_shape, w_shape, w_shape[1])
    y = F.conv_transpose2d(x, W, b, s, p, op, d)
    expected = np_conv_transpose2d(x.numpy(), W.numpy(), b.numpy(), s, p, op, d)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)
    minigan.gradcheck(lambda x, W, b: F.conv_transpose2d(x, W, b, s, p, op, d), [x, W, b])


@settings(max_examples=8, deadline=None)
@given(conv_config(), st.booleans())
def test_second_derivatives_of_both_convolutions(config, transposed):
    """gradgradcheck: the backward rules (each other's ops) are themselves differentiable."""
    x_shape, w_shape, s, p, d, _ = config
    rng = np.random.default_rng(2)
    if transposed:  # reuse the drawn shapes as a transposed conv that maps back to x's shape
        y_shape = (x_shape[0], w_shape[0]) + tuple(
            conv_output_size(n, k, s, p, d) for n, k in zip(x_shape[2:], w_shape[2:]))
        assume(all(conv_transpose_output_size(n, k, s, p, d, 0) >= 1
                   for n, k in zip(y_shape[2:], w_shape[2:])))  # at least one output pixel
        x, W = Tensor(rng.standard_normal(y_shape), requires_grad=True), Tensor(rng.standard_normal(w_shape), requires_grad=True)
        minigan.gradgradcheck(lambda x, W: F.conv_transpose2d(x, W, None, s, p, 0, d), [x, W])
    else:
        x, W = Tensor(rng.standard_normal(x_shape), requires_grad=True), Tensor(rng.standard_normal(w_shape), requires_grad=True)
        minigan.gradgradcheck(lambda x, W: F.conv2d(x, W, None, s, p, d), [x, W])


def test_gradient_penalty_through_a_conv_critic():
    """WGAN-GP's penalty mean((||dD/dx|| - 1)^2) through conv -> leaky_relu -> conv -> linear:
    its gradient with respect to the critic's weights needs the second derivative of conv2d."""
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((2, 1, 6, 6)), requires_grad=True)
    W1 = Tensor(0.5 * rng.standard_normal((3, 1, 3, 3)), requires_grad=True)
    W2 = Tensor(0.5 * rng.standard_normal((2, 3, 3, 3)), requires_grad=True)
    V = Tensor(0.5 * rng.standard_normal((1, 2 * 2 * 2)), requires_grad=True)

    def penalty(x, W1, W2, V):
        h = F.leaky_relu(F.conv2d(x, W1, stride=1, padding=1), 0.2)
        h = F.leaky_relu(F.conv2d(h, W2, stride=2), 0.2)
        score = F.linear(F.flatten(h, 1), V)
        g, = minigan.grad(score.sum(), x, create_graph=True)
        norm = F.sqrt((g * g).sum(axis=(1, 2, 3)))
        return ((norm - 1) ** 2).mean()

    minigan.gradcheck(penalty, [x, W1, W2, V])
    minigan.gradgradcheck(penalty, [x, W1, W2, V], mode="fast")


def test_float32_stays_float32():
    """Convolutions keep float32 in forward and in every gradient."""
    x = minigan.randn(2, 3, 8, 8, requires_grad=True)
    W = minigan.randn(4, 3, 3, 3, requires_grad=True)
    Wt = minigan.randn(4, 2, 4, 4, requires_grad=True)
    y = F.conv_transpose2d(F.conv2d(x, W, stride=2, padding=1), Wt, stride=2, padding=1)
    assert y.dtype == np.float32 and y.shape == (2, 2, 8, 8)
    y.sum().backward()
    assert x.grad.dtype == W.grad.dtype == Wt.grad.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(minigan.randn(2, 3, 8), minigan.randn(4, 3, 3, 3)), r"input must be 4-D \(N, C, H, W\), got shape \(2, 3, 8\)"),
    (lambda: F.conv2d(minigan.randn(2, 3, 8, 8), minigan.randn(4, 2, 3, 3)), r"input has 3 channels .* expects 2"),
    (lambda: F.conv2d(minigan.randn(1, 1, 2, 2), minigan.randn(1, 1, 3, 3)), r"too small for kernel \(3, 3\)"),
    (lambda: F.conv2d(minigan.randn(1, 1, 5, 5), minigan.randn(2, 1, 3, 3), minigan.randn(3)), r"bias must have shape \(2,\).*got \(3,\)"),
    (lambda: F.conv2d(minigan.randn(1, 1, 5, 5), minigan.randn(2, 1, 3, 3), stride=0), r"conv2d: stride must be an int >= 1 or a pair of them, got 0"),
    (lambda: F.conv2d(minigan.randn(1, 1, 5, 5), minigan.randn(2, 1, 3, 3), padding=(1, 2, 3)), r"conv2d: padding must be an int >= 0 or a pair of them"),
    (lambda: F.conv_transpose2d(minigan.randn(1, 2, 3, 3), minigan.randn(2, 1, 3, 3), stride=2, output_padding=2),
     r"output_padding \(2, 2\) must be smaller than stride \(2, 2\) or dilation"),
    (lambda: F.conv_transpose2d(minigan.randn(1, 2, 3, 3), minigan.randn(3, 1, 3, 3)), r"input has 2 channels .* expects 3"),
])
def test_conv_errors_name_what_was_expected_and_what_came(call, message):
    """Bad shapes and arguments raise errors a learner can act on."""
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (0, 2, 3, 1), (1, 2, 3, 0)], ids=["NCHW", "NHWC", "CHWN"])
def test_convolutions_read_inputs_in_any_memory_order(order):
    """The ops copy their image inputs into their internal (C, H, W, N) layout whatever the strides
    (and skip the copy when the input already has it): arrays stored NCHW, NHWC or CHWN give the
    same outputs and gradients, upstream gradients included."""
    rng = np.random.default_rng(4)

    def stored(a):  # the same values as a, stored in memory in `order`
        view = np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))
        assert np.array_equal(view, a) and view.flags.c_contiguous == (order == (0, 1, 2, 3))
        return view

    x = rng.standard_normal((3, 2, 6, 5))
    W, Wt = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal((2, 4, 3, 3))
    for conv, weight, expected in [
            (lambda x, W: F.conv2d(x, W, stride=2, padding=1), W, np_conv2d(x, W, np.zeros(4), 2, 1, 1)),
            (lambda x, W: F.conv2d(x, W), W, np_conv2d(x, W, np.zeros(4), 1, 0, 1)),  # no padding
            (lambda x, W: F.conv_transpose2d(x, W, stride=2), Wt, np_conv_transpose2d(x, Wt, np.zeros(4), 2, 0, 0, 1))]:
        gy = rng.standard_normal(expected.shape)
        grads = []
        for x_, gy_ in [(x, gy), (stored(x), stored(gy))]:
            xt, Wt_ = Tensor(x_, requires_grad=True), Tensor(weight, requires_grad=True)
            y = conv(xt, Wt_)
            np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)
            y.backward(Tensor(gy_))
            grads.append((xt.grad.numpy(), Wt_.grad.numpy()))
        for a, b in zip(*grads):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_a_chain_of_convolutions_converts_no_image_between_layers():
    """A conv's output is an NCHW-shaped view of its (C, H, W, N) result, and elementwise ops keep
    that memory order, so the next conv takes its input without copying it ("Layout" in
    ops/convolution.py). Checked on the arrays themselves (shape NCHW, memory (C, H, W, N), the
    next layer's internal input shares memory with it) and on the values, against the plain
    formulas."""
    from minigan.ops.convolution import _to_internal
    rng = np.random.default_rng(5)
    x, W1, W2 = rng.standard_normal((4, 3, 8, 8)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal((5, 2, 4, 4))
    y = F.leaky_relu(F.conv2d(Tensor(x), Tensor(W1), padding=1), 0.2)
    assert y.shape == (4, 5, 8, 8) and not y.data.flags.c_contiguous
    assert y.data.transpose(1, 2, 3, 0).flags.c_contiguous  # stored (C, H, W, N)
    assert np.shares_memory(_to_internal(y.data), y.data)   # so the next conv copies nothing
    z = F.conv_transpose2d(y, Tensor(W2), stride=2, padding=1)
    h = np_conv2d(x, W1, np.zeros(5), 1, 1, 1)
    np.testing.assert_allclose(z.numpy(), np_conv_transpose2d(np.where(h > 0, h, 0.2 * h), W2, np.zeros(2), 2, 1, 0, 1),
                               rtol=1e-10, atol=1e-10)


def test_dropout_draws_its_mask_in_the_memory_order_of_its_input():
    """For a C-ordered input the mask is generator.random(x.shape) exactly (the stream dropout
    always drew); for a conv's (C, H, W, N)-ordered output the mask has that memory order too, so
    x * mask (forward) and gy * mask (backward) walk both arrays in the same order."""
    from minigan.ops.layer_functions import _uniform_like
    a = np.zeros((4, 3, 5, 6), np.float32)
    np.testing.assert_array_equal(_uniform_like(a, np.random.default_rng(7)),
                                  np.random.default_rng(7).random(a.shape, dtype=np.float32))
    chwn = np.zeros((3, 5, 6, 4), np.float32).transpose(3, 0, 1, 2)  # shape (4, 3, 5, 6)
    r = _uniform_like(chwn, np.random.default_rng(7))
    assert r.shape == chwn.shape and r.strides == chwn.strides
    np.testing.assert_array_equal(r.transpose(1, 2, 3, 0),
                                  np.random.default_rng(7).random((3, 5, 6, 4), dtype=np.float32))
    minigan.manual_seed(3)
    x = Tensor(np.ones((8, 10, 10, 64), np.float32).transpose(3, 0, 1, 2))  # NCHW shape, CHWN memory
    out = F.dropout(x, p=0.3).numpy()
    assert out.transpose(1, 2, 3, 0).flags.c_contiguous  # the product kept the input's order
    kept = (out != 0).mean()
    assert abs(kept - 0.7) < 0.01, kept  # 51,200 draws: the standard error is 0.002
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
