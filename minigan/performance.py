"""Process-wide settings that make minigan's NumPy code fast: the one place for them.

Everything else in minigan is written to be read; the few tricks that exist only for speed and
that act on the whole process (not on one op) live here, each with what it saves. They are
applied once, when ``minigan`` is imported; ``MINIGAN_TUNING=0`` in the environment turns them
all off (to measure what they are worth, or if they ever get in the way).

1. **Keep freed memory for reuse** (glibc's allocator, Linux only). A training step makes and
   drops hundreds of arrays of the same sizes. By default glibc hands every block of 128 KiB or
   more straight back to the operating system when it is freed, so the next array of that size
   is fresh memory, and the kernel zeroes and maps each of its 4 KiB pages on first touch (a page
   fault each: about 1,000 per MLP step). Raising the two thresholds below keeps those blocks in
   the process, where the next step reuses them. Measured on a 2-core machine, one GAN step of
   the 100-256-512-1024-784 MLP: 38 ms -> 18 ms; the small MLP 4.8 -> 3.4 ms. The price: the
   process keeps its peak memory instead of shrinking after it (what PyTorch's caching does too).

2. **BLAS threads chosen per product** (``matmul``). A BLAS splits every product over all cores,
   and its threads must meet after each one. Tiny products (under ``SMALL_PRODUCT_FLOPS``) gain
   nothing from a second thread; big ones (over ``LARGE_PRODUCT_FLOPS``) gain most of 2x on a
   quiet machine (but see item 3). In between (an MLP GAN's products) the answer depends on the
   machine's load: on a quiet 2-core machine both threads make the small MLP step
   (benchmarks/vs_torch.py's mlp_small) 3.6 -> 3.1 ms, but on a busy one (another program
   computing beside it) a thread that has to wait for a core stalls every product, and that step
   took 28 ms on two threads against 6.6 on one (PyTorch: 16-19). So minigan *measures* instead of
   guessing: for each product shape in that band it keeps a running mean of the time on one thread
   and on all, uses the faster, and now and then tries the other again (``_Race``), so it follows
   the load as it comes and goes. Measured against one thread for the whole band, in one process:
   quiet, the small MLP step 4.06 -> 3.75 ms and at batch 256 8.3 -> 7.4 ms; busy, 6.0-6.6 ms
   either way. This needs threadpoolctl to reach the BLAS; NumPy products of your own run with the
   thread count that minigan's last product set.

   Why this keeps seeded runs bit-identical (tests/test_determinism.py): the thread count can
   change the last bits of a product. This machine's OpenBLAS gives the same bits on one thread
   and on two for every float32 product with an inner dimension K up to 448 that was tried, and
   not for some from K = 449 on (float64: from K = 385). So only float32 products race, and one
   with K > ``SAME_BITS_MAX_K`` (384, a margin below 449) races as a sum of products over blocks
   of K at most that long (D's first layer: 784 = 262 + 262 + 260), whose bits do not depend on
   the thread count either: no product's bits depend on timing. tests/test_performance.py
   checks the BLAS's side of this, so a BLAS that behaves otherwise fails the tests instead of
   quietly making seeded runs differ. Float64 products (gradient checks) never race.

3. **Big MLP products race too, with the bits they have on all threads.** The big MLP's
   products (50-100 MFLOPs, benchmarks/vs_torch.py's mlp_large) are above the racing band, and
   most have K > 384, so the trick of item 2 (blocks of K on both lanes) would change their bits,
   and with them every documented result of the default example, whose G has such products.
   But on a busy machine they stalled the same way: a 1e8-FLOP product took 15-30 ms on all
   threads against 1-2 ms on one, and one busy run of mlp_large took 4.7 times PyTorch's time.
   So 2-D float32 products from ``LARGE_PRODUCT_FLOPS`` to ``RACE_MAX_FLOPS`` race as well, but
   the all-threads lane is the plain product, as before (its bits, its speed on a quiet
   machine), and the one-thread lane reproduces its bits: ``_as_on_all_threads`` sums the
   products over the same blocks of K that the BLAS uses on several threads. Whether that gives
   the same bits depends on the BLAS, so each shape is checked once, on random numbers, before it
   races, and one that fails stays on all threads. Measured here in one process, alternating
   chunks of 20 mlp_large steps with and without this: busy (benchmarks/vs_torch.py's busy
   loop beside it), 85 -> 43 ms a step (medians of 20 chunks each); quiet, no difference beyond
   the noise (24.5 / 24.7 and 25.1 / 24.4 ms, medians of 60, in a slow hour), as the all-threads
   lane leads there and the one-thread lane runs only on the rare looks.

Tried and dropped, measured on the same 2-core machine (so nobody has to try them again blind):

* Splitting NumPy's big copies (im2col, col2im, layout changes) over both cores with threads.
  Alone, a 40 MB im2col copy ran 1.8x faster on two threads; inside a training step it gained
  nothing (DCGAN steps -2% to +4%, within the noise), because each copy follows a BLAS call
  whose own threads still hold the other core.
* NumPy's BLAS on one thread, with minigan splitting each big product over its own threads (so
  that the copies above get the second core): DCGAN steps about 7% faster, MLP steps 10-30%
  slower (their products are too small to split well). The BLAS's own threading stays.
"""
import ctypes
import operator
import os
import sys
import time

