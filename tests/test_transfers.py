"""How many times one GAN training step copies from the GPU to the host: a measured property.

Each copy to the host makes the host wait for the GPU, so minigan makes them only where a number
is needed on the host: the guards (is the loss finite? is the gradient norm finite?) and the
figures logged. Per step with a G update that is 6 (D: its loss, its gradient norm, its mean
output on the real and on the fake batch; G: its loss and its gradient norm), and 4 in a step
that updates D only (WGAN's n_critic); ops, backward, the optimisers and the Trainer's
bookkeeping add none. A conditional GAN adds one when its class labels are on the device (their
range check); the Trainer's labels are on the host, where that check copies nothing, but it
brings them there from the loader: one copy. A copy hidden in an op (``.item()``, ``float()`` of a device scalar, NumPy
handed device data) would change these counts, or fail outright on the stand-in.

Counted by the CuPy stand-in (tests/cupy_standin), so these tests skip on a real GPU.
"""
import pytest

import minigan
from minigan import backend
from minigan.gan import Trainer, get_loss, models
from minigan.gan.step import train_step

pytestmark = pytest.mark.gpu


@pytest.fixture
def transfers():
    """The stand-in's transfer counters (skip where the GPU is real CuPy, which counts nothing)."""
    gpu = backend.xp_for("gpu")
    if gpu.__name__ != "cupy_standin":
        pytest.skip("transfers are counted by the CuPy stand-in; this run uses real CuPy")
    return gpu._TRANSFERS


def networks(loss, num_classes=None):
    G, D = models.build("mlp", width=0.25, num_classes=num_classes)
    G.to("gpu"), D.to("gpu")
    objective = get_loss(loss)
    return G, D, objective, objective.make_optimizer(G.parameters()), objective.make_optimizer(D.parameters())


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp", "hinge"])
def test_a_step_with_a_g_update_copies_six_numbers_to_the_host(transfers, loss):
    """D's loss, gradient norm, mean real and fake outputs; G's loss and gradient norm: 6 copies."""
    G, D, objective, g_opt, d_opt = networks(loss)
    real = minigan.randn(8, 1, 28, 28, device="gpu")
    step = objective.n_critic - 1  # a step that ends with a G update
    train_step(G, D, objective, g_opt, d_opt, real, step=step, z_dim=100)  # warm-up: optimiser state
    transfers.reset()
    record = train_step(G, D, objective, g_opt, d_opt, real, step=step, z_dim=100)
    assert record["g_loss"] is not None
    assert transfers.device_to_host == 6


def test_a_d_only_step_copies_four(transfers):
    """WGAN updates D five times per G update: the steps without G copy only D's four figures."""
    G, D, objective, g_opt, d_opt = networks("wgan")
    real = minigan.randn(8, 1, 28, 28, device="gpu")
    transfers.reset()
    record = train_step(G, D, objective, g_opt, d_opt, real, step=0, z_dim=100)
    assert record["g_loss"] is None
    assert transfers.device_to_host == 4


def test_backward_and_the_optimiser_step_copy_nothing(transfers):
    """The hot path below the guards: forward, backward and Adam's update stay on the device."""
    G, D, objective, g_opt, d_opt = networks("nonsaturating")
    z = minigan.randn(8, 100, device="gpu")
    transfers.reset()
    for _ in range(2):
        d_opt.zero_grad()
        objective.d_loss(D(G(z).detach()), D(G(z).detach())).backward()
        d_opt.step()
    assert transfers.device_to_host == 0


def test_a_trainer_step_copies_no_more_than_train_step(transfers):
    """Trainer.train_step plus end_step (history, progress, callbacks) adds no copy of its own."""
    G, D = models.build("mlp", width=0.25)
    trainer = Trainer(G.to("gpu"), D.to("gpu"), "nonsaturating", progress=False)
    real = minigan.randn(8, 1, 28, 28, device="gpu")
    trainer.end_step(trainer.train_step(real))  # warm-up
    transfers.reset()
    trainer.end_step(trainer.train_step(real))
    assert transfers.device_to_host == 6


@pytest.mark.parametrize("where, copies", [("cpu", 6), ("gpu", 7)])
def test_a_conditional_step_copies_one_more_only_for_labels_on_the_device(transfers, where, copies):
    """Class labels are checked (in [0, num_classes)) where they are: on the host for free, on
    the device with one flag copied back. Before, each embedding lookup copied two numbers (the
    labels' min and max), ten a step, and labels on the device failed in the models."""
    G, D, objective, g_opt, d_opt = networks("nonsaturating", num_classes=10)
    real = minigan.randn(8, 1, 28, 28, device="gpu")
    labels = minigan.tensor([3, 1, 4, 1, 5, 9, 2, 6], device=where)
    for _ in range(2):  # the first one warms up the optimisers' state
        transfers.reset()
        record = train_step(G, D, objective, g_opt, d_opt, real, labels, step=0, z_dim=100, num_classes=10)
    assert record["g_loss"] is not None
    assert transfers.device_to_host == copies


def test_labels_out_of_range_on_the_device_are_refused(transfers):
    G, _ = models.build("mlp", width=0.25, num_classes=10)
    G.to("gpu")
    with pytest.raises(IndexError, match=r"indices must be in \[0, 10\), got values from 0 to 10"):
        G(minigan.randn(2, 100, device="gpu"), minigan.tensor([0, 10], device="gpu"))
