"""Layers, optimisers and a whole DCGAN step on CuPy agree with the CPU.

Marked ``gpu``: skipped, with the reason, where CuPy or a CUDA device is missing (see
conftest.py). Op-level CPU/GPU agreement for every case of the gradient-check table, conv2d and
conv_transpose2d included, is in test_gpu.py.
"""
import copy

import numpy as np
import pytest

import minigan
import minigan.functional as F
import minigan.nn as nn
from minigan.gan.models import build

pytestmark = pytest.mark.gpu

LAYERS = {
    "linear": (lambda: nn.Linear(6, 4), (3, 6)),
    "conv2d": (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 7, 7)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1, output_padding=1), (2, 2, 4, 4)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5), (4, 5)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (2, 3, 4, 4)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), (3, 4)),
    "tanh": (lambda: nn.Tanh(), (3, 4)),
    "sigmoid": (lambda: nn.Sigmoid(), (3, 4)),
    "relu": (lambda: nn.ReLU(), (3, 4)),
    "flatten": (lambda: nn.Flatten(), (2, 3, 4)),
    "unflatten": (lambda: nn.Unflatten(1, (3, 4)), (2, 12)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_forward_and_gradients_match_the_cpu(name):
    """Same weights, same input: outputs and every gradient agree to float64 rounding."""
    make, shape = LAYERS[name]
    minigan.manual_seed(0)
    cpu_layer = make().double()
    gpu_layer = copy.deepcopy(cpu_layer).to("gpu")
    x = np.random.default_rng(0).standard_normal(shape)
    results = []
    for layer, device in ((cpu_layer, "cpu"), (gpu_layer, "gpu")):
        xt = minigan.tensor(x, requires_grad=True, device=device, dtype="float64")
        y = layer(xt)
        v = minigan.tensor(np.random.default_rng(1).standard_normal(y.shape), device=device, dtype="float64")
        (y * v).sum().backward()
        results.append([y.numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_gradcheck_of_conv_layers_on_the_gpu():
    """The numerical gradient check runs on CuPy arrays too."""
    conv = nn.Conv2d(2, 2, 3, padding=1).double().to("gpu")
    x = minigan.tensor(np.random.default_rng(2).standard_normal((1, 2, 4, 4)), requires_grad=True, device="gpu",
                       dtype="float64")
    minigan.gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), [x, conv.weight, conv.bias])
    minigan.gradgradcheck(lambda x, w: F.conv2d(x, w, padding=1), [x, conv.weight], mode="fast")


def test_dcgan_forward_backward_agrees_with_the_cpu_in_float32():
    """A full DCGAN step (G forward, D on the fakes, backward into both) in float32: the GPU's
    outputs and gradients match the CPU's to float32 tolerance."""
    minigan.manual_seed(0)
    G, D = build("dcgan", width=0.5, dropout=0.0)  # no dropout: the masks would differ per device
    Gg, Dg = copy.deepcopy(G).to("gpu"), copy.deepcopy(D).to("gpu")
    z = np.random.default_rng(3).standard_normal((8, 100)).astype(np.float32)
    outputs = []
    for g, d, device in ((G, D, "cpu"), (Gg, Dg, "gpu")):
        logits = d(g(minigan.tensor(z, device=device)))
        F.binary_cross_entropy_with_logits(logits, np.ones((8, 1), np.float32)).backward()
        outputs.append([logits.numpy()] + [p.grad.numpy() for p in list(g.parameters()) + list(d.parameters())])
    for a, b in zip(*outputs):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_adam_step_on_the_gpu_matches_the_cpu():
    """Adam's in-place update gives the same weights on both devices."""
    rng = np.random.default_rng(4)
    w0, g = rng.standard_normal(10), rng.standard_normal(10)
    finals = []
    for device in ("cpu", "gpu"):
        w = minigan.tensor(w0, requires_grad=True, device=device, dtype="float64")
        opt = minigan.optim.Adam([w], lr=0.1, betas=(0.5, 0.999))
        for _ in range(3):
            w.grad = minigan.tensor(g, device=device, dtype="float64")
            opt.step()
        finals.append(w.numpy())
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-12)


def test_dropout_on_the_gpu_uses_the_seeded_generator():
    """Dropout masks on the GPU come from minigan's generator: the same seed, the same mask."""
    masks = []
    for _ in range(2):
        minigan.manual_seed(7)
        masks.append(F.dropout(minigan.ones(100, device="gpu"), 0.5).numpy())
    np.testing.assert_array_equal(masks[0], masks[1])
    assert 0.3 < (masks[0] == 0).mean() < 0.7
