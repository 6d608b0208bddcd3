"""The layers: gradients (first and second order) against finite differences, output shapes
against PyTorch's formulas, default initialisation, batch norm's running statistics, dropout's
statistics, and float32 staying float32 through a whole DCGAN.

Gradient checks run over the table in ``layer_cases.py``, in float64 on small shapes, with
respect to the input and every Parameter: ``gradcheck`` backpropagates a random upstream gradient,
so a layer that drops it somewhere fails.
"""
import math

import numpy as np
import pytest

import minigan
import minigan.nn as nn
from minigan import Tensor

from layer_cases import LAYER_CASES, checked_tensors
from test_nn_module import dcgan_discriminator, dcgan_generator


def rand64(rng, *shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --- gradient checks -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda case: case.name)
def test_layer_gradients(case):
    """gradcheck (and gradgradcheck) of a layer w.r.t. its inputs and every Parameter, in float64.

    The Parameters are perturbed in place, inside the layer, so ``fn`` ignores its arguments.
    """
    layer, inputs = case.build()
    fn = lambda *_: case.call(layer, *inputs)
    assert minigan.gradcheck(fn, checked_tensors(layer, inputs))
    if case.second_order:
        assert minigan.gradgradcheck(fn, checked_tensors(layer, inputs))


def _small_critic():
    return nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(2, 2, 3, 2, 1),
                         nn.Flatten(), nn.Linear(8, 1)).double()


def test_wgan_gp_penalty_through_a_conv_critic(rng):
    """penalty = mean((||d critic / d x||_2 - 1)^2): its gradient w.r.t. the critic's parameters is
    a second derivative of the critic, which WGAN-GP training follows."""
    critic = _small_critic()
    params = list(critic.parameters())

    def penalty(x, *ps):
        g, = minigan.grad(critic(x).sum(), x, create_graph=True)
        norms = (g * g).sum(axis=(1, 2, 3)).sqrt()
        return ((norms - 1) ** 2).mean()

    x = rand64(rng, 3, 1, 5, 5)
    assert minigan.gradcheck(penalty, [x, *params])
    assert minigan.gradgradcheck(lambda x, *ps: critic(x), [x, *params])
    assert minigan.gradgradcheck(penalty, [x, *params])  # third derivatives of the critic


# --- output shapes ---------------------------------------------------------------------------

def conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_out(n, k, s, p, d, op):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


@pytest.mark.parametrize("h, w, k, s, p, d", [(28, 28, 5, 2, 2, 1), (14, 14, 5, 2, 2, 1), (7, 9, 3, 1, 0, 1),
                                              (8, 8, 3, 3, 1, 2), (5, 6, 2, 1, 1, 1)])
def test_conv2d_output_shape_follows_pytorch_formula(h, w, k, s, p, d):
    y = nn.Conv2d(2, 3, k, s, p, d)(minigan.randn(2, 2, h, w))
    assert y.shape == (2, 3, conv_out(h, k, s, p, d), conv_out(w, k, s, p, d))


@pytest.mark.parametrize("h, w, k, s, p, op, d", [(7, 7, 5, 1, 2, 0, 1), (7, 7, 5, 2, 2, 1, 1),
                                                  (14, 14, 5, 2, 2, 1, 1), (4, 5, 4, 2, 1, 0, 1),
                                                  (3, 3, 3, 2, 0, 1, 2)])
def test_conv_transpose2d_output_shape_follows_pytorch_formula(h, w, k, s, p, op, d):
    layer = nn.ConvTranspose2d(2, 3, k, s, p, op, dilation=d)
    y = layer(minigan.randn(2, 2, h, w))
    assert y.shape == (2, 3, conv_transpose_out(h, k, s, p, d, op), conv_transpose_out(w, k, s, p, d, op))


