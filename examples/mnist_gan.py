"""Train a GAN on MNIST with minigan, one readable step at a time.

    python examples/mnist_gan.py                 # the defaults: digits in about 9 minutes on a CPU
    python examples/mnist_gan.py --smoke         # a seconds-long run, to check that all works
    python examples/mnist_gan.py --help          # every flag, explained

Read it top to bottom: each numbered step says what it does and what to look at. Everything a
run makes (sample grids per epoch, the loss plot, a latent-space interpolation strip and the
checkpoint, and metrics.json with the scores of the final samples) goes into one run folder, named on
the last line it prints.
"""
import argparse
import glob
import json
import os
import shlex
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a clone
import minigan  # noqa: E402
from minigan import data, gan, metrics  # noqa: E402
from minigan.files import atomic_file  # noqa: E402
from minigan.gan.models import build, spectral_normalize  # noqa: E402
from minigan.gan.step import train_step  # noqa: E402  (one D update and one G update: read it at step 6)
from minigan.gan.trainer import Trainer  # noqa: E402
from minigan.plotting import save_image_grid  # noqa: E402

# Default lengths, each to fit its time budget on a quiet 2-core CPU (docs/recipes.md has the runs
# that chose them): the MLP's 16,000 steps (about 32 ms each, InfoGAN's code included) fit in 10
# minutes with the scoring at the end; the DCGAN's 6,000 (width 0.5, about 117 ms each) in 15.
DEFAULT_STEPS = {"mlp": 16000, "dcgan": 6000}
# InfoGAN's categorical code, on by default for the MLP: a code with a value per kind of digit keeps
# G from drawing the half-formed digits that lie between kinds (docs/recipes.md, "Round three").
# On the DCGAN it cost most of the variety (recall 0.81 -> 0.07), so that one goes without.
DEFAULT_CODES = {"mlp": 20, "dcgan": 0}


def loss_name(text):
    """--loss: a name from gan.LOSSES; case, '-' and '_' do not matter ("wgan_gp" is "wgan-gp")."""
    try:
        return gan.canonical_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None  # argparse prints the message, which lists the names


