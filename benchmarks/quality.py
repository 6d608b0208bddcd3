"""The quality matrix: every objective on the 8-Gaussian ring, the 25-Gaussian grid and MNIST, at
fixed seeds and budgets, written to benchmarks/QUALITY.md beside the published numbers.

    python benchmarks/quality.py             # the whole matrix (about an hour on 2 cores)
    python benchmarks/quality.py --jobs 1    # one cell at a time (the toy cells' seconds are then quiet ones)
    python benchmarks/quality.py --smoke     # seconds: tiny budgets, only to check that it runs

Each cell is a run of one of the examples, in a process of its own, with the examples' defaults
except for the budget and seed given here, so the table shows what a learner gets from them:

* ring and grid: ``examples/toy_2d.py --json`` (one JSON line per run), ``--seeds`` runs per
  objective, each with the same number of generator updates. Reported: modes captured (of 8 or
  25) and the share of high-quality samples (within 3 standard deviations of a mode), VEEGAN's
  and PacGAN's measures, averaged over the seeds.
* MNIST: ``examples/mnist_gan.py --loss L --steps S`` with S = the G updates times the
  objective's n_critic (so that every objective gets the same number of G updates, as on the
  toys), scored by its ``metrics.json`` (EMA samples against 1,000 real held-out digits, with the
  shipped classifier, see minigan.metrics): the classifier score as a share of real digits',
  the smallest and largest class share, Fréchet distance and KID in the classifier's features,
  precision and recall.

The wall time of every run is in the table too: on a CPU, quality per minute is what a learner
gets. The toy cells run ``--jobs`` at a time (toy_2d.py multiplies small matrices on one BLAS
thread, so two of them on two cores each get a core of their own); the MNIST cells, which use every
core, one at a time after them. The published rows are copied from the papers' tables (sources
below the table); they used bigger networks and longer runs than ours, so they are a yardstick, not
a like-for-like race.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

OBJECTIVES = ["nonsaturating", "minimax", "lsgan", "hinge", "wgan", "wgan-gp"]

# (modes, high-quality %) from the papers' tables, as (ring, grid).
PUBLISHED = [
    ("GAN (VEEGAN paper)", (1.0, 99.3), (3.3, 0.5), "VEEGAN"),
    ("Unrolled GAN (VEEGAN paper)", (7.6, 35.6), (23.6, 16.0), "VEEGAN"),
    ("VEEGAN", (8.0, 52.9), (24.6, 40.0), "VEEGAN"),
    ("GAN (PacGAN paper)", (6.3, 98.2), (17.3, 94.8), "PacGAN"),
    ("PacGAN4", (7.8, 95.9), (24.8, 93.6), "PacGAN"),
]
SOURCES = {
    "VEEGAN": "A. Srivastava, L. Valkov, C. Russell, M. Gutmann, C. Sutton, \"VEEGAN: Reducing Mode "
              "Collapse in GANs using Implicit Variational Learning\", NeurIPS 2017, Table 1.",
    "PacGAN": "Z. Lin, A. Khetan, G. Fanti, S. Oh, \"PacGAN: The power of two samples in generative "
              "adversarial networks\", NeurIPS 2018, Table 1 (10 trials).",
}


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--losses", nargs="+", choices=OBJECTIVES, default=OBJECTIVES, help="objectives (rows)")
    p.add_argument("--datasets", nargs="+", choices=["ring", "grid", "mnist"], default=["ring", "grid", "mnist"],
                   help="which datasets (columns of runs)")
    p.add_argument("--toy-seeds", type=int, default=1,
                   help="runs per objective on each toy, seeds 0, 1, ... (one keeps the matrix within about an "
                        "hour; toy_2d.py --seeds 10 averages one objective over many)")
    p.add_argument("--toy-g-updates", type=int, default=None,
                   help="generator updates per toy run (default: toy_2d.py's own default)")
    p.add_argument("--toy-codes", default=None, metavar="N",
                   help="toy_2d.py's --codes ('modes', the default there: an InfoGAN code with one value per mode; "
                        "0 = the plain GAN)")
    p.add_argument("--mnist-g-updates", type=int, default=6000,
                   help="generator updates per MNIST run (D updates: n_critic times as many)")
    p.add_argument("--mnist-samples", type=int, default=10000, help="EMA samples scored per MNIST run")
    p.add_argument("--mnist-codes", type=int, default=None, metavar="N",
                   help="mnist_gan.py's --codes for the MNIST runs (InfoGAN's code values; 0 = the plain GAN); "
                        "default: the example's own default")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "quality"),
                   help="folder for the runs' outputs and results.json")
    p.add_argument("--md", default=os.path.join(ROOT, "benchmarks", "QUALITY.md"),
                   help="where to write the table ('-' for standard output only)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="toy cells run at a time, each a one-thread process (MNIST cells: one at a time)")
    p.add_argument("--resume", action="store_true",
                   help="keep the cells already in OUT/results.json that were run with the same settings, "
                        "and run only the others (the matrix is long: a stopped run loses nothing)")
    p.add_argument("--smoke", action="store_true",
                   help="tiny budgets (1 toy seed, a few updates, 64 MNIST samples): checks that it all runs")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error(f"--jobs must be >= 1, got {args.jobs}")
    args.argv = [a for a in argv if a not in ("--resume",)]  # for the table's header: how to remake it
    return args


def run(cmd):
    """Run an example; its standard output as text. Stops the matrix with the example's own
    error output when it fails, since a missing cell would make the table lie by omission."""
    result = subprocess.run([sys.executable] + cmd, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"quality.py: {' '.join(cmd)} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def toy_runs(dataset, loss, args):
    """Every seed's JSON line of toy_2d.py for (dataset, loss)."""
    cmd = ["examples/toy_2d.py", "--json", "--plots", "0", "--datasets", dataset, "--losses", loss,
           "--seeds", str(args.toy_seeds), "--out", os.path.join(args.out, "toy_2d")]
    if args.smoke:
        cmd.append("--smoke")
    elif args.toy_g_updates:
        cmd += ["--g-updates", str(args.toy_g_updates)]
    if args.toy_codes is not None:
        cmd += ["--codes", str(args.toy_codes)]
    lines = [json.loads(line) for line in run(cmd).splitlines() if line.strip()]
    if not lines or any(r["dataset"] != dataset or r["loss"] != loss for r in lines):
        raise SystemExit(f"quality.py: toy_2d.py printed {lines!r} for {dataset}/{loss}")
    return lines


