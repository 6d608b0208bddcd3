"""GAN objectives and gradient penalties (minigan/gan/): values, gradients, and the behaviour that
makes each objective what it is.

* values against numbers worked out here with ``math`` (no minigan), to 1e-12 in float64;
* gradcheck / gradgradcheck in float64, of every loss and of both penalties through a small
  critic (second and third derivatives of the critic: double backprop);
* what each objective teaches: minimax saturates and non-saturating does not, hinge ignores
  samples past the margin, LSGAN keeps pulling, WGAN is linear, the penalties' known values;
* stability at logits of +-1000 with warnings as errors, float32 staying float32, clear errors.
"""
import math
import warnings

import numpy as np
import pytest

import minigan
import minigan.functional as F
import minigan.gan as gan
import minigan.nn as nn
from minigan import Tensor

NAMES = ["minimax", "nonsaturating", "lsgan", "wgan", "wgan-gp", "hinge"]
REAL, FAKE = [2.0, -1.0], [0.5, -3.0]


def softplus(x):
    return math.log1p(math.exp(x))  # fine for the small |x| used here


def mean(xs):
    return sum(xs) / len(xs)


# (D loss, G loss) for real logits r and fake logits f, written out from the papers' formulas.
EXPECTED = {
    "minimax": (lambda r, f: mean([softplus(-x) for x in r]) + mean([softplus(x) for x in f]),
                lambda f: -mean([softplus(x) for x in f])),
    "nonsaturating": (lambda r, f: mean([softplus(-x) for x in r]) + mean([softplus(x) for x in f]),
                      lambda f: mean([softplus(-x) for x in f])),
    "lsgan": (lambda r, f: 0.5 * mean([(x - 1) ** 2 for x in r]) + 0.5 * mean([x ** 2 for x in f]),
              lambda f: 0.5 * mean([(x - 1) ** 2 for x in f])),
    "wgan": (lambda r, f: mean(f) - mean(r), lambda f: -mean(f)),
    "wgan-gp": (lambda r, f: mean(f) - mean(r), lambda f: -mean(f)),
    "hinge": (lambda r, f: mean([max(0.0, 1 - x) for x in r]) + mean([max(0.0, 1 + x) for x in f]),
              lambda f: -mean(f)),
}


def t64(values, requires_grad=False):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


# --- values --------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2,), (2, 1)])
@pytest.mark.parametrize("name", NAMES)
def test_values_match_the_formulas_worked_by_hand(name, shape):
    """real logits [2, -1], fake logits [0.5, -3]: D and G losses equal the formulas, (N,) or (N, 1)."""
    loss = gan.get_loss(name)
    r, f = t64(REAL).reshape(shape), t64(FAKE).reshape(shape)
    d, g = loss.d_loss(r, f), loss.g_loss(f)
    assert d.shape == () and g.shape == () and d.dtype == g.dtype == np.float64
    expected_d, expected_g = EXPECTED[name][0](REAL, FAKE), EXPECTED[name][1](FAKE)
    assert abs(d.item() - expected_d) < 1e-12
    assert abs(g.item() - expected_g) < 1e-12


def test_minimax_is_cross_entropy_of_sigmoid_probabilities():
    """The softplus forms are -log D(x) - log(1 - D(G(z))) and log(1 - D(G(z))), D = sigmoid."""
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    loss = gan.get_loss("minimax")
    d = -mean([math.log(sigmoid(x)) for x in REAL]) - mean([math.log(1 - sigmoid(x)) for x in FAKE])
    g = mean([math.log(1 - sigmoid(x)) for x in FAKE])
    assert abs(loss.d_loss(t64(REAL), t64(FAKE)).item() - d) < 1e-12
    assert abs(loss.g_loss(t64(FAKE)).item() - g) < 1e-12


def test_lsgan_targets_can_be_changed():
    """Mao et al.'s other choice a = -1, b = 1, c = 0."""
    loss = gan.get_loss("lsgan", a=-1.0, b=1.0, c=0.0)
    d = 0.5 * mean([(x - 1) ** 2 for x in REAL]) + 0.5 * mean([(x + 1) ** 2 for x in FAKE])
    assert abs(loss.d_loss(t64(REAL), t64(FAKE)).item() - d) < 1e-12
    assert abs(loss.g_loss(t64(FAKE)).item() - 0.5 * mean([x ** 2 for x in FAKE])) < 1e-12


