"""Spectral normalisation: power iteration finds the top singular value, the normalised weight has
spectral norm 1, gradients are exact at convergence even in training mode, and the state (u, v)
is saved, loaded, moved and removed as in PyTorch. Eval-mode gradient checks of the three layer
kinds, first and second order, are in layer_cases.py.

Top singular values come from ``numpy.linalg.svd`` (an independent reference: minigan's own code
only runs power iteration).
"""
import copy

import numpy as np
import pytest

import minigan
import minigan.nn as nn
from minigan import Tensor
from minigan.nn.utils import remove_spectral_norm, spectral_norm


def top_singular_value(w, dim):
    m = np.moveaxis(w, dim, 0)
    return np.linalg.svd(m.reshape(m.shape[0], -1), compute_uv=False)[0]


LAYERS = [  # (layer, an input, the weight's output axis)
    (lambda: nn.Linear(6, 4), (3, 6), 0),
    (lambda: nn.Conv2d(3, 5, 3, padding=1), (2, 3, 4, 4), 0),
    (lambda: nn.ConvTranspose2d(3, 5, 3, stride=2), (2, 3, 3, 3), 1),
]


@pytest.mark.parametrize("make, shape, dim", LAYERS, ids=["Linear", "Conv2d", "ConvTranspose2d"])
def test_power_iteration_finds_the_top_singular_value(make, shape, dim):
    minigan.manual_seed(0)
    layer = spectral_norm(make())
    w = layer.weight_orig.numpy()
    for _ in range(100):  # each training-mode forward runs one power iteration
        layer(minigan.randn(*shape))
    sigma = float((layer.weight_orig.data / layer.weight.data).mean())
    np.testing.assert_allclose(sigma, top_singular_value(w, dim), rtol=1e-5)
    np.testing.assert_allclose(top_singular_value(layer.weight.numpy(), dim), 1.0, rtol=1e-5)
    assert layer.weight.dtype == layer.weight_u.dtype == layer.weight_v.dtype == np.float32


def test_the_weight_is_a_recomputed_tensor_and_weight_orig_the_learned_parameter():
    layer = spectral_norm(nn.Linear(4, 3))
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    assert sorted(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert not isinstance(layer.weight, nn.Parameter)
    assert "weight_orig (3, 4)" in repr(layer)


def test_eval_mode_keeps_u_and_v_but_follows_weight_orig():
    minigan.manual_seed(1)
    layer = spectral_norm(nn.Linear(4, 3)).eval()
    u, v = layer.weight_u.numpy().copy(), layer.weight_v.numpy().copy()
    y1 = layer(minigan.ones(1, 4)).numpy()
    layer.weight_orig.data[...] *= 2  # W -> 2W: σ = uᵀWv doubles too, so W / σ is unchanged ...
    y2 = layer(minigan.ones(1, 4)).numpy()
    np.testing.assert_allclose(y1, y2, rtol=1e-6)
    layer.weight_orig.data[0] += 1  # ... but a change of direction shows
    assert not np.allclose(y1, layer(minigan.ones(1, 4)).numpy())
    np.testing.assert_array_equal(layer.weight_u.numpy(), u)
    np.testing.assert_array_equal(layer.weight_v.numpy(), v)


def test_training_mode_gradient_is_exact_once_u_and_v_have_converged():
    """In training mode u and v move on every call, and backward treats them as constants. At the
    power iteration's fixed point σ = uᵀWv is the top singular value, whose derivative is exactly
    u vᵀ: a perturbation of W moves u and v only to first order, and σ does not change to first
    order in them. So finite differences that restore u and v before every call must agree."""
    minigan.manual_seed(2)
    layer = spectral_norm(nn.Linear(4, 3)).double()
    for _ in range(300):
        layer(minigan.randn(1, 4, dtype="float64"))
    u, v = layer.weight_u.data.copy(), layer.weight_v.data.copy()

    def from_the_fixed_point(x, *params):  # the Parameters are perturbed in place
        layer.weight_u.data[...], layer.weight_v.data[...] = u, v
        return layer(x)

    x = Tensor(np.random.default_rng(0).standard_normal((2, 4)), requires_grad=True)
    assert minigan.gradcheck(from_the_fixed_point, [x, layer.weight_orig, layer.bias])


def test_a_gradient_penalty_through_a_spectrally_normalised_critic():
    """SNGAN and WGAN-GP together: the penalty's gradient needs second derivatives through σ."""
    critic = nn.Sequential(spectral_norm(nn.Conv2d(1, 2, 3, 2, 1)), nn.LeakyReLU(0.2), nn.Flatten(),
                           spectral_norm(nn.Linear(8, 1))).double().eval()
    x = Tensor(np.random.default_rng(3).standard_normal((2, 1, 4, 4)), requires_grad=True)

    def penalty(x, *params):
        g, = minigan.grad(critic(x).sum(), x, create_graph=True)
        return ((g * g).sum(axis=(1, 2, 3)).sqrt() - 1) ** 2

    assert minigan.gradcheck(penalty, [x, *critic.parameters()])


def test_a_spectrally_normalised_layer_is_at_most_1_lipschitz():
    minigan.manual_seed(4)
    layer = spectral_norm(nn.Linear(8, 8, bias=False))
    for _ in range(100):
        layer(minigan.randn(1, 8))
    layer.eval()
    a, b = minigan.randn(16, 8), minigan.randn(16, 8)
    ratio = np.linalg.norm((layer(a) - layer(b)).numpy(), axis=1) / np.linalg.norm((a - b).numpy(), axis=1)
    assert ratio.max() <= 1 + 1e-5


def test_an_optimiser_trains_weight_orig_and_the_weight_follows():
    minigan.manual_seed(5)
    layer = spectral_norm(nn.Linear(4, 1))
    opt = minigan.optim.Adam(layer.parameters(), lr=0.05)
    before = layer.weight_orig.numpy().copy()
    x, target = minigan.randn(16, 4), minigan.ones(16, 1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert not np.array_equal(before, layer.weight_orig.numpy())
    assert losses[-1] < losses[0]


def test_state_dict_round_trip_gives_identical_outputs(tmp_path):
    minigan.manual_seed(6)
    layer = spectral_norm(nn.Conv2d(2, 3, 3))
    for _ in range(5):
        layer(minigan.randn(1, 2, 5, 5))
    minigan.save(layer.state_dict(), tmp_path / "sn.npz")
    fresh = spectral_norm(nn.Conv2d(2, 3, 3))
    fresh.load_state_dict(minigan.load(tmp_path / "sn.npz"))
    x = minigan.randn(2, 2, 5, 5)
    np.testing.assert_array_equal(layer.eval()(x).numpy(), fresh.eval()(x).numpy())


def test_deepcopy_and_double_carry_the_hook_and_its_state():
    layer = spectral_norm(nn.Linear(4, 3))
    twin = copy.deepcopy(layer).double()
    x = np.random.default_rng(7).standard_normal((2, 4))
    y = twin.eval()(minigan.tensor(x, dtype="float64"))
    assert y.dtype == twin.weight.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), layer.eval()(minigan.tensor(x, dtype="float32")).numpy(), rtol=1e-5, atol=1e-6)


