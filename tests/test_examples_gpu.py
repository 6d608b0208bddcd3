"""The examples run on the GPU (their --smoke sizes), and a GPU-trained run resumes on the CPU
and back.

Marked ``gpu``: on real CuPy where a CUDA device answers, on the CuPy stand-in everywhere else
(tests/conftest.py exports MINIGAN_FAKE_CUPY=1 and puts tests/ on PYTHONPATH, so the example
subprocesses get the stand-in too).
"""
import os

import numpy as np
import pytest

import minigan
from minigan.gan import LOSSES, models

from test_examples import run

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("flags", [["--loss", loss] for loss in LOSSES]
                         + [["--arch", "dcgan"], ["--conditional"], ["--spectral-norm"]],
                         ids=[f"loss-{loss}" for loss in LOSSES] + ["dcgan", "conditional", "spectral-norm"])
def test_mnist_gan_smoke_on_the_gpu(tmp_path, flags):
    """A --smoke run with --device gpu trains, samples and checkpoints like the CPU one."""
    out = run("examples/mnist_gan.py", "--smoke", "--quiet", "--device", "gpu", "--out", str(tmp_path),
              *flags, device="gpu")
    assert "--device gpu" in out  # the resume command it prints keeps the device
    for name in ("samples_final.png", "losses.png", "interpolation.png", "checkpoint.npz"):
        assert os.path.getsize(tmp_path / name) > 0, name


def test_toy_2d_smoke_on_the_gpu(tmp_path):
    """toy_2d (which makes everything on minigan's default device) with MINIGAN_DEVICE=gpu."""
    out = run("examples/toy_2d.py", "--smoke", "--out", str(tmp_path), "--losses", "nonsaturating",
              device="gpu")
    assert "ring" in out and "high quality" in out


def test_a_gpu_run_resumes_on_the_cpu_and_back(tmp_path):
    """Train on the GPU, resume the same run folder on the CPU, then on the GPU again (small
    batches keep it short). Each resume reads the checkpoint the other device wrote."""
    common = ["examples/mnist_gan.py", "--quiet", "--out", str(tmp_path), "--batch-size", "8"]
    run(*common, "--device", "gpu", "--steps", "4", device="gpu")
    out = run(*common, "--device", "cpu", "--steps", "6", "--resume", device="gpu")
    assert "resumed from" in out and "at step 4" in out and "done in" in out and "6 steps" in out
    out = run(*common, "--device", "gpu", "--steps", "8", "--resume", device="gpu")
    assert "resumed from" in out and "at step 6" in out and "done in" in out and "8 steps" in out


def test_save_on_the_gpu_load_on_the_cpu_and_back(tmp_path):
    """minigan.save of a GPU model's state_dict loads into a CPU model with the same values, and
    back into a GPU model: checkpoints hold host arrays, whatever device wrote them."""
    minigan.manual_seed(0)
    G, _ = models.build("mlp", width=0.25)
    G.to("gpu")
    path = tmp_path / "g.npz"
    minigan.save(G.state_dict(), path)
    saved = minigan.load(path)
    assert all(type(v) is np.ndarray for v in saved.values())
    cpu, _ = models.build("mlp", width=0.25)
    cpu.load_state_dict(saved)
    back, _ = models.build("mlp", width=0.25)
    back.to("gpu").load_state_dict(minigan.load(path))
    for (name, p), q, r in zip(G.named_parameters(), cpu.parameters(), back.parameters()):
        assert q.device == "cpu" and r.device == "gpu", name
        np.testing.assert_array_equal(q.numpy(), p.numpy())
        np.testing.assert_array_equal(r.numpy(), p.numpy())


def test_judge_digits_scores_an_infogan_run_on_the_gpu(tmp_path):
    """judge_digits with MINIGAN_DEVICE=gpu builds G and D there, reads the code's prior with D on
    the device and draws the codes there too (it used to draw them on the CPU for a GPU G)."""
    run("examples/mnist_gan.py", "--smoke", "--quiet", "--device", "gpu", "--out", str(tmp_path),
        "--metrics-samples", "0", device="gpu")
    out = run("examples/judge_digits.py", str(tmp_path), "--samples", "200", device="gpu")
    assert "of the real held-out digits' classifier score" in out
    assert os.path.getsize(tmp_path / "scores.json") > 0