# --- gradients -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_losses_gradcheck_with_respect_to_the_logits(name):
    """First and second derivatives of d_loss and g_loss (logits kept away from hinge's kinks at +-1)."""
    loss = gan.get_loss(name)
    r = t64([[2.3], [-0.4], [0.7], [1.6], [-2.2]], requires_grad=True)
    f = t64([[-1.8], [0.2], [1.3], [-0.6], [3.1]], requires_grad=True)
    minigan.gradcheck(loss.d_loss, [r, f])
    minigan.gradcheck(loss.g_loss, [f])
    minigan.gradgradcheck(loss.d_loss, [r, f])
    minigan.gradgradcheck(loss.g_loss, [f])


def _grad(y, x):
    return minigan.grad(y, x)[0].numpy()


def test_minimax_generator_gradient_saturates_and_nonsaturating_does_not():
    """D rejects every fake confidently (logit -10): d(G loss)/d f per sample is -sigmoid(-10),
    about -4.5e-5, for minimax, but -(1 - sigmoid(-10)), about -1, for the non-saturating loss."""
    n = 4
    f = t64([-10.0] * n, requires_grad=True)
    minimax = n * _grad(gan.get_loss("minimax").g_loss(f), f)
    nonsat = n * _grad(gan.get_loss("nonsaturating").g_loss(f), f)
    sigmoid_m10 = 1 / (1 + math.exp(10))  # 4.5398e-05
    np.testing.assert_allclose(minimax, -sigmoid_m10, rtol=1e-12)
    np.testing.assert_allclose(nonsat, -(1 - sigmoid_m10), rtol=1e-12)
    assert np.all(np.abs(minimax) < 5e-5) and np.all(np.abs(nonsat) > 0.9999)


def test_hinge_ignores_samples_past_the_margin():
    """Real logits > 1 and fake logits < -1: D's loss and its gradient are exactly 0. A sample
    inside the margin still gets gradient -1/N (real) or +1/N (fake)."""
    loss = gan.get_loss("hinge")
    r, f = t64([1.5, 3.0, 100.0], requires_grad=True), t64([-1.5, -2.0, -50.0], requires_grad=True)
    d = loss.d_loss(r, f)
    gr, gf = minigan.grad(d, [r, f])
    assert d.item() == 0.0 and np.all(gr.numpy() == 0) and np.all(gf.numpy() == 0)
    r, f = t64([0.5, 3.0, 100.0], requires_grad=True), t64([-1.5, -2.0, -0.5], requires_grad=True)
    gr, gf = minigan.grad(loss.d_loss(r, f), [r, f])
    np.testing.assert_array_equal(gr.numpy(), [-1 / 3, 0, 0])
    np.testing.assert_array_equal(gf.numpy(), [0, 0, 1 / 3])


def test_lsgan_gradient_grows_with_distance_where_cross_entropy_saturates():
    """Fakes scored 1, 2, 4, 8 (target 0): LSGAN's D gradient is f / N, doubling with the
    distance; the cross-entropy's sigmoid(f) / N flattens out near 1 / N."""
    n, values = 4, [1.0, 2.0, 4.0, 8.0]
    r, f = t64([1.0] * n), t64(values, requires_grad=True)
    ls = n * _grad(gan.get_loss("lsgan").d_loss(r, f), f)
    bce = n * _grad(gan.get_loss("nonsaturating").d_loss(r, f), f)
    np.testing.assert_allclose(ls, values, rtol=1e-12)
    assert np.all(np.diff(ls) > 0) and ls[-1] / ls[-2] == 2.0
    assert bce[-1] / bce[-2] < 1.02  # sigmoid(8) / sigmoid(4)


