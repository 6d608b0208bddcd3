"""The training loop: files a run makes, every objective end to end, EMA, conditional sampling,
exact resumption after an interruption (a crash or Ctrl-C), the guards that keep NaN out of the
weights and the checkpoints, and resumes that are refused before anything changes.

Runs use tiny networks and a few dozen synthetic 28x28 images, so each test takes a second or two.
"""
import os
import re
import signal

import numpy as np
import pytest

import minigan
import minigan.functional as F
import minigan.nn as nn
from minigan.data import DataLoader
from minigan.gan import EMA, LOSSES, Trainer, TrainingDiverged, get_loss
from minigan.gan.models import Discriminator, Generator, build
from minigan.optim import Adam, RMSprop
from minigan.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LambdaLR, StepLR


def tiny_gan(num_classes=None, dropout=0.0, d_width=32):
    """G: z(8) -> 784 and D: 784 -> 1, small enough to train in milliseconds."""
    embed = 4 if num_classes else 0
    G = Generator(nn.Sequential(nn.Linear(8 + embed, 32), nn.LeakyReLU(0.2), nn.Linear(32, 784), nn.Tanh()),
                  z_dim=8, num_classes=num_classes, embed_dim=4 if num_classes else None)
    layers = [] if num_classes else [nn.Flatten()]
    layers += [nn.Linear(784 + embed, d_width), nn.LeakyReLU(0.2)]
    layers += [nn.Dropout(dropout)] if dropout else []
    layers += [nn.Linear(d_width, 1)]
    D = Discriminator(nn.Sequential(*layers), num_classes=num_classes, embed_dim=4 if num_classes else None)
    return G, D


def tiny_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    return images, labels


def make_trainer(tmp_path=None, loss="nonsaturating", num_classes=None, arch="mlp", **options):
    minigan.manual_seed(0)
    if arch == "dcgan":  # batch norm in G, dropout in D, at 1/32 of the example's channels
        G, D = build("dcgan", z_dim=8, width=1 / 32, dropout=0.3)
    else:
        G, D = tiny_gan(num_classes, dropout=options.pop("dropout", 0.0), d_width=options.pop("d_width", 32))
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


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_objective_trains_and_changes_both_networks(loss):
    """Each objective runs end to end; G only updates every n_critic steps (5 for the WGANs)."""
    trainer = make_trainer(loss=loss)
    g0, d0 = weights(trainer.G), weights(trainer.D)
    history = trainer.fit(loader_for(), epochs=2)
    assert np.isfinite(history["d_loss"]).all()
    assert any(not np.allclose(a, b) for a, b in zip(g0, weights(trainer.G)))
    assert any(not np.allclose(a, b) for a, b in zip(d0, weights(trainer.D)))
    g_updates = int(np.isfinite(history["g_grad_norm"]).sum())
    assert g_updates == 12 // get_loss(loss).n_critic
    if loss == "wgan":  # weight clipping keeps every critic weight in [-c, c]
        assert max(np.abs(w).max() for w in weights(trainer.D)) <= get_loss("wgan").clip_value + 1e-7


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


def test_ema_averages_batch_norm_statistics_with_the_weights():
    """The running mean and variance are averaged like the weights and swapped in with them (the
    averaged G must not normalise with the live G's statistics); the int batch counter is not.
    copy_to writes the averages in for good; state_dict carries them; a state saved before they
    were averaged loads, starting their average from the module's own statistics."""
    minigan.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    bn = G[1]
    ema = EMA(G, decay=0.5)
    assert [b is bn.running_mean or b is bn.running_var for b in ema.buffers] == [True, True]
    mean0, var0 = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    G(minigan.randn(16, 3))  # train mode: the live statistics move
    ema.update()             # d = 2/11, as for the weights
    live_mean, live_var = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    expected_mean, expected_var = 2 / 11 * mean0 + 9 / 11 * live_mean, 2 / 11 * var0 + 9 / 11 * live_var
    with ema.applied():
        np.testing.assert_allclose(bn.running_mean.numpy(), expected_mean, rtol=1e-6)
        np.testing.assert_allclose(bn.running_var.numpy(), expected_var, rtol=1e-6)
    np.testing.assert_array_equal(bn.running_mean.numpy(), live_mean)  # swapped back
    state = ema.state_dict()
    np.testing.assert_allclose(state["buffers"][0], expected_mean, rtol=1e-6)

    old = {k: v for k, v in state.items() if k != "buffers"}  # a checkpoint from before
    other = EMA(G, decay=0.5)
    bn.running_mean.data[...] = 7.0
    other.load_state_dict(old)
    np.testing.assert_array_equal(other.shadow_buffers[0], np.full(4, 7.0, np.float32))
    with pytest.raises(ValueError, match=r"EMA statistic 1 has shape \(3,\) in the state, \(4,\) here"):
        other.load_state_dict(dict(state, buffers=[state["buffers"][0], np.zeros(3, np.float32)]))
    ema.copy_to()
    np.testing.assert_allclose(bn.running_var.numpy(), expected_var, rtol=1e-6)


