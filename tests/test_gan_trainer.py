"""The training loop: files a run makes, every objective end to end, EMA, conditional sampling,
exact resumption after an interruption, and the NaN guard that protects the last checkpoint.

Runs use tiny networks and a few dozen synthetic 28x28 images, so each test takes a second or two.
"""
import os

import numpy as np
import pytest

import minigan
import minigan.nn as nn
from minigan.data import DataLoader
from minigan.gan import EMA, RECIPES, Trainer, TrainingDiverged
from minigan.gan.models import Discriminator, Generator, build


def tiny_gan(num_classes=None, dropout=0.0):
    """G: z(8) -> 784 and D: 784 -> 1, small enough to train in milliseconds."""
    embed = 4 if num_classes else 0
    G = Generator(nn.Sequential(nn.Linear(8 + embed, 32), nn.LeakyReLU(0.2), nn.Linear(32, 784), nn.Tanh()),
                  z_dim=8, num_classes=num_classes, embed_dim=4 if num_classes else None)
    layers = [] if num_classes else [nn.Flatten()]
    layers += [nn.Linear(784 + embed, 32), nn.LeakyReLU(0.2)]
    layers += [nn.Dropout(dropout)] if dropout else []
    layers += [nn.Linear(32, 1)]
    D = Discriminator(nn.Sequential(*layers), num_classes=num_classes, embed_dim=4 if num_classes else None)
    return G, D


def tiny_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    return images, labels


def make_trainer(tmp_path=None, loss="nonsaturating", num_classes=None, **options):
    minigan.manual_seed(0)
    G, D = tiny_gan(num_classes, dropout=options.pop("dropout", 0.0))
    return Trainer(G, D, loss, z_dim=8, num_classes=num_classes, progress=False, n_samples=16,
                   out_dir=None if tmp_path is None else str(tmp_path), **options)


def loader_for(num_classes=None, seed=3):
    images, labels = tiny_data()
    return DataLoader((images, labels) if num_classes else images, batch_size=8, seed=seed)


def weights(module):
    return [p.numpy().copy() for p in module.parameters()]


def test_fit_records_history_and_writes_the_run_folder(tmp_path):
    """Two epochs: one history row per step, a grid per epoch, the loss plot and the checkpoint."""
    trainer = make_trainer(tmp_path)
    history = trainer.fit(loader_for(), epochs=2)
    assert history["step"] == list(range(1, 13)) and len(history["d_loss"]) == 12
    assert all(np.isfinite(history[k]).all() for k in ("d_loss", "g_loss", "d_grad_norm", "g_grad_norm"))
    assert all(0 < v < 1 for v in history["d_real"])  # probabilities for the BCE-based objective
    for name in ("samples_epoch001.png", "samples_epoch002.png", "losses.png", "checkpoint.npz"):
        assert os.path.getsize(tmp_path / name) > 0, name


@pytest.mark.parametrize("loss", sorted(RECIPES))
def test_every_objective_trains_and_changes_both_networks(loss):
    """Each objective runs end to end; G only updates every n_critic steps (5 for the WGANs)."""
    trainer = make_trainer(loss=loss)
    g0, d0 = weights(trainer.G), weights(trainer.D)
    history = trainer.fit(loader_for(), epochs=2)
    assert np.isfinite(history["d_loss"]).all()
    assert any(not np.allclose(a, b) for a, b in zip(g0, weights(trainer.G)))
    assert any(not np.allclose(a, b) for a, b in zip(d0, weights(trainer.D)))
    g_updates = int(np.isfinite(history["g_grad_norm"]).sum())
    assert g_updates == 12 // RECIPES[loss]["n_critic"]
    if loss == "wgan":  # weight clipping keeps every critic weight in [-c, c]
        assert max(np.abs(w).max() for w in weights(trainer.D)) <= RECIPES["wgan"]["clip_value"] + 1e-7