def count(text):
    """--metrics-samples: an int >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Train a GAN on MNIST (or Fashion-MNIST) with minigan, step by step.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--arch", choices=["mlp", "dcgan"], default="mlp",
                   help="network shapes: 'mlp' (dense layers, batch norm in G; fast on a CPU) or 'dcgan' "
                        "(convolutions and batch norm; on a CPU a step costs about 4.5 MLP steps)")
    p.add_argument("--loss", type=loss_name, choices=list(gan.LOSSES), default="nonsaturating",
                   help="the GAN objective (see minigan/gan/losses.py for each one's formulas and recipe)")
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the data; by default, as many as --steps needs")
    p.add_argument("--steps", type=int, default=None,
                   help=f"training steps (D updates) in all; default {DEFAULT_STEPS} by --arch")
    p.add_argument("--batch-size", type=int, default=64, help="images per step")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate of both networks; default: the loss's published recipe")
    p.add_argument("--optimizer", choices=["adam", "rmsprop", "sgd"], default=None,
                   help="optimiser of both networks (sgd: plain, no momentum); default: the loss's recipe "
                        "(adam; rmsprop for wgan). The learning rate stays the recipe's unless --lr is given")
    p.add_argument("--beta1", type=float, default=None,
                   help="Adam's beta1, its momentum (the recipe's 0.5; PyTorch's default is 0.9)")
    p.add_argument("--activation", choices=["leaky_relu", "relu"], default="leaky_relu",
                   help="hidden layers' nonlinearity in G and D: relu lets units die (no gradient below 0)")
    p.add_argument("--clip-grad-norm", type=float, default=None, metavar="MAX",
                   help="scale each network's gradient to an L2 norm of at most MAX before its update "
                        "(the plotted norms are before clipping)")
    p.add_argument("--width", type=float, default=0.5,
                   help="DCGAN channel multiplier (1.0 = the TF tutorial's 256/128/64 channels)")
    p.add_argument("--d-dropout", type=float, default=0.3,
                   help="dropout in the MLP discriminator: keeps D from memorising a small data set")
    p.add_argument("--spectral-norm", action="store_true",
                   help="spectrally normalise D's layers (SNGAN): keeps D 1-Lipschitz; try it with --loss hinge")
    p.add_argument("--ema", type=float, default=0.999,
                   help="decay of the moving average of G's weights used for samples (0 = off)")
    p.add_argument("--device", choices=["cpu", "gpu", "auto"], default="auto",
                   help="where to train; 'auto' uses a GPU when CuPy and a CUDA device are there")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist", help="which images")
    p.add_argument("--data-root", default=None, help="a folder holding the IDX files (optional)")
    p.add_argument("--conditional", action="store_true",
                   help="condition G and D on the class label, so you can ask for a given digit")
    p.add_argument("--codes", type=count, default=None, metavar="N",
                   help="InfoGAN (minigan/gan/infogan.py): G draws one of N values of a code besides 62 noise "
                        "numbers and 2 continuous codes, and a Q head on D learns to read them back, so that "
                        "each value comes to draw one kind of digit, without labels. 0: a plain GAN, G fed "
                        f"100 noise numbers. Default {DEFAULT_CODES['mlp']} for the MLP (about two values per "
                        "digit), 0 for --arch dcgan and with --conditional (docs/recipes.md says why); 10 is "
                        "the InfoGAN paper's")
    p.add_argument("--out", default=None,
                   help="run folder (default: runs/<dataset>-<arch>-<loss>, then _flag=value for each "
                        "training flag that differs from its default, e.g. _optimizer=sgd_beta1=0.9)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the run folder's checkpoint (Ctrl-C saves one); the flags given "
                        "now win over the checkpoint's settings, and a line names each one replaced "
                        "(to change a training flag on resume, name the folder with --out). Without "
                        "--resume a run starts afresh: an earlier run's grids, plots and metrics in its "
                        "folder are removed and its checkpoint is kept as previous_checkpoint.npz")
    p.add_argument("--seed", type=int, default=0, help="seed for every random choice (same seed, same run)")
    p.add_argument("--smoke", action="store_true", help="a seconds-long run on 256 images (8 steps unless --steps says otherwise), to test the setup")
    p.add_argument("--metrics-samples", type=count, default=None,
                   help="EMA samples scored at the end by the shipped digit classifier (metrics.json); "
                        "default 10,000 (200 with --smoke); 0 = no scores")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.codes == 1:
        p.error("--codes: a code needs at least 2 values to say anything (0 turns it off), got 1")
    if args.codes and args.conditional:
        p.error("--codes and --conditional both add what G draws from: choose one (--codes 0 --conditional)")
    optimizer = args.optimizer or gan.get_loss(args.loss).optimizer  # the flag's, or the loss's recipe's
    if args.beta1 is not None and optimizer != "adam":
        p.error(f"--beta1 is Adam's; this run's optimiser is {optimizer}")
    args.run_name = run_name(p, args)
    if args.codes is None:  # after naming the run: the default adds nothing to the folder's name
        args.codes = 0 if args.conditional else DEFAULT_CODES[args.arch]
    return args


# Flags that change neither what is trained nor how: they stay out of the run folder's name.
NOT_IN_NAME = {"dataset", "arch", "loss", "out", "resume", "quiet", "device", "data_root", "metrics_samples"}


def run_name(parser, args):
    """The default run folder's name: <dataset>-<arch>-<loss>, then "_flag=value" (or "_flag" for a
    switch) for each training flag that differs from its default, so that runs meant for comparison
    (say --optimizer sgd against the default) do not overwrite each other."""
    name = f"{args.dataset}-{args.arch}-{args.loss}"
    for action in parser._actions:  # every flag, in the order --help lists them (argparse keeps them here)
        key, value = action.dest, getattr(args, action.dest, None)
        if key in NOT_IN_NAME or key == "help" or value == action.default:
            continue
        flag = action.option_strings[-1].lstrip("-")
        name += f"_{flag}" if value is True else f"_{flag}={value:g}" if isinstance(value, float) else f"_{flag}={value}"
    return name


# What a run writes besides its checkpoint: a fresh run in the same folder removes these first, so
# that no grid of an earlier run is left beside the new ones.
RUN_PRODUCTS = ("samples_*.png", "d_outputs_*.png", "losses.png", "interpolation.png", "sevens.png", "codes_*.png",
                "metrics.json")


def start_afresh(out):
    """A new run (not --resume) in ``out``: remove an earlier run's products and keep its checkpoint
    as previous_checkpoint.npz (never lost, and never resumed by mistake with other flags)."""
    old = sorted({path for pattern in RUN_PRODUCTS for path in glob.glob(os.path.join(glob.escape(out), pattern))})
    for path in old:
        os.remove(path)
    checkpoint = os.path.join(out, "checkpoint.npz")
    kept = os.path.exists(checkpoint)
    if kept:
        os.replace(checkpoint, os.path.join(out, "previous_checkpoint.npz"))
    if old or kept:
        print(f"{out} held an earlier run: removed its {len(old)} grids, plots and metrics"
              + ("; its checkpoint is now previous_checkpoint.npz" if kept else ""))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    start = time.perf_counter()
    minigan.manual_seed(args.seed)
    device = minigan.backend.normalize_device(args.device)
    out = args.out or os.path.join("runs", args.run_name)  # named by every flag that differs from its default
    if args.resume and not os.path.exists(os.path.join(out, "checkpoint.npz")):
        sys.exit(f"--resume: no checkpoint.npz in {out}." + ("" if args.out else
                 " A run folder is named by the training flags that differ from their defaults: resume "
                 "with the same flags, or name the folder with --out"))
    os.makedirs(out, exist_ok=True)
    if not args.resume:
        start_afresh(out)
    with open(os.path.join(out, "run.json"), "w") as f:  # what built this run (judge_digits.py reads it)
        json.dump(vars(args), f, indent=1)

    # --- Step 1: load the data ---------------------------------------------------------------
    # MNIST: 28x28 grey digits as uint8 0..255. We scale them to [-1, 1], the range of G's tanh
    # output, so that real and fake images look alike in every way but the one D must learn.
    # Offline, minigan falls back to 5,000 real digits shipped with the package (it says so).
    load = data.mnist if args.dataset == "mnist" else data.fashion_mnist
    dataset = load("train", root=args.data_root)
    images = data.to_unit_range(dataset.images)[:, None]          # (N, 1, 28, 28) float32 in [-1, 1]
    labels = dataset.labels.astype(np.int64)
    if args.smoke:
        images, labels = images[:256], labels[:256]
    loader = data.DataLoader((images, labels), batch_size=args.batch_size, shuffle=True,
                             drop_last=True, seed=args.seed, device=device)
    print(f"data: {len(images):,} {args.dataset} images ({dataset.source}), {len(loader)} batches per epoch")

    # --- Step 2: build the generator ---------------------------------------------------------
    # G turns random numbers into an image. It never sees a real image: everything it learns
    # comes through D's gradient. Print it to read its layer tree. The MLP's input, by default
    # (InfoGAN, below), is 62 noise numbers z ~ N(0, I), one of 20 code values (one-hot) and 2
    # numbers uniform in [-1, 1]; with --codes 0 (the DCGAN's default) it is 100 noise numbers,
    # the plain GAN. The code helps the MLP: a G fed noise alone must pass through half-formed
    # digits as z moves from one kind of digit to the next, and some of its samples land there;
    # a code value per kind of digit lets it jump instead (docs/recipes.md measures both).
    # --- Step 3: build the discriminator -----------------------------------------------------
    # D scores an image with one number, a logit: high for "real", low for "fake". For the
    # Wasserstein losses it is a "critic" whose score is not a probability. --spectral-norm
    # divides each of D's weights by its largest singular value, so D cannot change its score
    # faster than its input changes (minigan/nn/spectral_norm.py explains how).
    # InfoGAN (the MLP's default, --codes): D gets a Q head that reads G's codes back from its images,
    # and G is trained to keep them readable, so each code value comes to draw one kind of digit
    # without a single label (minigan/gan/infogan.py); --codes 0 makes both plain.
    num_classes = 10 if args.conditional else None
    codes = gan.Codes(noise_dim=62, categories=args.codes, continuous=2) if args.codes else None
    z_dim = codes.dim if codes else 100
    if codes:
        G, D = gan.build_info(args.arch, codes, width=args.width, dropout=args.d_dropout, activation=args.activation)
    else:
        G, D = build(args.arch, z_dim=z_dim, num_classes=num_classes, width=args.width, dropout=args.d_dropout,
                     activation=args.activation)
    G.to(device)
    D.to(device)
    if args.arch == "dcgan":
        minigan.nn.init.dcgan_init_(G)  # weights N(0, 0.02), batch-norm scales N(1, 0.02)
        minigan.nn.init.dcgan_init_(D)
    if args.spectral_norm:  # after the initialisation: each weight becomes weight_orig / sigma
        spectral_normalize(D)
    print(G, D, sep="\n")

    # --- Step 4: choose the loss -------------------------------------------------------------
    # The objective says what D and G each minimise. The default, "nonsaturating", is the
    # original GAN with G maximising log D(G(z)) instead of minimising log(1 - D(G(z))), whose
    # gradient vanishes early in training (try --loss minimax to watch it stall). It also carries
    # the rest of its paper's recipe, which the printed line shows: WGAN clips D's weights after
    # each D update, WGAN-GP adds a gradient penalty to D's loss, and both update D 5 times
    # (n_critic) for each update of G.
    objective = gan.get_loss(args.loss)
    print(objective)

    # --- Step 5: optimisers ------------------------------------------------------------------
    # One optimiser per network: each only ever updates its own network's weights. Adam with
    # lr 2e-4 and beta1 = 0.5 is the DCGAN recipe; the Wasserstein losses have their own, and
    # the objective builds the one its recipe names (--lr changes the learning rate of both;
    # --optimizer and --beta1 try others: see minigan/optim/ for each one's update rule).
    g_opt = objective.make_optimizer(G.parameters(), lr=args.lr, optimizer=args.optimizer, beta1=args.beta1)
    d_opt = objective.make_optimizer(D.parameters(), lr=args.lr, optimizer=args.optimizer, beta1=args.beta1)
    print(f"optimiser of G and of D: {type(g_opt).__name__}("
          + ", ".join(f"{k}={v}" for k, v in g_opt.defaults.items() if k in ("lr", "betas", "momentum", "alpha")) + ")"
          + (f", gradients clipped to norm {args.clip_grad_norm:g}" if args.clip_grad_norm else ""))

    # The Trainer keeps the books (history, EMA of G, samples, plots, checkpoints) around the
    # loop below; its own fit() runs this loop too, with the same train_step.
    trainer = Trainer(G, D, objective, z_dim=z_dim, num_classes=num_classes, g_optimizer=g_opt,
                      d_optimizer=d_opt, ema_decay=args.ema or None, clip_grad_norm=args.clip_grad_norm,
                      out_dir=out, seed=args.seed, checkpoint_every=500, progress=not args.quiet, device=device)
    if codes:  # the grids: column k draws with code value k, continuous codes 0, every image its own noise
        rows = max(5, 100 // codes.categories)
        trainer.fixed_z = latent(codes, np.random.default_rng(args.seed + 1), rows * codes.categories, cont=0).to(device)
        trainer.grid_columns, trainer.grid_note = codes.categories, ", column k: code value k"
    if args.resume:  # the flags given now (--lr, --ema, ...) win: it prints each saved value replaced
        trainer.load_checkpoint(trainer.checkpoint_path)
        print(f"resumed from {trainer.checkpoint_path} at step {trainer.step}")
    resume_command = shlex.join(["python", os.path.relpath(__file__)]
                                + [a for a in argv if a != "--resume"] + ["--resume"])

    steps = args.steps or (8 if args.smoke else DEFAULT_STEPS[args.arch])
    epochs = args.epochs or -(-steps // len(loader))
    if args.epochs:
        steps = epochs * len(loader)
    # a sample grid (and a checkpoint) every epoch, or every few when epochs are short: <= ~20 grids
    trainer.epoch_every = max(1, -(-epochs // 20))

    # --- Step 6: the training loop -----------------------------------------------------------
    # Each step is two updates. (a) D learns to tell a real batch from a fake one: the fakes are
    # made without a graph, because this update must not change G. (b) G learns to fool D: now
    # the fakes keep their graph, so G's loss backpropagates through D into G, and only G's
    # optimiser steps. Watch the losses: if D's falls to 0 and stays there, D has won and G's
    # gradient has gone; healthy runs see both hover, D(x) above D(G(z)) but not by everything.
    # Both updates are train_step, in minigan/gan/step.py: read it now, it is one short function
    # with these comments beside its lines, and Trainer.fit runs it too. With InfoGAN's code (the
    # MLP's default) they are info_step (minigan/gan/infogan.py): the same two updates, each adding
    # the term that keeps the code readable to its loss. The guards stop a run that goes wrong
    # before the bad step reaches the weights or a checkpoint: a NaN/inf loss (checked before
    # backward) and a NaN/inf gradient, which a finite loss can still have (checked before each
    # optimiser step). Ctrl-C is held back until the step in progress is done, so the checkpoint
    # it saves is never half a step.
    with trainer.save_on_ctrl_c(resume_hint=f"to go on: {resume_command}"):
        print(f"training to step {steps}; Ctrl-C stops cleanly, and then this continues the run:\n  {resume_command}")
        for epoch in range(trainer.epoch, epochs):
            if trainer.step >= steps:  # resumed after its last step (to score it again): nothing to train
                break
            bar = trainer.start_epoch(loader, epoch, epochs)
            for real, real_labels in trainer.batches(loader):
                # (a) a D update, then (b) a G update if this is the last of n_critic D updates
                if codes:  # the same two updates, each with InfoGAN's mutual-information term added
                    record = gan.info_step(G, D, objective, codes, g_opt, d_opt, real, step=trainer.step,
                                           ema=trainer.ema, clip_grad_norm=args.clip_grad_norm)
                else:
                    record = train_step(G, D, objective, g_opt, d_opt, real, real_labels, step=trainer.step,
                                        z_dim=100, num_classes=num_classes, ema=trainer.ema,
                                        clip_grad_norm=args.clip_grad_norm)
                trainer.step += 1
                trainer.end_step(record, bar)  # history, progress bar, periodic checkpoint (and Ctrl-C)
                if trainer.step >= steps:
                    break
            # this epoch's sample grid and a checkpoint (only the checkpoint if we stopped partway)
            trainer.end_epoch(bar, finished=trainer.batch_in_epoch == len(loader))
            if trainer.step >= steps:
                break

    # --- Step 7: look at the samples ---------------------------------------------------------
    # samples_epochNNN.png show the same 64 noise vectors each time: watch blobs become digits.
    # interpolation.png walks in a straight line between two z: a smooth morph from one digit
    # into another means G learned a continuous map, not a lookup table of training images.
    # losses.png: the losses, D(x) and D(G(z)) against the objective's equilibrium (dashed), and
    # both gradient norms on a log scale: with --loss minimax, G's stays flat near 1 while the
    # default's keeps growing. d_outputs_epochNNN.png, beside each grid: D's outputs on a real
    # batch and on the grid's samples; two lumps far apart mean D tells them apart with ease.
    trainer.plot_losses()
    final = trainer.sample(z=trainer.fixed_z, labels=trainer.fixed_labels)
    save_image_grid(final, os.path.join(out, "samples_final.png"), nrow=trainer.grid_columns,
                    title=f"{args.arch} / {args.loss}, {trainer.step} steps{trainer.grid_note}")
    if num_classes:  # ask for sevens: G(z, 7)
        sevens = trainer.sample(z=trainer.fixed_z[:16], labels=np.full(16, 7))
        save_image_grid(sevens, os.path.join(out, "sevens.png"), nrow=8, title="G(z, label=7)")
    if codes:  # InfoGAN: what each continuous code came to mean (often slant and stroke width)
        for k in range(codes.continuous):
            _code_sweep(trainer, codes, k, os.path.join(out, f"codes_continuous{k + 1}.png"))
    _interpolation(trainer, os.path.join(out, "interpolation.png"), num_classes, codes)
    trainer.save_checkpoint(trainer.checkpoint_path)

    # --- Step 8: score the samples -----------------------------------------------------------
    # A classifier trained on real digits (minigan.metrics, shipped with minigan) judges N samples
    # of the EMA generator against 1,000 real digits it never trained on. Each number is printed
    # with a sentence saying what it measures; all of them go to metrics.json in the run folder.
    # The one to watch first is the score ratio: the samples' classifier score over real digits'.
    # With InfoGAN's code the samples draw each code value as often as Q finds its kind of digit
    # among the training digits (gan.code_prior), not 1 in N: training gave every value the same
    # share, and a digit that took three values would otherwise come three times as often.
    n_scored = 200 if args.smoke else 10000
    n_scored = n_scored if args.metrics_samples is None else args.metrics_samples
    if n_scored and args.dataset == "mnist":
        report, match = _score(trainer, n_scored, num_classes, codes, images)
        report.update(steps=trainer.step, arch=args.arch, loss=args.loss,
                      seconds=round(time.perf_counter() - start, 1))  # this run's wall time, scoring included
        print(f"\nscores of {n_scored:,} EMA samples against 1,000 real held-out digits:")
        print("\n".join(metrics.report_lines(report)))
        report = metrics.report.as_json(report)
        if match:  # InfoGAN: does each value of the categorical code draw one digit?
            print("code values drawn as often as Q reads them among the training digits (gan.code_prior): "
                  + " ".join(f"{k}:{p:.3f}" for k, p in enumerate(codes.prior)))
            pairing = ("under the best one-to-one pairing" if codes.categories <= 10 else
                       "each value paired with the digit it draws most")
            print(f"code -> digit match {match.accuracy:.3f}\n    (share of samples whose digit is the one paired "
                  f"with their code value, {pairing}; chance about 0.1)\n"
                  f"code value -> digit: {dict(enumerate(match.mapping))}")
            report.update(code_match=match.accuracy, code_to_digit=match.mapping, code_prior=codes.prior.tolist())
        with atomic_file(os.path.join(out, "metrics.json")) as f:
            f.write(json.dumps(report, indent=1).encode())
    elif n_scored:
        print("no scores: the shipped classifier judges digits, not Fashion-MNIST")
    minutes = (time.perf_counter() - start) / 60
    print(f"done in {minutes:.1f} min, {trainer.step} steps. Samples, loss plot, interpolation, "
          f"checkpoint{' and metrics.json' if n_scored and args.dataset == 'mnist' else ''} are in {os.path.abspath(out)}")
    return trainer


def latent(codes, rng, n, cont=None, cat=None):
    """n inputs for G from the NumPy generator ``rng``: z ~ N(0, I) with 100 values, or for InfoGAN
    noise and codes: the code values ``cat`` (default: value i % N in row i, each of the N values
    equally often) and the continuous codes uniform in [-1, 1] (or all equal to ``cont``)."""
    if codes is None:
        return minigan.Tensor(rng.standard_normal((n, 100)).astype(np.float32))
    noise = minigan.Tensor(rng.standard_normal((n, codes.noise_dim)).astype(np.float32))
    cont = rng.uniform(-1, 1, (n, codes.continuous)) if cont is None else np.full((n, codes.continuous), cont)
    cat = np.arange(n) % codes.categories if cat is None else cat
    return codes.join(noise, cat, cont.astype(np.float32))


def _score(trainer, n, num_classes, codes, images):
    """metrics.digit_report of n samples of G (its EMA weights) against the bundled held-out digits,
    and for InfoGAN how well the code values match digits (metrics.code_class_match), else None.

    InfoGAN's samples draw their code values from ``gan.code_prior``, read by Q from the training
    ``images``, not uniformly: training gives each value 1/N of the samples, and a digit that took
    3 of the 20 values (ones, often) would get 15% of them where real MNIST has 11%. This sets
    ``codes.prior``. The noise comes from its own NumPy generator, not minigan's: scoring leaves the
    run's random state, and so a resumed run, exactly as they were."""
    rng = np.random.default_rng(trainer.seed + 11)
    if codes:
        codes.prior = gan.code_prior(trainer.D, minigan.Tensor(images).to(trainer.device))
        values = rng.choice(codes.categories, n, p=codes.prior)
    fakes = []
    for i in range(0, n, 1000):
        z = latent(codes, rng, min(1000, n - i), cat=values[i:i + 1000] if codes else None)
        labels = np.arange(i, i + len(z)) % num_classes if num_classes else None  # every digit equally often
        fakes.append(minigan.backend.as_numpy(trainer.sample(z=z.to(trainer.device), labels=labels).data))
    fakes = np.concatenate(fakes)
    real = data.mnist_bundled("test")  # the 1,000 digits the classifier's accuracy was measured on
    report = metrics.digit_report(fakes, data.to_unit_range(real.images)[:, None])
    if codes is None:
        return report, None
    digits = metrics.classifier_probs(fakes).argmax(axis=1)
    return report, metrics.code_class_match(values, digits, num_codes=codes.categories)


