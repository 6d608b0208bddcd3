"""Gradient clipping (``minigan.nn.utils``): ``clip_grad_norm_`` and ``clip_grad_value_``.

The expected norms are computed here with NumPy over all the gradients concatenated into one vector.
"""
import numpy as np
import pytest

import minigan
from minigan import Tensor
from minigan.nn.utils import clip_grad_norm_, clip_grad_value_


def params_with_grads(scale=1.0, dtype="float64"):
    """Three parameters of different shapes with random gradients (times ``scale``)."""
    rng = np.random.default_rng(0)
    params = []
    for shape in [(3, 4), (5,), (2, 2, 2)]:
        p = minigan.zeros(*shape, dtype=dtype, requires_grad=True)
        p.grad = minigan.tensor(scale * rng.standard_normal(shape), dtype=dtype)
        params.append(p)
    return params


def all_grads(params):
    return np.concatenate([p.grad.numpy().ravel() for p in params if p.grad is not None])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), "inf"])
def test_returns_the_norm_before_clipping(norm_type):
    params = params_with_grads(scale=10.0)
    expected = np.linalg.norm(all_grads(params), ord=float(norm_type))
    total = clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total, Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), expected, rtol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_scales_all_gradients_together_down_to_max_norm(norm_type):
    """Above max_norm: every gradient is multiplied by one factor, and the new norm is max_norm."""
    params = params_with_grads(scale=10.0)
    before = all_grads(params)
    clip_grad_norm_(params, max_norm=2.5, norm_type=norm_type)
    after = all_grads(params)
    np.testing.assert_allclose(np.linalg.norm(after, ord=norm_type), 2.5, rtol=1e-6)
    factor = after / before
    np.testing.assert_allclose(factor, factor[0], rtol=1e-12)


def test_leaves_gradients_below_max_norm_untouched():
    params = params_with_grads(scale=0.01)
    grads = [p.grad for p in params]
    total = clip_grad_norm_(params, max_norm=1.0)
    assert total.item() < 1.0
    assert all(p.grad is g for p, g in zip(params, grads))


def test_skips_parameters_without_gradient_and_accepts_one_tensor():
    params = params_with_grads(scale=10.0)
    params[1].grad = None
    expected = np.linalg.norm(all_grads(params))
    np.testing.assert_allclose(clip_grad_norm_(params, 1.0).item(), expected, rtol=1e-12)
    assert params[1].grad is None
    np.testing.assert_allclose(np.linalg.norm(all_grads(params)), 1.0, rtol=1e-6)

    single = params[0]
    single.grad = minigan.tensor(np.full((3, 4), 3.0))
    np.testing.assert_allclose(clip_grad_norm_(single, 1.0).item(), np.sqrt(12 * 9.0), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(single.grad.numpy()), 1.0, rtol=1e-6)
    assert clip_grad_norm_([minigan.zeros(2, requires_grad=True)], 1.0).item() == 0.0


def test_shared_read_only_gradients_are_scaled_once():
    """The backward of a + b hands both parameters one read-only gradient array: clipping gives
    each a scaled copy instead of scaling that array twice (or failing to write it)."""
    a = minigan.zeros(4, dtype="float64", requires_grad=True)
    b = minigan.zeros(4, dtype="float64", requires_grad=True)
    ((a + b) * 3.0).sum().backward()
    total = clip_grad_norm_([a, b], max_norm=1.0)
    np.testing.assert_allclose(total.item(), np.sqrt(8 * 9.0), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(all_grads([a, b])), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_float32_gradients_stay_float32():
    params = params_with_grads(scale=10.0, dtype="float32")
    total = clip_grad_norm_(params, 1.0)
    assert total.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in params)
    clip_grad_value_(params, 0.1)
    assert all(p.grad.dtype == np.float32 for p in params)


def test_nonfinite_norm_can_raise():
    p = minigan.zeros(2, requires_grad=True)
    p.grad = minigan.tensor([np.inf, 1.0])
    assert clip_grad_norm_(p, 1.0).item() == np.inf
    np.testing.assert_array_equal(p.grad.numpy(), [np.inf, 1.0])   # left as they are
    with pytest.raises(RuntimeError, match=r"total 2-norm of the gradients is inf"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_each_entry():
    params = params_with_grads(scale=2.0)
    before = all_grads(params)
    params[2].grad = None
    clip_grad_value_(params, 0.5)
    np.testing.assert_array_equal(all_grads(params), np.clip(before[:12 + 5], -0.5, 0.5))
    assert params[2].grad is None
    single = minigan.zeros(3, requires_grad=True)
    single.grad = minigan.tensor([-3.0, 0.25, 7.0])
    clip_grad_value_(single, 1.0)
    np.testing.assert_array_equal(single.grad.numpy(), np.array([-1.0, 0.25, 1.0], np.float32))


@pytest.mark.parametrize("call, message", [
    (lambda ps: clip_grad_norm_(ps, -1.0), r"clip_grad_norm_: max_norm must be a number >= 0, got -1.0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=0), r"norm_type must be a number > 0 or inf, got 0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type="two"), r"norm_type must be a number > 0 or inf"),
    (lambda ps: clip_grad_value_(ps, -0.1), r"clip_grad_value_: clip_value must be a number >= 0, got -0.1"),
])
def test_bad_limits_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call(params_with_grads())


def test_non_tensors_are_refused():
    with pytest.raises(TypeError, match=r"clip_grad_norm_ expected Tensors, got ndarray at position 0"):
        clip_grad_norm_([np.ones(3)], 1.0)


@pytest.mark.gpu
def test_gpu_gradients_clip_as_on_the_cpu():
    cpu = params_with_grads(scale=10.0)
    gpu = [p.to("gpu") for p in cpu]
    for p, q in zip(cpu, gpu):
        q.grad = p.grad.to("gpu")
    total_cpu, total_gpu = clip_grad_norm_(cpu, 1.0), clip_grad_norm_(gpu, 1.0)
    assert total_gpu.device == "gpu"
    np.testing.assert_allclose(total_gpu.item(), total_cpu.item(), rtol=1e-12)
    clip_grad_value_(cpu, 0.05)
    clip_grad_value_(gpu, 0.05)
    for p, q in zip(cpu, gpu):
        assert q.grad.device == "gpu"
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-12, atol=1e-15)
