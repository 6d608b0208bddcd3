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

2. **Small matrix products on one BLAS thread** (``matmul``). A BLAS splits every product over
   all cores, and its threads must meet after each one. For the small products of an MLP GAN
   (under ``SMALL_PRODUCT_FLOPS``) the second core saves little on a quiet machine (a whole
   step is within the noise either way); on a busy one (another program computing beside it) a
   thread that has to wait for a core stalls the product, and an MLP step took 22x its quiet
   time (PyTorch's: 4x). So: one thread for small products, all cores for big ones (the
   convolutions'), chosen per product. The small MLP step on a busy machine: 79 -> 7.5 ms
   (PyTorch: 16). This needs threadpoolctl to reach the BLAS; NumPy products of your own run
   with the thread count that minigan's last product set.

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
import os
import sys

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


#: Products of fewer FLOPs (2 per multiply-add) than this run on one BLAS thread.
SMALL_PRODUCT_FLOPS = 3 * 10**7
_blas = []       # threadpoolctl's handles on NumPy's BLAS libraries; empty: leave threads alone
_threads = None  # the thread count the BLAS was last given (None: not set by us yet)
_all_threads = 1


def matmul(a, b):
    """``a @ b`` (NumPy's rules), with the BLAS's thread count chosen by the size of the product
    (see the module docstring): one thread under ``SMALL_PRODUCT_FLOPS``, all cores above."""
    global _threads
    if _blas and type(a) is np.ndarray:
        threads = 1 if 2 * a.size * b.shape[-1] < SMALL_PRODUCT_FLOPS else _all_threads
        if threads != _threads:  # a library call only when the count changes
            for lib in _blas:
                lib.set_num_threads(threads)
            _threads = threads
    return a @ b


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
