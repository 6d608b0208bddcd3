"""``Trainer``: the alternating GAN training loop, with everything a real run needs around it.

One training step (``step.py``'s ``train_step``, the same code ``examples/mnist_gan.py`` runs):

1. **D update** (n_critic times per G update): draw z, make fakes with G (no graph needed),
   score real and fake images with D, minimise the objective's D loss (plus any penalty).
2. **G update**: draw z, make fakes *with* a graph, score them with D, minimise the G loss:
   its gradient flows back through D into G (D's weights are not changed by this step).

Around it: per-step history (losses, mean D outputs, gradient norms), a progress bar, sample
grids from fixed noise (each with histograms of D's outputs on real and fake images), training
curves (losses, D's outputs, gradient norms), an EMA of G, learning-rate schedulers, atomic
checkpoints of both networks, both optimisers and their schedulers, ``resume`` that continues
bit-for-bit (same seed, on CPU), and the guards that make a run safe to stop at any moment:

* a run whose loss or gradient becomes NaN or inf stops before that update reaches the weights,
  and a checkpoint is never written from a state holding NaN or inf, so the last good one stays;
* Ctrl-C lets the step in progress finish, saves it, says how to resume and raises
  KeyboardInterrupt (half a step, D updated and G not, is never saved);
* a checkpoint that does not fit (another architecture or optimiser) is refused before anything
  is loaded, and on resume the hyperparameters given now win over the saved ones, with a line
  for each saved value replaced.

``examples/mnist_gan.py`` builds the same loop in the open from the methods below (``batches``,
``end_step``, ``end_epoch``, ``save_on_ctrl_c``); read it first.
"""
import contextlib
import math
import os
import signal
import tempfile
import threading

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..optim.lr_scheduler import LRScheduler
from ..serialization import load, save
from ..tensor import Tensor, randn
from ..progress import ProgressBar
from .ema import EMA
from .guards import TrainingDiverged, check_finite, non_finite
from .losses import get_loss
from .infogan import Codes, InfoDiscriminator, info_step
from .step import draw_labels, train_step


