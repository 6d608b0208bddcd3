"""examples/toy_2d.py: the same number of G updates for every objective, and --json's one line per run.

(tests/test_examples.py runs its --smoke table.) Smoke sizes: seconds.
"""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_example():
    spec = importlib.util.spec_from_file_location("toy_2d", os.path.join(ROOT, "examples", "toy_2d.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example


@pytest.mark.parametrize("loss, n_critic", [("nonsaturating", 1), ("hinge", 1), ("wgan-gp", 5), ("wgan", 5)])
def test_every_objective_gets_the_same_number_of_g_updates(loss, n_critic):
    """The budget is G updates: n_critic = 5 objectives make five times the D updates, not a fifth of the G updates."""
    example = load_example()
    run = example.train_one("ring", loss, 0, 7, batch=16, lr=1e-3, hidden=8, layers=1, ema=0.9,
                            decay_from=0.5, plots=0)
    assert run.g_updates == 7 and run.d_updates == 7 * n_critic, run
    assert run.n_modes == 8 and 0 <= run.modes <= 8 and 0.0 <= run.hq <= 1.0 and run.seconds > 0


def test_json_prints_one_line_per_run_and_nothing_else(tmp_path):
    """--json: stdout holds exactly one JSON object per (dataset, loss, seed), with exactly the keys
    dataset, loss, seed, modes, hq, seconds; progress goes to stderr."""
    args = ["examples/toy_2d.py", "--json", "--g-updates", "5", "--seeds", "2", "--first-seed", "3", "--hidden", "16",
            "--losses", "nonsaturating", "wgan_gp", "--out", str(tmp_path)]
    env = dict(os.environ, MPLBACKEND="Agg", MINIGAN_DEVICE="cpu")
    env.pop("MINIGAN_FAKE_CUPY", None)
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    runs = [json.loads(line) for line in lines]
    assert [(r["dataset"], r["loss"], r["seed"]) for r in runs] == [
        (d, loss, seed) for d in ("ring", "grid") for loss in ("nonsaturating", "wgan-gp") for seed in (3, 4)]
    for r in runs:
        assert sorted(r) == ["dataset", "hq", "loss", "modes", "seconds", "seed"], r
        assert isinstance(r["modes"], int) and 0 <= r["modes"] <= (8 if r["dataset"] == "ring" else 25)
        assert 0.0 <= r["hq"] <= 1.0 and r["seconds"] > 0
    assert "G updates" in result.stderr  # the progress lines


def test_help_explains_every_flag():
    out = subprocess.run([sys.executable, "examples/toy_2d.py", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60).stdout
    flags = ("--losses", "--datasets", "--seeds", "--first-seed", "--g-updates", "--batch-size", "--lr",
             "--decay-from", "--ema", "--hidden", "--layers", "--codes", "--info-weight", "--penalty", "--gamma", "--pack", "--plots", "--out",
             "--json", "--smoke")
    for flag in flags:
        assert flag in out, flag
    assert "--steps" not in out  # the budget is G updates, not D steps


@pytest.mark.parametrize("flag, value", [("--ema", "1"), ("--decay-from", "1.5"), ("--g-updates", "0"), ("--seeds", "0"),
                                         ("--pack", "3"),  # 3 does not divide the default batch of 256
                                         ("--pack", "2"),  # a packed D has no Q: it needs --codes 0
                                         ("--codes", "1"), ("--codes", "many"), ("--info-weight", "-1"),
                                         ("--gamma", "-0.5"), ("--penalty", "r2")])
def test_a_flag_out_of_range_is_refused_with_its_name(flag, value):
    result = subprocess.run([sys.executable, "examples/toy_2d.py", flag, value, "--plots", "0"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and flag in result.stderr, result.stderr


def test_pack_makes_d_judge_packs_of_points_side_by_side():
    """--pack m (PacGAN): D sees each run of m consecutive points as one input of 2m numbers and
    gives one logit per pack; its logit for a pack is its body's on those points laid side by side."""
    import numpy as np

    import minigan
    example = load_example()
    minigan.manual_seed(0)
    G, D = example.networks(hidden=8, layers=1, pack=4)
    points = minigan.tensor(np.arange(32, dtype=np.float32).reshape(16, 2) / 16)
    logits = D(points)
    assert logits.shape == (4, 1)
    by_hand = D.body(minigan.tensor(points.numpy()[4:8].reshape(1, 8)))
    np.testing.assert_allclose(logits.numpy()[1], by_hand.numpy()[0], rtol=1e-6)
    with pytest.raises(ValueError, match="does not split into packs of 4"):
        D(points[:10])
    run = example.train_one("grid", "nonsaturating", 0, 5, batch=16, lr=1e-3, hidden=8, layers=1, ema=0.9,
                            decay_from=0.5, pack=4, plots=0)
    assert run.g_updates == 5 and run.n_modes == 25


def test_codes_give_g_a_code_and_d_a_q_head_and_the_scored_samples_follow_q_s_prior(monkeypatch):
    """--codes N: G reads 2 noise numbers and the code one-hot, D is an InfoDiscriminator whose Q reads
    the code from one point; "modes" gives the dataset's mode count. After training, the scored
    samples draw the code's values from gan.code_prior, read by Q on the real points."""
    import minigan
    from minigan import gan
    example = load_example()
    codes = gan.Codes(noise_dim=2, categories=8, continuous=0)
    G, D = example.networks(hidden=8, layers=2, codes=codes)
    assert isinstance(D, gan.InfoDiscriminator) and G.body[0].in_features == 10
    logits, (cat_logits, _) = D.with_codes(minigan.randn(5, 2))
    assert logits.shape == (5, 1) and cat_logits.shape == (5, 8)

    priors = []
    real_prior = gan.code_prior
    monkeypatch.setattr(gan, "code_prior", lambda D, points: priors.append(real_prior(D, points)) or priors[-1])
    run = example.train_one("ring", "nonsaturating", 0, 5, batch=16, lr=1e-3, hidden=8, layers=1, ema=0.9,
                            decay_from=0.5, codes="modes", plots=0)
    assert run.g_updates == 5 and run.n_modes == 8 and 0 <= run.modes <= 8
    assert len(priors) == 1 and priors[0].shape == (8,)  # one value per ring mode


def test_penalty_adds_its_penalty_to_d_s_loss_unless_the_objective_has_a_penalty_of_its_own(monkeypatch):
    """--penalty zero-gp / r1 with --gamma g: every D update of a non-saturating run adds
    gan.GradientPenalty(g / 2, center=0) or gan.R1Penalty(g); "none" or gamma 0 adds nothing; WGAN-GP
    keeps its own gradient penalty (centred at 1, lambda 10) and gets neither. "auto" (the default):
    R1 on the ring, the zero-centred penalty on the grid."""
    from minigan import gan
    example = load_example()
    calls = []
    for kind in (gan.GradientPenalty, gan.R1Penalty):
        monkeypatch.setattr(kind, "__call__", lambda self, *a, original=kind.__call__: calls.append(self)
                            or original(self, *a))
    settings = dict(batch=16, lr=1e-3, hidden=8, layers=1, ema=0.9, decay_from=0.5, plots=0)
    example.train_one("ring", "nonsaturating", 0, 3, codes="modes", penalty="zero-gp", gamma=0.5, **settings)
    assert calls == [gan.GradientPenalty(0.25, center=0)] * 3  # one per D update
    calls.clear()
    example.train_one("ring", "nonsaturating", 0, 2, penalty="r1", gamma=0.5, **settings)
    assert calls == [gan.R1Penalty(0.5)] * 2
    calls.clear()
    example.train_one("ring", "nonsaturating", 0, 2, penalty="none", **settings)
    example.train_one("ring", "nonsaturating", 0, 2, penalty="r1", gamma=0.0, **settings)
    assert calls == []
    example.train_one("ring", "nonsaturating", 0, 1, **settings)  # penalty="auto": the dataset's own
    example.train_one("grid", "nonsaturating", 0, 1, **settings)
    assert calls == [gan.R1Penalty(1.0), gan.GradientPenalty(0.5, center=0)]
    calls.clear()
    example.train_one("ring", "wgan-gp", 0, 1, penalty="zero-gp", gamma=0.5, **settings)
    assert calls == [gan.GradientPenalty(10.0)] * 5  # n_critic = 5 D updates, WGAN-GP's own penalty
