"""How close do minigan's convolutions come to the matrix products inside them?

Runs forward + backward of the DCGAN-MNIST generator and discriminator (the TF DCGAN tutorial's
shapes, batch 64, float32, CPU) and reports:

* ms per forward+backward step of each network;
* the time spent inside the convolution ops (Conv2d, ConvTranspose2d, Conv2dGradWeight: their
  conversions between NCHW and their internal (C, H, W, N) layout, im2col, matrix product and
  col2im), and their achieved GFLOP/s;
* the time the same matrix products take alone in ``numpy.matmul`` on arrays of the same shapes,
  multiplied in the same order, and that GFLOP/s.

The issue's target: the conv ops' total time within 2x of their matrix products alone.

Since the generator's stride-1 layer goes through the Fourier transform (minigan/ops/fourier.py),
its "matrix products alone" are the im2col products that layer no longer does: the ratio can fall
below 1, and its GFLOP/s are effective ones (im2col's FLOPs over the time taken).

    python benchmarks/conv_bench.py [--batch 64] [--repeats 7]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import minigan  # noqa: E402
import minigan.functional as F  # noqa: E402
from minigan.ops import convolution as conv  # noqa: E402

CONV_OPS = (conv.Conv2dOp, conv.ConvTranspose2dOp, conv.Conv2dGradWeightOp)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--repeats", type=int, default=7, help="timed steps per network (default 7)")
    return p.parse_args()


def param(*shape, rng):
    return minigan.Tensor((0.02 * rng.standard_normal(shape)).astype(np.float32), requires_grad=True)


def build(rng):
    """Parameters of the DCGAN generator G and discriminator D (TF tutorial shapes)."""
    G = dict(W0=param(7 * 7 * 256, 100, rng=rng),
             g0=param(7 * 7 * 256, rng=rng), b0=param(7 * 7 * 256, rng=rng),
             W1=param(256, 128, 5, 5, rng=rng), g1=param(128, rng=rng), b1=param(128, rng=rng),
             W2=param(128, 64, 5, 5, rng=rng), g2=param(64, rng=rng), b2=param(64, rng=rng),
             W3=param(64, 1, 5, 5, rng=rng))
    D = dict(W1=param(64, 1, 5, 5, rng=rng), c1=param(64, rng=rng),
             W2=param(128, 64, 5, 5, rng=rng), c2=param(128, rng=rng),
             V=param(1, 128 * 7 * 7, rng=rng), v=param(1, rng=rng))
    return G, D


def generator(G, z):
    h = F.leaky_relu(F.batch_norm(F.linear(z, G["W0"]), None, None, G["g0"], G["b0"]), 0.2)
    h = F.reshape(h, (-1, 256, 7, 7))
    h = F.leaky_relu(F.batch_norm(F.conv_transpose2d(h, G["W1"], padding=2), None, None, G["g1"], G["b1"]), 0.2)
    h = F.leaky_relu(F.batch_norm(F.conv_transpose2d(h, G["W2"], stride=2, padding=2, output_padding=1),
                                  None, None, G["g2"], G["b2"]), 0.2)
    return F.tanh(F.conv_transpose2d(h, G["W3"], stride=2, padding=2, output_padding=1))


def discriminator(D, x):
    h = F.dropout(F.leaky_relu(F.conv2d(x, D["W1"], D["c1"], stride=2, padding=2), 0.2), 0.3)
    h = F.dropout(F.leaky_relu(F.conv2d(h, D["W2"], D["c2"], stride=2, padding=2), 0.2), 0.3)
    return F.linear(F.flatten(h, 1), D["V"], D["v"])


class ConvTimer:
    """Wraps the conv ops' forward methods to add up the time spent inside them."""

    def __init__(self):
        self.seconds, self.originals = 0.0, {}

    def __enter__(self):
        for op in CONV_OPS:
            self.originals[op] = op.forward

            def timed(fn_self, *arrays, _forward=op.forward):
                start = time.perf_counter()
                out = _forward(fn_self, *arrays)
                self.seconds += time.perf_counter() - start
                return out
            op.forward = timed
        return self

    def __exit__(self, *exc):
        for op, forward in self.originals.items():
            op.forward = forward