def test_options_label_smoothing_and_instance_noise_run():
    """One-sided label smoothing and decaying instance noise are accepted and train."""
    trainer = make_trainer(label_smoothing=0.1, instance_noise=0.1)
    assert np.isfinite(trainer.fit(loader_for(), epochs=1)["d_loss"]).all()
    with pytest.raises(ValueError, match="label_smoothing applies to the BCE-based losses"):
        make_trainer(loss="wgan", label_smoothing=0.1)
    with pytest.raises(ValueError, match="unknown GAN loss 'bce'"):
        make_trainer(loss="bce")


def test_resume_refuses_a_checkpoint_of_another_loss(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.fit(loader_for(), epochs=1)
    other = make_trainer(tmp_path, loss="hinge")
    with pytest.raises(ValueError, match="trained with loss 'nonsaturating', not 'hinge'"):
        other.load_checkpoint(other.checkpoint_path)


# --- fault safety: NaN, out_dir, Ctrl-C, hyperparameters on resume, all-or-nothing loads -------

def assert_same(a, b, where="state"):
    """Two nested states (dicts, lists, arrays, numbers) are equal bit for bit; NaN equals NaN."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)) and not isinstance(a, np.ndarray):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


def assert_same_trainer_state(a, b):
    """Weights, buffers, both optimisers, the EMA, the step/epoch/batch counters, the RNG state and
    the history of two trainers are equal bit for bit."""
    assert_same(a.state_dict(), b.state_dict())


class SqrtOfReLU(nn.Module):
    """sqrt(relu(x)), once switched on (identity before): finite everywhere, but its slope at 0 is
    infinite, so every unit that relu zeroes gets the gradient inf * 0 = NaN, with a finite loss."""

    def __init__(self):
        super().__init__()
        self.on = False

    def forward(self, x):
        return F.relu(x).sqrt() if self.on else x


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
def test_a_nan_gradient_with_a_finite_loss_stops_before_the_weights_or_a_checkpoint_change(tmp_path):
    """The loss guard alone lets a NaN gradient through: the optimiser would write NaN into G and
    the next checkpoint would keep it. The gradient guard stops the step before the update and
    names the network, the parameter and the step; the checkpoint on disk is the last good one."""
    minigan.manual_seed(0)
    sqrt = SqrtOfReLU()
    G = Generator(nn.Sequential(nn.Linear(8, 32), sqrt, nn.Linear(32, 784), nn.Tanh()), z_dim=8)
    _, D = tiny_gan()

    def switch_on_at_step_3(trainer, record):
        if trainer.step == 3:
            sqrt.on = True

    trainer = Trainer(G, D, z_dim=8, progress=False, n_samples=16, out_dir=str(tmp_path), checkpoint_every=1,
                      callbacks=[switch_on_at_step_3])
    with pytest.raises(TrainingDiverged, match=r"gradient of G's parameter 'body\.0\.weight' \(shape \(32, 8\)\) "
                                               r"holds NaN at step 3.*before G's update"):
        trainer.fit(loader_for(), epochs=1)
    state = minigan.load(trainer.checkpoint_path)
    assert state["step"] == 3
    for key, value in state["G"].items():
        assert np.isfinite(value).all(), key
        np.testing.assert_array_equal(value, dict(G.named_parameters())[key].numpy())  # G never stepped


def test_save_checkpoint_refuses_a_state_with_nan_and_keeps_the_last_good_file(tmp_path):
    """A non-finite weight, optimiser moment or EMA weight is never written over a good checkpoint."""
    trainer = make_trainer(tmp_path, ema_decay=0.9)
    trainer.fit(loader_for(), epochs=1)
    good = open(trainer.checkpoint_path, "rb").read()
    poisons = [(lambda: next(iter(trainer.D.parameters())).data, r"D\['body\.1\.weight'\]"),
               (lambda: next(iter(trainer.g_opt.state.values()))["exp_avg_sq"], r"g_opt\['state'\]\[0\]\['exp_avg_sq'\]"),
               (lambda: trainer.ema.shadow[-1], r"ema\['shadow'\]\[3\]")]
    for array, where in poisons:
        saved = array().copy()
        array()[...] = np.inf
        with pytest.raises(TrainingDiverged, match=rf"not saving .*checkpoint\.npz.*{where} holds inf"):
            trainer.save_checkpoint(trainer.checkpoint_path)
        array()[...] = saved
        assert open(trainer.checkpoint_path, "rb").read() == good
    assert sorted(os.listdir(tmp_path)) == sorted(["checkpoint.npz", "losses.png", "samples_epoch001.png",
                                                "d_outputs_epoch001.png"])


def test_an_unusable_out_dir_fails_when_the_trainer_is_made_naming_the_path(tmp_path):
    """Not after the first epoch of training: at construction, with the path in the message."""
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    for bad in (a_file, a_file / "run"):
        with pytest.raises(OSError, match=f"out_dir '{bad}'"):
            make_trainer(bad)
    make_trainer(tmp_path / "new" / "run")  # a missing folder is made
    assert os.path.isdir(tmp_path / "new" / "run") and os.listdir(tmp_path / "new" / "run") == []


def test_a_read_only_out_dir_fails_when_the_trainer_is_made(tmp_path):
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        if os.access(read_only, os.W_OK):
            pytest.skip("running as root: every folder is writable")
        with pytest.raises(OSError, match=f"out_dir '{read_only}' .*files can be written"):
            make_trainer(read_only)
    finally:
        read_only.chmod(0o700)


def test_ctrl_c_mid_step_finishes_the_step_saves_it_and_the_run_resumes_bit_for_bit(tmp_path, capsys):
    """A real SIGINT lands inside step 7 (in G's forward): the step still completes, a checkpoint
    of it is saved, fit says how to resume and raises KeyboardInterrupt; resuming from it ends
    exactly where a run that was never interrupted ends."""
    reference = make_trainer(dropout=0.3, ema_decay=0.9, instance_noise=0.1)
    reference.fit(loader_for(), epochs=2)

    first = make_trainer(tmp_path, dropout=0.3, ema_decay=0.9, instance_noise=0.1)

    def ctrl_c_in_step_7(module, args):
        if first.step == 7:
            handle.remove()
            os.kill(os.getpid(), signal.SIGINT)

    handle = first.G.register_forward_pre_hook(ctrl_c_in_step_7)
    with pytest.raises(KeyboardInterrupt):
        first.fit(loader_for(), epochs=2)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back as it was
    assert minigan.load(first.checkpoint_path)["step"] == 8  # step 7 (counting from 0) finished
    out = capsys.readouterr().out
    assert f"saved a checkpoint of step 8 to {first.checkpoint_path}" in out
    assert f"fit(..., resume='{first.checkpoint_path}')" in out

    resumed = make_trainer(dropout=0.3, ema_decay=0.9, instance_noise=0.1)
    minigan.manual_seed(12345)  # the resumed run must not depend on the RNG state it starts with
    resumed.fit(loader_for(), epochs=2, resume=first.checkpoint_path)
    assert_same_trainer_state(reference, resumed)


def test_an_interrupt_that_lands_mid_step_saves_nothing_half_done(tmp_path, capsys):
    """A KeyboardInterrupt raised inside a step (a second Ctrl-C, or code that raises it) leaves
    the step half done: nothing is saved, and the message names the last checkpoint instead."""
    trainer = make_trainer(tmp_path, checkpoint_every=2)

    def interrupt_in_step_5(module, args):
        if trainer.step == 5:
            raise KeyboardInterrupt

    trainer.G.register_forward_pre_hook(interrupt_in_step_5)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(loader_for(), epochs=1)
    assert minigan.load(trainer.checkpoint_path)["step"] == 4
    assert "in the middle of step 5: not saved" in capsys.readouterr().out


RESUME_CASES = [(loss, arch) for arch in ("mlp", "dcgan") for loss in sorted(LOSSES)]


@pytest.mark.parametrize("loss, arch", RESUME_CASES, ids=[f"{loss}-{arch}" for loss, arch in RESUME_CASES])
def test_stop_and_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path, loss, arch):
    """Ctrl-C (a callback raising KeyboardInterrupt) after step 7 of 12, in the middle of the second
    epoch and of an n_critic cycle; the resumed run restores the RNG, the data position, the EMA,
    the n_critic phase, the instance-noise schedule and the history, and ends bit for bit where
    the uninterrupted run ends."""
    options = dict(loss=loss, arch=arch, ema_decay=0.9, instance_noise=0.1)
    reference = make_trainer(**options)
    reference.fit(loader_for(), epochs=2)

    def ctrl_c_after_step_7(trainer, record):
        if trainer.step == 7:
            raise KeyboardInterrupt

    first = make_trainer(tmp_path, callbacks=[ctrl_c_after_step_7], **options)
    with pytest.raises(KeyboardInterrupt):
        first.fit(loader_for(), epochs=2)
    assert minigan.load(first.checkpoint_path)["step"] == 7  # saved on Ctrl-C (the last periodic one: 6)
    resumed = make_trainer(**options)
    minigan.manual_seed(12345)
    resumed.fit(loader_for(), epochs=2, resume=first.checkpoint_path)
    assert resumed.step == 12 and resumed.epoch == 2
    assert_same_trainer_state(reference, resumed)


def with_schedulers(**options):
    """G's lr halves after every epoch; D's follows a cosine over 3 epochs."""
    return dict(options, g_scheduler=lambda opt: StepLR(opt, step_size=1, gamma=0.5),
                d_scheduler=lambda opt: CosineAnnealingLR(opt, T_max=3))


def test_stop_and_resume_with_schedulers_equals_an_uninterrupted_run_bit_for_bit(tmp_path):
    """As the test above, with a learning-rate scheduler on each optimiser (stepped at the end of
    each epoch): Ctrl-C after step 10 of 18, mid-epoch 2, after one scheduler step. The resumed run
    restores the schedulers' state and the scheduled rates, and ends bit for bit where the
    uninterrupted run ends; resumed without its schedulers, it would end elsewhere."""
    options = with_schedulers(loss="wgan-gp", ema_decay=0.9)
    reference = make_trainer(**options)
    reference.fit(loader_for(), epochs=3)
    assert reference.g_scheduler.last_epoch == 3 and reference.g_opt.param_groups[0]["lr"] == 1e-4 / 8
    assert reference.d_opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-20)  # cos(π) at T_max

    def ctrl_c_after_step_10(trainer, record):
        if trainer.step == 10:
            raise KeyboardInterrupt

    first = make_trainer(tmp_path, callbacks=[ctrl_c_after_step_10], **options)
    with pytest.raises(KeyboardInterrupt):
        first.fit(loader_for(), epochs=3)
    saved = minigan.load(first.checkpoint_path)
    assert saved["step"] == 10 and saved["g_scheduler"]["last_epoch"] == 1
    assert saved["g_opt"]["param_groups"][0]["lr"] == 5e-5  # the scheduled rate of epoch 2
    resumed = make_trainer(**options)
    minigan.manual_seed(12345)
    resumed.fit(loader_for(), epochs=3, resume=first.checkpoint_path)
    assert resumed.step == 18 and resumed.g_scheduler.last_epoch == 3
    assert_same_trainer_state(reference, resumed)

    without = make_trainer(loss="wgan-gp", ema_decay=0.9)  # the same run, resumed with constant rates
    without.fit(loader_for(), epochs=3, resume=first.checkpoint_path)
    assert any(not np.array_equal(a, b) for a, b in zip(weights(reference.G), weights(without.G)))


def test_resume_with_schedulers_keeps_the_schedule_and_takes_their_settings_given_now(tmp_path, capsys):
    """The rates of an optimiser with a scheduler follow the checkpoint's schedule (a line says
    so when another lr is given now); the scheduler's own hyperparameters given now win, like
    the optimisers'; a scheduler the checkpoint lacks starts now, one it has but nobody gave is
    left out."""
    first = make_trainer(tmp_path, g_lr=2e-4, **with_schedulers())
    first.fit(loader_for(), epochs=2)
    capsys.readouterr()

    resumed = make_trainer(g_lr=1e-4, g_scheduler=lambda opt: StepLR(opt, step_size=1, gamma=0.25))
    resumed.load_checkpoint(first.checkpoint_path)
    g_group = resumed.g_opt.param_groups[0]
    assert g_group["lr"] == 2e-4 / 4 and g_group["initial_lr"] == 2e-4  # the checkpoint's schedule, 2 epochs in
    assert resumed.g_scheduler.last_epoch == 2 and resumed.g_scheduler.gamma == 0.25
    out = capsys.readouterr().out
    assert ("resume: G's optimiser follows the learning-rate schedule of the checkpoint, from base lr 0.0002: "
            "the lr 0.0001 given now is not used") in out
    assert "resume: the scheduler of G's optimiser: gamma 0.5 from the checkpoint replaced by 0.25 given now" in out
    assert "resume: the checkpoint's scheduler of D's optimiser is left out: none was given now" in out
    assert resumed.d_opt.param_groups[0]["lr"] == 2e-4  # no scheduler now: the lr given now

    later = make_trainer(d_scheduler=lambda opt: ExponentialLR(opt, gamma=0.9))
    first_without = make_trainer(tmp_path / "plain")
    first_without.fit(loader_for(), epochs=1)
    capsys.readouterr()
    later.load_checkpoint(first_without.checkpoint_path)
    assert later.d_scheduler.last_epoch == 0
    assert "resume: the checkpoint has no scheduler for D's optimiser: its schedule starts now" in capsys.readouterr().out


def test_resume_with_another_type_of_scheduler_is_refused_before_anything_changes(tmp_path):
    first = make_trainer(tmp_path, **with_schedulers())
    first.fit(loader_for(), epochs=1)
    other = make_trainer(g_scheduler=lambda opt: StepLR(opt, step_size=1), d_scheduler=lambda opt: LambdaLR(opt, abs))
    before = other.state_dict()
    with pytest.raises(ValueError, match=r"cannot resume from .*: the scheduler of D's optimiser does not fit: "
                                         r"LambdaLR.load_state_dict expected a dict with the keys"):
        other.load_checkpoint(first.checkpoint_path)
    assert_same(before, other.state_dict())


def test_bad_schedulers_are_refused_when_the_trainer_is_made():
    with pytest.raises(TypeError, match=r"Trainer: g_scheduler must be a learning-rate scheduler, or a function that "
                                        r"makes one from the optimiser .*got int"):
        make_trainer(g_scheduler=3)
    with pytest.raises(TypeError, match=r"d_scheduler must be a learning-rate scheduler.*got NoneType from"):
        make_trainer(d_scheduler=lambda opt: None)
    elsewhere = Adam([minigan.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match=r"Trainer: g_scheduler was made on another optimiser than the Trainer's"):
        make_trainer(g_scheduler=StepLR(elsewhere, step_size=1))
    minigan.manual_seed(0)
    G, D = tiny_gan()
    g_opt = Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    scheduler = ExponentialLR(g_opt, gamma=0.9)
    trainer = Trainer(G, D, z_dim=8, progress=False, n_samples=16, g_optimizer=g_opt, g_scheduler=scheduler)
    assert trainer.g_scheduler is scheduler


def test_resume_uses_the_hyperparameters_given_now_and_says_which_it_replaced(tmp_path, capsys):
    """As when a command line is run again with other flags: the learning rates and EMA decay
    given to the new Trainer win over the checkpoint's, and a line names each replaced value.
    Everything else (moments, step counts, EMA weights) comes from the checkpoint."""
    first = make_trainer(tmp_path, g_lr=2e-4, ema_decay=0.9)
    first.fit(loader_for(), epochs=1)
    capsys.readouterr()
    resumed = make_trainer(g_lr=1e-4, ema_decay=0.95)
    resumed.load_checkpoint(first.checkpoint_path)
    assert resumed.g_opt.param_groups[0]["lr"] == 1e-4 and resumed.ema.decay == 0.95
    out = capsys.readouterr().out
    assert "resume: G's optimiser lr 0.0002 from the checkpoint replaced by 0.0001 given now" in out
    assert "resume: EMA decay 0.9 from the checkpoint replaced by 0.95 given now" in out
    assert "D's optimiser" not in out  # the same lr as before: nothing to say
    saved = first.state_dict()
    assert_same(saved["g_opt"]["state"], resumed.g_opt.state_dict()["state"])
    assert_same(saved["ema"]["shadow"], resumed.ema.state_dict()["shadow"])


def test_resume_with_an_ema_the_checkpoint_lacks_starts_it_from_the_loaded_weights(tmp_path, capsys):
    first = make_trainer(tmp_path)
    first.fit(loader_for(), epochs=1)
    resumed = make_trainer(ema_decay=0.9)
    resumed.load_checkpoint(first.checkpoint_path)
    assert_same(weights(first.G), resumed.ema.shadow)
    assert resumed.ema.updates == 0
    assert "the checkpoint has no EMA of G" in capsys.readouterr().out


def test_resume_with_a_d_of_another_width_is_refused_before_anything_changes(tmp_path):
    """G fits the checkpoint, D does not: G must not be loaded either."""
    first = make_trainer(tmp_path)
    first.fit(loader_for(), epochs=1)
    other = make_trainer(d_width=64)
    before = other.state_dict()
    with pytest.raises(ValueError, match=rf"(?s)cannot resume from '{re.escape(first.checkpoint_path)}': D does "
                                         r"not fit.*'body\.1\.weight'.*\(32, 784\).*\(64, 784\)"):
        other.load_checkpoint(first.checkpoint_path)
    assert_same(before, other.state_dict())


def test_resume_with_another_optimiser_type_is_refused_before_anything_changes(tmp_path):
    first = make_trainer(tmp_path)
    first.fit(loader_for(), epochs=1)
    minigan.manual_seed(0)
    G, D = tiny_gan()
    other = Trainer(G, D, z_dim=8, progress=False, n_samples=16, ema_decay=0.9,
                    d_optimizer=RMSprop(D.parameters(), lr=2e-4))
    other.fit(loader_for(), epochs=1)  # some state of its own, to see that it stays
    before = other.state_dict()
    with pytest.raises(ValueError, match=r"D's optimiser does not fit.*RMSprop.*'alpha'"):
        other.load_checkpoint(first.checkpoint_path)
    assert_same(before, other.state_dict())


def test_ema_load_is_all_or_nothing():
    G, _ = tiny_gan()
    ema = EMA(G, decay=0.9)
    before = [a.copy() for a in ema.shadow]
    state = ema.state_dict()
    state["shadow"] = [a + 1 for a in state["shadow"]]
    state["shadow"][-1] = np.zeros(5, dtype=np.float32)
    with pytest.raises(ValueError, match=r"EMA weight 3 has shape \(5,\) in the state, \(784,\) here"):
        ema.load_state_dict(state)
    assert_same(before, ema.shadow)


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
def test_the_gradient_guard_and_the_checkpoint_guard_on_the_gpu(tmp_path):
    """The same guards on device arrays: the gradient check reduces on the device and names the
    parameter, and a checkpoint holding inf is refused."""
    minigan.manual_seed(0)
    sqrt = SqrtOfReLU()
    sqrt.on = True
    G = Generator(nn.Sequential(nn.Linear(8, 32), sqrt, nn.Linear(32, 784), nn.Tanh()), z_dim=8).to("gpu")
    D = tiny_gan()[1].to("gpu")
    trainer = Trainer(G, D, z_dim=8, progress=False, n_samples=16, out_dir=str(tmp_path), device="gpu")
    real = minigan.tensor(tiny_data(8)[0], device="gpu")
    before = weights(G)
    with pytest.raises(TrainingDiverged, match=r"G's parameter 'body\.0\.weight' \(shape \(32, 8\)\) holds NaN"):
        trainer.train_step(real)
    for a, b in zip(before, weights(G)):
        np.testing.assert_array_equal(a, b)
    next(iter(trainer.D.parameters())).data[...] = float("inf")
    with pytest.raises(TrainingDiverged, match="not saving"):
        trainer.save_checkpoint(trainer.checkpoint_path)


# --- diagnostics: D's outputs, gradient norms, histograms, the progress bar ---------------------

@pytest.mark.parametrize("loss, options, expected", [
    ("nonsaturating", {}, 0.5), ("minimax", {}, 0.5), ("minimax", {"label_smoothing": 0.2}, 0.4),
    ("lsgan", {}, 0.5), ("lsgan", {"a": -1.0, "b": 1.0, "c": 0.0}, 0.0),
    ("wgan", {}, None), ("wgan-gp", {}, None), ("hinge", {}, None)])
def test_each_objective_names_d_s_output_at_equilibrium(loss, options, expected):
    objective = get_loss(loss, **options)
    assert objective.equilibrium_d_output == expected
    if expected is None:
        return
    # Check it against the loss itself: once G matches the data, D sees the same images as real
    # and as fake, so its best output on them is the one logit c minimising d_loss(c, c).
    logits = np.linspace(-4, 4, 8001)  # steps of 0.001
    losses = [objective.d_loss(minigan.tensor([c]), minigan.tensor([c])).item() for c in logits]
    best = minigan.tensor([logits[int(np.argmin(losses))]])
    assert objective.d_outputs(best)[0] == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("num_classes", [None, 10])
def test_every_sample_grid_gets_d_output_histograms_beside_it(tmp_path, num_classes):
    trainer = make_trainer(tmp_path, num_classes=num_classes, sample_every=4)
    trainer.fit(loader_for(num_classes), epochs=2)  # 6 steps an epoch: grids at steps 4, 8, 12 and epochs 1, 2
    grids = sorted(n[len("samples_"):] for n in os.listdir(tmp_path) if n.startswith("samples_"))
    histograms = sorted(n[len("d_outputs_"):] for n in os.listdir(tmp_path) if n.startswith("d_outputs_"))
    assert grids == histograms == ["epoch001.png", "epoch002.png", "step000004.png", "step000008.png",
                                   "step000012.png"]
    assert all((tmp_path / f"d_outputs_{n}").read_bytes().startswith(b"\x89PNG") for n in histograms)


def test_drawing_the_diagnostics_leaves_the_run_bit_identical(tmp_path):
    # D runs once more for the histograms, in eval mode and without a graph: with dropout in D, a
    # forward in train mode would draw random numbers and change every later step.
    runs = []
    for out in (None, tmp_path):
        trainer = make_trainer(out, dropout=0.3, sample_every=2)
        trainer.fit(loader_for(), epochs=2)
        assert trainer.D.training
        runs.append(weights(trainer.G) + weights(trainer.D))
    assert any(n.startswith("d_outputs_step") for n in os.listdir(tmp_path))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_the_loss_plot_draws_the_objective_s_equilibrium_and_g_s_gradient_norm(tmp_path, monkeypatch):
    import minigan.plotting
    drawn = {}
    monkeypatch.setattr(minigan.plotting, "plot_history", lambda history, path, **options: drawn.update(options))
    trainer = make_trainer(tmp_path, loss="lsgan")
    trainer.objective = get_loss("lsgan", a=-1.0, b=1.0)
    trainer.fit(loader_for(), epochs=1)
    assert drawn["equilibrium"] == 0.0 and drawn["probability"] is False
    assert len(trainer.history["g_grad_norm"]) == 6 and np.isfinite(trainer.history["g_grad_norm"]).all()


def test_the_progress_bar_shows_d_s_outputs_beside_the_losses(capsys):
    trainer = make_trainer()
    trainer.progress = True
    trainer.fit(loader_for(), epochs=1)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    h = trainer.history
    expected = (f"d_loss {h['d_loss'][-1]:.4g}  g_loss {h['g_loss'][-1]:.4g}  D(x) {h['d_real'][-1]:.4g}  "
                f"D(G(z)) {h['d_fake'][-1]:.4g}")
    assert last.endswith(expected), last


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_g_s_update_takes_no_gradient_for_d_s_weights_and_the_same_gradient_for_g(loss, monkeypatch):
    """train_step runs D inside ``frozen(D)`` during G's update. Against the same step with the
    freezing turned off (a do-nothing context), G's gradient and both networks' new weights must
    be bit-identical, while D's .grad differs: without the freeze G's backward pass also adds
    D's weight gradients to it (work that nothing uses)."""
    import contextlib

    from minigan.gan import step as step_module

    def one_step():
        trainer = make_trainer(loss=loss)
        real = minigan.tensor(tiny_data(8)[0])
        for i in range(trainer.objective.n_critic):  # the last of them updates G
            trainer.train_step(real)
        return ([p.grad.numpy().copy() for p in trainer.G.parameters()], weights(trainer.G), weights(trainer.D),
                [p.grad.numpy().copy() for p in trainer.D.parameters()], trainer.D)

    g_grad, g_w, d_w, d_grad, D = one_step()
    assert all(p.requires_grad for p in D.parameters())  # asking again after the block
    monkeypatch.setattr(step_module, "frozen", lambda net: contextlib.nullcontext(net))
    g_grad2, g_w2, d_w2, d_grad2, _ = one_step()
    for a, b in zip(g_grad + g_w + d_w, g_grad2 + g_w2 + d_w2):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(d_grad, d_grad2))


