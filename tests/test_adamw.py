"""AdamW (``minigan.optim.AdamW``): Adam with decoupled weight decay, as PyTorch's.

* The update is checked against PyTorch's published AdamW algorithm (the ``torch.optim.AdamW``
  documentation), written out below as a float64 NumPy loop that calls no minigan code: 20 steps
  whose gradients a formula gives from the current parameters, compared after every step.
* Parameter groups with their own lr and weight_decay; float32; the decay really is decoupled
  (a zero gradient shrinks θ by exactly (1 − γλ) per step, where Adam's L2 decay moves it by ≈ γ).
* State dicts: a round trip through ``minigan.save`` resumes bit for bit, and Adam's and AdamW's
  state dicts are never taken for each other.

By hand (not here: tests never import torch), torch 2.13's ``torch.optim.AdamW`` on CPU gave the
same trajectories on this kind of problem: in float64 to 1e-15 (200 steps: 2.4e-15), in float32
to 1-2 units in the last place (|θ| ≈ 1: 1.2e-7 after 20 steps, 1.3e-6 after 200).
"""
import copy

import numpy as np
import pytest

import minigan
from minigan.optim import Adam, AdamW


def reference_adamw(theta0, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                    amsgrad=False):
    """PyTorch's documented AdamW, for t = 1, 2, ... (γ = lr, λ = weight_decay)::

        g_t = ∇f_t(θ_{t−1})
        θ_t = θ_{t−1} − γ λ θ_{t−1}
        m_t = β1 m_{t−1} + (1 − β1) g_t,        v_t = β2 v_{t−1} + (1 − β2) g_t²
        m̂_t = m_t / (1 − β1^t)
        amsgrad:  v_max = max(v_max, v_t),  v̂_t = v_max / (1 − β2^t)
        else:     v̂_t = v_t / (1 − β2^t)
        θ_t = θ_t − γ m̂_t / (√v̂_t + ε)

    with the gradients of ``gradient``. Returns θ after each step."""
    beta1, beta2 = betas
    theta = np.array(theta0, dtype=np.float64)
    m, v, v_max = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    trajectory = []
    for t in range(1, steps + 1):
        g = gradient(theta, t)
        theta = theta - lr * weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2 ** t)
        else:
            v_hat = v / (1 - beta2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(theta)
    return trajectory


def gradient(theta, t):
    """The gradient at step t: a formula of the current θ, so that every update feeds the next,
    with coordinates of very different scales (0.01 to 3), so that AMSGrad's max and the bias
    corrections matter."""
    scale = np.geomspace(0.01, 3.0, theta.size).reshape(theta.shape)
    return scale * (np.sin(2 * theta + 0.3 * t) + 0.5 * theta)


def start(shape=(2, 3), seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def run_minigan(optimizer_for, theta0s, steps, dtype="float64"):
    """Run an optimiser on one parameter per start in ``theta0s``, setting each gradient by hand
    from ``gradient``; returns each parameter's values after each step."""
    params = [minigan.tensor(theta0, dtype=dtype, requires_grad=True) for theta0 in theta0s]
    opt = optimizer_for(params)
    trajectories = [[] for _ in params]
    for t in range(1, steps + 1):
        for p in params:
            p.grad = minigan.tensor(gradient(p.numpy().astype(np.float64), t), dtype=dtype)
        opt.step()
        for p, trajectory in zip(params, trajectories):
            trajectory.append(p.numpy().copy())
    return trajectories


CASES = {
    "defaults": dict(),
    "large_lr_and_decay": dict(lr=0.05, weight_decay=0.5),
    "dcgan_betas": dict(lr=2e-4, betas=(0.5, 0.999), weight_decay=0.1),
    "wgan_gp_betas": dict(lr=1e-3, betas=(0.0, 0.9), weight_decay=0.1),
    "amsgrad": dict(lr=0.05, weight_decay=0.1, amsgrad=True),
    "amsgrad_short_memory": dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, amsgrad=True),
    "no_decay": dict(lr=0.05, weight_decay=0.0),
}


@pytest.mark.parametrize("name", CASES)
def test_trajectory_matches_pytorchs_published_algorithm(name):
    """20 steps in float64 agree with the reference after every step, to 1e-12."""
    kwargs = CASES[name]
    theta0 = start()
    got, = run_minigan(lambda params: AdamW(params, **kwargs), [theta0], 20)
    expected = reference_adamw(theta0, 20, **kwargs)
    for t, (a, b) in enumerate(zip(got, expected), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"step {t}")
    assert np.abs(got[-1] - theta0).max() > 10 * kwargs.get("lr", 1e-3), "the parameters hardly moved"


def test_the_problem_exercises_the_decay_and_amsgrad():
    """On this problem the weight decay and AMSGrad change the trajectory by far more than the
    1e-12 tolerance, so the comparisons above really test those lines. (With β2 = 0.999 AMSGrad
    changes 20 steps by only ~1e-5, still far above the tolerance; with β2 = 0.9 by ~0.05.)"""
    theta0 = start()

    def change(**kwargs):
        betas = kwargs.pop("betas", (0.9, 0.999))
        plain = reference_adamw(theta0, 20, lr=0.05, betas=betas, weight_decay=0.0)[-1]
        return np.abs(reference_adamw(theta0, 20, lr=0.05, betas=betas, **kwargs)[-1] - plain).max()

    assert change(weight_decay=0.1) > 1e-2
    assert change(weight_decay=0.0, amsgrad=True) > 1e-6
    assert change(weight_decay=0.0, amsgrad=True, betas=(0.9, 0.9)) > 1e-2


def test_each_group_uses_its_own_lr_and_weight_decay():
    """Three groups: the defaults, their own lr and weight_decay, and no decay. Each follows the
    reference with its own settings, as if it were alone."""
    theta0s = [start((2, 3), seed=1), start((4,), seed=2), start((3,), seed=3)]
    settings = [dict(), dict(lr=0.03, weight_decay=0.5), dict(weight_decay=0.0)]
    defaults = dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05)

    def make(params):
        return AdamW([dict(params=[p], **own) for p, own in zip(params, settings)], **defaults)

    got = run_minigan(make, theta0s, 20)
    for i, (theta0, own) in enumerate(zip(theta0s, settings)):
        expected = reference_adamw(theta0, 20, **{**defaults, **own})
        for t, (a, b) in enumerate(zip(got[i], expected), start=1):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"group {i}, step {t}")
    # and the groups differ: each really used its own settings
    assert np.abs(got[1][-1] - reference_adamw(theta0s[1], 20, **defaults)[-1]).max() > 1e-2