def test_wgan_critic_loss_is_linear_in_the_logits():
    """Gradient exactly -1/N on every real logit and +1/N on every fake, whatever the logits."""
    loss = gan.get_loss("wgan")
    n = 5
    for scale in (0.1, 1000.0):
        r = Tensor(scale * np.random.default_rng(0).standard_normal((n, 1)), requires_grad=True)
        f = Tensor(scale * np.random.default_rng(1).standard_normal((n, 1)), requires_grad=True)
        gr, gf = minigan.grad(loss.d_loss(r, f), [r, f])
        np.testing.assert_array_equal(gr.numpy(), np.full((n, 1), -1 / n))
        np.testing.assert_array_equal(gf.numpy(), np.full((n, 1), 1 / n))
        np.testing.assert_array_equal(_grad(loss.g_loss(f), f), np.full((n, 1), -1 / n))


# --- WGAN weight clipping ------------------------------------------------------------------------

def test_clip_weights_clamps_in_place_keeping_dtype_and_arrays():
    """Every parameter ends in [-c, c]; values inside are untouched; the arrays are the same objects."""
    critic = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    for p in critic.parameters():
        p.data *= 100  # most entries now far outside [-0.01, 0.01]
    params = list(critic.parameters())
    arrays, before = [p.data for p in params], [p.numpy().copy() for p in params]
    loss = gan.get_loss("wgan")
    assert loss.clip_value == 0.01  # WGAN clips its critic's weights
    gan.clip_weights_(critic, loss.clip_value)
    for p, array, old in zip(params, arrays, before):
        assert p.data is array and p.dtype == np.float32
        np.testing.assert_array_equal(p.numpy(), np.clip(old, np.float32(-0.01), np.float32(0.01)))
        assert np.abs(p.numpy()).max() <= np.float32(0.01)
    w = t64([[-3.0, 0.5], [0.001, 2.0]])
    gan.clip_weights_([w], 1.0)  # an iterable of Tensors
    np.testing.assert_array_equal(w.numpy(), [[-1.0, 0.5], [0.001, 1.0]])
    gan.clip_weights_(w, 0.1)    # one Tensor
    assert np.abs(w.numpy()).max() == 0.1


def test_clip_weights_errors():
    with pytest.raises(ValueError, match=r"c must be a number > 0, got -0.01"):
        gan.clip_weights_([t64([1.0])], -0.01)
    with pytest.raises(TypeError, match=r"expected float Tensors, got ndarray at position 1"):
        gan.clip_weights_([t64([1.0]), np.ones(2)], 0.01)


# --- the penalties -------------------------------------------------------------------------------

def critic(act):
    """D(x) = W2 act(W1 x + b1) + b2, written as a function of its parameters for gradcheck."""
    def D(x, W1, b1, W2, b2):
        return F.linear(act(F.linear(x, W1, b1)), W2, b2)
    return D


ACTIVATIONS = {"leaky_relu": lambda h: F.leaky_relu(h, 0.2), "tanh": F.tanh}


