"""The optimisers (``minigan.optim``): SGD, Adam and RMSprop (and AdamW in the shared checks below;
its update is checked in ``test_adamw.py``).

* Each update rule is checked against a reference written here, from the published equations,
  as a plain float64 loop that calls no minigan code: a few steps with fixed gradients must agree
  to 1e-12.
* Each optimiser must minimise a convex quadratic, and Adam the Rosenbrock function, within a
  stated number of steps (the budgets are about twice what the runs need; see the comments).
* The mechanics: parameter groups, parameters without a gradient, in-place updates, float32,
  ``zero_grad``, ``state_dict`` / ``load_state_dict``, and the errors for bad input.
"""
import copy

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.optim import SGD, Adam, AdamW, Optimizer, RMSprop

TOL = dict(rtol=1e-12, atol=1e-12)


# --- references: the published equations, as plain NumPy loops in float64 ----------------------

def reference_sgd(theta, grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """PyTorch's SGD: b_1 = g, b_t = μ b_{t−1} + (1 − τ) g;
    g ← g + μ b (Nesterov) or g ← b; θ ← θ − γ g."""
    theta, b = theta.copy(), None
    for g in grads:
        g = g + weight_decay * theta
        if momentum != 0:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
    return theta


def reference_adam(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False):
    """Kingma & Ba (2015), Algorithm 1, with L2 weight decay and PyTorch's AMSGrad."""
    beta1, beta2 = betas
    theta = theta.copy()
    m, v, v_max = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2 ** t)
        else:
            v_hat = v / (1 - beta2 ** t)
        m_hat = m / (1 - beta1 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def reference_rmsprop(theta, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False):
    """PyTorch's RMSprop: v = α v + (1 − α) g², optionally centred and with momentum."""
    theta = theta.copy()
    v, g_avg, b = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for g in grads:
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g ** 2
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            d = np.sqrt(v - g_avg ** 2) + eps
        else:
            d = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / d
            theta = theta - lr * b
        else:
            theta = theta - lr * g / d
    return theta


def fixed_problem():
    """A start θ_0 (2 x 3) and five fixed gradients of very different sizes (so AMSGrad's max
    and the bias corrections matter)."""
    rng = np.random.default_rng(1)
    theta0 = rng.standard_normal((2, 3))
    grads = [scale * rng.standard_normal((2, 3)) for scale in (3.0, 1.0, 0.1, 2.0, 0.01)]
    return theta0, grads


def run_minigan(make_optimizer, theta0, grads, device=None):
    """Run the optimiser on one float64 parameter, setting its gradient by hand at each step."""
    p = minigan.tensor(theta0, dtype="float64", requires_grad=True, device=device)
    opt = make_optimizer([p])
    for g in grads:
        p.grad = minigan.tensor(g, dtype="float64", device=device)
        opt.step()
    return p.numpy()


REFERENCE_CASES = {
    "sgd": (SGD, reference_sgd, dict(lr=0.1)),
    "sgd_momentum": (SGD, reference_sgd, dict(lr=0.1, momentum=0.9)),
    "sgd_nesterov": (SGD, reference_sgd, dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_dampening": (SGD, reference_sgd, dict(lr=0.1, momentum=0.8, dampening=0.3)),
    "sgd_weight_decay": (SGD, reference_sgd, dict(lr=0.1, weight_decay=0.05)),
    "sgd_all": (SGD, reference_sgd, dict(lr=0.1, momentum=0.7, dampening=0.2, weight_decay=0.05)),
    "adam": (Adam, reference_adam, dict(lr=0.01)),
    "adam_dcgan_betas": (Adam, reference_adam, dict(lr=2e-4, betas=(0.5, 0.999))),
    "adam_wgan_gp_betas": (Adam, reference_adam, dict(lr=1e-4, betas=(0.0, 0.9))),
    "adam_amsgrad": (Adam, reference_adam, dict(lr=0.01, amsgrad=True)),
    "adam_amsgrad_short_memory": (Adam, reference_adam, dict(lr=0.01, betas=(0.9, 0.9), amsgrad=True)),
    "adam_weight_decay": (Adam, reference_adam, dict(lr=0.01, weight_decay=0.1)),
    "adam_amsgrad_weight_decay": (Adam, reference_adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    "rmsprop": (RMSprop, reference_rmsprop, dict(lr=0.01)),
    "rmsprop_centered": (RMSprop, reference_rmsprop, dict(lr=0.01, centered=True)),
    "rmsprop_momentum": (RMSprop, reference_rmsprop, dict(lr=0.01, momentum=0.9)),
    "rmsprop_all": (RMSprop, reference_rmsprop,
                    dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", REFERENCE_CASES)
def test_update_matches_published_equations(name):
    """Five steps with fixed gradients agree with the reference loop to 1e-12."""
    cls, reference, kwargs = REFERENCE_CASES[name]
    theta0, grads = fixed_problem()
    got = run_minigan(lambda params: cls(params, **kwargs), theta0, grads)
    np.testing.assert_allclose(got, reference(theta0, grads, **kwargs), **TOL)
    assert not np.allclose(got, theta0), "the parameters did not move"


def test_the_fixed_gradients_exercise_amsgrad_and_weight_decay():
    """On the fixed problem AMSGrad and weight decay change the answer by far more than the
    1e-12 tolerance, so the reference comparisons above really test those branches."""
    theta0, grads = fixed_problem()

    def change(**kwargs):
        plain = reference_adam(theta0, grads, lr=0.01, betas=kwargs.pop("betas", (0.9, 0.999)))
        return np.abs(reference_adam(theta0, grads, lr=0.01, **kwargs) - plain).max()

    assert change(amsgrad=True) > 1e-6
    assert change(amsgrad=True, betas=(0.9, 0.9)) > 1e-4
    assert change(weight_decay=0.1) > 1e-5


# --- convergence ---------------------------------------------------------------------------------

def quadratic_problem(n=5):
    """f(x) = ½ xᵀAx − bᵀx with A symmetric positive definite (eigenvalues 1 ... 10); its
    minimiser is x* = A⁻¹b (with L2 weight decay λ: (A + λI)⁻¹b)."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.linspace(1.0, 10.0, n)) @ Q.T
    b = rng.standard_normal(n)
    return A, b


# (optimiser, hyperparameters, steps, tolerance on |x − x*|). Measured from x = 0 (|x*| ≈ 0.63):
# SGD reaches 1e-6 after ~130 steps (momentum ~250, Nesterov ~160), Adam after ~255; RMSprop with a
# constant lr ends up hovering within about lr of x* (|x − x*| ≈ 1.4e-3, below 1e-2 from step ~580).
CONVERGENCE_CASES = {
    "sgd": (SGD, dict(lr=0.1), 500, 1e-6),
    "sgd_momentum": (SGD, dict(lr=0.05, momentum=0.9), 500, 1e-6),
    "sgd_nesterov": (SGD, dict(lr=0.05, momentum=0.9, nesterov=True), 500, 1e-6),
    "sgd_weight_decay": (SGD, dict(lr=0.1, weight_decay=0.5), 500, 1e-6),
    "adam": (Adam, dict(lr=0.05), 500, 1e-6),
    "adam_amsgrad": (Adam, dict(lr=0.05, amsgrad=True), 500, 1e-6),
    "adam_weight_decay": (Adam, dict(lr=0.05, weight_decay=0.5), 500, 1e-6),
    "rmsprop": (RMSprop, dict(lr=1e-3), 1000, 1e-2),
    "rmsprop_centered": (RMSprop, dict(lr=1e-3, centered=True), 1000, 1e-2),
    "rmsprop_momentum": (RMSprop, dict(lr=1e-3, momentum=0.5), 1000, 1e-2),
}


@pytest.mark.parametrize("name", CONVERGENCE_CASES)
def test_minimises_a_convex_quadratic(name):
    """Gradients from minigan's backward, updates from the optimiser: x reaches A⁻¹b."""
    cls, kwargs, steps, tol = CONVERGENCE_CASES[name]
    A, b = quadratic_problem()
    x_star = np.linalg.solve(A + kwargs.get("weight_decay", 0.0) * np.eye(len(b)), b)
    A_t, b_t = minigan.tensor(A, dtype="float64"), minigan.tensor(b, dtype="float64")
    x = minigan.zeros(len(b), dtype="float64", requires_grad=True)
    opt = cls([x], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * (x @ (A_t @ x)) - b_t @ x
        loss.backward()
        opt.step()
    assert np.linalg.norm(x.numpy() - x_star) < tol


def test_adam_minimises_rosenbrock():
    """f(x, y) = (1 − x)² + 100 (y − x²)², from (−1.5, 2): Adam (lr 0.02) is within 1e-2 of the
    minimum (1, 1) after 3000 steps (it gets there after about 2000, and stays)."""
    xy = minigan.tensor([-1.5, 2.0], dtype="float64", requires_grad=True)
    opt = Adam([xy], lr=0.02)
    for _ in range(3000):
        opt.zero_grad()
        x, y = xy[0], xy[1]
        loss = (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
        loss.backward()
        opt.step()
    assert np.linalg.norm(xy.numpy() - 1.0) < 1e-2


# --- parameter groups and gradients ----------------------------------------------------------------

@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop])
def test_each_group_uses_its_own_learning_rate(cls):
    """Two groups, the same gradient, lr 0.1 and 0.01: the first moves ten times as far
    (for Adam and RMSprop the first step is proportional to lr too)."""
    a = minigan.ones(4, dtype="float64", requires_grad=True)
    b = minigan.ones(4, dtype="float64", requires_grad=True)
    opt = cls([{"params": [a], "lr": 0.1}, {"params": [b]}], lr=0.01)
    assert [group["lr"] for group in opt.param_groups] == [0.1, 0.01]
    grad = np.array([1.0, -2.0, 0.5, 3.0])
    a.grad, b.grad = minigan.tensor(grad), minigan.tensor(grad)
    opt.step()
    moved_a, moved_b = 1.0 - a.numpy(), 1.0 - b.numpy()
    np.testing.assert_allclose(moved_a, 10 * moved_b, rtol=1e-12)
    assert np.all(moved_b != 0)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: Adam(ps, weight_decay=0.1),
                                  lambda ps: RMSprop(ps, centered=True, momentum=0.9)])
def test_parameters_without_gradient_are_left_alone(make):
    """A parameter whose .grad is None (not used by the loss) keeps its value and gets no state,
    even with weight decay or momentum."""
    used = minigan.randn(3, requires_grad=True)
    unused = minigan.randn(3, requires_grad=True)
    before = unused.numpy().copy()
    opt = make([used, unused])
    for _ in range(3):
        opt.zero_grad()
        (used * used).sum().backward()
        opt.step()
    assert unused.grad is None
    np.testing.assert_array_equal(unused.numpy(), before)
    assert unused not in opt.state and used in opt.state


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
                                  lambda ps: Adam(ps, amsgrad=True),
                                  lambda ps: RMSprop(ps, centered=True, momentum=0.9)])
def test_shared_read_only_gradients_are_not_written(make):
    """The backward of a + b gives both the same read-only gradient array: the update must only
    read it, so both parameters move the same way."""
    a = minigan.zeros(3, requires_grad=True)
    b = minigan.zeros(3, requires_grad=True)
    opt = make([a, b])
    for _ in range(3):
        opt.zero_grad()
        ((a + b) * minigan.tensor([1.0, 2.0, 3.0])).sum().backward()
        opt.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert np.all(a.numpy() != 0)


def test_step_calls_the_closure_and_returns_its_loss():
    """As in PyTorch, step(closure) re-evaluates the loss (with its backward) and returns it."""
    w = minigan.tensor([2.0], requires_grad=True)
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0
    assert w.item() == 1.0   # 2 − 0.25 · 2w


def test_zero_grad_sets_grads_to_none_or_zeros():
    a, b = minigan.randn(2, requires_grad=True), minigan.randn(3, requires_grad=True)
    opt = Adam([a, b])
    (a.sum() + b.sum()).backward()
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    (a.sum() * 2).backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros(2, dtype=np.float32))
    assert a.grad.dtype == np.float32 and b.grad is None


