"""``minigan.nn.init``: each initialiser's distribution, fans and gains as in PyTorch, in-place
writes that keep the dtype, and reproducibility under ``minigan.manual_seed``."""
import math

import numpy as np
import pytest

import minigan
import minigan.nn as nn
from minigan.nn import init

from test_nn_module import dcgan_discriminator, dcgan_generator

FILLERS = [
    ("normal_", lambda t: init.normal_(t, 0.5, 2.0)),
    ("uniform_", lambda t: init.uniform_(t, -3, 1)),
    ("constant_", lambda t: init.constant_(t, 0.25)),
    ("zeros_", init.zeros_),
    ("ones_", init.ones_),
    ("xavier_uniform_", lambda t: init.xavier_uniform_(t, gain=2.0)),
    ("xavier_normal_", init.xavier_normal_),
    ("kaiming_uniform_", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5))),
    ("kaiming_normal_", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, fill", FILLERS, ids=[n for n, _ in FILLERS])
def test_fills_in_place_keeps_dtype_and_returns_the_tensor(name, fill, dtype):
    p = nn.Parameter(minigan.zeros(30, 20, 3, dtype=dtype))
    array = p.data
    assert fill(p) is p
    assert p.data is array and p.dtype == dtype and p.requires_grad


@pytest.mark.parametrize("name, fill", [f for f in FILLERS if f[0] not in ("zeros_", "ones_", "constant_")],
                         ids=[n for n, _ in FILLERS if n not in ("zeros_", "ones_", "constant_")])
def test_random_fills_repeat_under_manual_seed(name, fill):
    t = minigan.zeros(8, 6)
    minigan.manual_seed(5)
    first = fill(t).data.copy()
    minigan.manual_seed(5)
    np.testing.assert_array_equal(fill(t).data, first)
    assert not np.array_equal(fill(t).data, first)  # the generator moved on


def test_normal_and_uniform_distributions():
    t = minigan.zeros(400, 500)
    init.normal_(t, mean=1.0, std=0.02)
    assert abs(t.data.mean() - 1.0) < 1e-3 and abs(t.data.std() - 0.02) < 1e-3
    init.uniform_(t, -2.0, 3.0)
    assert t.data.min() >= -2.0 and t.data.max() < 3.0
    assert abs(t.data.mean() - 0.5) < 0.02 and abs(t.data.std() - 5 / math.sqrt(12)) < 0.02
    init.constant_(t, -1.5)
    assert (t.data == -1.5).all()


def test_fan_in_and_fan_out_like_pytorch():
    fans = init._calculate_fan_in_and_fan_out
    assert fans(minigan.zeros(3, 4)) == (4, 3)                      # Linear weight (out, in)
    assert fans(minigan.zeros(64, 1, 5, 5)) == (25, 1600)           # Conv2d (out, in, kh, kw)
    assert fans(minigan.zeros(256, 128, 5, 5)) == (128 * 25, 256 * 25)  # ConvTranspose2d (in, out, ..)
    with pytest.raises(ValueError, match=r"at least 2 axes, got shape \(5,\)"):
        fans(minigan.zeros(5))


def test_calculate_gain_values():
    assert all(init.calculate_gain(name) == 1 for name in ("linear", "conv2d", "conv_transpose2d", "sigmoid"))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_xavier_and_kaiming_bounds_and_spreads():
    t = minigan.zeros(300, 200)
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 500)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.99 * bound
    init.xavier_normal_(t)
    assert abs(t.data.std() - math.sqrt(2 / 500)) < 0.002
    init.kaiming_uniform_(t, a=math.sqrt(5))  # PyTorch's Linear default: U(-1/sqrt(fan_in), ...)
    assert np.abs(t.data).max() <= 1 / math.sqrt(200) and np.abs(t.data).max() > 0.99 / math.sqrt(200)
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t.data.std() - math.sqrt(2 / 300)) < 0.002
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_uniform_(t, mode="fan_avg")


def test_initialisers_check_their_argument():
    with pytest.raises(TypeError, match="normal_ expects a Tensor or Parameter, got ndarray"):
        init.normal_(np.zeros(3))
    with pytest.raises(TypeError, match="uniform_ fills float tensors, got dtype int64"):
        init.uniform_(minigan.tensor([1, 2]))
    with pytest.raises(ValueError, match="expected a <= b, got a=1, b=0"):
        init.uniform_(minigan.zeros(2), 1, 0)


def test_dcgan_init_follows_the_recipe():
    g, d = dcgan_generator(), dcgan_discriminator()
    for model in (g, d):
        assert init.dcgan_init_(model) is model
    weights = np.concatenate([m.weight.data.ravel() for model in (g, d) for m in model.modules()
                              if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(weights.mean()) < 1e-3 and abs(weights.std() - 0.02) < 1e-3
    assert all((m.bias.data == 0).all() for model in (g, d) for m in model.modules()
               if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) and m.bias is not None)
    bn_weights = np.concatenate([g[i].weight.data for i in (1, 5, 8)])
    assert abs(bn_weights.mean() - 1) < 1e-3 and abs(bn_weights.std() - 0.02) < 1e-3
    assert all((g[i].bias.data == 0).all() for i in (1, 5, 8))
    assert all(p.dtype == np.float32 for p in g.parameters())


def test_dcgan_init_of_a_spectrally_normalised_layer_fills_the_learned_weight_orig():
    """Under spectral_norm, ``layer.weight`` is recomputed before every forward: initialising it
    would be lost, so dcgan_init_ fills ``weight_orig``, which the optimiser trains."""
    layer = nn.utils.spectral_norm(nn.Conv2d(8, 64, 5))
    init.dcgan_init_(layer)
    assert abs(layer.weight_orig.data.std() - 0.02) < 2e-3


def test_dcgan_init_repeats_under_manual_seed():
    minigan.manual_seed(3)
    a = init.dcgan_init_(dcgan_discriminator()).state_dict()
    minigan.manual_seed(3)
    b = init.dcgan_init_(dcgan_discriminator()).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_layer_construction_repeats_under_manual_seed():
    minigan.manual_seed(9)
    a = dcgan_discriminator().state_dict()
    minigan.manual_seed(9)
    b = dcgan_discriminator().state_dict()
    c = dcgan_discriminator().state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(b["0.weight"], c["0.weight"])
