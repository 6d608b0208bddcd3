"""One GAN training step: a D update, then a G update. The only copy of it in minigan.

``examples/mnist_gan.py`` (its step 6) and ``Trainer.fit`` both call ``train_step``, so what you
read here is what every minigan GAN trains with. It is the loop of PyTorch's DCGAN example,
with the guards that stop a run going wrong before the bad step reaches the weights:

    for real, labels in batches:
        record = train_step(G, D, objective, g_opt, d_opt, real, labels, step=step, z_dim=100)
        step += 1

Everything that differs between objectives comes from ``objective`` (``losses.py``): D's and G's
losses, the penalty added to D's loss (WGAN-GP's gradient penalty), the weight clipping after
D's update (WGAN) and n_critic, the number of D updates per G update (5 for both Wasserstein
losses; 1 for the others).

Fakes: each update draws its own batch of fakes, from new noise z ~ N(0, I) and, for a
conditional GAN, new labels drawn uniformly from the classes. G's update does not reuse the
fakes (or the labels) D just saw. D's fakes were made without a graph, so G has to run again
anyway and new noise costs nothing; a fresh draw gives G's update its own sample of what G makes
(with n_critic = 5, D has seen five batches since G last changed, not one).
"""
from contextlib import contextmanager

from .. import backend
from ..autograd import no_grad
from ..nn.utils import clip_grad_norm_
from ..tensor import randn
from .guards import check_finite, check_gradients
from .losses import clip_weights_
from .penalties import r1_penalty


def train_step(G, D, objective, g_opt, d_opt, real, labels=None, *, step, z_dim, num_classes=None,
               ema=None, r1_gamma=0.0, noise_std=0.0, clip_grad_norm=None):
    """One D update, then a G update when this is the last of ``objective.n_critic`` D updates.

    ``real``: a batch of real images (N, ...) on the device to train on; ``labels``: their
    classes (N,) for a conditional GAN (``num_classes`` set), else None. ``step``: the D updates
    done before this one (it picks the steps with a G update, and error messages name it).
    ``z_dim``: the length of G's noise vectors. Options (``Trainer``'s): ``ema``, an EMA of G's
    weights, updated after each G update; ``r1_gamma``, the R1 penalty on real images
    (``penalties.py``); ``noise_std``, instance noise: Gaussian noise of this std added to every
    image D sees; ``clip_grad_norm``, the largest norm each network's gradient may have when its
    optimiser steps (``update`` below).

    Returns the step's figures: d_loss, d_real and d_fake (D's mean output on each batch),
    d_grad_norm, and g_loss and g_grad_norm (None when G was not updated).
    """
    n = real.shape[0]

    # 1. D update: D learns to tell this real batch from a batch of fakes.
    fake_labels = draw_labels(n, num_classes)
    with no_grad():  # the fakes need no graph: this update must not change G
        fake = run(G, randn(n, z_dim, device=real.device), fake_labels)
    d_opt.zero_grad()  # gradients add up in .grad: clear the last update's first
    real_logits = run(D, with_noise(real, noise_std), labels)
    fake_logits = run(D, with_noise(fake, noise_std), fake_labels)
    d_loss = objective.d_loss(real_logits, fake_logits)
    critic = D if labels is None else (lambda x: D(x, labels))  # D as a function of the image alone
    if objective.penalty is not None:  # WGAN-GP's gradient penalty: a gradient of a gradient
        d_loss = d_loss + objective.penalty(critic, real, fake)
    if r1_gamma:  # R1: D's gradient on real images pushed towards 0
        d_loss = d_loss + r1_penalty(critic, real, r1_gamma)
    d_loss_value = check_finite("d_loss", d_loss, step)  # stop before a NaN or inf loss reaches the weights
    d_loss.backward()
    # check the gradients (a finite loss can still have a NaN one), clip if asked, step D's optimiser
    # only: G's weights are untouched
    d_grad_norm = update("D", d_opt, D, step, clip_grad_norm)
    if objective.clip_value is not None:  # WGAN: clamp the critic's weights, to keep it Lipschitz
        clip_weights_(D, objective.clip_value)
    record = dict(d_loss=d_loss_value, d_real=objective.mean_d_output(real_logits),
                  d_fake=objective.mean_d_output(fake_logits), d_grad_norm=d_grad_norm,
                  g_loss=None, g_grad_norm=None)

    # 2. G update, after every n_critic D updates: G learns to fool D.
    if (step + 1) % objective.n_critic != 0:
        return record
    fake_labels = draw_labels(n, num_classes)  # a new batch of fakes (see the module docstring)
    g_opt.zero_grad()
    fake = run(G, randn(n, z_dim, device=real.device), fake_labels)  # with a graph this time
    with frozen(D):  # D's weights take no gradient here: the backward pass only goes through D
        g_loss = objective.g_loss(run(D, with_noise(fake, noise_std), fake_labels))
    g_loss_value = check_finite("g_loss", g_loss, step)
    g_loss.backward()  # through D into G
    record["g_grad_norm"] = update("G", g_opt, G, step, clip_grad_norm)  # D's weights are not changed here
    if ema is not None:
        ema.update()  # the moving average of G's weights follows the step just taken
    record["g_loss"] = g_loss_value
    return record


def update(which, optimizer, net, step, clip_grad_norm=None):
    """One optimiser step for network ``which`` ("G" or "D"), after the checks; returns the
    gradient's norm before any clipping (the figure the logs and plots show).

    1. ``check_gradients``: stop if a gradient holds NaN or inf, which a finite loss can still have;
    2. with ``clip_grad_norm`` set, scale all of ``net``'s gradients by one factor so that their
       total L2 norm is at most ``clip_grad_norm`` (``nn.utils.clip_grad_norm_``, as in PyTorch):
       a rare huge gradient then moves the weights no further than a large ordinary one;
    3. ``optimizer.step()``.
    """
    norm = check_gradients(which, optimizer, net, step)
    if clip_grad_norm is not None:
        clip_grad_norm_([p for group in optimizer.param_groups for p in group["params"]], clip_grad_norm)
    optimizer.step()
    return norm


@contextmanager
def frozen(net):
    """Within the block, ``net``'s parameters ask for no gradient; afterwards each asks again
    exactly as before.

    G's update backpropagates through D to reach G, so it needs D's gradient with respect to each
    layer's *input*, but not with respect to D's weights: only G's optimiser steps, and D's next
    update starts by clearing D's gradients. Each op records, when it runs, which of its inputs
    want a gradient, so running D's forward pass inside ``frozen(D)`` drops the weight-gradient
    products from the backward pass (half of D's backward matrix products) and leaves G's
    gradient exactly as it was. PyTorch's DCGAN example computes D's weight gradients here and
    never uses them; ``D.requires_grad_(False)`` around G's update is the PyTorch habit this is.
    """
    params = [p for p in net.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad = False
    try:
        yield net
    finally:
        for p in params:
            p.requires_grad = True


def draw_labels(n, num_classes):
    """n class labels drawn uniformly from minigan's seeded CPU generator, or None (unconditional)."""
    return backend.generator("cpu").integers(0, num_classes, n) if num_classes else None


def run(net, x, labels):
    """net(x), or net(x, labels) for a conditional network."""
    return net(x) if labels is None else net(x, labels)


def with_noise(x, std):
    """x plus Gaussian noise of standard deviation std (instance noise), or x itself when std is 0."""
    return x + randn(*x.shape, device=x.device) * std if std else x