# --- in place, float32 ----------------------------------------------------------------------------

ALL_BUFFERS = {
    "sgd": lambda ps: SGD(ps, lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, amsgrad=True, weight_decay=0.01),
    "adamw": lambda ps: AdamW(ps, amsgrad=True, weight_decay=0.01),
    "rmsprop": lambda ps: RMSprop(ps, centered=True, momentum=0.9, weight_decay=0.01),
}


@pytest.mark.parametrize("name", ALL_BUFFERS)
def test_updates_are_in_place(name):
    """p.data and every state buffer stay the same array objects from step to step: the moments
    are allocated once, on the first step, and then updated in place."""
    p = minigan.randn(4, 3, requires_grad=True)
    data = p.data
    opt = ALL_BUFFERS[name]([p])
    p.grad = minigan.randn(4, 3)
    opt.step()
    buffers = {key: id(value) for key, value in opt.state[p].items() if hasattr(value, "shape")}
    assert buffers, "no state buffers were made"
    for _ in range(4):
        p.grad = minigan.randn(4, 3)
        opt.step()
    assert p.data is data
    assert {key: id(opt.state[p][key]) for key in buffers} == buffers


@pytest.mark.parametrize("name", ALL_BUFFERS)
def test_float32_stays_float32(name):
    """float32 parameters, gradients and buffers stay float32 through the bias corrections."""
    p = minigan.randn(5, requires_grad=True)
    opt = ALL_BUFFERS[name]([p])
    for _ in range(6):
        opt.zero_grad()
        (p * p * p).sum().backward()
        opt.step()
    assert p.dtype == np.float32
    for key, value in opt.state[p].items():
        if hasattr(value, "shape"):
            assert value.dtype == np.float32, key
    assert isinstance(opt.state[p].get("step", 0), int)