class Trainer:
    """Train generator ``G`` against discriminator/critic ``D`` with objective ``loss`` (a name
    from ``LOSSES``, or a ``GANLoss``).

    G is called as ``G(z)`` (or ``G(z, labels)`` when ``num_classes`` is set) and must return
    images shaped like the real batches; D returns one logit per image. ``n_critic``,
    ``clip_value``, ``gp_lambda`` and ``label_smoothing`` (real target 1 - s; BCE-based
    objectives only) change the objective, which then reports them (``trainer.objective``).
    Unless optimisers are passed, they follow the objective's recipe (``make_optimizer``), with
    ``g_lr``/``d_lr`` overriding the learning rate of each (two time-scale updates, TTUR).
    ``g_scheduler``/``d_scheduler``: a learning-rate scheduler for each optimiser, as a function
    that makes it from the optimiser (``g_scheduler=lambda opt: StepLR(opt, step_size=10)``), or
    one made on the optimiser passed as ``g_optimizer``/``d_optimizer``; it steps at the end of
    every epoch, and its state goes into the checkpoints.
    Options: ``ema_decay`` (EMA of G's weights for samples), ``instance_noise``
    (Gaussian noise of this std added to D's inputs, decayed linearly to 0 over the run),
    ``clip_grad_norm`` (each network's gradient scaled to at most this L2 norm before its update),
    ``r1_gamma`` (R1 penalty on real data), ``codes`` (a ``Codes``: InfoGAN, with D an
    ``InfoDiscriminator``; each step is ``info_step``, its information term weighted by
    ``info_weight``, and G draws noise and codes, ``codes.dim`` numbers, in place of z),
    ``out_dir`` (samples, loss plot and checkpoints go there;
    made if missing, and checked now, so that a folder that cannot be written to fails at once):
    a sample grid and a checkpoint every ``epoch_every`` epochs, a checkpoint every
    ``checkpoint_every`` steps, and a grid every ``sample_every`` steps when set.
    """

    def __init__(self, G, D, loss="nonsaturating", *, z_dim=100, num_classes=None, g_lr=None, d_lr=None,
                 g_optimizer=None, d_optimizer=None, g_scheduler=None, d_scheduler=None, n_critic=None,
                 clip_value=None, gp_lambda=None, r1_gamma=0.0, ema_decay=None, label_smoothing=0.0,
                 instance_noise=0.0, clip_grad_norm=None, codes=None, info_weight=1.0, out_dir=None,
                 sample_every=None, checkpoint_every=1000, epoch_every=1, n_samples=64, seed=0, callbacks=(),
                 progress=True, device=None):
        # The objective carries its losses, penalty, clipping and recipe; the options given here
        # change it, so that it reports what the step does (gp_lambda=5: GradientPenalty(5.0)).
        given = dict(n_critic=n_critic, clip_value=clip_value, gp_lambda=gp_lambda,
                     label_smoothing=label_smoothing or None)
        self.objective = get_loss(loss, **{k: v for k, v in given.items() if v is not None})
        self.G, self.D = G, D
        if codes is not None:
            _check_info_options(codes, D, num_classes, r1_gamma, instance_noise)
            z_dim = codes.dim
        self.codes, self.info_weight = codes, info_weight
        self.z_dim, self.num_classes = z_dim, num_classes
        self.r1_gamma, self.instance_noise, self.clip_grad_norm = r1_gamma, instance_noise, clip_grad_norm
        self.g_opt = g_optimizer or self.objective.make_optimizer(G.parameters(), g_lr)
        self.d_opt = d_optimizer or self.objective.make_optimizer(D.parameters(), d_lr)
        self.g_scheduler = _scheduler_for(self.g_opt, g_scheduler, "g_scheduler")
        self.d_scheduler = _scheduler_for(self.d_opt, d_scheduler, "d_scheduler")
        self.ema = EMA(G, ema_decay) if ema_decay else None
        if out_dir is not None:
            _check_writable_folder(out_dir)
        self.out_dir, self.sample_every, self.checkpoint_every = out_dir, sample_every, checkpoint_every
        self.epoch_every = epoch_every
        self.callbacks, self.progress, self.device = list(callbacks), progress, backend.normalize_device(device)
        self.seed = seed

        # fixed evaluation noise (and labels): the same z every time, so sample grids are comparable
        # (conditional: a multiple of the class count, so that each column of the grid is one class)
        # (InfoGAN: likewise of the code's value count, column k drawing value k)
        columns = num_classes or (codes.categories if codes is not None else None)
        if columns:
            n_samples = max(columns, n_samples // columns * columns)
        rng = np.random.default_rng(seed + 1_000_003)
        if codes is None:
            self.fixed_z = Tensor(rng.standard_normal((n_samples, z_dim)).astype(np.float32)).to(self.device)
        else:
            noise = Tensor(rng.standard_normal((n_samples, codes.noise_dim)).astype(np.float32))
            cont = rng.uniform(-1, 1, (n_samples, codes.continuous)).astype(np.float32)
            self.fixed_z = codes.join(noise, np.arange(n_samples) % codes.categories, cont).to(self.device)
        self.fixed_labels = np.arange(n_samples) % num_classes if num_classes else None
        # how the grids are laid out: one class (or code value) per column; a caller that sets
        # fixed_z itself says so here
        self.grid_columns = columns or 8
        self.grid_note = (", one class per column" if num_classes else
                          ", column k: code value k" if codes is not None else "")

        self.step = 0          # D updates done (one per real batch)
        self.epoch = 0         # the epoch in progress
        self.batch_in_epoch = 0
        self.history = {k: [] for k in ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake",
                                        "d_grad_norm", "g_grad_norm")}
        self._total_steps, self._stop = None, False
        # For Ctrl-C: a step is in progress from taking its batch until its figures are logged
        # (only between steps is the state one that can be saved), and whether Ctrl-C was pressed.
        self._step_in_progress, self._ctrl_c = False, False
        self._last_real = None  # the latest real batch (and its labels), kept by ``batches``

    @property
    def loss_name(self):
        """The objective's name ("wgan-gp"), as checkpoints record it."""
        return self.objective.name

    # --- one step --------------------------------------------------------------------------

    def _noise_std(self):
        if not self.instance_noise or not self._total_steps:
            return 0.0
        return self.instance_noise * max(0.0, 1 - self.step / self._total_steps)

    def train_step(self, real, labels=None):
        """One D update, plus a G update every ``n_critic`` D updates: ``step.py``'s ``train_step``
        with this trainer's networks, objective, optimisers and options. Returns the step's figures."""
        if self.codes is not None:  # InfoGAN: the same two updates, each with the information term
            record = info_step(self.G, self.D, self.objective, self.codes, self.g_opt, self.d_opt, real,
                               step=self.step, info_weight=self.info_weight, ema=self.ema,
                               clip_grad_norm=self.clip_grad_norm)
        else:
            record = train_step(self.G, self.D, self.objective, self.g_opt, self.d_opt, real, labels,
                                step=self.step, z_dim=self.z_dim, num_classes=self.num_classes, ema=self.ema,
                                r1_gamma=self.r1_gamma, noise_std=self._noise_std(),
                                clip_grad_norm=self.clip_grad_norm)
        self.step += 1
        return record

    # --- the loop --------------------------------------------------------------------------

    def fit(self, loader, epochs=1, resume=None):
        """Train for ``epochs`` passes over ``loader`` (a ``minigan.data.DataLoader``; give it a
        seed for runs that can be resumed exactly). ``resume``: a checkpoint path to continue from.
        Returns the history (a dict of lists, one entry per step). On Ctrl-C the step in progress
        finishes, a checkpoint of it is saved (with ``out_dir``) and KeyboardInterrupt is raised."""
        if resume is not None:
            self.load_checkpoint(resume)
        self._total_steps = epochs * len(loader)
        hint = f"to go on: trainer.fit(..., resume={self.checkpoint_path!r})" if self.out_dir else None
        with self.save_on_ctrl_c(resume_hint=hint):
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
        """(real, labels) batches of the current epoch, skipping those a resumed run already used.
        Taking a batch starts a step; ``end_step`` ends it."""
        skip = self.batch_in_epoch  # unchanged while skipping, so a Ctrl-C then still saves the truth
        for i, batch in enumerate(loader):
            if i < skip:
                continue
            self.batch_in_epoch, self._step_in_progress = i + 1, True
            real, labels = batch if isinstance(batch, tuple) else (batch, None)
            labels = labels.numpy().astype(np.int64) if self.num_classes else None
            self._last_real = (real, labels)  # the batch at hand, for the D output histograms
            yield real, labels

    def end_step(self, record, bar=None):
        """Log a step's figures (stopping on NaN/inf), update the bar, run callbacks, and save
        samples and a checkpoint when their step counts come round. Call it after ``self.step``
        has counted the step. Raises KeyboardInterrupt here if Ctrl-C was pressed during the step
        (see ``save_on_ctrl_c``)."""
        for which in ("d_loss", "g_loss"):
            if record[which] is not None:
                check_finite(which, record[which], self.step)
        self._log(record)
        self._step_in_progress = False  # the step is complete: from here its state may be saved
        if bar is not None:
            # D's mean outputs beside the losses: D(x) well above D(G(z)) for long means D is winning
            h = self.history
            extra = {k: v for k, v in record.items() if k not in h and isinstance(v, float)}  # InfoGAN's q_accuracy
            bar.update(1, d_loss=h["d_loss"][-1], g_loss=h["g_loss"][-1],
                       **{"D(x)": h["d_real"][-1], "D(G(z))": h["d_fake"][-1]}, **extra)
        for callback in self.callbacks:
            callback(self, record)
        if self.out_dir and self.checkpoint_every and self.step % self.checkpoint_every == 0:
            self.save_checkpoint(self.checkpoint_path)
        if self.out_dir and self.sample_every and self.step % self.sample_every == 0:
            self.save_samples(f"samples_step{self.step:06d}.png")
        if self._ctrl_c:
            raise KeyboardInterrupt  # pressed during this step, held back until the step was done

    @contextlib.contextmanager
    def save_on_ctrl_c(self, resume_hint=None):
        """Make Ctrl-C stop a training loop (built from ``batches`` and ``end_step``) cleanly.

        Inside the ``with`` block Ctrl-C only sets a flag: the step in progress finishes, and
        ``end_step`` raises KeyboardInterrupt. Stopping mid-step would leave D updated but not G
        (or an optimiser half way through its parameters): not a state to resume from. On the way
        out a checkpoint of the last complete step is saved (with ``out_dir``), ``resume_hint`` is
        printed, and the KeyboardInterrupt goes on to the caller. A second Ctrl-C stops at once;
        if it lands mid-step, nothing is saved and the last checkpoint stays as it was.
        """
        def request_stop(signum, frame):
            self._ctrl_c = True
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops at once

        # Python runs signal handlers in its main thread only; a handler someone else set stays.
        take_over = (threading.current_thread() is threading.main_thread()
                     and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        if take_over:
            signal.signal(signal.SIGINT, request_stop)
        try:
            yield
            if self._ctrl_c:  # pressed after the last step ended: stop all the same
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            self._save_after_ctrl_c()
            if resume_hint and self.out_dir and os.path.exists(self.checkpoint_path):
                print(resume_hint)
            raise
        finally:
            if take_over:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            self._ctrl_c = False

    def _save_after_ctrl_c(self):
        if self._step_in_progress:
            print(f"\ninterrupted in the middle of step {self.step}: not saved (half a step cannot be "
                  "resumed from)" + (f"; the last checkpoint is {self.checkpoint_path}"
                                     if self.out_dir and os.path.exists(self.checkpoint_path) else ""))
        elif self.out_dir:
            try:
                self.save_checkpoint(self.checkpoint_path)
                print(f"\ninterrupted: saved a checkpoint of step {self.step} to {self.checkpoint_path}")
            except TrainingDiverged as e:
                print(f"\ninterrupted: {e}")

    def end_epoch(self, bar=None, finished=True):
        """Close the bar; unless stopped early, step the learning-rate schedulers and save the
        epoch's sample grid and a checkpoint.

        ``finished=False``: the loop stopped partway through the epoch (it reached its number of
        steps). The epoch stays open, and only a checkpoint is written, so that a resumed run
        with more steps goes on with this epoch's next batch (as after Ctrl-C)."""
        if bar is not None:
            bar.close()
        if self._stop:
            return
        if not finished:
            if self.out_dir:
                self.save_checkpoint(self.checkpoint_path)
            return
        self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        for scheduler in (self.g_scheduler, self.d_scheduler):
            if scheduler is not None:
                scheduler.step()  # the next epoch's learning rates
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
        """Images from G (eval mode, no graph): ``n`` from fresh noise (InfoGAN: and codes, their
        values drawn from ``codes.prior``), or from ``z``; the EMA weights when there are some and
        ``use_ema``."""
        if z is None:
            z = randn(n, self.z_dim, device=self.device) if self.codes is None else self.codes.sample(n, self.device)[0]
        args = () if not self.num_classes else (labels if labels is not None else draw_labels(z.shape[0], self.num_classes),)
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
        """Save the grid of samples from the fixed noise as ``name``, and beside it (``samples_`` in
        the name becomes ``d_outputs_``) histograms of D's outputs on those samples and on the
        latest real batch (``save_d_outputs``)."""
        from ..plotting import save_image_grid
        images = self.sample(z=self.fixed_z, labels=self.fixed_labels)
        save_image_grid(images, os.path.join(self.out_dir, name), nrow=self.grid_columns,
                        title=f"{self.loss_name}, step {self.step}{self.grid_note}")
        stem = name[len("samples_"):] if name.startswith("samples_") else name
        self.save_d_outputs(images, f"d_outputs_{stem}")

    def save_d_outputs(self, fake, name):
        """Histograms of D's outputs on ``fake`` (the sample grid's images) and on the latest real
        batch, saved as ``name``; nothing when no real batch has been seen yet.

        No extra pass over the data: the batches at hand go through D once, without a graph and
        in eval mode (no dropout, batch norm on its running statistics), so that drawing the plot
        changes neither D's statistics nor the random numbers, and the run stays bit-identical.
        The fakes are the grid's: from the EMA of G when there is one.
        """
        from ..plotting import save_d_outputs
        if self._last_real is None:
            return
        real, labels = self._last_real
        fake_labels = self.fixed_labels
        was_training = self.D.training
        self.D.eval()
        try:
            with no_grad():
                real_out = self.D(real) if labels is None else self.D(real, labels)
                fake_out = self.D(fake) if fake_labels is None else self.D(fake, fake_labels)
        finally:
            self.D.train(was_training)
        source = "EMA of G" if self.ema is not None else "G"
        save_d_outputs(self.objective.d_outputs(real_out), self.objective.d_outputs(fake_out),
                       os.path.join(self.out_dir, name), equilibrium=self.objective.equilibrium_d_output,
                       probability=self.objective.outputs_probability,
                       title=f"{self.loss_name}, step {self.step}: D on {real.shape[0]} real images "
                             f"and {fake.shape[0]} samples ({source})")

    def plot_losses(self, name="losses.png"):
        """The run's training curves (losses, D(x) and D(G(z)) with the objective's equilibrium,
        gradient norms) saved as ``name`` in the run folder."""
        from ..plotting import plot_history
        if self.history["step"]:
            plot_history(self.history, os.path.join(self.out_dir, name),
                         equilibrium=self.objective.equilibrium_d_output,
                         probability=self.objective.outputs_probability,
                         title=f"{self.loss_name}, {self.step} steps")

    @property
    def checkpoint_path(self):
        return os.path.join(self.out_dir, "checkpoint.npz")

    def state_dict(self):
        return {
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            "g_opt": self.g_opt.state_dict(), "d_opt": self.d_opt.state_dict(),
            "g_scheduler": self.g_scheduler.state_dict() if self.g_scheduler is not None else None,
            "d_scheduler": self.d_scheduler.state_dict() if self.d_scheduler is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "rng": backend.get_rng_state(), "loss": self.loss_name,
            "history": {k: np.asarray(v, dtype=np.float64) for k, v in self.history.items()},
        }

    def save_checkpoint(self, path):
        """Both networks, both optimisers and their schedulers, the EMA, the position in the data
        and the RNG state, written atomically (a crash mid-write leaves the previous checkpoint
        intact). A state holding NaN or inf is refused (TrainingDiverged) and nothing is written,
        so the last good checkpoint is never replaced by a bad one."""
        state = self.state_dict()
        for part in ("G", "D", "g_opt", "d_opt", "ema"):  # not the history: NaN marks "no G update"
            bad = non_finite(state[part], part)
            if bad:
                raise TrainingDiverged(f"not saving a checkpoint to '{path}' at step {self.step}: {bad}; "
                                       "the checkpoint already there (if any) is left as it was")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save(state, path)

    def load_checkpoint(self, path):
        """Continue from a checkpoint: both networks, both optimisers' state and their schedulers',
        the EMA, the position in the data, the RNG state and the history.

        All or nothing: every part is checked against this trainer before any is loaded, so a
        checkpoint of another architecture or optimiser is refused (ValueError, saying which part
        and what differs) and leaves the trainer exactly as it was. The hyperparameters given to
        this Trainer (learning rates, betas, EMA decay, ...) win over the saved ones, as when a
        command is run again with other flags; a line names each saved value that was replaced.
        An optimiser with a scheduler is the exception: its learning rates follow the schedule
        saved in the checkpoint (the scheduler's own hyperparameters given now still win).
        """
        state = load(path)
        for key in ("g_scheduler", "d_scheduler"):  # checkpoints made before schedulers were saved
            state.setdefault(key, None)
        missing = [key for key in self.state_dict() if key not in state]
        if missing:
            raise ValueError(f"'{path}' is not a Trainer checkpoint: it has no {', '.join(missing)}")
        if state["loss"] != self.loss_name:
            raise ValueError(f"checkpoint '{path}' was trained with loss {state['loss']!r}, "
                             f"not {self.loss_name!r}")

        # 1. check every part; each check returns a function that loads that part and cannot fail
        parts = [("G", self.G, state["G"]), ("D", self.D, state["D"]),
                 ("G's optimiser", self.g_opt, state["g_opt"]), ("D's optimiser", self.d_opt, state["d_opt"])]
        if self.ema is not None and state["ema"] is not None:
            parts.append(("the EMA of G", self.ema, state["ema"]))
        optimisers = [("G's optimiser", self.g_opt, self.g_scheduler, state["g_scheduler"]),
                      ("D's optimiser", self.d_opt, self.d_scheduler, state["d_scheduler"])]
        for which, _, scheduler, saved in optimisers:
            if scheduler is not None and saved is not None:
                parts.append((f"the scheduler of {which}", scheduler, saved))
        loads = []
        for part, target, saved in parts:
            try:
                loads.append(target._prepare_load(saved))
            except (ValueError, RuntimeError, TypeError, KeyError) as e:
                raise ValueError(f"cannot resume from '{path}': {part} does not fit: {e}") from e
        _check_progress(state, self.history.keys(), path)

        # 2. load them all, keeping the hyperparameters given now
        given_now = {which: [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
                     for which, opt in (("G's optimiser", self.g_opt), ("D's optimiser", self.d_opt))}
        decay_now = self.ema.decay if self.ema is not None else None
        settings_now = {which: _scheduler_settings(scheduler) for which, _, scheduler, _ in optimisers}
        for load_part in loads:
            load_part()
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        backend.set_rng_state(state["rng"])
        self.history = {k: [int(x) if k in ("step", "epoch") else float(x) for x in v]
                        for k, v in state["history"].items()}

        # 3. the hyperparameters given now win over the saved ones: say which were replaced
        notes = []
        for which, opt, scheduler, saved in optimisers:
            resumed = scheduler is not None and saved is not None  # its schedule goes on from the checkpoint
            for i, (group, now) in enumerate(zip(opt.param_groups, given_now[which])):
                label = which + (f" group {i}" if len(opt.param_groups) > 1 else "")
                for key, value in now.items():
                    if resumed and key in ("lr", "initial_lr"):
                        continue  # set by the scheduler, whose state was just loaded
                    if group.get(key) != value:
                        notes.append(f"{label} {key} {group[key]!r} from the checkpoint replaced by "
                                     f"{value!r} given now")
                    group[key] = value
                if resumed and group["initial_lr"] != now["initial_lr"]:
                    notes.append(f"{label} follows the learning-rate schedule of the checkpoint, from base lr "
                                 f"{group['initial_lr']!r}: the lr {now['initial_lr']!r} given now is not used")
            if resumed:
                for key, value in settings_now[which].items():
                    if getattr(scheduler, key) != value:
                        notes.append(f"the scheduler of {which}: {key} {getattr(scheduler, key)!r} from "
                                     f"the checkpoint replaced by {value!r} given now")
                        setattr(scheduler, key, value)
            elif scheduler is not None:
                notes.append(f"the checkpoint has no scheduler for {which}: its schedule starts now")
            elif saved is not None:
                notes.append(f"the checkpoint's scheduler of {which} is left out: none was given now")
        if self.ema is not None and state["ema"] is None:
            self.ema = EMA(self.G, decay_now)  # an average of the loaded weights, not the initial ones
            notes.append("the checkpoint has no EMA of G: the EMA starts now, from the loaded weights")
        elif self.ema is not None and self.ema.decay != decay_now:
            notes.append(f"EMA decay {self.ema.decay!r} from the checkpoint replaced by {decay_now!r} given now")
            self.ema.decay = decay_now
        elif self.ema is None and state["ema"] is not None:
            notes.append("the checkpoint's EMA of G is left out: no ema_decay was given now")
        for note in notes:
            print(f"resume: {note}")


def _scheduler_for(optimizer, given, name):
    """The scheduler of ``optimizer``: None, ``given`` if it is a scheduler made on it, or the one
    that ``given(optimizer)`` makes."""
    if given is None:
        return None
    scheduler = given(optimizer) if callable(given) else given  # a scheduler itself is not callable
    if not isinstance(scheduler, LRScheduler):
        raise TypeError(f"Trainer: {name} must be a learning-rate scheduler, or a function that makes one "
                        f"from the optimiser (lambda opt: StepLR(opt, step_size=10)), got "
                        f"{type(scheduler).__name__}" + (f" from {given!r:.40}" if scheduler is not given else ""))
    if scheduler.optimizer is not optimizer:
        raise ValueError(f"Trainer: {name} was made on another optimiser than the Trainer's; make it on the "
                         "optimiser you pass to the Trainer, or pass a function (lambda opt: ...) instead")
    return scheduler


def _scheduler_settings(scheduler):
    """A scheduler's hyperparameters (StepLR's step_size and gamma, ...): its state dict less its
    progress (last_epoch and the rates) and LambdaLR's functions."""
    if scheduler is None:
        return {}
    return {key: value for key, value in scheduler.state_dict().items()
            if key not in ("last_epoch", "base_lrs", "_last_lr", "lr_lambdas")}


def _check_progress(state, history_keys, path):
    """Check a checkpoint's counters, RNG state and history before ``load_checkpoint`` uses them."""
    for key in ("step", "epoch", "batch_in_epoch"):
        value = state[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"cannot resume from '{path}': {key} should be a whole number >= 0, got {value!r}")
    try:  # on a scratch generator of the same kind: a state of the wrong form raises here
        np.random.default_rng().bit_generator.state = state["rng"]
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"cannot resume from '{path}': its RNG state does not fit: {e}") from e
    history = state["history"]
    if not isinstance(history, dict) or set(history) != set(history_keys):
        got = sorted(history) if isinstance(history, dict) else type(history).__name__
        raise ValueError(f"cannot resume from '{path}': its history should have the columns "
                         f"{sorted(history_keys)}, got {got}")
    lengths = {key: len(column) for key, column in history.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"cannot resume from '{path}': its history columns differ in length: {lengths}")


def _check_writable_folder(path):
    """Make the folder ``path`` if it is missing and check that a file can be written in it, so
    that a bad ``out_dir`` fails when the Trainer is made, not after the first epoch."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):  # made, then removed when closed
            pass
    except OSError as e:
        raise OSError(f"out_dir '{path}' must be a folder in which files can be written: "
                      f"{e.strerror or e}") from e


def _check_info_options(codes, D, num_classes, r1_gamma, instance_noise):
    """InfoGAN's step (``info_step``) takes a Codes and an InfoDiscriminator, and has no class
    labels, R1 penalty or instance noise: refuse those, by name, rather than drop them silently."""
    if not isinstance(codes, Codes):
        raise TypeError(f"Trainer: codes must be a gan.Codes, got {type(codes).__name__}")
    if not isinstance(D, InfoDiscriminator):
        raise TypeError(f"Trainer: with codes, D must be a gan.InfoDiscriminator (its Q head reads the codes "
                        f"back), got {type(D).__name__}")
    for name, value in (("num_classes", num_classes), ("r1_gamma", r1_gamma), ("instance_noise", instance_noise)):
        if value:
            hint = (": give the objective the penalty instead, get_loss(..., penalty=R1Penalty(gamma)), which "
                    "info_step applies" if name == "r1_gamma" else "")
            raise ValueError(f"Trainer: codes (InfoGAN) cannot be combined with {name}={value!r}; info_step has no "
                             f"{name}{hint}")