import numpy as np

#: glibc's mallopt parameters (malloc.h): M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Blocks up to this size come from the heap, which keeps them when they are freed, instead of
#: from their own mapping, which is returned at once. 32 MiB is the largest value glibc accepts on
#: 64-bit Linux (its DEFAULT_MMAP_THRESHOLD_MAX); bigger arrays are rare in a GAN step.
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the top of the heap is returned to the system only above this much.
TRIM_THRESHOLD = 512 * 2**20

#: What ``apply()`` did, for anyone asking why a step is fast or slow: {setting: True/False}.
applied = {}


def tune_allocator():
    """Raise glibc's mmap and trim thresholds (see the module docstring); True if it took effect.

    Does nothing (and returns False) where the C library is not glibc (macOS, Windows, musl).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success; setting either value also stops glibc from moving the mmap
    # threshold by itself, which is what we want: a fixed, predictable policy.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


#: Products of fewer FLOPs (2 per multiply-add) than this run on one BLAS thread...
SMALL_PRODUCT_FLOPS = 10**6
#: ...float32 products from there up to this many race (item 2 of the module docstring), and
#: products of this many or more run on every core...
LARGE_PRODUCT_FLOPS = 3 * 10**7
#: ...except 2-D float32 products below this many, which race keeping the bits they have on every
#: core (item 3). It sits above the big MLP's largest product (1.0e8 FLOPs: 64 x 1024 x 784) and
#: below the DCGANs' convolutions (3.2e8 and more).
RACE_MAX_FLOPS = 1.5 * 10**8
#: Racing products whose inner dimension K is longer than this are summed over blocks of K this
#: long: the BLAS's thread count could change the bits of longer ones (see the module docstring).
SAME_BITS_MAX_K = 384
#: The longest K that this machine's OpenBLAS (its AVX-512 float32 kernels) multiplies in one
#: block (its GEMM_Q); see _as_on_all_threads. Elsewhere a wrong value only stops item 3's racing.
BLAS_K_BLOCK = 448
_blas = []       # threadpoolctl's handles on NumPy's BLAS libraries; empty: leave threads alone
_threads = None  # the thread count the BLAS was last given (None: not set by us yet)
_all_threads = 1
_races = {}      # (shapes, strides) of a product in the racing band -> its _Race
_RACING_DTYPE = np.dtype(np.float32)  # the only dtype whose products race (module docstring)


def _set_threads(threads):
    global _threads
    if threads != _threads:  # a library call only when the count changes
        for lib in _blas:
            lib.set_num_threads(threads)
        _threads = threads


def matmul(a, b):
    """``a @ b`` (NumPy's rules), with the BLAS's thread count chosen per product (see the
    module docstring): one thread for small products, all cores for big ones, and in between
    whichever has been faster lately for products of this shape (item 2); big MLP products race
    too, keeping the bits they have on all cores (item 3)."""
    if _blas and type(a) is np.ndarray:
        flops = 2 * a.size * b.shape[-1]
        if flops >= LARGE_PRODUCT_FLOPS:
            if (flops < RACE_MAX_FLOPS and _all_threads > 1 and a.ndim == 2 and b.ndim == 2
                    and a.dtype == _RACING_DTYPE and b.dtype == _RACING_DTYPE):
                return _raced_with_all_threads_bits(a, b)
            _set_threads(_all_threads)
        elif (flops < SMALL_PRODUCT_FLOPS or _all_threads == 1
              or a.dtype != _RACING_DTYPE or b.dtype != _RACING_DTYPE):
            _set_threads(1)
        elif a.shape[-1] <= SAME_BITS_MAX_K:
            return _raced(a, b, operator.matmul)
        elif a.ndim == 2 and b.ndim == 2:
            return _raced(a, b, _product_in_blocks_of_k)
        else:  # a batched product with a long K: kept off the race, on one thread
            _set_threads(1)
    return a @ b


def _sum_over_blocks_of_k(a, b, cuts):
    """a @ b (2-D) as the sum of the products over the blocks of K between ``cuts`` (0, ..., K),
    added up in order. The blocks are views (no copy); the extra cost is one addition of the
    (small) result per block."""
    out = a[:, :cuts[1]] @ b[:cuts[1]]
    for start, stop in zip(cuts[1:-1], cuts[2:]):
        out += a[:, start:stop] @ b[start:stop]
    return out


def _product_in_blocks_of_k(a, b):
    """a @ b as a sum of products over blocks of at most SAME_BITS_MAX_K of the K terms (262,
    262 and 260 for K = 784). Each block's bits do not depend on the thread count, so neither do the
    sum's: a long-K product can race too."""
    k = a.shape[1]
    step = -(-k // -(-k // SAME_BITS_MAX_K))  # K split as evenly as possible
    return _sum_over_blocks_of_k(a, b, list(range(0, k, step)) + [k])


def _as_on_all_threads(a, b):
    """``a @ b`` (2-D), summed over the blocks of K that OpenBLAS uses on several threads.

    OpenBLAS multiplies a K longer than BLAS_K_BLOCK in blocks, adding each block's product to
    the sum: blocks of BLAS_K_BLOCK while twice that is left, then the rest in two halves. On
    several threads it halves the rest exactly (784 = 392 + 392); on one thread it rounds the first
    half up to a multiple of 16 (400 + 384), which changes the bits. Each block is short enough to
    have the same bits on any thread count, so summing the same blocks here, on one thread, gives
    the bits of the all-threads product. Measured on this machine for 416 products (K from 385 to
    3136, every transposition); ``_same_bits_on_one_thread`` checks each shape before it races.
    """
    k = a.shape[1]
    cuts = [0]
    while k - cuts[-1] >= 2 * BLAS_K_BLOCK:
        cuts.append(cuts[-1] + BLAS_K_BLOCK)
    if k - cuts[-1] > BLAS_K_BLOCK:
        cuts.append(cuts[-1] + (k - cuts[-1] + 1) // 2)
    return _sum_over_blocks_of_k(a, b, cuts + [k])


def _raced(a, b, product):
    """``product(a, b)`` on the thread count that this shape's ``_Race`` picks (item 2)."""
    key = (a.shape, a.strides, b.shape, b.strides)
    race = _races.get(key)
    if race is None:
        race = _races[key] = _Race()
    return _on_picked_lane(race, a, b, product, product)


def _raced_with_all_threads_bits(a, b):
    """``a @ b`` for a big 2-D product (item 3 of the module docstring): on all threads as it is,
    on one thread as ``_as_on_all_threads``, if this machine's BLAS gives the two the same bits
    for products of these shapes and layouts (checked once per shape); else on all threads."""
    key = (a.shape, a.strides, b.shape, b.strides)
    race = _races.get(key)
    if race is None:  # this shape's first product: check it once
        contiguous = all(x.flags.c_contiguous or x.flags.f_contiguous for x in (a, b))
        race = _races[key] = _Race() if contiguous and _same_bits_on_one_thread(a, b) else False
    if race is False:  # its bits would depend on the thread count: never raced
        _set_threads(_all_threads)
        return a @ b
    return _on_picked_lane(race, a, b, operator.matmul, _as_on_all_threads)


def _on_picked_lane(race, a, b, on_all_threads, on_one_thread):
    """One product on the lane that ``race`` picks, timed for it: ``on_all_threads(a, b)`` on
    every BLAS thread or ``on_one_thread(a, b)`` on one (both give the same bits)."""
    on_all = race.pick()
    _set_threads(_all_threads if on_all else 1)
    start = time.perf_counter()
    out = on_all_threads(a, b) if on_all else on_one_thread(a, b)
    race.record(time.perf_counter() - start)
    return out


def _same_bits_on_one_thread(a, b):
    """Whether ``_as_on_all_threads`` on one thread gives the bits of ``a @ b`` on all threads, for
    products with the shapes and memory layouts of a and b. Tried on random numbers, not on a and
    b themselves: a product of zeros or of small integers could agree by chance."""
    rng = np.random.default_rng(0)  # its own generator: the caller's random stream is untouched
    x, y = np.empty_like(a), np.empty_like(b)  # empty_like keeps the layout (a transpose stays one)
    x[...], y[...] = rng.standard_normal(a.shape), rng.standard_normal(b.shape)
    _set_threads(_all_threads)
    every = x @ y
    _set_threads(1)
    return _as_on_all_threads(x, y).tobytes() == every.tobytes()


class _Race:
    """One product shape's race between one BLAS thread (lane 0) and all of them (lane 1).

    Each lane keeps a running mean of its times. The faster lane (the leader) runs; the other
    is looked at again once the leader has run for ``LOOK_EVERY`` times the other's mean time
    since the last look, so looking costs at most 1 / LOOK_EVERY of the time spent on this
    product, however slow the other lane is. That matters: on a busy machine a product on all
    threads took 5-15 ms against 30-190 us on one (it waits for a core), and looks at a fixed
    rate (every 128 calls) still made the small MLP step 60% slower there. On a quiet machine,
    where one thread takes about 1.5 times as long as all, the other lane is looked at every 30
    calls or so; on a busy one, where all threads take 50-300 times as long, every few thousand.
    """
    __slots__ = ("mean", "lane", "credit")
    #: How much the latest time moves a lane's mean: a look counts more, as looks are rare.
    WEIGHT, LOOK_WEIGHT = 0.25, 0.5
    LOOK_EVERY = 20

    def __init__(self):
        self.mean = [None, None]  # seconds, per lane
        self.lane = 1
        self.credit = 0.0  # seconds the leader has run since the last look

    def leader(self):
        return 1 if self.mean[1] < self.mean[0] else 0

    def pick(self):
        """The lane to run this call on: 0 (one thread) or 1 (all). Both are timed first."""
        mean = self.mean
        if None in mean:
            self.lane = 1 if mean[1] is None else 0
        else:
            leader = self.leader()
            other = 1 - leader
            self.lane = other if self.credit >= self.LOOK_EVERY * mean[other] else leader
        return self.lane

    def record(self, seconds):
        """The time the call on ``self.lane`` took."""
        lane, mean = self.lane, self.mean
        if mean[lane] is None:  # its first time
            mean[lane] = seconds
        elif lane != self.leader():  # a look at the other lane (both have been timed by now)
            mean[lane] += self.LOOK_WEIGHT * (seconds - mean[lane])
            self.credit = 0.0
        else:  # the leader; one slow call (an interrupt) moves its mean by 25% at most
            mean[lane] += self.WEIGHT * (min(seconds, 2 * mean[lane]) - mean[lane])
            self.credit += seconds


def _find_blas():
    """NumPy's BLAS libraries, through threadpoolctl (an empty list without it)."""
    global _all_threads
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return []
    libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    # the BLAS's own count, as first found (called again, it may find the 1 a small product set)
    _all_threads = max([_all_threads] + [lib.num_threads for lib in libraries])
    return libraries


def apply():
    """Apply every setting of this module, unless MINIGAN_TUNING=0. Called by ``import minigan``."""
    global _blas
    if os.environ.get("MINIGAN_TUNING", "1").strip() == "0":
        applied.clear()
        _blas = []
        return applied
    applied["allocator"] = tune_allocator()
    _blas = _find_blas()
    applied["blas_threads_by_size"] = bool(_blas)
    return applied