@pytest.mark.parametrize("cls, kwargs", [
    (SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    (Adam, dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=True)),
    (AdamW, dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=True)),
    (RMSprop, dict(lr=5e-5, alpha=0.99, eps=1e-8, momentum=0.5, centered=True)),
])
def test_numpy_scalar_hyperparameters_compute_in_float32(cls, kwargs):
    """np.float64 hyperparameters (from a config file, say) would compute a float32 update in
    float64 under NumPy 2's rules; the optimiser turns them into Python numbers, so the float32
    result is bitwise the same as with Python floats."""
    as_numpy = {k: (tuple(map(np.float64, v)) if isinstance(v, tuple) else
                    v if isinstance(v, bool) else np.float64(v)) for k, v in kwargs.items()}
    results = []
    for hyper in (kwargs, as_numpy):
        p = minigan.tensor(np.linspace(-1, 1, 7), dtype="float32", requires_grad=True)
        opt = cls([p], **hyper)
        for k in range(4):
            p.grad = minigan.tensor(np.cos(np.arange(7) + k), dtype="float32")
            opt.step()
        results.append(p.numpy())
    assert results[0].dtype == np.float32
    np.testing.assert_array_equal(results[0], results[1])


# --- state_dict / load_state_dict ------------------------------------------------------------------