def test_remove_spectral_norm_keeps_the_normalised_weight_as_a_parameter():
    minigan.manual_seed(8)
    layer = spectral_norm(nn.ConvTranspose2d(2, 3, 3)).eval()
    x = minigan.randn(1, 2, 3, 3)
    y = layer(x).numpy()
    remove_spectral_norm(layer)
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight"]
    assert isinstance(layer.weight, nn.Parameter) and not layer._forward_pre_hooks
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(layer(x).numpy(), y, rtol=1e-6)


def test_spectral_norm_errors_name_what_was_expected():
    with pytest.raises(ValueError, match=r"Linear has no Parameter named 'kernel' \(its Parameters: \['bias', 'weight'\]\)"):
        spectral_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(RuntimeError, match="already applied to Linear.weight"):
        spectral_norm(spectral_norm(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="n_power_iterations must be a positive int, got 0"):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match=r"dim 4 is out of range for Conv2d.weight of shape \(1, 1, 3, 3\)"):
        spectral_norm(nn.Conv2d(1, 1, 3), dim=4)
    with pytest.raises(ValueError, match="was not applied to Linear.weight"):
        remove_spectral_norm(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="expects a Module, got ndarray"):
        spectral_norm(np.zeros((2, 2)))


@pytest.mark.gpu
def test_spectral_norm_on_the_gpu_matches_the_cpu():
    minigan.manual_seed(9)
    cpu = spectral_norm(nn.Conv2d(2, 3, 3)).double()
    gpu = copy.deepcopy(cpu).to("gpu")
    x = np.random.default_rng(9).standard_normal((2, 2, 5, 5))
    for _ in range(3):  # training mode: the power iteration runs on each device
        outs = [m(minigan.tensor(x, device=d, dtype="float64")).numpy() for m, d in ((cpu, "cpu"), (gpu, "gpu"))]
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cpu.weight_u.numpy(), gpu.weight_u.numpy(), rtol=1e-10)


def test_spectral_normalize_covers_every_dense_and_conv_layer_of_a_discriminator():
    from minigan.gan.models import build, spectral_normalize
    _, D = build("dcgan", width=0.25)
    spectral_normalize(D)
    layers = [m for m in D.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert len(layers) == 3 and all(hasattr(m, "weight_orig") for m in layers)
    assert D(minigan.randn(2, 1, 28, 28)).shape == (2, 1)