def test_frozen_gives_back_each_parameter_its_own_flag_even_after_an_error():
    from minigan.gan.step import frozen

    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    net[0].bias.requires_grad = False  # frozen by its user: must stay frozen after the block
    with pytest.raises(RuntimeError):
        with frozen(net):
            assert not any(p.requires_grad for p in net.parameters())
            raise RuntimeError("a failing forward pass")
    assert [p.requires_grad for p in net.parameters()] == [True, False, True, True]
    y = net(minigan.randn(2, 3))  # and the graph built after it reaches the weights again
    y.sum().backward()
    assert net[0].weight.grad is not None and net[0].bias.grad is None


# --- InfoGAN through the Trainer -------------------------------------------------------------

def tiny_info_gan(codes):
    """G: codes.dim -> 784 and an InfoDiscriminator 784 -> 32 features -> (1 logit, Q's head)."""
    G = Generator(nn.Sequential(nn.Linear(codes.dim, 32), nn.LeakyReLU(0.2), nn.Linear(32, 784), nn.Tanh()),
                  z_dim=codes.dim)
    body = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.LeakyReLU(0.2))
    return G, minigan.gan.InfoDiscriminator(body, 32, codes.categories, codes.continuous, q_hidden=16)


def info_trainer(tmp_path=None, **options):
    minigan.manual_seed(0)
    codes = minigan.gan.Codes(noise_dim=6, categories=4, continuous=1)
    G, D = tiny_info_gan(codes)
    return Trainer(G, D, "nonsaturating", codes=codes, progress=False, n_samples=10,
                   out_dir=None if tmp_path is None else str(tmp_path), **options)