ROUND_TRIP = {
    "sgd": lambda groups, lr: SGD(groups, lr=lr, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "adam": lambda groups, lr: Adam(groups, lr=lr, betas=(0.5, 0.999), amsgrad=True),
    "adamw": lambda groups, lr: AdamW(groups, lr=lr, betas=(0.5, 0.999), weight_decay=0.1),
    "rmsprop": lambda groups, lr: RMSprop(groups, lr=lr, centered=True, momentum=0.9),
}


def two_groups(params, lr_first):
    return [{"params": params[:2], "lr": lr_first}, {"params": params[2:]}]


def step_with(opt, params, seed):
    rng = np.random.default_rng(seed)
    for p in params:
        p.grad = minigan.tensor(rng.standard_normal(p.shape), dtype=p.dtype)
    opt.step()


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_state_dict_round_trip_resumes_bitwise(name):
    """3 steps, save; a fresh optimiser (other hyperparameters) on copies of the parameters loads
    the state; 2 more steps on both give bitwise the same parameters and state."""
    make = ROUND_TRIP[name]
    params = [minigan.randn(*shape, requires_grad=True) for shape in [(3, 2), (2,), (4,)]]
    opt = make(two_groups(params, 0.05), lr=0.01)
    for seed in range(3):
        step_with(opt, params, seed)
    saved = opt.state_dict()

    copies = [minigan.tensor(p, requires_grad=True) for p in params]
    fresh = make(two_groups(copies, 0.5), lr=0.3)
    fresh.load_state_dict(saved)
    assert [g["lr"] for g in fresh.param_groups] == [0.05, 0.01]
    for seed in (3, 4):
        step_with(opt, params, seed)
        step_with(fresh, copies, seed)
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert opt.state[p].keys() == fresh.state[q].keys()
        for key in opt.state[p]:
            np.testing.assert_array_equal(opt.state[p][key], fresh.state[q][key])


def test_state_dict_is_a_snapshot():
    """The saved arrays are copies: later steps do not change them, and loading copies them again
    (two optimisers loaded from one state dict never share a buffer)."""
    p = minigan.randn(3, requires_grad=True)
    opt = Adam([p])
    step_with(opt, [p], 0)
    saved = opt.state_dict()
    exp_avg = saved["state"][0]["exp_avg"].copy()
    step_with(opt, [p], 1)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], exp_avg)
    assert saved["state"][0]["step"] == 1
    other = Adam([minigan.randn(3, requires_grad=True)])
    other.load_state_dict(saved)
    assert not np.shares_memory(other.state[other.param_groups[0]["params"][0]]["exp_avg"],
                                saved["state"][0]["exp_avg"])