def _interpolation(trainer, path, num_classes, codes, rows=6, steps=10):
    """Straight lines in noise space between pairs of noise vectors, one row per pair (InfoGAN:
    row r holds code value r, continuous codes 0, and only the noise moves)."""
    rng = np.random.default_rng(trainer.seed + 7)
    noise_dim = codes.noise_dim if codes else 100
    ends = rng.standard_normal((2, rows, 1, noise_dim)).astype(np.float32)
    t = np.linspace(0, 1, steps, dtype=np.float32)[None, :, None]
    z = minigan.Tensor(((1 - t) * ends[0] + t * ends[1]).reshape(rows * steps, noise_dim))
    row = np.repeat(np.arange(rows), steps)
    if codes:
        z = codes.join(z, row % codes.categories, np.zeros((rows * steps, codes.continuous), np.float32))
    labels = row % num_classes if num_classes else None
    images = trainer.sample(z=z.to(trainer.device), labels=labels)
    save_image_grid(images, path, nrow=steps, title="walking in a straight line through z")


def _code_sweep(trainer, codes, k, path, steps=9):
    """InfoGAN: row v draws code value v with one noise vector, while continuous code k goes from -2
    to 2 along the row (past the [-1, 1] it trained on) and the other continuous codes stay 0."""
    rng = np.random.default_rng(trainer.seed + 5)
    noise = np.repeat(rng.standard_normal((codes.categories, codes.noise_dim)).astype(np.float32), steps, axis=0)
    cont = np.zeros((len(noise), codes.continuous), np.float32)
    cont[:, k] = np.tile(np.linspace(-2, 2, steps, dtype=np.float32), codes.categories)
    z = codes.join(minigan.Tensor(noise), np.repeat(np.arange(codes.categories), steps), cont)
    save_image_grid(trainer.sample(z=z.to(trainer.device)), path, nrow=steps,
                    title=f"continuous code {k + 1} from -2 (left) to 2; row v: code value v")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C: the checkpoint is saved and the command to go on printed
        sys.exit(130)          # the shell's code for "stopped by Ctrl-C" (128 + SIGINT)
