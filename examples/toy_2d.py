"""Mode collapse, measured: GANs on the ring of 8 Gaussians and the grid of 25 (VEEGAN, PacGAN).

    python examples/toy_2d.py                     # every loss on both datasets, 3 seeds each
    python examples/toy_2d.py --losses nonsaturating hinge --seeds 5
    python examples/toy_2d.py --smoke             # seconds, to check the setup

A GAN "collapses" when G covers only some of the data's modes. These two datasets make it
visible and countable. After training, 2,500 samples from G are scored with VEEGAN's rules:
a sample is *high quality* when it lies within 3 standard deviations of its nearest mode, and a
mode is *captured* when it is the nearest mode of at least one high-quality sample. A perfect
sampler scores all modes and about 98.9% high quality (in 2-D, P(r < 3 sigma) = 1 - e^-4.5).

Scatter plots of G's samples over training go into the run folder, one per dataset, loss and
seed, and the closing table compares the losses with PacGAN's Table 1.
"""
import argparse
import os
import sys
import time

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
from minigan.plotting import save_scatter  # noqa: E402

# PacGAN (Lin et al. 2018), Table 1, averages over 10 trials: (modes, high-quality share).
PACGAN = {"ring": {"GAN": (6.3, 0.982), "PacGAN4": (7.8, 0.959)},
          "grid": {"GAN": (17.3, 0.948), "PacGAN4": (24.8, 0.936)}}
DATASETS = {"ring": dict(make=data.ring, std=0.01, limit=1.5), "grid": dict(make=data.grid, std=0.05, limit=5.5)}


class Points(nn.Module):
    """Identity on (N, 2) points: Generator/Discriminator reshape for images, toy points need none."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x, labels=None):
        return self.body(x)


def networks(z_dim=2, hidden=128):
    """G: z (2) -> 128 -> 128 -> 2; D: 2 -> 128 -> 128 -> 1, leaky-ReLU 0.2."""
    G = Points(nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                             nn.LeakyReLU(0.2), nn.Linear(hidden, 2)))
    D = Points(nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                             nn.LeakyReLU(0.2), nn.Linear(hidden, 1)))
    return G, D


def train_one(dataset, loss, seed, steps, batch, out, lr=2e-4, hidden=128, plots=4):
    """Train one GAN; return (modes captured, number of modes, high-quality share, seconds)."""
    spec = DATASETS[dataset]
    minigan.manual_seed(seed)
    samples, centres = spec["make"](100_000, rng=seed)
    G, D = networks(hidden=hidden)
    objective = gan.get_loss(loss)  # its optimiser, betas, n_critic, penalty and clipping; not its lr:
    if objective.optimizer == "rmsprop":  # a toy-sized rate for both networks (RMSprop: half of Adam's)
        lr = lr / 2
    trainer = Trainer(G, D, objective, z_dim=2, n_samples=2500, seed=seed, progress=False, g_lr=lr, d_lr=lr)
    every = max(1, steps // plots)

    def snapshot(tr, record):
        if tr.step >= steps:
            tr.stop()
        if tr.step % every == 0 and out:
            save_scatter(tr.sample(z=tr.fixed_z), os.path.join(out, f"{dataset}_{loss}_seed{seed}_step{tr.step:05d}.png"),
                         centres=centres, title=f"{dataset}, {loss}, step {tr.step}", limit=spec["limit"])
    trainer.callbacks.append(snapshot)
    loader = data.DataLoader(samples, batch_size=batch, seed=seed)
    start = time.perf_counter()
    trainer.fit(loader, epochs=-(-steps // len(loader)))  # snapshot() stops it after `steps`
    seconds = time.perf_counter() - start
    final = trainer.sample(2500).numpy()
    coverage = metrics.mode_coverage(final, centres, spec["std"])
    return coverage.modes, len(centres), coverage.high_quality, seconds


def loss_name(text):
    """--losses: names from gan.LOSSES; case, '-' and '_' do not matter ("wgan_gp" is "wgan-gp")."""
    try:
        return gan.canonical_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None  # argparse prints the message, which lists the names


def main(argv=None):
    p = argparse.ArgumentParser(description="Count the modes GANs capture on the ring and grid datasets.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--losses", nargs="+", type=loss_name, default=["nonsaturating", "lsgan", "hinge", "wgan-gp"],
                   choices=list(gan.LOSSES), help="objectives to compare")
    p.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=sorted(DATASETS), help="which toys")
    p.add_argument("--seeds", type=int, default=3, help="runs per (dataset, loss), averaged")
    p.add_argument("--steps", type=int, default=6000, help="training steps (D updates) per run")
    p.add_argument("--batch-size", type=int, default=256, help="points per batch")
    p.add_argument("--lr", type=float, default=2e-4, help="Adam's learning rate for both networks (RMSprop: half)")
    p.add_argument("--hidden", type=int, default=128, help="units in each of the two hidden layers of G and D")
    p.add_argument("--out", default=os.path.join("runs", "toy_2d"), help="folder for the scatter plots")
    p.add_argument("--smoke", action="store_true", help="tiny runs, to check that everything works")
    args = p.parse_args(argv)
    if args.smoke:
        args.seeds, args.steps = 1, 40
    os.makedirs(args.out, exist_ok=True)

    results = {}
    for dataset in args.datasets:
        for loss in args.losses:
            runs = [train_one(dataset, loss, seed, args.steps, args.batch_size, args.out, args.lr, args.hidden)
                    for seed in range(args.seeds)]
            modes, n_modes, quality, seconds = (np.array(v, dtype=float) for v in zip(*runs))
            results[dataset, loss] = (modes, quality)
            print(f"{dataset:4s} {loss:14s} modes {modes.mean():5.2f} of {int(n_modes[0])} "
                  f"(runs: {', '.join(str(int(m)) for m in modes)})  high quality {quality.mean():6.1%}  "
                  f"[{seconds.mean():.0f} s a run]", flush=True)

    print(f"\nAverages over {args.seeds} seed(s), {args.steps} steps, 2,500 samples; PacGAN Table 1 (10 trials) below.")
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
    print(f"scatter plots: {os.path.abspath(args.out)}")
    return results


if __name__ == "__main__":
    main()