def assert_plain_values(obj, where="state_dict"):
    """Only NumPy arrays, ints, floats, bools, tuples, lists and dicts with int/str keys."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            assert type(key) in (int, str), f"{where} has a key of type {type(key).__name__}"
            assert_plain_values(value, f"{where}[{key!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            assert_plain_values(value, f"{where}[{i}]")
    else:
        assert type(obj) in (np.ndarray, int, float, bool), f"{where} is a {type(obj).__name__}"


def test_state_dict_layout_is_pytorchs():
    """{"state": {index: {...}}, "param_groups": [{hyperparameters..., "params": [indices]}]},
    parameters numbered across groups in order; only plain values (saveable to .npz)."""
    params = [minigan.randn(2, requires_grad=True) for _ in range(3)]
    opt = Adam([{"params": params[:2], "lr": 0.1}, {"params": params[2:]}], betas=(0.5, 0.999))
    params[0].grad = minigan.ones(2)
    params[2].grad = minigan.ones(2)
    opt.step()
    saved = opt.state_dict()
    assert set(saved) == {"state", "param_groups"}
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert saved["param_groups"][0] == dict(lr=0.1, betas=(0.5, 0.999), eps=1e-8, weight_decay=0,
                                            amsgrad=False, params=[0, 1])
    assert set(saved["state"]) == {0, 2}   # parameter 1 had no gradient, so no state yet
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    for opt_ in (opt, *(make([p for p in params], 0.1) for make in ROUND_TRIP.values())):
        for p in params:
            p.grad = minigan.ones(2)
        opt_.step()
        assert_plain_values(opt_.state_dict())


def test_load_state_dict_accepts_numbers_as_a_file_gives_them_back():
    """A file format may return the step and hyperparameters as NumPy scalars or 0-d arrays, the
    keys as strings and the buffers as float64: loading turns them back into ints, Python floats
    and float32 buffers, and the next steps are bitwise those of the original."""
    params = [minigan.randn(3, requires_grad=True)]
    opt = Adam(params, lr=1e-3, betas=(0.5, 0.999))
    for seed in range(3):
        step_with(opt, params, seed)
    saved = opt.state_dict()
    mangled = {
        "state": {str(i): {"step": np.array(s["step"]), "exp_avg": s["exp_avg"].astype(np.float64),
                           "exp_avg_sq": s["exp_avg_sq"].astype(np.float64)}
                  for i, s in saved["state"].items()},
        "param_groups": [{key: (np.array(value) if key != "params" else value)
                          for key, value in g.items()} for g in saved["param_groups"]],
    }
    copies = [minigan.tensor(p, requires_grad=True) for p in params]
    fresh = Adam(copies)
    fresh.load_state_dict(mangled)
    state = fresh.state[copies[0]]
    assert type(state["step"]) is int and state["exp_avg"].dtype == np.float32
    assert fresh.param_groups[0]["betas"] == (0.5, 0.999) and type(fresh.param_groups[0]["lr"]) is float
    step_with(opt, params, 3)
    step_with(fresh, copies, 3)
    np.testing.assert_array_equal(params[0].numpy(), copies[0].numpy())


def test_load_state_dict_errors_say_what_differs():
    params = [minigan.randn(3, requires_grad=True) for _ in range(3)]
    opt = SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1, momentum=0.9)
    for p in params:
        p.grad = minigan.ones(3)
    opt.step()
    saved = opt.state_dict()

    one_group = SGD(params, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"state dict has 2 parameter group\(s\) but this optimiser has 1"):
        one_group.load_state_dict(saved)

    other_split = SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError,
                       match=r"parameter group 0 has 2 parameter\(s\) in the state dict but 1 here"):
        other_split.load_state_dict(saved)

    other_shapes = [minigan.randn(3, requires_grad=True), minigan.randn(2, 2, requires_grad=True),
                    minigan.randn(3, requires_grad=True)]
    mismatch = SGD([{"params": other_shapes[:2]}, {"params": other_shapes[2:]}], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 1 has shape \(3,\) but the "
                                         r"parameter has shape \(2, 2\)"):
        mismatch.load_state_dict(saved)
    assert mismatch.state == {}, "a failed load must leave the optimiser unchanged"

    with pytest.raises(ValueError,
                       match=r"expected a dict with keys 'state' and 'param_groups'.*got \['state'\]"):
        opt.load_state_dict({"state": {}})

    bad_lr = copy.deepcopy(saved)
    bad_lr["param_groups"][1]["lr"] = -1.0
    with pytest.raises(ValueError, match=r"parameter group 1: invalid lr = -1.0"):
        opt.load_state_dict(bad_lr)


def test_load_state_dict_refuses_another_optimisers_state_and_changes_nothing():
    """Adam's state in an RMSprop (or the reverse) would load "successfully" and fail at the next
    step (no 'square_avg'); each type's hyperparameters tell them apart, so it is refused at once."""
    params = [minigan.randn(3, requires_grad=True), minigan.randn(2, requires_grad=True)]
    made = {SGD: SGD(params, lr=0.1, momentum=0.9), Adam: Adam(params), RMSprop: RMSprop(params)}
    for opt in made.values():
        step_with(opt, params, 0)
    cases = [(RMSprop, Adam, "'alpha', 'momentum', 'centered'"), (Adam, RMSprop, "'betas', 'amsgrad'"),
             (Adam, SGD, "'betas', 'eps', 'amsgrad'"), (SGD, Adam, "'momentum', 'dampening', 'nesterov'")]
    for loader, saver, lacking in cases:
        opt = made[loader]
        before = opt.state_dict()
        with pytest.raises(ValueError, match=rf"{loader.__name__}.load_state_dict: parameter group 0 of the "
                                             rf"state dict has no {lacking}, which every .*another type"):
            opt.load_state_dict(made[saver].state_dict())
        after = opt.state_dict()
        assert after["param_groups"] == before["param_groups"] and after["state"].keys() == before["state"].keys()
        for i, state in before["state"].items():
            for key, value in state.items():
                np.testing.assert_array_equal(after["state"][i][key], value)


