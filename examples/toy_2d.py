"""Mode collapse, measured: GANs on the ring of 8 Gaussians and the grid of 25 (VEEGAN, PacGAN).

    python examples/toy_2d.py                     # every loss on both datasets, 3 seeds each
    python examples/toy_2d.py --losses nonsaturating hinge --seeds 10
    python examples/toy_2d.py --json --seeds 10   # one JSON line per run, for scripts
    python examples/toy_2d.py --smoke             # seconds, to check the setup

A GAN "collapses" when G covers only some of the data's modes. These two datasets make it
visible and countable. After training, 2,500 samples from G are scored with VEEGAN's rules:
a sample is *high quality* when it lies within 3 standard deviations of its nearest mode, and a
mode is *captured* when it is the nearest mode of at least one high-quality sample. A perfect
sampler scores all modes and about 98.9% high quality (in 2-D, P(r < 3 sigma) = 1 - e^-4.5).

Every objective gets the same budget: ``--g-updates`` generator updates. An objective with
n_critic D updates per G update (WGAN, WGAN-GP: 5) makes n_critic times as many D updates, so
that it is compared with the others at equal numbers of G steps, not of D steps.

The default recipe, chosen by measuring (non-saturating loss, 2,500 samples a run): G and D with
3 hidden layers of 256 ReLU units and no batch norm (VEEGAN's and PacGAN's toys use 3-4 layers
of 400), Adam at lr 1e-3 with the objective's betas, batches of 256, 6,000 G updates, both
learning rates falling linearly to 0 over the second half, samples drawn from an EMA (0.999) of
G's weights, **InfoGAN's categorical code with one value per mode** beside G's 2 noise numbers
(``--codes modes``: 8 for the ring, 25 for the grid; a Q head on D reads it back), and a penalty
on D's input gradient with gamma 1 (``--penalty auto``: R1 on the ring, the zero-centred gradient
penalty on the grid). What the parts did:

    recipe                                          ring modes / hq      grid modes / hq
    2 x 128 units, lr 1e-3, 4,000 G updates, EMA      3.5 / 23%            17.5 / 25%
    the same without EMA                               4.0 / 63%            13.5 / 14%
    2 x 128 units, lr 3e-4, 4,000, EMA                 8.0 / 57%            17.5 /  5%
    3 x 256 units, lr 1e-3 decayed, 3,000, EMA         8.0 / 95%            19.5 / 57%
    3 x 256 units, lr 1e-3 decayed, 6,000, EMA         8.0 / 98%            20.0 / 90%
    the same, seeds 0-4 (--codes 0 --penalty none)     7.2 / 97%            16.6 / 91%
      with --pack 2 (PacGAN2), seeds 0-2                   -                22.3 / 13%
      with --pack 4 (PacGAN4), seeds 0-2                   -                20.7 /  3%
      with batches of 512, seeds 0-2                       -                17.0 / 94%
      batches of 512, 12,000 G updates, seeds 0-1          -                17.5 / 97%
    + the code, one value per mode, no penalty, 0-4    8.0 / 99.8%          24.2 / 87% (0-3)
      with the information term weighted 0.3, 0-2     8.0 / 99.96%         23.5 / 90% (0-1)
    + R1, gamma 1 (--penalty r1)                       8.0 / 99.5% (0-9)   22.2 / 83% (0-4)
    + zero-centred GP, gamma 1 (--penalty zero-gp)     5.0 / 56% (0-1)     25.0 / 99.7% (0-9)
    the defaults (--penalty auto: r1 / zero-gp)        8.0 / 99.5% (0-9)   25.0 / 99.7% (0-9)

Width and depth buy the most of a plain G's quality (a ReLU G needs many pieces to tear its
Gaussian into 25 blobs 0.15 wide), the decaying rate and the EMA the last few percent. But a
plain G still drops modes (seeds 0-4: ring 8, 8, 5, 8, 7 of 8; grid 16, 24, 17, 15, 11 of 25),
and no batch size, budget or packing tried fixed that: G maps a Gaussian, which has no gaps,
continuously onto the plane, so its samples form one connected cloud that it must stretch into
thin bridges between blobs, and a mode it has left behind is one it must cross a valley of low D
output to reach. PacGAN's packing (``--pack``) finds more grid modes, as the paper says it
should, but its samples spread off the modes (high quality 2-23% a run).

**The code removes the bridges.** Each value of the code feeds G a different input, so each value
can draw its own blob with no path to the next; and since Q must tell the values apart from the
points alone, two values cannot share a mode for long: with as many values as modes, each value
settles on a mode of its own. It asks for the number of modes, which a real dataset does not
tell (MNIST's example takes 20 values for 10 digits, and reads how often to draw each back with
``gan.code_prior``, as this script does too).

**The penalty keeps the blobs on the modes, and each toy needs its own.** With the code alone,
the values found every mode in most runs but not all (seeds 0-4: ring 8 every time; grid 25, 25,
25, 22, 25): the 25 blobs, tight and spread evenly by Q's push to tell them apart, sat between the
modes, or sat on them and slid off again, the kind of oscillation near equilibrium that
Mescheder et al. (2018) show a GAN without a gradient penalty can fall into. Both penalties
below cost D gamma/2 * mean ||grad_x D(x)||^2, at different points x:

* **R1** (Mescheder et al. 2018) takes x at real points: D cannot be steep where the data is, so
  it stops overshooting there and G's points settle on the modes instead of circling them. It
  holds the ring's blobs (0.01 wide) in place: every mode in each of seeds 0-9, 98.2-99.9% high
  quality. But it says nothing about D between the modes, and on the grid seed 4's blobs never
  reached them (11 modes, 31%).
* **The zero-centred gradient penalty** (Thanh-Tung et al. 2019; ``gan.GradientPenalty(gamma / 2,
  center=0)``) takes x on random points between a real and a fake one: D's output must change
  gently along the whole way from G's points to the data, so a blob anywhere feels a steady pull
  towards the modes, and D cannot wall a mode off with a cliff. On the grid it found every mode in
  each of seeds 0-9 (99.4-99.9% high quality, 99.7% on average: issue 13's target is every mode and
  95%). On the ring, seed 1 found all 8 modes by 3,000 updates and then the whole ring of blobs
  turned off them while the rates fell (2 modes, 11%). A likely reason: the ring's modes are
  0.77 apart against the grid's 2, so a D that tells them apart needs slopes 2.6 times as steep,
  and the same gamma weighs about seven times as much there. R1 keeps the ring.

So ``--penalty auto`` takes R1 on the ring and the zero-centred penalty on the grid, each the one
measured over ten seeds there. Either costs about a quarter more time a run than none (2-2.5
minutes a run on a quiet 2-core machine); ``--penalty none`` turns it off.

Scatter plots of G's samples over training go into the run folder, one per dataset, loss and
seed, and the closing table compares the losses with PacGAN's Table 1.
"""
import argparse
import json
import math
import os
import sys
import time
from collections import namedtuple