def mnist_run(loss, args):
    """metrics.json of one mnist_gan.py run with ``loss``, plus its G updates and D steps."""
    from minigan import gan
    folder = os.path.join(args.out, f"mnist-{loss}")
    n_critic = gan.LOSSES[loss].n_critic
    g_updates = args.mnist_g_updates
    cmd = ["examples/mnist_gan.py", "--loss", loss, "--steps", str(g_updates * n_critic), "--seed", "0",
           "--out", folder, "--quiet", "--metrics-samples", str(args.mnist_samples)]
    if args.mnist_codes is not None:
        cmd += ["--codes", str(args.mnist_codes)]
    if args.smoke:
        cmd.append("--smoke")
    if os.path.exists(os.path.join(folder, "metrics.json")):
        os.remove(os.path.join(folder, "metrics.json"))  # a stale file must not pass for this run's
    start = time.perf_counter()
    run(cmd)
    with open(os.path.join(folder, "metrics.json")) as f:
        report = json.load(f)
    report.update(g_updates=g_updates, d_steps=g_updates * n_critic, wall=time.perf_counter() - start)
    return report


def mean(values):
    return sum(values) / len(values)


def toy_table(results, dataset, modes_total):
    rows = [f"| objective | modes (of {modes_total}) | high-quality samples | seconds per run |", "|---|---|---|---|"]
    for loss, runs in results.items():
        modes = [r["modes"] for r in runs]
        hq = [100 * r["hq"] for r in runs]
        rows.append(f"| {loss} | {mean(modes):.2f} (min {min(modes)}) | {mean(hq):.1f}% (min {min(hq):.1f}%) "
                    f"| {mean([r['seconds'] for r in runs]):.1f} |")
    index = 1 if dataset == "ring" else 2
    for name, *cells, source in PUBLISHED:
        m, hq = cells[index - 1]
        rows.append(f"| *{name}* [{source}] | *{m}* | *{hq}%* | |")
    return rows


def mnist_table(results):
    rows = ["| objective | G updates (D steps) | score ÷ real | class shares min / max | Fréchet | KID (± s.e.) "
            "| precision | recall | minutes |", "|---|---|---|---|---|---|---|---|---|"]
    for loss, r in results.items():
        rows.append(f"| {loss} | {r['g_updates']:,} ({r['d_steps']:,}) | {r['score_ratio']:.3f} "
                    f"| {100 * r['class_share_min']:.1f}% / {100 * r['class_share_max']:.1f}% | {r['frechet']:.1f} "
                    f"| {r['kid']:.0f} ± {r['kid_std_error']:.0f} | {r['precision']:.3f} | {r['recall']:.3f} "
                    f"| {r['wall'] / 60:.1f} |")
    return rows


def load_note(loads, cells):
    """What else the machine was doing, for reading the wall times: the BLAS thread count if the
    environment fixed it, and the 1-minute load average as each cell ended (``loads``, per
    "dataset/loss"; Unix only)."""
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    note = f"OPENBLAS_NUM_THREADS={threads}. " if threads else ""
    seen = [loads[c] for c in cells if loads.get(c) is not None]
    if seen:
        cpus = os.cpu_count() or 1
        note += (f"1-minute load average as each cell ended: {min(seen):.1f} to {max(seen):.1f} (the matrix itself "
                 f"keeps up to {cpus} cores busy; above that, other work shared them and the times grew).")
    if len(seen) < len(cells):
        note += f" Load not recorded for {len(cells) - len(seen)} of {len(cells)} cells."
    return note.strip()