def test_other_layer_output_shapes():
    x = minigan.randn(2, 3, 4, 5)
    assert nn.Linear(5, 7)(x).shape == (2, 3, 4, 7)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)
    assert nn.Unflatten(1, (2, 30))(nn.Flatten()(x)).shape == (2, 2, 30)
    assert nn.Unflatten(-1, (5, -1))(minigan.randn(2, 20)).shape == (2, 5, 4)
    assert nn.Reshape(-1, 12, 5)(x).shape == (2, 12, 5)
    assert nn.Reshape((6, 20))(x).shape == (6, 20)
    assert nn.Embedding(10, 4)(np.array([[1, 2, 3]])).shape == (1, 3, 4)
    assert dcgan_generator()(minigan.randn(2, 100)).shape == (2, 1, 28, 28)
    assert dcgan_discriminator()(minigan.randn(2, 1, 28, 28)).shape == (2, 1)


# --- parameter shapes and default initialisation -----------------------------------------------

def test_parameter_shapes_match_pytorch():
    assert nn.Linear(4, 3).weight.shape == (3, 4) and nn.Linear(4, 3).bias.shape == (3,)
    assert nn.Conv2d(2, 5, (3, 4)).weight.shape == (5, 2, 3, 4)
    assert nn.ConvTranspose2d(2, 5, 3).weight.shape == (2, 5, 3, 3)  # (in, out, kh, kw)
    assert nn.ConvTranspose2d(2, 5, 3).bias.shape == (5,)
    assert nn.Embedding(7, 4).weight.shape == (7, 4)
    bn = nn.BatchNorm2d(6)
    assert bn.weight.shape == bn.bias.shape == bn.running_mean.shape == bn.running_var.shape == (6,)


@pytest.mark.parametrize("layer, fan_in", [
    (lambda: nn.Linear(200, 300), 200),
    (lambda: nn.Conv2d(16, 32, 5), 16 * 25),
    (lambda: nn.ConvTranspose2d(16, 32, 5), 32 * 25),  # fan_in from weight.shape[1], as PyTorch does
])
def test_default_init_is_uniform_within_one_over_sqrt_fan_in(layer, fan_in):
    m = layer()
    bound = 1 / math.sqrt(fan_in)
    for p in (m.weight, m.bias):
        values = p.data
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound  # and spreads up to it
    np.testing.assert_allclose(m.weight.data.std(), bound / math.sqrt(3), rtol=0.05)  # U(-b, b)


def test_batch_norm_and_embedding_default_init():
    bn = nn.BatchNorm1d(4)
    np.testing.assert_array_equal(bn.weight.data, np.ones(4))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(4))
    np.testing.assert_array_equal(bn.running_mean.data, np.zeros(4))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(4))
    assert int(bn.num_batches_tracked.data) == 0
    w = nn.Embedding(1000, 50).weight.data
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01  # N(0, 1)


# --- batch norm behaviour -----------------------------------------------------------------------

def test_batch_norm_running_statistics_match_numpy():
    rng = np.random.default_rng(1)
    bn = nn.BatchNorm2d(3, momentum=0.2)
    mean, var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = (rng.standard_normal((4, 3, 2, 2)) * [1, 2, 3][step] + step).astype(np.float32)
        y = bn(Tensor(x))
        batch_mean = x.mean(axis=(0, 2, 3))
        biased = x.var(axis=(0, 2, 3))
        unbiased = x.var(axis=(0, 2, 3), ddof=1)
        expected = (x - batch_mean[None, :, None, None]) / np.sqrt(biased[None, :, None, None] + 1e-5)
        np.testing.assert_allclose(y.data, expected, rtol=1e-4, atol=1e-5)  # biased var in the output
        mean = 0.8 * mean + 0.2 * batch_mean                                 # unbiased in the estimate
        var = 0.8 * var + 0.2 * unbiased
        np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked.data) == 3
    assert bn.running_mean.dtype == np.float32