def test_float32_stays_float32_and_agrees_with_the_float64_reference():
    """float32 parameter, gradients and buffers stay float32, and 20 steps end within float32
    rounding of the float64 reference (|θ| ≈ 1, so a few units of 6e-8)."""
    kwargs = dict(lr=0.01, weight_decay=0.1, amsgrad=True)
    theta0 = start().astype(np.float32).astype(np.float64)  # a start that float32 holds exactly
    params = [minigan.tensor(theta0, dtype="float32", requires_grad=True)]
    opt = AdamW(params, **kwargs)
    for t in range(1, 21):
        params[0].grad = minigan.tensor(gradient(params[0].numpy().astype(np.float64), t), dtype="float32")
        opt.step()
    p = params[0]
    assert p.dtype == np.float32
    assert all(value.dtype == np.float32 for value in opt.state[p].values() if hasattr(value, "shape"))
    expected = reference_adamw(theta0, 20, **kwargs)[-1]
    np.testing.assert_allclose(p.numpy(), expected, rtol=0, atol=1e-6)
    assert np.abs(p.numpy() - expected).max() > 0  # it really ran in float32


def test_the_decay_is_decoupled_from_the_gradient():
    """With zero gradients the moments stay 0, so AdamW only shrinks θ: θ_t = (1 − γλ)^t θ_0.
    Adam's L2 decay instead feeds λθ through the moments and the division by √v̂, so every
    coordinate moves by about γ per step, whatever its size."""
    lr, weight_decay, steps = 0.1, 0.2, 10
    theta0 = np.array([4.0, -0.5, 0.01])
    for cls in (AdamW, Adam):
        p = minigan.tensor(theta0, dtype="float64", requires_grad=True)
        opt = cls([p], lr=lr, weight_decay=weight_decay)
        for _ in range(steps):
            p.grad = minigan.zeros(3, dtype="float64")
            opt.step()
        if cls is AdamW:
            np.testing.assert_allclose(p.numpy(), (1 - lr * weight_decay) ** steps * theta0, rtol=1e-14)
        else:
            moved = np.abs(theta0 - p.numpy())
            assert moved[0] > 0.5 and moved[1] > 0.3  # about γ per step, not 2% of θ per step


def test_without_decay_adamw_is_adam_bit_for_bit():
    """weight_decay = 0: the decay line is the only difference, so the two agree exactly."""
    theta0 = start()
    kwargs = dict(lr=0.01, betas=(0.5, 0.999), weight_decay=0.0, amsgrad=True)
    adamw, = run_minigan(lambda params: AdamW(params, **kwargs), [theta0], 10, dtype="float32")
    adam, = run_minigan(lambda params: Adam(params, **kwargs), [theta0], 10, dtype="float32")
    for a, b in zip(adamw, adam):
        np.testing.assert_array_equal(a, b)


