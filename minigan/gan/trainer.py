"""``Trainer``: the alternating GAN training loop, with everything a real run needs around it.

One training step:

1. **D update** (n_critic times per G update): draw z, make fakes with G (no graph needed),
   score real and fake images with D, minimise the objective's D loss (plus any penalty).
2. **G update**: draw z, make fakes *with* a graph, score them with D, minimise the G loss:
   its gradient flows back through D into G (D's weights are not changed by this step).

Around it: per-step history (losses, mean D outputs, gradient norms), a progress bar, sample
grids from fixed noise, loss curves, an EMA of G, atomic checkpoints of both networks and both
optimisers, ``resume`` that continues bit-for-bit (same seed, on CPU), and a guard that stops a
run whose loss becomes NaN or inf, leaving the last good checkpoint untouched.

``examples/mnist_gan.py`` writes the same loop out step by step; read it first.
"""
import math
import os

import numpy as np

from .. import backend, functional as F
from ..autograd import no_grad
from ..serialization import load, save
from ..tensor import Tensor, randn
from ..optim import Adam, RMSprop
from ..progress import ProgressBar
from .ema import EMA
from .losses import clip_weights_, get_loss
from .penalties import gradient_penalty, r1_penalty

#: Published settings per objective: optimiser, learning rate, betas, n_critic, weight clip.
RECIPES = {
    "nonsaturating": dict(optimizer="adam", lr=2e-4, betas=(0.5, 0.999), n_critic=1),
    "minimax": dict(optimizer="adam", lr=2e-4, betas=(0.5, 0.999), n_critic=1),
    "lsgan": dict(optimizer="adam", lr=2e-4, betas=(0.5, 0.999), n_critic=1),
    "hinge": dict(optimizer="adam", lr=2e-4, betas=(0.5, 0.999), n_critic=1),
    "wgan": dict(optimizer="rmsprop", lr=5e-5, n_critic=5, clip_value=0.01),
    "wgan-gp": dict(optimizer="adam", lr=1e-4, betas=(0.5, 0.9), n_critic=5, gp_lambda=10.0),
}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the run stopped before saving anything from that step."""


class Trainer:
    """Train generator ``G`` against discriminator/critic ``D`` with objective ``loss``.

    G is called as ``G(z)`` (or ``G(z, labels)`` when ``num_classes`` is set) and must return
    images shaped like the real batches; D returns one logit per image. Unless optimisers are
    passed, they follow ``RECIPES[loss]``, with ``g_lr``/``d_lr`` overriding the learning rate of
    each (two time-scale updates, TTUR). Options: ``ema_decay`` (EMA of G's weights for samples),
    ``label_smoothing`` (real target 1 - s; BCE-based objectives only), ``instance_noise``
    (Gaussian noise of this std added to D's inputs, decayed linearly to 0 over the run),
    ``r1_gamma`` (R1 penalty on real data), ``out_dir`` (samples, loss plot and checkpoints go there):
    a sample grid and a checkpoint every ``epoch_every`` epochs, a checkpoint every
    ``checkpoint_every`` steps, and a grid every ``sample_every`` steps when set.
    """

    def __init__(self, G, D, loss="nonsaturating", *, z_dim=100, num_classes=None, g_lr=None, d_lr=None,
                 g_optimizer=None, d_optimizer=None, n_critic=None, clip_value=None, gp_lambda=None,
                 r1_gamma=0.0, ema_decay=None, label_smoothing=0.0, instance_noise=0.0, out_dir=None,
                 sample_every=None, checkpoint_every=1000, epoch_every=1, n_samples=64, seed=0,
                 callbacks=(), progress=True, device=None):
        if loss not in RECIPES:
            raise ValueError(f"unknown loss {loss!r}: expected one of {sorted(RECIPES)}")
        recipe = RECIPES[loss]
        if label_smoothing and loss not in ("minimax", "nonsaturating"):
            raise ValueError(f"label_smoothing applies to the BCE-based losses (minimax, nonsaturating), "
                             f"not to {loss!r}")
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.G, self.D, self.loss_name, self.objective = G, D, loss, get_loss(loss)
        self.z_dim, self.num_classes = z_dim, num_classes
        self.n_critic = n_critic if n_critic is not None else recipe["n_critic"]
        self.clip_value = clip_value if clip_value is not None else recipe.get("clip_value")
        self.gp_lambda = gp_lambda if gp_lambda is not None else recipe.get("gp_lambda")
        self.r1_gamma, self.label_smoothing, self.instance_noise = r1_gamma, label_smoothing, instance_noise
        self.g_opt = g_optimizer or _optimizer(recipe, G.parameters(), g_lr)
        self.d_opt = d_optimizer or _optimizer(recipe, D.parameters(), d_lr)
        self.ema = EMA(G, ema_decay) if ema_decay else None
        self.out_dir, self.sample_every, self.checkpoint_every = out_dir, sample_every, checkpoint_every
        self.epoch_every = epoch_every
        self.callbacks, self.progress, self.device = list(callbacks), progress, backend.normalize_device(device)
        self.seed = seed

        # fixed evaluation noise (and labels): the same z every time, so sample grids are comparable
        # (conditional: a multiple of the class count, so that each column of the grid is one class)
        if num_classes:
            n_samples = max(num_classes, n_samples // num_classes * num_classes)
        rng = np.random.default_rng(seed + 1_000_003)
        self.fixed_z = Tensor(rng.standard_normal((n_samples, z_dim)).astype(np.float32)).to(self.device)
        self.fixed_labels = np.arange(n_samples) % num_classes if num_classes else None

        self.step = 0          # D updates done (one per real batch)
        self.epoch = 0         # the epoch in progress
        self.batch_in_epoch = 0
        self.history = {k: [] for k in ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake",
                                        "d_grad_norm", "g_grad_norm")}
        self._total_steps, self._stop = None, False

    # --- one step --------------------------------------------------------------------------

    def _noise_std(self):
        if not self.instance_noise or not self._total_steps:
            return 0.0
        return self.instance_noise * max(0.0, 1 - self.step / self._total_steps)

    def _with_noise(self, x):
        std = self._noise_std()
        return x + randn(*x.shape, device=x.device) * std if std else x

    def _fake_labels(self, n):
        if not self.num_classes:
            return None
        return backend.generator("cpu").integers(0, self.num_classes, n)

    def _critic(self, labels):
        return (lambda x: self.D(x)) if labels is None else (lambda x: self.D(x, labels))

    def train_step(self, real, labels=None):
        """One D update, plus a G update every ``n_critic`` D updates. Returns the step's figures."""
        n = real.shape[0]
        fake_labels = self._fake_labels(n)
        cond = (lambda lab: (lab,)) if self.num_classes else (lambda lab: ())

        # 1. D update: fakes need no graph here (G is not being trained in this half)
        with no_grad():
            fake = self.G(randn(n, self.z_dim, device=real.device), *cond(fake_labels))
        self.d_opt.zero_grad()
        r = self.D(self._with_noise(real), *cond(labels))
        f = self.D(self._with_noise(fake), *cond(fake_labels))
        if self.label_smoothing:  # one-sided: real target 1 - s (Salimans et al. 2016)
            d_loss = (F.binary_cross_entropy_with_logits(r, _full_like(r, 1 - self.label_smoothing))
                      + F.binary_cross_entropy_with_logits(f, _full_like(f, 0.0)))
        else:
            d_loss = self.objective.d_loss(r, f)
        if self.gp_lambda:
            d_loss = d_loss + gradient_penalty(self._critic(labels), real, fake, self.gp_lambda)
        if self.r1_gamma:
            d_loss = d_loss + r1_penalty(self._critic(labels), real, self.r1_gamma)
        check_finite("d_loss", d_loss, self.step)  # before backward: the weights stay good
        d_loss.backward()
        d_norm = grad_norm(self.D.parameters())
        self.d_opt.step()
        if self.clip_value:
            clip_weights_(self.D.parameters(), self.clip_value)
        record = dict(d_loss=d_loss.item(), d_real=mean_d_output(r, self.loss_name),
                      d_fake=mean_d_output(f, self.loss_name), d_grad_norm=d_norm)

        # 2. G update, every n_critic D updates: the gradient flows through D into G
        if (self.step + 1) % self.n_critic == 0:
            self.g_opt.zero_grad()
            fake_labels = self._fake_labels(n)
            fake = self.G(randn(n, self.z_dim, device=real.device), *cond(fake_labels))
            g_loss = self.objective.g_loss(self.D(self._with_noise(fake), *cond(fake_labels)))
            check_finite("g_loss", g_loss, self.step)
            g_loss.backward()
            record["g_grad_norm"] = grad_norm(self.G.parameters())
            self.g_opt.step()
            if self.ema is not None:
                self.ema.update()
            record["g_loss"] = g_loss.item()
        else:  # no G update this step
            record["g_loss"], record["g_grad_norm"] = None, None
        self.step += 1
        return record

    # --- the loop --------------------------------------------------------------------------

    def fit(self, loader, epochs=1, resume=None):
        """Train for ``epochs`` passes over ``loader`` (a ``minigan.data.DataLoader``; give it a
        seed for runs that can be resumed exactly). ``resume``: a checkpoint path to continue from.
        Returns the history (a dict of lists, one entry per step)."""
        if resume is not None:
            self.load_checkpoint(resume)
        self._total_steps = epochs * len(loader)
        for epoch in range(self.epoch, epochs):
            bar = self.start_epoch(loader, epoch, epochs)
            for real, labels in self.batches(loader):
                self.end_step(self.train_step(real, labels), bar)
                if self._stop:
                    break
            self.end_epoch(bar)
            if self._stop:
                break
        if self.out_dir:
            self.save_checkpoint(self.checkpoint_path)
            self.plot_losses()
        return self.history

    # The bookkeeping around each step, shared by fit() and examples/mnist_gan.py's own loop.

    def start_epoch(self, loader, epoch, epochs):
        """Set the loader's epoch (its shuffle order) and return a progress bar for the epoch."""
        self.epoch = epoch
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        if self._total_steps is None:
            self._total_steps = epochs * len(loader)
        return ProgressBar(len(loader), desc=f"epoch {epoch + 1}/{epochs}", enabled=self.progress)

    def batches(self, loader):
        """(real, labels) batches of the current epoch, skipping those a resumed run already used."""
        skip, self.batch_in_epoch = self.batch_in_epoch, 0
        for i, batch in enumerate(loader):
            self.batch_in_epoch = i + 1
            if i < skip:
                continue
            real, labels = batch if isinstance(batch, tuple) else (batch, None)
            yield real, (labels.numpy().astype(np.int64) if self.num_classes else None)

    def end_step(self, record, bar=None):
        """Log a step's figures (stopping on NaN/inf), update the bar, run callbacks, and save
        samples and a checkpoint when their step counts come round."""
        for which in ("d_loss", "g_loss"):
            if record[which] is not None:
                check_finite(which, record[which], self.step)
        self._log(record)
        if bar is not None:
            bar.update(1, d_loss=self.history["d_loss"][-1], g_loss=self.history["g_loss"][-1])
        for callback in self.callbacks:
            callback(self, record)
        if self.out_dir and self.checkpoint_every and self.step % self.checkpoint_every == 0:
            self.save_checkpoint(self.checkpoint_path)
        if self.out_dir and self.sample_every and self.step % self.sample_every == 0:
            self.save_samples(f"samples_step{self.step:06d}.png")

    def end_epoch(self, bar=None):
        """Close the bar; unless stopped early, save the epoch's sample grid and a checkpoint."""
        if bar is not None:
            bar.close()
        if self._stop:
            return
        self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        if self.out_dir and self.epoch % self.epoch_every == 0:
            self.save_samples(f"samples_epoch{self.epoch:03d}.png")
            self.save_checkpoint(self.checkpoint_path)

    def stop(self):
        """Ask the loop to end after the current step (for callbacks: early stopping)."""
        self._stop = True

    def _log(self, record):
        h = self.history
        h["step"].append(self.step)
        h["epoch"].append(self.epoch)
        for key in ("d_loss", "d_real", "d_fake", "d_grad_norm"):
            h[key].append(float(record[key]))
        if record["g_loss"] is None:  # no G update this step: carry the last G loss forward
            h["g_loss"].append(h["g_loss"][-1] if h["g_loss"] else math.nan)
            h["g_grad_norm"].append(math.nan)
        else:
            h["g_loss"].append(float(record["g_loss"]))
            h["g_grad_norm"].append(float(record["g_grad_norm"]))

    # --- samples, plots, checkpoints -------------------------------------------------------

    def sample(self, n=None, labels=None, z=None, use_ema=True):
        """Images from G (eval mode, no graph): ``n`` from fresh noise, or from ``z``; the EMA
        weights when there are some and ``use_ema``."""
        z = z if z is not None else randn(n, self.z_dim, device=self.device)
        args = () if not self.num_classes else (labels if labels is not None else self._fake_labels(z.shape[0]),)
        was_training = self.G.training
        self.G.eval()
        try:
            with no_grad():
                if self.ema is not None and use_ema:
                    with self.ema.applied():
                        return self.G(z, *args)
                return self.G(z, *args)
        finally:
            self.G.train(was_training)

    def save_samples(self, name):
        from ..plotting import save_image_grid
        images = self.sample(z=self.fixed_z, labels=self.fixed_labels)
        save_image_grid(images, os.path.join(self.out_dir, name), nrow=self.num_classes or 8,
                        title=f"{self.loss_name}, step {self.step}" + (", one class per column" if self.num_classes else ""))

    def plot_losses(self, name="losses.png"):
        from ..plotting import plot_history
        if self.history["step"]:
            plot_history(self.history, os.path.join(self.out_dir, name))

    @property
    def checkpoint_path(self):
        return os.path.join(self.out_dir, "checkpoint.npz")

    def state_dict(self):
        return {
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            "g_opt": self.g_opt.state_dict(), "d_opt": self.d_opt.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "rng": backend.get_rng_state(), "loss": self.loss_name,
            "history": {k: np.asarray(v, dtype=np.float64) for k, v in self.history.items()},
        }

    def save_checkpoint(self, path):
        """Both networks, both optimisers, the EMA, the position in the data and the RNG state,
        written atomically (a crash mid-write leaves the previous checkpoint intact)."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save(self.state_dict(), path)

    def load_checkpoint(self, path):
        state = load(path)
        if state.get("loss") != self.loss_name:
            raise ValueError(f"checkpoint '{path}' was trained with loss {state.get('loss')!r}, "
                             f"not {self.loss_name!r}")
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
        if self.ema is not None and state["ema"] is not None:
            self.ema.load_state_dict(state["ema"])
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        backend.set_rng_state(state["rng"])
        self.history = {k: [int(x) if k in ("step", "epoch") else float(x) for x in v]
                        for k, v in state["history"].items()}


def _optimizer(recipe, params, lr):
    lr = lr if lr is not None else recipe["lr"]
    if recipe["optimizer"] == "rmsprop":
        return RMSprop(params, lr=lr)
    return Adam(params, lr=lr, betas=recipe["betas"])


def _full_like(t, value):
    xp = backend.get_array_module(t.data)
    return Tensor(xp.full(t.shape, value, dtype=t.dtype))


def grad_norm(params):
    """The L2 norm of all the parameters' gradients together (a sign of how hard a network is pushed)."""
    total = 0.0
    for p in params:
        if p.grad is not None:
            total += float((p.grad.data.astype(np.float64) ** 2).sum())
    return math.sqrt(total)


def mean_d_output(logits, loss_name):
    """Mean D output: as a probability for the BCE-based objectives, the raw score otherwise."""
    if loss_name in ("minimax", "nonsaturating"):
        return float(F.sigmoid(logits.detach()).mean().item())
    return float(logits.detach().mean().item())


def check_finite(which, loss, step):
    """Raise TrainingDiverged when ``loss`` (a Tensor or a number) is NaN or infinite. Call it
    before ``backward()``, so that a bad step never reaches the weights or a checkpoint."""
    value = loss.item() if isinstance(loss, Tensor) else float(loss)
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"{which} became {value} at step {step}: training stopped before this step's update, so "
            "the weights and the last checkpoint are intact. Try a lower learning rate or a different "
            "loss (e.g. --loss nonsaturating), and resume from the last checkpoint")