def test_batch_norm_eval_uses_running_statistics_and_does_not_update_them():
    rng = np.random.default_rng(2)
    bn = nn.BatchNorm1d(3)
    bn(Tensor(rng.standard_normal((8, 3)).astype(np.float32)))
    bn.weight.data[...] = [1.0, 2.0, 0.5]
    bn.bias.data[...] = [0.0, -1.0, 1.0]
    mean, var = bn.running_mean.data.copy(), bn.running_var.data.copy()
    bn.eval()
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = bn(Tensor(x))
    expected = (x - mean) / np.sqrt(var + 1e-5) * bn.weight.data + bn.bias.data
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn.running_mean.data, mean)
    assert int(bn.num_batches_tracked.data) == 1
    one = bn(Tensor(x[:1]))  # in eval mode one sample is fine, and independent of its batch
    np.testing.assert_allclose(one.data, y.data[:1], rtol=1e-6)


def test_batch_norm_momentum_none_is_a_cumulative_average():
    rng = np.random.default_rng(3)
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [rng.standard_normal((4, 2)).astype(np.float32) for _ in range(3)]
    for x in xs:
        bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-5)


def test_batch_norm_without_running_stats_or_affine():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False).eval()
    assert list(bn.parameters()) == [] and list(bn.buffers()) == [] and bn.state_dict() == {}
    x = np.random.default_rng(4).standard_normal((6, 3)).astype(np.float32)
    y = bn(Tensor(x))  # batch statistics even in eval mode: there are no running ones
    np.testing.assert_allclose(y.data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-4, atol=1e-5)


def test_batch_norm_1d_on_sequences():
    x = np.random.default_rng(5).standard_normal((2, 3, 4)).astype(np.float32)
    bn = nn.BatchNorm1d(3)
    bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(axis=(0, 2)), rtol=1e-5, atol=1e-7)


# --- dropout ---------------------------------------------------------------------------------------

def test_dropout_statistics_scaling_and_eval():
    x = minigan.ones(1000, 1000)
    layer = nn.Dropout(0.3)
    y = layer(x).data
    zero_fraction = (y == 0).mean()
    assert abs(zero_fraction - 0.3) < 0.003  # 1e6 draws: the standard error is 0.00046
    np.testing.assert_allclose(np.unique(y[y != 0]), [1 / 0.7], rtol=1e-6)
    assert y.dtype == np.float32
    layer.eval()
    assert layer(x) is x


def test_dropout_is_reproducible_under_manual_seed():
    x = minigan.ones(50, 50)
    minigan.manual_seed(11)
    a = nn.Dropout(0.5)(x).data
    minigan.manual_seed(11)
    b = nn.Dropout(0.5)(x).data
    c = nn.Dropout(0.5)(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


# --- embedding ---------------------------------------------------------------------------------

def test_embedding_gradients_accumulate_on_repeated_indices():
    emb = nn.Embedding(4, 3)
    indices = np.array([[2, 0], [2, 2]])
    out = emb(indices)
    np.testing.assert_array_equal(out.data[1, 0], emb.weight.data[2])
    upstream = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    out.backward(Tensor(upstream))
    g = emb.weight.grad.data
    np.testing.assert_array_equal(g[2], upstream[0, 0] + upstream[1, 0] + upstream[1, 1])
    np.testing.assert_array_equal(g[0], upstream[0, 1])
    np.testing.assert_array_equal(g[[1, 3]], 0)


# --- Sequential ------------------------------------------------------------------------------

def test_sequential_indexing_len_iteration_and_append():
    a, b, c = nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)
    model = nn.Sequential(a, b)
    assert len(model) == 2 and model[0] is a and model[-1] is b and list(model) == [a, b]
    model.append(c)
    assert model[2] is c and [n for n, _ in model.named_children()] == ["0", "1", "2"]
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    x = minigan.randn(4, 2)
    np.testing.assert_allclose(model(x).data, c(b(a(x))).data)
    with pytest.raises(IndexError, match="index 3 is out of range for a Sequential of 3 layers"):
        model[3]
    with pytest.raises(TypeError, match="takes Modules, got function at position 1"):
        nn.Sequential(a, lambda x: x)