def test_load_state_dict_checks_every_parameter_before_changing_any():
    """A bad shape in the last parameter's state: the earlier parameters keep their own state."""
    params = [minigan.randn(3, requires_grad=True), minigan.randn(2, requires_grad=True)]
    opt = Adam(params)
    step_with(opt, params, 0)
    saved = opt.state_dict()
    step_with(opt, params, 1)
    exp_avg = opt.state[params[0]]["exp_avg"].copy()
    saved["state"][1]["exp_avg"] = np.zeros(5, dtype=np.float32)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 1 has shape \(5,\) but the parameter has shape \(2,\)"):
        opt.load_state_dict(saved)
    np.testing.assert_array_equal(opt.state[params[0]]["exp_avg"], exp_avg)
    assert opt.state[params[0]]["step"] == 2


# --- bad input -------------------------------------------------------------------------------------

def test_bad_parameter_lists_are_refused_clearly():
    w = minigan.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])
    gen = (p for p in [w])
    Adam(gen)
    with pytest.raises(ValueError, match=r"empty parameter list.*generator"):
        Adam(gen)                                   # the generator is used up
    with pytest.raises(TypeError, match=r"expected Tensors, got ndarray at position 1"):
        Adam([w, np.zeros(3)])
    with pytest.raises(ValueError, match=r"shape \(2,\) at position 0 does not require grad"):
        Adam([minigan.zeros(2)])
    with pytest.raises(TypeError, match=r"got a single Tensor of shape \(3,\); wrap it in a list"):
        Adam(w)
    with pytest.raises(ValueError, match=r"computed by an op"):
        Adam([w * 2])
    with pytest.raises(ValueError, match=r"appears twice"):
        Adam([w, w])
    with pytest.raises(ValueError, match=r"parameter group 1.*appears twice"):
        Adam([{"params": [w]}, {"params": [w]}])
    with pytest.raises(TypeError, match=r"got a set"):
        Adam({w})
    with pytest.raises(TypeError, match=r"expected an iterable of Tensors.*got int"):
        Adam(3)