def markdown(results, args, wall, loads):
    import numpy
    cells = [f"{d}/{loss}" for d in results for loss in results[d]]
    out = ["# Sample quality: every objective, the same budget", "",
           "What `benchmarks/quality.py` wrote (read its docstring for what each column measures). "
           "Every number is measured, by the committed script, on the machine below; re-run it to check.", "",
           f"Command: `{' '.join(['python', 'benchmarks/quality.py'] + args.argv)}` "
           f"({' '.join(args.losses)} on {', '.join(args.datasets)}; toy seed{'s 0-' + str(args.toy_seeds - 1) if args.toy_seeds > 1 else ' 0'}"
           + (f"; MNIST: {args.mnist_g_updates:,} G updates, "
              f"{args.mnist_samples:,} samples scored" if "mnist" in args.datasets else "")
           + f"). The cells' wall times add up to {wall / 60:.0f} min; toy cells ran {args.jobs} at a time.", "",
           f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs; "
           f"Python {platform.python_version()}; NumPy {numpy.__version__}. {load_note(loads, cells)}", ""]
    if args.smoke:
        out += ["**Smoke run: tiny budgets, the numbers mean nothing.**", ""]
    for dataset, total in (("ring", 8), ("grid", 25)):
        if dataset in results:
            out += [f"## {dataset.capitalize()} of {total} Gaussians ({'toy_2d.py'})", ""]
            out += toy_table(results[dataset], dataset, total) + [""]
    if "mnist" in results:
        out += ["## MNIST (bundled digits, the default MLP; scores of EMA samples against 1,000 real held-out "
                "digits, shipped classifier)", ""]
        out += mnist_table(results["mnist"]) + [""]
    out += ["## Sources of the published rows", ""] + [f"- [{k}] {v}" for k, v in SOURCES.items()] + [""]
    return "\n".join(out)


SETTINGS = ("toy_seeds", "toy_g_updates", "toy_codes", "mnist_g_updates", "mnist_samples", "mnist_codes", "smoke")


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:  # the budgets of a smoke run, set once here for every cell and the table
        args.toy_seeds, args.mnist_g_updates, args.mnist_samples = 1, 4, 64
    os.makedirs(args.out, exist_ok=True)
    saved_path = os.path.join(args.out, "results.json")
    settings = {k: getattr(args, k) for k in SETTINGS}
    saved, walls, loads = {}, {}, {}  # walls: seconds per cell, "dataset/loss"; loads: load average as it ended
    if args.resume and os.path.exists(saved_path):
        with open(saved_path) as f:
            previous = json.load(f)
        if previous.get("settings") == settings:  # cells made with other budgets are not comparable
            saved, walls, loads = previous["results"], previous["walls"], previous.get("loads", {})
    results = {dataset: {} for dataset in args.datasets}
    lock = threading.Lock()  # cells finish in parallel threads: one writer of results.json at a time

    def run_cell(cell):
        dataset, loss = cell
        t = time.perf_counter()
        result = mnist_run(loss, args) if dataset == "mnist" else toy_runs(dataset, loss, args)
        with lock:
            results[dataset][loss] = result
            walls[f"{dataset}/{loss}"] = time.perf_counter() - t
            loads[f"{dataset}/{loss}"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            print(f"{dataset:6} {loss:14} {walls[f'{dataset}/{loss}']:7.1f} s", file=sys.stderr, flush=True)
            merged = {**saved, **{d: {**saved.get(d, {}), **r} for d, r in results.items()}}
            with open(saved_path, "w") as f:  # after every cell, so that --resume loses nothing
                json.dump(dict(settings=settings, results=merged, walls=walls, loads=loads), f, indent=1)

    todo = []
    for dataset in args.datasets:
        for loss in args.losses:
            if loss in saved.get(dataset, {}):
                results[dataset][loss] = saved[dataset][loss]
                print(f"{dataset:6} {loss:14}   (kept from {saved_path})", file=sys.stderr, flush=True)
            else:
                todo.append((dataset, loss))
    with ThreadPoolExecutor(args.jobs) as pool:  # list() waits for every toy cell and re-raises a failure
        list(pool.map(run_cell, [cell for cell in todo if cell[0] != "mnist"]))
    for cell in todo:
        if cell[0] == "mnist":
            run_cell(cell)
    wall = sum(walls[f"{d}/{loss}"] for d in args.datasets for loss in args.losses)
    ordered = {d: {loss: results[d][loss] for loss in args.losses} for d in args.datasets}  # rows in --losses order
    text = markdown(ordered, args, wall, loads)
    if args.md == "-":
        print(text)
    else:
        with open(args.md, "w") as f:
            f.write(text)
        print(f"wrote {args.md} ({wall / 60:.1f} min)")
    return results


if __name__ == "__main__":
    main()