def test_resume_after_an_interruption_continues_bit_for_bit(tmp_path):
    """A run interrupted mid-epoch and resumed from its last checkpoint ends with exactly the
    weights, optimiser state and history of a run that was never interrupted (CPU, same seed)."""
    reference = make_trainer(tmp_path / "a", dropout=0.3, ema_decay=0.9)
    reference.fit(loader_for(), epochs=3)

    class Crash(Exception):
        pass

    def crash_at_step_10(trainer, record):
        if trainer.step == 10:
            raise Crash()

    first = make_trainer(tmp_path / "b", dropout=0.3, ema_decay=0.9, checkpoint_every=4,
                         callbacks=[crash_at_step_10])
    with pytest.raises(Crash):
        first.fit(loader_for(), epochs=3)  # the last checkpoint is from step 8, mid-epoch 2
    minigan.manual_seed(12345)  # the resumed run must not depend on the RNG state it starts with
    resumed = make_trainer(tmp_path / "b", dropout=0.3, ema_decay=0.9)
    resumed.fit(loader_for(), epochs=3, resume=str(tmp_path / "b" / "checkpoint.npz"))

    for a, b in zip(weights(reference.G) + weights(reference.D), weights(resumed.G) + weights(resumed.D)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(reference.ema.shadow, resumed.ema.shadow):
        np.testing.assert_array_equal(a, b)
    assert resumed.history == reference.history


def test_nan_guard_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    """When D's loss becomes NaN the run stops with a clear message, before the bad step reaches
    the weights, and the checkpoint on disk is the last good one."""
    trainer = make_trainer(tmp_path, checkpoint_every=2)

    def poison(trainer, record):
        if trainer.step == 5:  # after step 4's checkpoint: D outputs NaN from the next step on
            first = next(iter(trainer.D.parameters()))
            first.data[...] = np.nan

    trainer.callbacks.append(poison)
    with pytest.raises(TrainingDiverged, match=r"d_loss became nan at step 5.*last checkpoint"):
        trainer.fit(loader_for(), epochs=2)
    state = minigan.load(str(tmp_path / "checkpoint.npz"))
    assert state["step"] == 4
    assert all(np.isfinite(v).all() for v in state["D"].values() if np.asarray(v).dtype.kind == "f")


def test_conditional_generator_draws_the_requested_class_shapes():
    """With num_classes, G takes labels: an int asks for one class, an array for one label each."""
    minigan.manual_seed(0)
    for arch in ("mlp", "dcgan"):
        G, D = build(arch, num_classes=10, width=0.25)
        sevens = G(minigan.randn(5, 100), 7)
        assert sevens.shape == (5, 1, 28, 28)
        assert D(sevens, [7] * 5).shape == (5, 1)
        with pytest.raises(ValueError, match="pass labels"):
            G(minigan.randn(2, 100))
        with pytest.raises(ValueError, match="expected 3 labels"):
            G(minigan.randn(3, 100), [1, 2])
    trainer = make_trainer(num_classes=10)
    trainer.fit(loader_for(num_classes=10), epochs=1)
    assert trainer.sample(6, labels=np.full(6, 3)).shape == (6, 1, 28, 28)


def test_ema_averages_and_swaps_back():
    """EMA weights trail the live ones (with the warm-up decay min(decay, (1+t)/(10+t)));
    applied() swaps them in and restores the live weights."""
    G, _ = tiny_gan()
    ema = EMA(G, decay=0.5)
    live_before = weights(G)
    for p in G.parameters():
        p.data += 1.0
    ema.update()  # d = min(0.5, 2/11) = 2/11: avg = d * old + (1 - d) * (old + 1) = old + 9/11
    with ema.applied():
        for p, old in zip(G.parameters(), live_before):
            np.testing.assert_allclose(p.numpy(), old + 9 / 11, rtol=1e-6)
    for p, old in zip(G.parameters(), live_before):
        np.testing.assert_allclose(p.numpy(), old + 1.0, rtol=1e-6)


def test_options_label_smoothing_and_instance_noise_run():
    """One-sided label smoothing and decaying instance noise are accepted and train."""
    trainer = make_trainer(label_smoothing=0.1, instance_noise=0.1)
    assert np.isfinite(trainer.fit(loader_for(), epochs=1)["d_loss"]).all()
    with pytest.raises(ValueError, match="label_smoothing applies to the BCE-based losses"):
        make_trainer(loss="wgan", label_smoothing=0.1)
    with pytest.raises(ValueError, match="unknown loss 'bce'"):
        make_trainer(loss="bce")


def test_resume_refuses_a_checkpoint_of_another_loss(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.fit(loader_for(), epochs=1)
    other = make_trainer(tmp_path, loss="hinge")
    with pytest.raises(ValueError, match="trained with loss 'nonsaturating', not 'hinge'"):
        other.load_checkpoint(other.checkpoint_path)