@pytest.mark.parametrize("make, message", [
    (lambda ps: SGD(ps), r"SGD parameter group 0 has no 'lr'.*SGD\(params, lr=0.01\)"),
    (lambda ps: SGD(ps, lr=-0.1), r"invalid lr = -0.1; expected a number >= 0"),
    (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), r"invalid momentum = -0.5"),
    (lambda ps: SGD(ps, lr=0.1, weight_decay=-1), r"invalid weight_decay = -1"),
    (lambda ps: SGD(ps, lr=0.1, nesterov=True), r"Nesterov momentum needs momentum > 0"),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), r"and dampening = 0"),
    (lambda ps: Adam(ps, lr=-1e-3), r"invalid lr = -0.001"),
    (lambda ps: Adam(ps, eps=-1e-8), r"invalid eps = -1e-08"),
    (lambda ps: Adam(ps, weight_decay=-0.1), r"invalid weight_decay = -0.1"),
    (lambda ps: Adam(ps, betas=(1.0, 0.999)),
     r"invalid beta1 \(betas\[0\]\) = 1.0; expected a number in \[0, 1\)"),
    (lambda ps: Adam(ps, betas=(0.9, -0.1)), r"invalid beta2 \(betas\[1\]\) = -0.1"),
    (lambda ps: Adam(ps, lr=float("nan")), r"invalid lr = nan"),
    (lambda ps: RMSprop(ps, alpha=1.5), r"invalid alpha = 1.5; expected a number in \[0, 1\]"),
    (lambda ps: RMSprop(ps, eps=-1.0), r"invalid eps = -1.0"),
    (lambda ps: RMSprop(ps, momentum=-0.9), r"invalid momentum = -0.9"),
    (lambda ps: Adam([{"params": ps}, {"params": [minigan.randn(2, requires_grad=True)], "lr": -2.0}]),
     r"Adam parameter group 1: invalid lr = -2.0"),
])
def test_bad_hyperparameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make([minigan.randn(3, requires_grad=True)])