# --- float32 stays float32 -----------------------------------------------------------------------

def _mlp():
    return nn.Sequential(nn.Linear(20, 16), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                         nn.Linear(16, 1), nn.Sigmoid())


def test_float32_everywhere_through_every_initialiser_and_forward():
    """DeZero's GAN drifts to float64 without telling anyone; here nothing may leave float32."""
    init = nn.init
    models = {"G": dcgan_generator(), "D": dcgan_discriminator(), "MLP": _mlp()}

    def assert_float32(model, when):
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if name.endswith("num_batches_tracked"):
                assert t.dtype == np.int64, name  # a counter, an integer as in PyTorch
            else:
                assert t.dtype == np.float32, f"{when}: {name} is {t.dtype}"

    for label, model in models.items():
        assert_float32(model, f"{label} as built")
        for p in model.parameters():
            init.normal_(p, 0, 0.02)
            init.uniform_(p, -0.1, 0.1)
            init.constant_(p, 0.5)
            init.zeros_(p)
            init.ones_(p)
            if p.ndim >= 2:
                init.xavier_uniform_(p, gain=init.calculate_gain("leaky_relu", 0.2))
                init.xavier_normal_(p)
                init.kaiming_normal_(p, a=0.2)
                init.kaiming_uniform_(p, a=math.sqrt(5))
        init.dcgan_init_(model)
        assert_float32(model, f"{label} after every initialiser")

    z = minigan.randn(3, 100)
    for mode in ("train", "eval"):
        getattr(models["G"], mode)()
        getattr(models["D"], mode)()
        fake = models["G"](z)
        logits = models["D"](fake)
        assert fake.dtype == logits.dtype == np.float32, mode
        assert models["MLP"](minigan.randn(3, 20)).dtype == np.float32
    logits.mean().backward()
    assert all(p.grad.dtype == np.float32 for m in ("G", "D") for p in models[m].parameters())
    assert_float32(models["G"], "after training-mode forwards")
    assert nn.Embedding(10, 8)(np.array([1, 2])).dtype == np.float32


def test_layers_can_be_built_in_float64_and_refuse_int_dtypes():
    assert nn.Linear(2, 3, dtype="float64").weight.dtype == np.float64
    assert nn.BatchNorm2d(3, dtype=np.float64).running_var.dtype == np.float64
    with pytest.raises(TypeError, match="must be float"):
        nn.Conv2d(1, 2, 3, dtype="int32")


# --- errors that name what was expected and what came ---------------------------------------

def test_layer_errors_name_expected_and_got():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, C, H, W\), "
                                         r"got shape \(3, 4\)"):
        nn.BatchNorm2d(4)(minigan.randn(3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(5\): input has 4 channels"):
        nn.BatchNorm1d(5)(minigan.randn(3, 4))
    with pytest.raises(ValueError, match="input has 3 channels"):
        nn.Conv2d(1, 2, 3)(minigan.randn(2, 3, 5, 5))
    with pytest.raises(ValueError, match=r"shape \(2, 100\) has size 100, "
                                         r"which cannot be split into \(256, 7, 7\)"):
        nn.Unflatten(1, (256, 7, 7))(minigan.randn(2, 100))
    with pytest.raises(ValueError, match="in_features = 4"):
        nn.Linear(4, 2)(minigan.randn(3, 5))
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1 or a pair of them, got 0"):
        nn.Conv2d(1, 2, 0)
    with pytest.raises(ValueError, match="in_features must be a positive int, got 2.5"):
        nn.Linear(2.5, 3)
    with pytest.raises(NotImplementedError, match="groups=1"):
        nn.Conv2d(2, 2, 3, groups=2)
    with pytest.raises(ValueError, match="output_padding .* must be smaller than stride"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(TypeError, match="indices must be integers"):
        nn.Embedding(4, 2)(np.array([0.5]))