def test_a_trainer_with_codes_takes_info_steps_as_a_hand_written_loop_does():
    """Trainer(codes=...) runs gan.info_step: after one epoch its weights equal, bit for bit, those of
    the same networks trained by calling info_step in a loop; its grid draws code value k in column k,
    and sample() draws the values from codes.prior."""
    trainer = info_trainer(ema_decay=0.9, info_weight=0.5)
    trainer.fit(loader_for(), epochs=1)

    minigan.manual_seed(0)
    codes = minigan.gan.Codes(noise_dim=6, categories=4, continuous=1)
    G, D = tiny_info_gan(codes)
    objective = get_loss("nonsaturating")
    g_opt, d_opt = objective.make_optimizer(G.parameters()), objective.make_optimizer(D.parameters())
    ema = EMA(G, 0.9)
    loader = loader_for()
    for step, real in enumerate(loader):
        minigan.gan.info_step(G, D, objective, codes, g_opt, d_opt, real, step=step, ema=ema, info_weight=0.5)
    for a, b in zip(weights(trainer.G) + weights(trainer.D), weights(G) + weights(D)):
        np.testing.assert_array_equal(a, b)

    assert trainer.z_dim == 11 and trainer.grid_columns == 4 and trainer.fixed_z.shape == (8, 11)  # 10 -> 2 rows of 4
    np.testing.assert_array_equal(trainer.fixed_z.numpy()[:, 6:10], np.eye(4)[np.arange(8) % 4])
    trainer.codes.prior = [0.0, 0.0, 1.0, 0.0]  # only value 2: every sample G's image for code 2
    minigan.manual_seed(1)
    images = trainer.sample(5).numpy()
    minigan.manual_seed(1)
    latent, cat, _ = trainer.codes.sample(5)
    assert set(cat.tolist()) == {2}
    np.testing.assert_array_equal(images, trainer.sample(z=latent).numpy())


