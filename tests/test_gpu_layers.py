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
from minigan import Tensor
from minigan.gan.models import build

from layer_cases import LAYER_CASES, checked_tensors

pytestmark = pytest.mark.gpu

#: Cases whose forward draws random numbers: each device has its own stream, so the masks differ.
RANDOM = {"Dropout"}


def on(device, layer, inputs):
    """A copy of ``layer`` and ``inputs`` on ``device``; integer labels stay NumPy arrays."""
    moved = [minigan.tensor(x.numpy(), requires_grad=x.requires_grad, device=device, dtype=x.dtype)
             if isinstance(x, Tensor) else x for x in inputs]
    return copy.deepcopy(layer).to(device), moved


@pytest.mark.parametrize("case", [c for c in LAYER_CASES if c.name not in RANDOM], ids=lambda c: c.name)
def test_layer_forward_and_gradients_match_the_cpu(case):
    """Same weights, same input: outputs and every gradient agree to float64 rounding."""
    layer, inputs = case.build()
    results = []
    for device in ("cpu", "gpu"):
        dev_layer, dev_inputs = on(device, layer, inputs)
        y = case.call(dev_layer, *dev_inputs)
        v = minigan.tensor(np.random.default_rng(1).standard_normal(y.shape), device=device, dtype="float64")
        (y * v).sum().backward()
        results.append([y.numpy()] + [t.grad.numpy() for t in checked_tensors(dev_layer, dev_inputs)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_layer_gradcheck_on_the_gpu(case):
    """The numerical gradient check of every layer case, run on CuPy arrays (second order along
    random directions, to keep the number of GPU kernel launches small)."""
    layer, inputs = on("gpu", *case.build())
    fn = lambda *_: case.call(layer, *inputs)
    assert minigan.gradcheck(fn, checked_tensors(layer, inputs))
    if case.second_order:
        assert minigan.gradgradcheck(fn, checked_tensors(layer, inputs), mode="fast")


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
        F.binary_cross_entropy_with_logits(logits, minigan.ones(8, 1, device=device)).backward()
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
