"""The examples run end to end (in their --smoke sizes) and make what they promise.

Each runs as a learner would run it, in a subprocess from the repository root, with the
bundled digits (no network) and matplotlib writing files only.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import minigan
import minigan.functional as F
import minigan.nn as nn
from minigan.gan import TrainingDiverged, models
from minigan.gan.models import Generator
from minigan.metrics.report import EXPLAIN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, timeout=300, device="cpu"):
    """Run an example; on the CPU without the tests' CuPy stand-in, so that ``--device auto``
    means the CPU on a machine without a GPU (test_examples_gpu.py runs them on the GPU)."""
    env = dict(os.environ, MPLBACKEND="Agg", MINIGAN_DEVICE=device)
    if device == "cpu":
        env.pop("MINIGAN_FAKE_CUPY", None)
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def test_mnist_gan_help_explains_every_flag():
    """--help names every flag the issue asks for, each with an explanation."""
    out = run("examples/mnist_gan.py", "--help")
    for flag in ("--arch", "--loss", "--epochs", "--batch-size", "--lr", "--device", "--dataset",
                 "--conditional", "--out", "--resume", "--seed", "--smoke", "--spectral-norm", "--optimizer",
                 "--beta1", "--activation", "--clip-grad-norm", "--codes"):
        assert flag in out, flag


@pytest.mark.parametrize("flags", [[], ["--arch", "dcgan", "--conditional", "--loss", "wgan-gp"],
                                   ["--loss", "hinge", "--spectral-norm"]],
                         ids=["mlp", "dcgan-conditional-wgan-gp", "mlp-hinge-spectral-norm"])
def test_mnist_gan_smoke_run_makes_the_run_folder(tmp_path, flags):
    """A --smoke run writes sample grids, the loss plot, the interpolation strip and a checkpoint,
    and its last line says where they are."""
    out = run("examples/mnist_gan.py", "--smoke", "--quiet", "--out", str(tmp_path), *flags)
    assert any(line.startswith("done in") and str(tmp_path) in line for line in out.splitlines())
    for name in ("samples_final.png", "losses.png", "interpolation.png", "checkpoint.npz", "run.json"):
        assert os.path.getsize(tmp_path / name) > 0, name
    assert any(n.startswith("samples_epoch") for n in os.listdir(tmp_path))
    if "--conditional" in flags:  # asking for a digit: G(z, 7)
        assert os.path.getsize(tmp_path / "sevens.png") > 0
    assert any(line.startswith("done in") and "metrics.json" in line for line in out.splitlines())
    scores = json.load(open(tmp_path / "metrics.json"))
    assert scores["samples"] == 200 and scores["steps"] == 8 and scores["real_samples"] == 1000
    assert 1.0 <= scores["score"] <= 10.0 and scores["score_ratio"] == pytest.approx(scores["score"] / scores["real_score"])
    assert len(scores["classes"]) == 10 and sum(scores["classes"]) == pytest.approx(1.0)
    for key in ("frechet", "kid", "kid_std_error", "precision", "recall", "kl_uniform", "class_share_min"):
        assert np.isfinite(scores[key]), key
    for sentence in EXPLAIN.values():  # each number printed with what it measures
        assert f"({sentence})" in out
    if not flags:  # the MLP's default, InfoGAN's 20-value code: its values drawn from the prior Q read
        prior = np.array(scores["code_prior"])
        assert prior.shape == (20,) and prior.min() >= 0 and prior.sum() == pytest.approx(1.0)
        assert len(scores["code_to_digit"]) == 20 and 0 <= scores["code_match"] <= 1


def test_mnist_gan_metrics_flag_sets_the_sample_count_or_turns_scoring_off(tmp_path):
    """--metrics-samples N scores N samples; 0 scores none and writes no metrics.json."""
    run("examples/mnist_gan.py", "--smoke", "--quiet", "--out", str(tmp_path / "a"), "--metrics-samples", "120")
    assert json.load(open(tmp_path / "a" / "metrics.json"))["samples"] == 120
    out = run("examples/mnist_gan.py", "--smoke", "--quiet", "--out", str(tmp_path / "b"), "--metrics-samples", "0")
    assert not os.path.exists(tmp_path / "b" / "metrics.json") and "metrics.json" not in out


def test_mnist_gan_resume_continues_from_the_checkpoint(tmp_path):
    """--resume picks up the run folder's checkpoint instead of starting again."""
    run("examples/mnist_gan.py", "--smoke", "--quiet", "--out", str(tmp_path), "--steps", "4")
    out = run("examples/mnist_gan.py", "--smoke", "--quiet", "--out", str(tmp_path), "--resume")
    assert "resumed from" in out and "at step 4" in out and "8 steps" in out  # --smoke's 8 steps


def test_judge_digits_scores_a_run(tmp_path):
    """The judging script loads the shipped classifier, scores real and generated digits, saves scores.json."""
    run("examples/mnist_gan.py", "--smoke", "--quiet", "--out", str(tmp_path))
    out = run("examples/judge_digits.py", str(tmp_path), "--samples", "300")
    assert "real held-out digits" in out and "samples" in out and "accuracy 0.9" in out
    scores = json.load(open(tmp_path / "scores.json"))
    assert 1.0 <= scores["real_test"]["score"] <= 10.0
    assert 0.0 <= scores["classifier_accuracy"] <= 1.0


def test_toy_2d_smoke_prints_the_comparison(tmp_path):
    """toy_2d trains each loss on ring and grid and prints modes and high-quality shares."""
    out = run("examples/toy_2d.py", "--smoke", "--out", str(tmp_path), "--losses", "nonsaturating", "hinge")
    for needle in ("ring", "grid", "PacGAN paper", "high quality", "all 8 ring modes captured"):
        assert needle in out, needle
    assert any(n.endswith(".png") for n in os.listdir(tmp_path))


