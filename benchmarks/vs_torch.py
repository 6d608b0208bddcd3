"""minigan against PyTorch: one GAN training iteration, side by side, on the same machine.

One iteration is the loop of PyTorch's DCGAN example, written once and run by both engines
(their layers share names and arguments, so one builder makes both networks):

    fake = G(z)                                         # z ~ N(0, I), shape (batch, 100)
    D step: BCE-with-logits(D(real), 1) + BCE-with-logits(D(fake.detach()), 0), backward, Adam
    G step: BCE-with-logits(D(fake), 1) (non-saturating), backward through D into G, Adam

Adam with lr 2e-4 and betas (0.5, 0.999), float32. Each engine runs in a process of its own (so
neither inherits the other's memory or threads), engines alternate, and the run repeats for
several rounds: the machines are shared and noisy, so the figure to quote is the ratio of
medians measured in one run. The table also gives the achieved GFLOP/s of each engine against
the machine's float32 matrix-product peak (measured here, with NumPy) and the peak memory of
each process while it trains.

    pip install -e ".[bench]"                      # PyTorch, for this script only
    python benchmarks/vs_torch.py                   # all cases, 3 rounds (a few minutes)
    python benchmarks/vs_torch.py --cases mlp_small --rounds 5
    python benchmarks/vs_torch.py --busy            # with a 2-thread BLAS program running beside
    python benchmarks/vs_torch.py --device gpu      # CuPy against PyTorch CUDA

Cases (G / D; leaky ReLU 0.2 throughout, tanh on G's output):
  mlp_small        G 100-128-128-784, D 784-128-128-1 (batch 64; mlp_small_256: batch 256)
  mlp_large        G 100-256-512-1024-784, D 784-512-256-1
  dcgan_nobn_half  G Linear(100, 7*7*128), ConvT 128->64 (5, s1, p2), 64->32, 32->1 (5, s2, p2, op1);
                   D Conv 1->32, 32->64 (5, s2, p2), each with dropout 0.3, Linear(3136, 1)
  dcgan_bn         TensorFlow's DCGAN tutorial: G 256/128/64 channels without biases, batch norm
                   after the Linear and the first two ConvT; D 64/128 channels

FLOPs per iteration (multiply-adds count 2): 3*Fg - Fg1 + 9*Fd - 2*Fd1, where Fg and Fd are G's
and D's forward FLOPs and Fg1, Fd1 those of their first layers (whose input needs no gradient):
G runs forward once and backward once (2*Fg - Fg1); D runs forward and backward three times
(real, detached fake, fake for G), and twice it need not return a gradient to its input.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

CASES = {  # name: (architecture, batch)
    "mlp_small": ("mlp_small", 64),
    "mlp_small_256": ("mlp_small", 256),
    "mlp_large": ("mlp_large", 64),
    "dcgan_nobn_half": ("dcgan_nobn_half", 64),
    "dcgan_bn": ("dcgan_bn", 64),
}
ENGINES = ("minigan", "torch")
Z_DIM = 100


# --- the networks, written once for both engines -------------------------------------------

def build(nn, arch):
    """(G, D) for ``arch``, built from ``nn`` (``minigan.nn`` or ``torch.nn``: same names)."""
    leaky = lambda: nn.LeakyReLU(0.2)  # noqa: E731

    def mlp(sizes, last):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            layers.append(leaky() if i < len(sizes) - 2 else last)
        return nn.Sequential(*[layer for layer in layers if layer is not None])

    if arch == "mlp_small":
        return mlp([Z_DIM, 128, 128, 784], nn.Tanh()), mlp([784, 128, 128, 1], None)
    if arch == "mlp_large":
        return mlp([Z_DIM, 256, 512, 1024, 784], nn.Tanh()), mlp([784, 512, 256, 1], None)
    if arch == "dcgan_nobn_half":
        G = nn.Sequential(
            nn.Linear(Z_DIM, 7 * 7 * 128), leaky(), nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 5, stride=1, padding=2), leaky(),
            nn.ConvTranspose2d(64, 32, 5, stride=2, padding=2, output_padding=1), leaky(),
            nn.ConvTranspose2d(32, 1, 5, stride=2, padding=2, output_padding=1), nn.Tanh())
        D = nn.Sequential(
            nn.Conv2d(1, 32, 5, stride=2, padding=2), leaky(), nn.Dropout(0.3),
            nn.Conv2d(32, 64, 5, stride=2, padding=2), leaky(), nn.Dropout(0.3),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 1))
        return G, D
    if arch == "dcgan_bn":
        G = nn.Sequential(
            nn.Linear(Z_DIM, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256), leaky(),
            nn.Unflatten(1, (256, 7, 7)),
            nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False), nn.BatchNorm2d(128), leaky(),
            nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
            nn.BatchNorm2d(64), leaky(),
            nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh())
        D = nn.Sequential(
            nn.Conv2d(1, 64, 5, stride=2, padding=2), leaky(), nn.Dropout(0.3),
            nn.Conv2d(64, 128, 5, stride=2, padding=2), leaky(), nn.Dropout(0.3),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
        return G, D
    raise ValueError(f"unknown architecture {arch!r}")


def forward_flops(net, in_shape):
    """(all, first layer's) forward FLOPs of one sample through ``net``, a minigan Sequential,
    found by running a sample of zeros through it layer by layer and reading the shapes."""
    import minigan
    from minigan import nn
    x, total, first = minigan.zeros(1, *in_shape), 0, None
    with minigan.no_grad():
        for layer in net:
            y = layer(x)
            if isinstance(layer, nn.Linear):
                flops = 2 * layer.in_features * layer.out_features
            elif isinstance(layer, nn.Conv2d):  # each output value: C_in * k * k multiply-adds
                flops = 2 * int(y.data.size) * layer.in_channels * layer.weight.shape[2] * layer.weight.shape[3]
            elif isinstance(layer, nn.ConvTranspose2d):  # each input value spreads to C_out * k * k
                flops = 2 * int(x.data.size) * layer.out_channels * layer.weight.shape[2] * layer.weight.shape[3]
            else:
                flops = 0
            if flops and first is None:
                first = flops
            total += flops
            x = y
    return total, first


def iteration_gflops(arch, batch):
    G, D = build(__import__("minigan").nn, arch)
    G.eval(), D.eval()  # batch norm cannot train on the one sample used to read the shapes
    fg, fg1 = forward_flops(G, (Z_DIM,))
    fd, fd1 = forward_flops(D, (1, 28, 28) if arch.startswith("dcgan") else (784,))
    return batch * (3 * fg - fg1 + 9 * fd - 2 * fd1) / 1e9


# --- one engine, in its own process -----------------------------------------------------------

def worker(engine, case, device, iters, chunks, warmup, seed=0):
    """Train ``case`` with ``engine``; print JSON: ms per iteration of each chunk, memory."""
    import numpy as np
    arch, batch = CASES[case]
    rng = np.random.default_rng(seed)
    shape = (batch, 1, 28, 28) if arch.startswith("dcgan") else (batch, 784)
    real_np = rng.uniform(-1, 1, shape).astype(np.float32)  # the data do not change the cost

    if engine == "minigan":
        import minigan
        import minigan.functional as F
        minigan.manual_seed(seed)
        dev = "gpu" if device == "gpu" else "cpu"
        G, D = build(minigan.nn, arch)
        G.to(dev)
        D.to(dev)
        real = minigan.tensor(real_np, device=dev)
        ones, zeros = minigan.ones(batch, 1, device=dev), minigan.zeros(batch, 1, device=dev)
        randn = lambda: minigan.randn(batch, Z_DIM, device=dev)  # noqa: E731
        bce, Adam = F.binary_cross_entropy_with_logits, minigan.optim.Adam
        if device == "gpu":
            import cupy
            sync = cupy.cuda.Device().synchronize
        else:
            sync = lambda: None  # noqa: E731
    else:
        import torch
        torch.manual_seed(seed)
        dev = "cuda" if device == "gpu" else "cpu"
        G, D = build(torch.nn, arch)
        G.to(dev)
        D.to(dev)
        real = torch.from_numpy(real_np).to(dev)
        ones, zeros = torch.ones(batch, 1, device=dev), torch.zeros(batch, 1, device=dev)
        randn = lambda: torch.randn(batch, Z_DIM, device=dev)  # noqa: E731
        bce, Adam = torch.nn.functional.binary_cross_entropy_with_logits, torch.optim.Adam
        sync = torch.cuda.synchronize if device == "gpu" else (lambda: None)

    g_opt = Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def iteration():
        fake = G(randn())
        d_opt.zero_grad()
        d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad()
        g_loss = bce(D(fake), ones)
        g_loss.backward()
        g_opt.step()
        return d_loss.item(), g_loss.item()  # as a training loop logs them (a sync on a GPU)

    # Memory: the peak from here on (warm-up included, when buffers are first allocated) against
    # the resident size now, with the engine imported and the networks and optimisers built.
    rss_before = _memory_kb("VmRSS")
    _reset_peak_memory()
    for _ in range(warmup):
        iteration()
    sync()
    times = []
    for _ in range(chunks):
        start = time.perf_counter()
        for _ in range(iters):
            iteration()
        sync()
        times.append((time.perf_counter() - start) * 1000 / iters)
    peak = _memory_kb("VmHWM")
    result = dict(ms=times, peak_mb=peak / 1024 if peak else None,
                  train_mb=(peak - rss_before) / 1024 if peak and rss_before else None)
    if device == "gpu":
        if engine == "torch":
            result["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        else:
            result["gpu_peak_mb"] = cupy.get_default_memory_pool().total_bytes() / 2**20
    print(json.dumps(result))


def _memory_kb(field):
    """A field of /proc/self/status in KiB (VmRSS: resident now; VmHWM: the peak), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_memory():
    """Start VmHWM again from the current resident size (Linux: write 5 to clear_refs), so the
    peak we read belongs to training, not to importing and building."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def matmul_peak(seconds=1.0, n=2048):
    """The machine's float32 matrix-product rate in GFLOP/s: NumPy's BLAS on n x n products,
    best of the repeats that fit in ``seconds``."""
    import numpy as np
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a  # threads started, pages touched
    best, stop = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < stop:
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    print(json.dumps(dict(gflops=2 * n**3 / best / 1e9)))


def busy_loop():
    """Another program using the BLAS on two threads: matrix products, forever."""
    import numpy as np
    a = np.random.default_rng(1).standard_normal((1024, 1024), dtype=np.float32)
    while True:
        a @ a


# --- the driver --------------------------------------------------------------------------------

def run_child(args, env=None):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *args], capture_output=True,
                         text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine_description(device):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    import numpy as np
    parts = [f"{cpu}, {os.cpu_count()} logical CPUs", f"Python {platform.python_version()}",
             f"NumPy {np.__version__}"]
    try:
        import torch
        parts.append(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:
        parts.append("PyTorch not installed")
    if device == "gpu":
        try:
            import cupy
            props = cupy.cuda.runtime.getDeviceProperties(0)
            parts.append(f"GPU {props['name'].decode()}, CuPy {cupy.__version__}")
        except Exception as e:  # the table still says what ran
            parts.append(f"GPU: unavailable ({e})")
    return "; ".join(parts)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--cases", default=",".join(CASES),
                   help=f"comma-separated cases to run (default: all of {', '.join(CASES)})")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds; each runs every case once per engine, the engines alternating (default 3)")
    p.add_argument("--chunks", type=int, default=5, help="timed chunks per process (default 5)")
    p.add_argument("--seconds", type=float, default=1.0,
                   help="aim for about this many seconds per timed chunk (default 1.0)")
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations first (default 3)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                   help="cpu: NumPy against PyTorch CPU; gpu: CuPy against PyTorch CUDA (default cpu)")
    p.add_argument("--busy", action="store_true",
                   help="run a two-thread BLAS matrix-product loop beside the benchmark all along")
    p.add_argument("--json", metavar="FILE", help="also write every measurement to FILE")
    p.add_argument("--worker", nargs=2, metavar=("ENGINE", "CASE"), help=argparse.SUPPRESS)
    p.add_argument("--iters", type=int, default=10, help=argparse.SUPPRESS)
    p.add_argument("--peak", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--busy-loop", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.worker:
        return worker(*args.worker, args.device, args.iters, args.chunks, args.warmup)
    if args.peak:
        return matmul_peak()
    if args.busy_loop:
        return busy_loop()

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    try:
        import torch  # noqa: F401  (only to fail early, with the install command)
    except ImportError:
        sys.exit('vs_torch.py needs PyTorch: pip install -e ".[bench]"')

    busy = None
    if args.busy:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
        busy = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--busy-loop"], env=env)
    try:
        peak = run_child(["--peak"])["gflops"] if args.device == "cpu" else None
        print(f"{machine_description(args.device)}")
        if peak:
            print(f"float32 matrix-product peak (NumPy, 2048 x 2048): {peak:.0f} GFLOP/s")
        results = {case: {e: [] for e in ENGINES} for case in cases}
        iters = {}
        for r in range(args.rounds):
            order = ENGINES if r % 2 == 0 else ENGINES[::-1]
            for case in cases:
                for engine in order:
                    if (case, engine) not in iters:  # size the chunks from a short first try
                        probe = run_child(["--worker", engine, case, "--device", args.device,
                                           "--iters", "2", "--chunks", "1", "--warmup", "1"])
                        iters[case, engine] = max(1, round(args.seconds * 1000 / probe["ms"][0]))
                    res = run_child(["--worker", engine, case, "--device", args.device,
                                     "--iters", str(iters[case, engine]), "--chunks", str(args.chunks),
                                     "--warmup", str(args.warmup)])
                    results[case][engine].append(res)
                    print(f"  round {r + 1}/{args.rounds} {case:16s} {engine:8s} "
                          f"{statistics.median(res['ms']):8.2f} ms", flush=True)
    finally:
        if busy is not None:
            busy.kill()

    print()
    print(table(results, peak, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(machine=machine_description(args.device), peak_gflops=peak, args=vars(args),
                           results=results), f, indent=1)


def table(results, peak, args):
    """The Markdown table of medians: time, ratio, GFLOP/s and peak memory per engine."""
    mem = "GPU MB" if args.device == "gpu" else "peak RSS MB"
    rows = [f"| case | batch | GFLOP/iter | minigan ms | PyTorch ms | minigan ÷ PyTorch | "
            f"GFLOP/s minigan / PyTorch{' (% of peak)' if peak else ''} | {mem} minigan / PyTorch | "
            f"memory ratio | training MB minigan / PyTorch |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for case, by_engine in results.items():
        arch, batch = CASES[case]
        gflop = iteration_gflops(arch, batch)
        ms = {e: statistics.median(statistics.median(r["ms"]) for r in runs) for e, runs in by_engine.items()}
        key = "gpu_peak_mb" if args.device == "gpu" else "peak_mb"
        mb = {e: statistics.median(r[key] for r in runs) if all(r.get(key) for r in runs) else None
              for e, runs in by_engine.items()}
        rate = {e: gflop / (ms[e] / 1000) for e in ENGINES}
        rate_cell = " / ".join(f"{rate[e]:.0f}" + (f" ({100 * rate[e] / peak:.0f}%)" if peak else "")
                               for e in ENGINES)
        mem_cell = " / ".join(f"{mb[e]:.0f}" if mb[e] else "?" for e in ENGINES)
        mem_ratio = f"{mb['minigan'] / mb['torch']:.2f}" if mb["minigan"] and mb["torch"] else "?"
        # Beside the whole process's peak (PyTorch's libraries alone take a few hundred MB), what
        # training added to it: the peak minus the resident size once the networks were built.
        train = {e: statistics.median(r["train_mb"] for r in runs) if all(r.get("train_mb") is not None for r in runs)
                 else None for e, runs in by_engine.items()}
        train_cell = " / ".join(f"{train[e]:.0f}" if train[e] is not None else "?" for e in ENGINES)
        rows.append(f"| {case}{' (busy)' if args.busy else ''} | {batch} | {gflop:.3f} | {ms['minigan']:.2f} | "
                    f"{ms['torch']:.2f} | **{ms['minigan'] / ms['torch']:.2f}** | {rate_cell} | {mem_cell} | "
                    f"{mem_ratio} | {train_cell} |")
    command = "python benchmarks/vs_torch.py " + " ".join(
        a for a in ([f"--cases {args.cases}"] if args.cases != ",".join(CASES) else [])
        + [f"--rounds {args.rounds}"] + (["--busy"] if args.busy else [])
        + ([f"--device {args.device}"] if args.device != "cpu" else []))
    return "\n".join(rows) + f"\n\nMedians of {args.rounds} rounds, engines alternating; command: `{command}`"


if __name__ == "__main__":
    main()