def test_defaults_are_pytorchs():
    p = minigan.randn(3, requires_grad=True)
    group = {key: value for key, value in AdamW([p]).param_groups[0].items() if key != "params"}
    assert group == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                         decoupled_weight_decay=True)


# --- state dicts ----------------------------------------------------------------------------------

def test_state_dict_round_trips_through_minigan_save(tmp_path):
    """3 steps, save to a file, load into a fresh AdamW (other hyperparameters) on copies of the
    parameters: 2 more steps on both give bitwise the same parameters."""
    params = [minigan.randn(3, 2, requires_grad=True), minigan.randn(2, requires_grad=True)]

    def make(ps, lr):
        return AdamW([{"params": ps[:1], "lr": 0.05, "weight_decay": 0.3}, {"params": ps[1:]}],
                     lr=lr, amsgrad=True)

    opt = make(params, lr=0.01)
    rng = np.random.default_rng(0)
    grads = [[rng.standard_normal(p.shape).astype(np.float32) for p in params] for _ in range(5)]

    def step(o, ps, k):
        for p, g in zip(ps, grads[k]):
            p.grad = minigan.tensor(g)
        o.step()

    for k in range(3):
        step(opt, params, k)
    path = tmp_path / "adamw.npz"
    minigan.save(opt.state_dict(), path)
    copies = [minigan.tensor(p, requires_grad=True) for p in params]
    fresh = make(copies, lr=0.5)
    fresh.load_state_dict(minigan.load(path))
    assert [g["lr"] for g in fresh.param_groups] == [0.05, 0.01]
    assert [g["decoupled_weight_decay"] for g in fresh.param_groups] == [True, True]
    for k in (3, 4):
        step(opt, params, k)
        step(fresh, copies, k)
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_adam_and_adamw_state_dicts_are_never_taken_for_each_other():
    """Same buffers, other decay: loading one into the other is refused, and changes nothing."""
    params = [minigan.randn(3, requires_grad=True)]
    adam, adamw = Adam(params, weight_decay=0.01), AdamW(params)
    for opt in (adam, adamw):
        params[0].grad = minigan.ones(3)
        opt.step()
    before = copy.deepcopy(adamw.state_dict())
    with pytest.raises(ValueError, match=r"AdamW.load_state_dict: parameter group 0 of the state dict has no "
                                         r"'decoupled_weight_decay', which every AdamW group has.*another type"):
        adamw.load_state_dict(adam.state_dict())
    after = adamw.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])
    with pytest.raises(ValueError, match=r"Adam.load_state_dict, parameter group 0: decoupled_weight_decay = "
                                         r"True makes this a group of AdamW, not of Adam.*give it to AdamW"):
        adam.load_state_dict(adamw.state_dict())
    assert "decoupled_weight_decay" not in adam.param_groups[0]


def test_bad_arguments_are_named():
    ps = [minigan.randn(3, requires_grad=True)]
    with pytest.raises(ValueError, match=r"AdamW parameter group 0: invalid weight_decay = -0.1; expected a number >= 0"):
        AdamW(ps, weight_decay=-0.1)
    with pytest.raises(ValueError, match=r"invalid lr = -0.001"):
        AdamW(ps, lr=-1e-3)
    with pytest.raises(ValueError, match=r"invalid beta1 \(betas\[0\]\) = 1.0"):
        AdamW(ps, betas=(1.0, 0.999))
    with pytest.raises(TypeError, match=r"amsgrad must be True or False, got 'no'"):
        AdamW(ps, amsgrad="no")
    with pytest.raises(ValueError, match=r"AdamW parameter group 0: decoupled_weight_decay = False makes this "
                                         r"a group of Adam, not of AdamW"):
        AdamW([{"params": ps, "decoupled_weight_decay": False}])
    with pytest.raises(TypeError, match=r"decoupled_weight_decay must be True or False, got 1"):
        Adam([{"params": ps, "decoupled_weight_decay": 1}])


@pytest.mark.gpu
def test_gpu_trajectory_matches_the_reference():
    """On the GPU the same code gives the reference trajectory, with its buffers on the GPU."""
    theta0 = start()
    kwargs = CASES["amsgrad"]
    p = minigan.tensor(theta0, dtype="float64", requires_grad=True, device="gpu")
    opt = AdamW([p], **kwargs)
    for t in range(1, 21):
        p.grad = minigan.tensor(gradient(p.numpy(), t), dtype="float64", device="gpu")
        opt.step()
    np.testing.assert_allclose(p.numpy(), reference_adamw(theta0, 20, **kwargs)[-1], rtol=1e-10, atol=1e-10)
    assert p.device == "gpu" and minigan.backend.device_of(opt.state[p]["exp_avg"]) == "gpu"