def test_a_trainer_with_codes_stops_and_resumes_bit_for_bit(tmp_path):
    reference = info_trainer(ema_decay=0.9)
    reference.fit(loader_for(), epochs=2)

    def ctrl_c_after_step_7(trainer, record):
        if trainer.step == 7:
            raise KeyboardInterrupt

    first = info_trainer(tmp_path, ema_decay=0.9, callbacks=[ctrl_c_after_step_7])
    with pytest.raises(KeyboardInterrupt):
        first.fit(loader_for(), epochs=2)
    resumed = info_trainer(ema_decay=0.9)
    resumed.fit(loader_for(), epochs=2, resume=first.checkpoint_path)
    assert resumed.step == 12
    assert_same_trainer_state(reference, resumed)


def test_a_trainer_with_codes_refuses_what_info_step_cannot_do():
    codes = minigan.gan.Codes(noise_dim=8, categories=4, continuous=0)
    G, D = tiny_gan()
    with pytest.raises(TypeError, match="D must be a gan.InfoDiscriminator .* got Discriminator"):
        Trainer(G, D, codes=codes)
    G, D = tiny_info_gan(codes)
    with pytest.raises(TypeError, match="codes must be a gan.Codes, got int"):
        Trainer(G, D, codes=4)
    for option in (dict(num_classes=10), dict(r1_gamma=1.0), dict(instance_noise=0.1)):
        name = next(iter(option))
        with pytest.raises(ValueError, match=f"cannot be combined with {name}="):
            Trainer(G, D, codes=codes, **option)
    with pytest.raises(ValueError, match=r"penalty=R1Penalty\(gamma\)"):  # says how to get R1 with codes
        Trainer(G, D, codes=codes, r1_gamma=1.0)
    with_r1 = Trainer(G, D, get_loss("nonsaturating", penalty=minigan.gan.R1Penalty(1.0)), codes=codes)
    assert with_r1.objective.penalty == minigan.gan.R1Penalty(1.0)