def _matmul_dims(op, arrays):
    """(M, K, N) of the one matrix product (M, K) @ (K, N) inside a conv op call, in the order the op
    multiplies (see minigan/ops/convolution.py)."""
    if isinstance(op, conv.ConvTranspose2dOp):  # (kh*kw*C_out, C_in) @ (C_in, H*W*N)
        x, W = arrays[:2]
        n, cin, h, w = x.shape
        return (W.shape[1] * W.shape[2] * W.shape[3], cin, h * w * n)
    if isinstance(op, conv.Conv2dOp):  # (O, C*kh*kw) @ (C*kh*kw, OH*OW*N)
        x, W = arrays[:2]
        o, c, kh, kw = W.shape
        oh, ow = (conv.conv_output_size(size, k, s, p, d) for size, k, s, p, d in
                  zip(x.shape[2:], (kh, kw), op.stride, op.padding, op.dilation))
        return (o, c * kh * kw, oh * ow * x.shape[0])
    x, gy = arrays  # Conv2dGradWeight: (O, OH*OW*N) @ (OH*OW*N, C*kh*kw)
    n, o, oh, ow = gy.shape
    return (o, n * oh * ow, x.shape[1] * op.kernel[0] * op.kernel[1])


def time_matmuls(dims, repeats):
    """Median time of the listed matrix products alone, on fresh float32 arrays."""
    rng = np.random.default_rng(0)
    arrays = [(rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32))
              for m, k, n in dims]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for a, b in arrays:
            a @ b
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    args = parse_args()
    minigan.manual_seed(0)
    rng = np.random.default_rng(0)
    G, D = build(rng)
    z = minigan.randn(args.batch, 100)
    real = minigan.Tensor(rng.uniform(-1, 1, (args.batch, 1, 28, 28)).astype(np.float32))

    def d_step():
        for p in D.values():
            p.grad = None
        F.binary_cross_entropy_with_logits(discriminator(D, real), np.ones((args.batch, 1), np.float32)).backward()

    def g_only():  # generator forward+backward with an upstream gradient of ones
        for p in G.values():
            p.grad = None
        generator(G, z).sum().backward()

    print(f"DCGAN-MNIST, batch {args.batch}, float32, CPU; medians of {args.repeats} steps")
    print(f"  numpy matmul peak check: {peak_gflops():.1f} GFLOP/s (2048x2048x2048, float32)")
    for name, step in (("generator", g_only), ("discriminator", d_step)):
        step()  # warm up
        step_times, conv_times = [], []
        for _ in range(args.repeats):
            with ConvTimer() as timer:
                start = time.perf_counter()
                step()
                step_times.append(time.perf_counter() - start)
            conv_times.append(timer.seconds)
        dims = record_dims(step)
        flops = sum(2 * m * k * n for m, k, n in dims)
        t_step, t_conv = statistics.median(step_times), statistics.median(conv_times)
        t_mm = time_matmuls(dims, args.repeats)
        print(f"\n  {name}: forward+backward {t_step * 1e3:7.1f} ms/step")
        print(f"    conv ops ({len(dims)} calls, {flops / 1e9:.2f} GFLOP): {t_conv * 1e3:7.1f} ms "
              f"= {flops / t_conv / 1e9:6.1f} GFLOP/s")
        print(f"    their matmuls alone in numpy    : {t_mm * 1e3:7.1f} ms = {flops / t_mm / 1e9:6.1f} GFLOP/s")
        print(f"    conv time / matmul time: {t_conv / t_mm:.2f}  (target <= 2)")


def record_dims(step):
    """(M, K, N) of every conv matrix product in one call of ``step``."""
    dims, originals = [], {op: op.forward for op in CONV_OPS}
    for op in CONV_OPS:
        def tracing(fn_self, *arrays, _forward=originals[op]):
            dims.append(_matmul_dims(fn_self, arrays))
            return _forward(fn_self, *arrays)
        op.forward = tracing
    try:
        step()
    finally:
        for op, forward in originals.items():
            op.forward = forward
    return dims


def peak_gflops():
    a = np.ones((2048, 2048), np.float32)
    a @ a
    start = time.perf_counter()
    a @ a
    return 2 * 2048 ** 3 / (time.perf_counter() - start) / 1e9


if __name__ == "__main__":
    main()