def _critic_inputs(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 2), (4, 2), (4,), (1, 4), (1,)]  # x, W1, b1, W2, b2
    return [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("center", [1.0, 0.0], ids=["wgan_gp", "zero_centred"])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_gradient_penalty_gradcheck_and_gradgradcheck(act, center):
    """WGAN-GP's penalty (and the zero-centred one, which skips the square root) as a function of
    the real batch and every critic parameter; eps fixed. Its first derivative is a second
    derivative of D, its second one a third (tanh: all nonzero)."""
    D = critic(ACTIVATIONS[act])
    inputs = _critic_inputs(0)
    fake = Tensor(np.random.default_rng(1).standard_normal((3, 2)))
    eps = np.array([0.3, 0.7, 0.5])

    def penalty(x, W1, b1, W2, b2):
        return gan.gradient_penalty(lambda z: D(z, W1, b1, W2, b2), x, fake, lambda_=10.0, eps=eps, center=center)

    assert penalty(*inputs).item() > 0
    minigan.gradcheck(penalty, inputs)
    minigan.gradgradcheck(penalty, inputs)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_r1_penalty_gradcheck_and_gradgradcheck(act):
    """R1 as a function of the real batch and every critic parameter."""
    D = critic(ACTIVATIONS[act])
    inputs = _critic_inputs(2)

    def penalty(x, W1, b1, W2, b2):
        return gan.r1_penalty(lambda z: D(z, W1, b1, W2, b2), x, gamma=10.0)

    assert penalty(*inputs).item() > 0
    minigan.gradcheck(penalty, inputs)
    minigan.gradgradcheck(penalty, inputs)


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = x @ u has input gradient u for every sample: the penalty is lambda (||u|| - 1)^2,
    zero for ||u|| = 1, and its gradient with respect to u is 2 lambda (||u|| - 1) u / ||u||."""
    real, fake = minigan.randn(5, 2).double(), minigan.randn(5, 2).double()
    unit = t64([0.6, 0.8])
    assert abs(gan.gradient_penalty(lambda x: x @ unit, real, fake).item()) < 1e-20
    u = t64([1.2, 1.6], requires_grad=True)  # ||u|| = 2
    penalty = gan.gradient_penalty(lambda x: x @ u, real, fake, lambda_=10.0)
    assert abs(penalty.item() - 10.0) < 1e-10
    penalty.backward()
    np.testing.assert_allclose(u.grad.numpy(), 2 * 10.0 * (2 - 1) * np.array([1.2, 1.6]) / 2, rtol=1e-10)


def test_zero_centred_gradient_penalty_of_a_linear_critic_and_a_dead_relu():
    """center=0: lambda ||u||^2 for D(x) = x @ u (gradient 2 lambda u), and exactly 0, with a
    gradient of exactly 0, for a sample whose ReLU is off (no square root, so no NORM_EPS)."""
    real, fake = minigan.randn(5, 2).double(), minigan.randn(5, 2).double()
    u = t64([1.2, 1.6], requires_grad=True)  # ||u||^2 = 4
    penalty = gan.gradient_penalty(lambda x: x @ u, real, fake, lambda_=0.5, center=0)
    assert abs(penalty.item() - 0.5 * 4) < 1e-12
    penalty.backward()
    np.testing.assert_allclose(u.grad.numpy(), 2 * 0.5 * np.array([1.2, 1.6]), rtol=1e-12)
    w = t64([1.0, 1.0], requires_grad=True)
    real, fake = t64([[1.0, 2.0], [-3.0, -1.0]]), t64([[2.0, 1.0], [-1.0, -2.0]])
    penalty = gan.gradient_penalty(lambda x: F.relu(x @ w), real, fake, lambda_=1.0, eps=0.5, center=0)
    penalty.backward()
    assert penalty.item() == mean([2.0, 0.0])  # sample 0: ||w||^2 = 2; sample 1: ReLU off
    np.testing.assert_allclose(w.grad.numpy(), 2 * w.numpy() / 2, rtol=1e-12)
    assert gan.GradientPenalty(0.5, center=0)(lambda x: x @ u, real, fake).item() == 0.5 * 4


def test_gradient_penalty_interpolates_real_and_fake_per_sample():
    """D(x) = ||x||^2 / 2 has input gradient x, so the penalty reads off where x_hat lies:
    eps = 1 picks the real sample, eps = 0 the fake one."""
    D = lambda x: 0.5 * (x * x).sum(axis=1)  # noqa: E731
    real, fake = t64([[3.0, 4.0], [0.0, 1.0]]), t64([[1.0, 0.0], [0.0, 3.0]])
    value = gan.gradient_penalty(D, real, fake, lambda_=2.0, eps=[1.0, 0.0]).item()
    assert abs(value - 2.0 * mean([(5 - 1) ** 2, (3 - 1) ** 2])) < 1e-10
    value = gan.gradient_penalty(D, real, fake, lambda_=2.0, eps=0.5).item()  # x_hat = [2, 2], [0, 2]
    assert abs(value - 2.0 * mean([(math.sqrt(8) - 1) ** 2, (2 - 1) ** 2])) < 1e-10


def test_gradient_penalty_stays_finite_where_the_input_gradient_is_zero():
    """A sample whose ReLU is off has grad_x D = 0: its term is lambda (0 - 1)^2, and backprop must
    not turn sqrt'(0) = inf times 0 into NaN (NORM_EPS under the square root sees to that)."""
    w = t64([1.0, 1.0], requires_grad=True)
    real, fake = t64([[1.0, 2.0], [-3.0, -1.0]]), t64([[2.0, 1.0], [-1.0, -2.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        penalty = gan.gradient_penalty(lambda x: F.relu(x @ w), real, fake, lambda_=1.0, eps=0.5)
        penalty.backward()
    norm = math.sqrt(2)  # sample 0: grad_x D = w; sample 1: x_hat @ w < 0, grad_x D = 0
    zero_norm = math.sqrt(0 + 1e-12)  # = 1e-6, not 0: the price of NORM_EPS, visible only here
    assert abs(penalty.item() - mean([(norm - 1) ** 2, (zero_norm - 1) ** 2])) < 1e-12
    np.testing.assert_allclose(w.grad.numpy(), (norm - 1) * w.numpy() / norm, rtol=1e-10)


def test_gradient_penalty_draws_eps_from_minigans_generator():
    """Without eps, the draw comes from minigan's seeded generator: same seed, same penalty."""
    D = lambda x: 0.5 * (x * x).sum(axis=1)  # noqa: E731
    real, fake = t64([[3.0, 4.0], [0.0, 1.0]]), t64([[1.0, 0.0], [0.0, 3.0]])
    values = []
    for seed in (7, 7, 8):
        minigan.manual_seed(seed)
        values.append(gan.gradient_penalty(D, real, fake).item())
    assert values[0] == values[1] != values[2]


def test_gradient_penalty_trains_the_critic_and_never_the_generator():
    """Backprop of the penalty reaches every weight of an nn critic (double backprop), while
    the fakes, and so G, get no gradient from it."""
    critic = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    real = minigan.randn(6, 3)
    z = minigan.randn(6, 3, requires_grad=True)
    fake = 2 * z  # stands in for G(z)
    loss = gan.get_loss("wgan-gp")
    penalty = loss.penalty(critic, real, fake)
    params = list(critic.parameters())
    grads = minigan.grad(penalty, params + [z], allow_unused=True)
    assert grads[-1] is None  # no path from the penalty back to the generator
    for p, g in zip(params[:-1], grads[:-1]):  # the last bias does not change grad_x D
        assert g.dtype == np.float32 and np.all(np.isfinite(g.numpy())) and np.abs(g.numpy()).max() > 0


def test_r1_penalty_of_a_linear_critic():
    """D(x) = x @ w: grad_x D = w for every sample, so R1 = gamma/2 ||w||^2, with gradient gamma w."""
    w = t64([0.5, -2.0, 1.0], requires_grad=True)
    real = minigan.randn(4, 3).double()
    penalty = gan.r1_penalty(lambda x: x @ w, real, gamma=10.0)
    assert abs(penalty.item() - 5.0 * (0.25 + 4.0 + 1.0)) < 1e-12
    penalty.backward()
    np.testing.assert_allclose(w.grad.numpy(), 10.0 * w.numpy(), rtol=1e-12)
    assert real.grad is None  # real did not require grad: R1 worked on a leaf copy


def test_r1_penalty_per_sample_and_under_no_grad():
    """D(x) = ||x||^2 / 2 has input gradient x: R1 = gamma/2 mean ||x_i||^2. A penalty is a gradient,
    so it is computed even inside no_grad() (e.g. when only logging it)."""
    D = lambda x: 0.5 * (x * x).sum(axis=1)  # noqa: E731
    real = t64([[3.0, 4.0], [0.0, 1.0]])
    with minigan.no_grad():
        value = gan.r1_penalty(D, real, gamma=1.0).item()
    assert abs(value - 0.5 * mean([25.0, 1.0])) < 1e-12
    penalty = gan.R1Penalty(gamma=1.0)
    assert abs(penalty(D, real, None).item() - value) < 1e-12


def test_penalties_keep_float32():
    critic = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    real, fake = minigan.randn(5, 4), minigan.randn(5, 4)
    assert gan.gradient_penalty(critic, real, fake).dtype == np.float32
    assert gan.r1_penalty(critic, real).dtype == np.float32


# --- stability and dtypes ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_logits_of_plus_minus_1000_give_finite_losses_and_gradients(name, dtype):
    """No overflow, log(0) or 0/0 anywhere (warnings and floating-point errors raise), and the
    losses and gradients keep the logits' dtype."""
    loss = gan.get_loss(name)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        r = Tensor(np.array([1000.0, -1000.0, 0.0], dtype=dtype), requires_grad=True)
        f = Tensor(np.array([-1000.0, 1000.0, 0.0], dtype=dtype), requires_grad=True)
        d, g = loss.d_loss(r, f), loss.g_loss(f)
        grads = minigan.grad(d, [r, f]) + minigan.grad(g, f)
    for t in (d, g) + grads:
        assert t.dtype == dtype and np.all(np.isfinite(t.numpy()))


# --- get_loss and errors -------------------------------------------------------------------------

def test_get_loss_settings():
    assert isinstance(gan.get_loss(), gan.NonSaturatingLoss)  # the default
    for name in NAMES:
        loss = gan.get_loss(name)
        assert loss.name == name and (loss.clip_value is not None) == (name == "wgan")
        assert (loss.penalty is None) == (name != "wgan-gp")
    assert gan.get_loss("wgan-gp").penalty == gan.GradientPenalty(lambda_=10.0)
    assert gan.get_loss("WGAN_GP", gp_lambda=5.0).penalty.lambda_ == 5.0
    assert gan.get_loss("non-saturating").name == "nonsaturating"
    assert gan.get_loss("wgan", clip_value=0.02).clip_value == 0.02
    assert gan.get_loss("nonsaturating", penalty=gan.R1Penalty(1.0)).penalty.gamma == 1.0
    loss = gan.HingeLoss()
    assert gan.get_loss(loss) is loss


# The published recipes: (optimiser, lr, betas or None, n_critic, clip_value, gp_lambda or None).
RECIPES = {
    "minimax": ("adam", 2e-4, (0.5, 0.999), 1, None, None),
    "nonsaturating": ("adam", 2e-4, (0.5, 0.999), 1, None, None),
    "lsgan": ("adam", 2e-4, (0.5, 0.999), 1, None, None),
    "hinge": ("adam", 2e-4, (0.5, 0.999), 1, None, None),
    "wgan": ("rmsprop", 5e-5, None, 5, 0.01, None),            # Arjovsky et al. 2017, Algorithm 1
    "wgan-gp": ("adam", 1e-4, (0.5, 0.9), 5, None, 10.0),      # Gulrajani et al. 2017, Algorithm 1
}


@pytest.mark.parametrize("name", NAMES)
def test_each_objective_carries_its_papers_recipe_and_builds_its_optimiser(name):
    """optimiser, lr, betas, n_critic, weight clipping and gradient penalty come from the objective,
    and make_optimizer builds that optimiser (at another lr when asked) over the given parameters."""
    optimizer, lr, betas, n_critic, clip_value, gp_lambda = RECIPES[name]
    loss = gan.get_loss(name)
    assert (loss.optimizer, loss.lr, loss.n_critic, loss.clip_value) == (optimizer, lr, n_critic, clip_value)
    assert loss.penalty == (gan.GradientPenalty(gp_lambda) if gp_lambda else None)
    params = list(nn.Linear(3, 2).parameters())
    opt = loss.make_optimizer(params)
    assert type(opt) is {"adam": minigan.optim.Adam, "rmsprop": minigan.optim.RMSprop}[optimizer]
    assert opt.param_groups[0]["params"] == params and opt.param_groups[0]["lr"] == lr
    if betas is not None:
        assert loss.betas == betas and opt.param_groups[0]["betas"] == betas
    assert loss.make_optimizer(params, lr=1e-3).param_groups[0]["lr"] == 1e-3
    assert repr(loss).startswith(f"{type(loss).__name__}(") and f"n_critic={n_critic}" in repr(loss)


def test_options_change_what_the_objective_reports():
    """An option given to get_loss is what the objective then says and does."""
    loss = gan.get_loss("wgan-gp", gp_lambda=5, n_critic=2)
    assert loss.penalty == gan.GradientPenalty(5.0) and loss.n_critic == 2
    assert gan.get_loss("wgan-gp").n_critic == 5  # the class's recipe is unchanged
    assert gan.get_loss("hinge", gp_lambda=1.0).penalty == gan.GradientPenalty(1.0)
    assert gan.get_loss("lsgan", clip_value=0.05).clip_value == 0.05
    assert "a=-1.0" in repr(gan.get_loss("lsgan", a=-1.0))


def test_label_smoothing_is_the_cross_entropy_with_real_target_one_minus_s():
    """One-sided smoothing: real term -(1 - s) log D(x) - s log(1 - D(x)); the fake term is unchanged."""
    s = 0.1
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = (mean([-(1 - s) * math.log(sigmoid(x)) - s * math.log(1 - sigmoid(x)) for x in REAL])
                + mean([-math.log(1 - sigmoid(x)) for x in FAKE]))
    for name in ("minimax", "nonsaturating"):
        loss = gan.get_loss(name, label_smoothing=s)
        assert abs(loss.d_loss(t64(REAL), t64(FAKE)).item() - expected) < 1e-12
        assert loss.outputs_probability
    for name in ("lsgan", "wgan", "wgan-gp", "hinge"):
        with pytest.raises(ValueError, match=rf"label_smoothing applies to the BCE-based losses "
                                             rf"\(minimax, nonsaturating\), not to '{name}'"):
            gan.get_loss(name, label_smoothing=s)


def test_mean_d_output_is_a_probability_for_the_bce_objectives_and_a_score_otherwise():
    logits = t64([0.0, 2.0])
    assert gan.get_loss("nonsaturating").mean_d_output(logits) == pytest.approx(mean([0.5, 1 / (1 + math.exp(-2))]))
    assert gan.get_loss("wgan").mean_d_output(logits) == 1.0


def test_unknown_loss_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown GAN loss 'wasserstein'") as info:
        gan.get_loss("wasserstein")
    for name in NAMES:
        assert repr(name) in str(info.value)
    with pytest.raises(TypeError, match="name must be a string"):
        gan.get_loss(3)


def _sum(x):
    return x.sum(axis=1)


TWO = [[1.0], [2.0]]


@pytest.mark.parametrize("call, error, message", [
    (lambda: gan.get_loss("minimax").d_loss(np.array([1, 2]), t64([0.5, 1.0])), TypeError,
     r"real_logits must be float logits, got dtype int"),
    (lambda: gan.get_loss("hinge").g_loss(t64(1.0)), ValueError,
     r"non-empty batch of logits.*got shape \(\)"),
    (lambda: gan.get_loss("wgan").d_loss(minigan.randn(3), t64([0.5, 1.0])), TypeError,
     r"real_logits are float32 but fake_logits are float64"),
    (lambda: gan.get_loss("wgan", clip_value=0), ValueError, r"clip_value must be a number > 0"),
    (lambda: gan.gradient_penalty(_sum, t64([[1.0, 2.0]]), t64(TWO)),
     ValueError, r"same shape and dtype.*\(1, 2\).*\(2, 1\)"),
    (lambda: gan.gradient_penalty(_sum, t64(TWO), t64(TWO), eps=[0.1, 0.2, 0.3]),
     ValueError, r"eps must be one number or one per sample \(2\), got shape \(3,\)"),
    (lambda: gan.gradient_penalty(_sum, t64(TWO), t64(TWO), lambda_=-1),
     ValueError, r"lambda_ must be a number >= 0"),
    (lambda: gan.GradientPenalty(center=-1), ValueError, r"center must be a number >= 0, got -1"),
    (lambda: gan.r1_penalty(lambda x: minigan.ones(2, requires_grad=True) * 2, t64(TWO)),
     ValueError, r"D's output does not depend on its input"),
    (lambda: gan.r1_penalty(lambda x: x.numpy(), t64(TWO)), TypeError,
     r"D must return a Tensor, got ndarray"),
    (lambda: gan.R1Penalty(gamma=-2.0), ValueError, r"gamma must be a number >= 0"),
    (lambda: gan.get_loss("wgan-gp", penalty=gan.R1Penalty()), ValueError, r"pass penalty or gp_lambda.*not both"),
    (lambda: gan.get_loss("wgan", n_critic=0), ValueError, r"n_critic must be a positive int, got 0"),
    (lambda: gan.get_loss("minimax", label_smoothing=1.0), ValueError, r"label_smoothing must be a number in \[0, 1\), got 1.0"),
    (lambda: gan.get_loss("hinge", penalty=3), TypeError, r"penalty must be None or a callable"),
])
def test_errors_name_what_was_expected_and_what_came(call, error, message):
    """Wrong dtypes, shapes, settings and critics raise errors that say what was expected."""
    with pytest.raises(error, match=message):
        call()