# These networks multiply small matrices, where one BLAS thread is faster than two (and does not
# fight other processes for the cores); set before NumPy loads its BLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigan  # noqa: E402
import minigan.nn as nn  # noqa: E402
from minigan import data, gan, metrics  # noqa: E402
from minigan.gan import Trainer  # noqa: E402
from minigan.optim.lr_scheduler import LambdaLR  # noqa: E402
from minigan.plotting import save_scatter  # noqa: E402

# PacGAN (Lin et al. 2018), Table 1, averages over 10 trials: (modes, high-quality share).
PACGAN = {"ring": {"GAN": (6.3, 0.982), "PacGAN4": (7.8, 0.959)},
          "grid": {"GAN": (17.3, 0.948), "PacGAN4": (24.8, 0.936)}}
Run = namedtuple("Run", ["modes", "n_modes", "hq", "seconds", "g_updates", "d_updates"])
# penalty: what --penalty auto puts on D for each toy, the one that found every mode in ten seeds there
# (the module docstring says why they differ).
DATASETS = {"ring": dict(make=data.ring, std=0.01, limit=1.5, penalty="r1"),
            "grid": dict(make=data.grid, std=0.05, limit=5.5, penalty="zero-gp")}


class Points(nn.Module):
    """Identity on (N, 2) points: Generator/Discriminator reshape for images, toy points need none."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x, labels=None):
        return self.body(x)


def mlp(n_in, n_out, hidden, layers):
    """n_in -> hidden -> ... (``layers`` hidden layers, ReLU) -> n_out."""
    sizes = [n_in] + [hidden] * layers
    body = []
    for a, b in zip(sizes, sizes[1:]):
        body += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*body, nn.Linear(sizes[-1], n_out))


class Packed(nn.Module):
    """PacGAN's packing (Lin et al. 2018): D judges ``pack`` points at once, laid side by side as
    one input of 2 x pack numbers, and gives one logit for the lot. A G that covers few modes
    packs points that look alike, which D can tell from real packs; on one point at a time it
    cannot. A batch of N points becomes N / pack packs (the losses average over packs)."""

    def __init__(self, body, pack):
        super().__init__()
        self.body, self.pack = body, pack

    def forward(self, x, labels=None):
        n = x.shape[0]
        if n % self.pack:
            raise ValueError(f"Packed: a batch of {n} points does not split into packs of {self.pack}; "
                             f"use a batch size divisible by {self.pack}")
        return self.body(x.reshape(n // self.pack, 2 * self.pack))


def networks(z_dim=2, hidden=256, layers=3, pack=1, codes=None):
    """G: z -> hidden x layers -> a 2-D point; D: 2 x pack -> hidden x layers -> 1 logit (``Packed``;
    pack = 1 judges one point at a time, a plain D); ReLU, no batch norm.

    With ``codes`` (a ``gan.Codes``, InfoGAN) G reads ``codes.dim`` numbers, z_dim noise values and
    the code one-hot, and D is an ``InfoDiscriminator``: the same layers, with D's last Linear as its
    head and a Q head beside it reading the code back from the point."""
    if codes is None:
        return Points(mlp(z_dim, 2, hidden, layers)), Packed(mlp(2 * pack, 1, hidden, layers), pack)
    body = list(mlp(2, 1, hidden, layers))[:-1]  # all but the last Linear: the features both heads read
    return Points(mlp(codes.dim, 2, hidden, layers)), gan.InfoDiscriminator(nn.Sequential(*body), hidden,
                                                                            codes.categories, codes.continuous)


def train_one(dataset, loss, seed, g_updates, *, batch, lr, hidden, layers, ema, decay_from, pack=1, codes=0,
              info_weight=1.0, penalty="auto", gamma=1.0, out=None, plots=4, log=None):
    """Train one GAN for ``g_updates`` G updates and score 2,500 of its samples. Returns a ``Run``:
    modes captured, number of modes, high-quality share, seconds of training, and the G and D
    updates made (counted from the history). Samples come from the EMA of G's weights when ``ema`` > 0.
    ``codes``: the number of values of an InfoGAN code beside G's 2 noise numbers (0: none, a
    plain GAN; "modes": as many as the dataset has modes); the scored samples then draw the values
    as often as Q reads them in the data; ``info_weight`` weighs InfoGAN's information term.
    ``penalty``: a penalty on D's input gradient, gamma/2 * mean ||grad_x D||^2, for objectives without
    one of their own: "zero-gp" at random points between real and fake ones, "r1" at real points,
    "none", or "auto" (the dataset's own: r1 on the ring, zero-gp on the grid)."""
    spec = DATASETS[dataset]
    minigan.manual_seed(seed)
    samples, centres = spec["make"](100_000, rng=seed)
    codes = len(centres) if codes == "modes" else codes
    code = gan.Codes(noise_dim=2, categories=codes, continuous=0) if codes else None
    G, D = networks(hidden=hidden, layers=layers, pack=pack, codes=code)
    objective = gan.get_loss(loss)  # its optimiser, betas, n_critic, penalty and clipping; not its lr:
    penalty = spec["penalty"] if penalty == "auto" else penalty
    if penalty != "none" and gamma and objective.penalty is None:  # WGAN-GP keeps its own gradient penalty
        on_d = gan.GradientPenalty(gamma / 2, center=0) if penalty == "zero-gp" else gan.R1Penalty(gamma)
        objective = gan.get_loss(loss, penalty=on_d)
    if objective.optimizer == "rmsprop":  # one toy-sized rate for both networks (RMSprop: half of Adam's)
        lr = lr / 2
    trainer = Trainer(G, D, objective, z_dim=2, n_samples=2500, seed=seed, progress=False, g_lr=lr, d_lr=lr,
                      ema_decay=ema or None, codes=code, info_weight=info_weight)
    d_updates = g_updates * trainer.objective.n_critic  # the same number of G updates for every objective
    # Both rates stay at lr until decay_from x g_updates G updates, then fall linearly to 0 at the end.
    start = int(decay_from * g_updates)
    factor = lambda t: 1.0 if t < start else max(0.0, (g_updates - t) / max(1, g_updates - start))  # noqa: E731
    schedulers = [LambdaLR(opt, factor) for opt in (trainer.g_opt, trainer.d_opt)]
    every = max(1, g_updates // plots) if plots else 0

    def after_step(tr, record):
        if record["g_loss"] is None:
            return  # a D update without a G update (n_critic > 1)
        done = tr.step // tr.objective.n_critic  # G updates so far
        for scheduler in schedulers:
            scheduler.step()
        if done >= g_updates:
            tr.stop()
        if log and done % max(1, g_updates // 10) == 0:
            print(f"  {dataset} {loss} seed {seed}: {done}/{g_updates} G updates", file=log, flush=True)
        if every and done % every == 0 and out:
            save_scatter(tr.sample(z=tr.fixed_z), os.path.join(out, f"{dataset}_{loss}_seed{seed}_g{done:06d}.png"),
                         centres=centres, title=f"{dataset}, {loss}, {done} G updates", limit=spec["limit"],
                         radius=3 * spec["std"])  # the high-quality region around each mode
    trainer.callbacks.append(after_step)
    loader = data.DataLoader(samples, batch_size=batch, seed=seed)
    began = time.perf_counter()
    trainer.fit(loader, epochs=-(-d_updates // len(loader)))  # after_step() stops it after g_updates
    seconds = time.perf_counter() - began
    if code:  # each code value as often as its kind of point is in the data (gan.code_prior)
        code.prior = gan.code_prior(D, minigan.Tensor(samples[:20_000]).to(trainer.device))
    final = trainer.sample(2500).numpy()
    coverage = metrics.mode_coverage(final, centres, spec["std"])
    g_done = sum(not math.isnan(norm) for norm in trainer.history["g_grad_norm"])  # NaN: a step without G update
    return Run(coverage.modes, len(centres), coverage.high_quality, seconds, g_done, trainer.step)


def code_count(text):
    """--codes: "modes", or an int >= 0 other than 1 (a code of one value says nothing)."""
    if text == "modes":
        return text
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 0 or value == 1:
        raise argparse.ArgumentTypeError(f"expected 'modes', 0 (no code) or a number of values >= 2, got {text!r}")
    return value


def loss_name(text):
    """--losses: names from gan.LOSSES; case, '-' and '_' do not matter ("wgan_gp" is "wgan-gp")."""
    try:
        return gan.canonical_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None  # argparse prints the message, which lists the names


def main(argv=None):
    p = argparse.ArgumentParser(description="Count the modes GANs capture on the ring and grid datasets, "
                                "each objective trained for the same number of generator updates.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--losses", nargs="+", type=loss_name, default=["nonsaturating", "lsgan", "hinge", "wgan-gp"],
                   choices=list(gan.LOSSES), help="objectives to compare")
    p.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=sorted(DATASETS), help="which toys")
    p.add_argument("--seeds", type=int, default=3, help="runs per (dataset, loss), with seeds first-seed, "
                   "first-seed + 1, ...; the table averages them")
    p.add_argument("--first-seed", type=int, default=0, help="seed of the first run")
    p.add_argument("--g-updates", type=int, default=6000, help="generator updates per run, the same for every "
                   "objective (D updates: n_critic times as many, 5x for wgan and wgan-gp)")
    p.add_argument("--batch-size", type=int, default=256, help="points per batch (real, and fake)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate for both networks (RMSprop: half)")
    p.add_argument("--decay-from", type=float, default=0.5, help="fraction of the G updates after which both "
                   "learning rates fall linearly to 0 by the end (1: constant rate)")
    p.add_argument("--ema", type=float, default=0.999, help="decay of the moving average of G's weights that "
                   "the samples are drawn from (0: G's own weights)")
    p.add_argument("--hidden", type=int, default=256, help="units in each hidden layer of G and D")
    p.add_argument("--layers", type=int, default=3, help="hidden layers (ReLU) in each of G and D")
    p.add_argument("--codes", type=code_count, default="modes", help="values of InfoGAN's categorical code "
                   "that G reads beside its 2 noise numbers, with a Q head on D reading it back: 'modes' gives "
                   "the dataset's mode count (8 for the ring, 25 for the grid), 0 a plain GAN")
    p.add_argument("--info-weight", type=float, default=1.0, help="weight of InfoGAN's information term (how "
                   "hard G and Q work to keep the code readable) beside the GAN loss; with --codes")
    p.add_argument("--penalty", choices=["auto", "zero-gp", "r1", "none"], default="auto", help="penalty on "
                   "D's input gradient, gamma/2 * mean ||grad_x D(x)||^2: zero-gp takes x between real and fake "
                   "points (Thanh-Tung et al. 2019), so D's output slopes gently from G's points to the modes; r1 "
                   "takes x at real points (Mescheder et al. 2018), which stops D overshooting there; auto: r1 "
                   "on the ring, zero-gp on the grid (each found every mode in ten seeds there). WGAN-GP keeps "
                   "its own penalty instead")
    p.add_argument("--gamma", type=float, default=1.0, help="weight gamma of --penalty (0: none)")
    p.add_argument("--pack", type=int, default=1, help="points D judges at once (PacGAN's packing; 1: none); "
                   "the batch size must be divisible by it, and it needs --codes 0")
    p.add_argument("--plots", type=int, default=4, help="scatter plots of G's samples per run (0: none)")
    p.add_argument("--out", default=os.path.join("runs", "toy_2d"), help="folder for the scatter plots")
    p.add_argument("--json", action="store_true", help="print only one JSON line per run, "
                   '{"dataset", "loss", "seed", "modes", "hq", "seconds"}: modes captured, high-quality share, '
                   "seconds of training (progress goes to stderr)")
    p.add_argument("--smoke", action="store_true", help="tiny runs (1 seed, 20 G updates), to check that "
                   "everything works")
    args = p.parse_args(argv)
    for name, ok in (("--seeds", args.seeds >= 1), ("--g-updates", args.g_updates >= 1),
                     ("--batch-size", args.batch_size >= 1), ("--lr", args.lr > 0), ("--hidden", args.hidden >= 1),
                     ("--layers", args.layers >= 1), ("--plots", args.plots >= 0),
                     ("--decay-from", 0 <= args.decay_from <= 1), ("--ema", 0 <= args.ema < 1),
                     ("--info-weight", args.info_weight >= 0), ("--gamma", args.gamma >= 0),
                     ("--pack", args.pack >= 1 and args.batch_size % args.pack == 0)):
        if not ok:
            p.error(f"{name} got {getattr(args, name[2:].replace('-', '_'))}; see --help for what it takes")
    if args.pack > 1 and args.codes:
        p.error(f"--pack {args.pack} needs --codes 0: a packed D judges several points at once, and Q reads "
                f"one point's code (got --codes {args.codes})")
    if args.smoke:
        args.seeds, args.g_updates = 1, 20
    if args.plots:
        os.makedirs(args.out, exist_ok=True)
    settings = dict(batch=args.batch_size, lr=args.lr, hidden=args.hidden, layers=args.layers, ema=args.ema,
                    decay_from=args.decay_from, pack=args.pack, codes=args.codes, info_weight=args.info_weight,
                    penalty=args.penalty, gamma=args.gamma, out=args.out, plots=args.plots,
                    log=sys.stderr if args.json else None)
    seeds = range(args.first_seed, args.first_seed + args.seeds)

    results = {}
    for dataset in args.datasets:
        for loss in args.losses:
            runs = []
            for seed in seeds:
                runs.append(train_one(dataset, loss, seed, args.g_updates, **settings))
                if args.json:
                    r = runs[-1]
                    print(json.dumps(dict(dataset=dataset, loss=loss, seed=seed, modes=r.modes, hq=round(r.hq, 4),
                                          seconds=round(r.seconds, 2))), flush=True)
            modes, n_modes, quality, seconds = (np.array([getattr(r, k) for r in runs], dtype=float)
                                                for k in ("modes", "n_modes", "hq", "seconds"))
            results[dataset, loss] = (modes, quality)
            if not args.json:
                print(f"{dataset:4s} {loss:14s} modes {modes.mean():5.2f} of {int(n_modes[0])} "
                      f"(runs: {', '.join(str(int(m)) for m in modes)})  high quality {quality.mean():6.1%}  "
                      f"[{seconds.mean():.0f} s a run]", flush=True)
    if args.json:
        return results

    print(f"\nAverages over {args.seeds} seed(s), {args.g_updates} G updates each, 2,500 samples; "
          "PacGAN Table 1 (10 trials) below.")
    for dataset in args.datasets:
        print(f"  {dataset}:")
        for loss in args.losses:
            modes, quality = results[dataset, loss]
            print(f"    minigan {loss:14s} {modes.mean():5.2f} modes  {quality.mean():6.1%} high quality")
        for name, (m, q) in PACGAN[dataset].items():
            print(f"    PacGAN paper {name:9s} {m:5.2f} modes  {q:6.1%} high quality")
    full = [loss for loss in args.losses if "ring" in args.datasets and (results["ring", loss][0] == 8).all()]
    if "ring" in args.datasets:
        print("all 8 ring modes captured in every run by: " + (", ".join(full) if full else "none of these losses"))
    if args.plots:
        print(f"scatter plots: {os.path.abspath(args.out)}")
    return results


if __name__ == "__main__":
    main()