def test_mnist_gan_ctrl_c_saves_prints_the_resume_command_and_exits_130(tmp_path):
    """SIGINT mid-run: the step in progress finishes, its checkpoint is saved, the exact command
    that continues the run is printed, and the exit code is 130 (the shell's "stopped by Ctrl-C")."""
    args = ["examples/mnist_gan.py", "--quiet", "--out", str(tmp_path), "--steps", "100000", "--batch-size", "8"]
    env = dict(os.environ, MPLBACKEND="Agg", MINIGAN_DEVICE="cpu", PYTHONUNBUFFERED="1")
    env.pop("MINIGAN_FAKE_CUPY", None)  # --device auto: the CPU here, as in run()
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(120, process.kill)  # a run that never stops must not hang the tests
    watchdog.start()
    try:
        lines = []
        for line in process.stdout:  # wait until the training loop has begun
            lines.append(line)
            if line.startswith("training to step"):
                process.send_signal(signal.SIGINT)
                break
        out = "".join(lines) + process.communicate()[0]
    finally:
        watchdog.cancel()
        process.kill()
    assert process.returncode == 130, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    saved = re.search(r"interrupted: saved a checkpoint of step (\d+) to (.*checkpoint\.npz)", out)
    assert saved and os.path.samefile(saved.group(2), tmp_path / "checkpoint.npz"), out[-3000:]
    command = f"python examples/mnist_gan.py {' '.join(args[1:])} --resume"
    assert f"to go on: {command}" in out
    step = int(saved.group(1))
    # the printed command, with two more steps instead of 100000, continues from that checkpoint
    out = run(*args[:-4], "--steps", str(step + 2), "--batch-size", "8", "--resume")
    assert f"resumed from {tmp_path / 'checkpoint.npz'} at step {step}" in out
    assert f"done in" in out and f"{step + 2} steps" in out


def test_mnist_gan_resume_uses_the_flags_given_now_and_says_so(tmp_path):
    """--lr given on the resuming command line wins over the checkpoint's, with a line saying so."""
    run("examples/mnist_gan.py", "--smoke", "--quiet", "--out", str(tmp_path), "--lr", "1e-3")
    out = run("examples/mnist_gan.py", "--smoke", "--quiet", "--out", str(tmp_path), "--lr", "5e-4", "--resume")
    for net in ("G", "D"):
        assert f"resume: {net}'s optimiser lr 0.001 from the checkpoint replaced by 0.0005 given now" in out
    assert "EMA decay" not in out  # --ema is the same both times


class SqrtOfReLU(nn.Module):
    """sqrt(relu(x)): a finite output, but an infinite slope at 0, so relu's zeros get NaN gradients."""

    def forward(self, x):
        return F.relu(x).sqrt()


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
def test_mnist_gan_stops_on_a_nan_gradient_before_it_reaches_the_weights(example, tmp_path, monkeypatch):
    """The example's own loop checks the gradients before each optimiser step, as the Trainer
    does: a G whose loss is finite but whose gradient is NaN stops the run with G untouched."""
    G = Generator(nn.Sequential(nn.Linear(100, 16), SqrtOfReLU(), nn.Linear(16, 784), nn.Tanh()), z_dim=100)
    before = [p.numpy().copy() for p in G.parameters()]
    monkeypatch.setattr(example, "build", lambda arch, **kw: (G, models.build(arch, **kw)[1]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    with pytest.raises(TrainingDiverged, match=r"gradient of G's parameter 'body\.0\.weight' \(shape \(16, 100\)\) "
                                               r"holds NaN at step 0"):
        example.main(["--smoke", "--quiet", "--device", "cpu", "--codes", "0", "--out", str(tmp_path)])  # build's G
    for old, p in zip(before, G.parameters()):
        np.testing.assert_array_equal(old, p.numpy())
    assert not os.path.exists(tmp_path / "checkpoint.npz")


def test_mnist_gan_stopped_partway_through_an_epoch_resumes_where_it_stopped(tmp_path):
    """A run that reaches its --steps partway through an epoch keeps that epoch open: resumed
    with more steps it trains on from the next batch, and ends exactly where one run would."""
    common = ["examples/mnist_gan.py", "--quiet", "--batch-size", "8"]  # 500 batches an epoch
    run(*common, "--out", str(tmp_path / "two"), "--steps", "4")
    out = run(*common, "--out", str(tmp_path / "two"), "--steps", "7", "--resume")
    assert "at step 4" in out and "7 steps" in out
    run(*common, "--out", str(tmp_path / "one"), "--steps", "7")
    two, one = (minigan.load(str(tmp_path / name / "checkpoint.npz")) for name in ("two", "one"))
    assert two["step"] == one["step"] == 7
    for net in ("G", "D"):
        for key in one[net]:
            np.testing.assert_array_equal(two[net][key], one[net][key], err_msg=f"{net} {key}")
    # resumed once more with the same --steps: nothing left to train (it used to take one step more),
    # and the run is scored and saved again as it was
    out = run(*common, "--out", str(tmp_path / "two"), "--steps", "7", "--resume", "--metrics-samples", "0")
    assert "at step 7" in out and "done in" in out and "7 steps" in out
    again = minigan.load(str(tmp_path / "two" / "checkpoint.npz"))
    assert again["step"] == 7
    for net in ("G", "D"):
        for key in one[net]:
            np.testing.assert_array_equal(again[net][key], one[net][key], err_msg=f"{net} {key}")
