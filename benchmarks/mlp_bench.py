"""How much does minigan's autodiff cost over hand-written NumPy?

Times forward + backward of a discriminator-style MLP (784-256-256-1, leaky-ReLU 0.2,
binary cross-entropy on logits, batch 64, float32) twice:

* with minigan ops and ``loss.backward()``;
* with the same maths written out by hand in NumPy (the forward, then each gradient).

The two run interleaved, repeat by repeat, and we report medians and their ratio: the
machines are shared and noisy, so a ratio measured in one run is the figure to trust. We also
give the ratio of the fastest repeats, the one least disturbed by other work on the machine.
The issue's target is a ratio within 1.3.

    python benchmarks/mlp_bench.py [--batch 64] [--repeats 31] [--iters 20] [--threads N]
"""
import argparse
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--repeats", type=int, default=31, help="timed repeats of each program (default 31)")
    p.add_argument("--iters", type=int, default=20, help="steps per repeat (default 20)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads (sets OPENBLAS/OMP/MKL_NUM_THREADS; default: the library's choice)")
    return p.parse_args()


args = parse_args()
if args.threads:  # must happen before NumPy loads its BLAS
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import minigan  # noqa: E402
import minigan.functional as F  # noqa: E402

SIZES = [784, 256, 256, 1]
SLOPE = 0.2


def make_params(rng):
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(np.float32))
    return params


def minigan_step(x, y, params):
    """Forward and backward with minigan: the code a learner writes."""
    for p in params:
        p.grad = None
    h = x
    for i in range(0, len(params), 2):
        h = F.linear(h, params[i], params[i + 1])
        if i + 2 < len(params):
            h = F.leaky_relu(h, SLOPE)
    loss = F.binary_cross_entropy_with_logits(h, y)
    loss.backward()
    return loss


def numpy_step(x, y, params):
    """The same forward and backward written by hand in NumPy."""
    W1, b1, W2, b2, W3, b3 = params
    a1 = x @ W1.T + b1
    m1 = np.where(a1 > 0, np.float32(1), np.float32(SLOPE))
    h1 = a1 * m1
    a2 = h1 @ W2.T + b2
    m2 = np.where(a2 > 0, np.float32(1), np.float32(SLOPE))
    h2 = a2 * m2
    z = h2 @ W3.T + b3
    # BCE with logits, stable: softplus(z) - y*z; gradient (sigmoid(z) - y) / N
    loss = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z).mean()
    e = np.exp(-np.abs(z))
    sig = np.where(z >= 0, 1, e) / (1 + e)
    gz = (sig - y) / z.size
    gW3, gb3 = gz.T @ h2, gz.sum(0)
    ga2 = (gz @ W3) * m2
    gW2, gb2 = ga2.T @ h1, ga2.sum(0)
    ga1 = (ga2 @ W2) * m1
    gW1, gb1 = ga1.T @ x, ga1.sum(0)
    return loss, (gW1, gb1, gW2, gb2, gW3, gb3)


def time_it(fn, iters):
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - start) / iters * 1e3  # ms per step


def main():
    rng = np.random.default_rng(0)
    raw = make_params(rng)
    x = rng.standard_normal((args.batch, SIZES[0])).astype(np.float32)
    y = (rng.random((args.batch, 1)) < 0.5).astype(np.float32)

    params = [minigan.Tensor(p.copy(), requires_grad=True) for p in raw]
    xt, yt = minigan.Tensor(x), minigan.Tensor(y)

    # Same numbers first: a benchmark of a wrong program is worthless.
    loss_m = minigan_step(xt, yt, params)
    loss_n, grads_n = numpy_step(x, y, raw)
    assert loss_m.dtype == np.float32, loss_m.dtype
    np.testing.assert_allclose(loss_m.item(), loss_n, rtol=1e-5)
    for p, g in zip(params, grads_n):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-3, atol=1e-6)

    for _ in range(5):  # warm up caches and the allocator
        minigan_step(xt, yt, params)
        numpy_step(x, y, raw)

    t_m, t_n = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        t_m.append(time_it(lambda: minigan_step(xt, yt, params), args.iters))
        t_n.append(time_it(lambda: numpy_step(x, y, raw), args.iters))
    ratios = [m / n for m, n in zip(t_m, t_n)]
    med_m, med_n = statistics.median(t_m), statistics.median(t_n)
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {args.batch}, float32, forward+backward "
          f"({args.repeats} repeats x {args.iters} steps, medians)")
    print(f"  hand-written NumPy : {med_n:7.3f} ms/step")
    print(f"  minigan            : {med_m:7.3f} ms/step")
    print(f"  ratio minigan/NumPy: {statistics.median(ratios):.3f} median of per-repeat ratios "
          f"(range {min(ratios):.3f} .. {max(ratios):.3f}), {min(t_m) / min(t_n):.3f} fastest vs fastest; "
          "target <= 1.3")


if __name__ == "__main__":
    main()