@pytest.mark.parametrize("make, message", [
    (lambda ps: Adam(ps, lr="0.1"), r"lr must be a number, got str '0.1'"),
    (lambda ps: Adam(ps, betas=0.9), r"betas must be a pair \(beta1, beta2\), got 0.9"),
    (lambda ps: Adam(ps, amsgrad=1), r"amsgrad must be True or False, got 1"),
    (lambda ps: RMSprop(ps, centered="yes"), r"centered must be True or False, got 'yes'"),
])
def test_hyperparameters_of_the_wrong_type_are_named(make, message):
    with pytest.raises(TypeError, match=message):
        make([minigan.randn(3, requires_grad=True)])


def test_a_gradient_of_the_wrong_shape_is_refused():
    w = minigan.randn(3, requires_grad=True)
    opt = SGD([w], lr=0.1)
    w.grad = minigan.ones(4)
    with pytest.raises(minigan.ShapeError, match=r"parameter of shape \(3,\) has a gradient of shape \(4,\)"):
        opt.step()


def test_base_class_needs_an_update_rule():
    w = minigan.randn(3, requires_grad=True)
    w.grad = minigan.ones(3)
    with pytest.raises(NotImplementedError, match=r"Optimizer must define _update"):
        Optimizer([w], {}).step()


# --- saving to a file, and the GPU -----------------------------------------------------------------

def test_state_dict_round_trips_through_minigan_save(tmp_path):
    """minigan.save / minigan.load (an .npz-based format) keep an optimiser's state exactly."""
    if not (hasattr(minigan, "save") and hasattr(minigan, "load")):
        pytest.skip("minigan.save / minigan.load do not exist yet; this test runs once they do")
    params = [minigan.randn(3, 2, requires_grad=True), minigan.randn(2, requires_grad=True)]
    opt = Adam([{"params": params[:1], "lr": 0.01}, {"params": params[1:]}], amsgrad=True)
    for seed in range(3):
        step_with(opt, params, seed)
    path = tmp_path / "adam.npz"
    minigan.save(opt.state_dict(), path)
    copies = [minigan.tensor(p, requires_grad=True) for p in params]
    fresh = Adam([{"params": copies[:1]}, {"params": copies[1:]}], amsgrad=True)
    fresh.load_state_dict(minigan.load(path))
    for seed in (3, 4):
        step_with(opt, params, seed)
        step_with(fresh, copies, seed)
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["sgd_all", "adam_amsgrad_weight_decay", "rmsprop_all"])
def test_gpu_updates_match_the_reference(name):
    """On the GPU the same code path gives the reference answer, the buffers live on the GPU, and
    a state dict holds NumPy arrays that load back onto the GPU."""
    cls, reference, kwargs = REFERENCE_CASES[name]
    theta0, grads = fixed_problem()
    got = run_minigan(lambda params: cls(params, **kwargs), theta0, grads, device="gpu")
    np.testing.assert_allclose(got, reference(theta0, grads, **kwargs), rtol=1e-10, atol=1e-10)

    p = minigan.randn(4, requires_grad=True, device="gpu")
    opt = cls([p], **kwargs)
    for _ in range(2):
        p.grad = minigan.randn(4, device="gpu")
        opt.step()
    assert p.dtype == np.float32 and p.device == "gpu"
    saved = opt.state_dict()
    buffers = [v for s in saved["state"].values() for v in s.values() if hasattr(v, "shape")]
    assert buffers and all(type(v) is np.ndarray for v in buffers)
    q = minigan.tensor(p, requires_grad=True, device="gpu")
    fresh = cls([q], **kwargs)
    fresh.load_state_dict(saved)
    for value in fresh.state[q].values():
        if hasattr(value, "shape"):
            assert backend.device_of(value) == "gpu" and value.dtype == np.float32
