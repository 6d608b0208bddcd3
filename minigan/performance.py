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


def apply():
    """Apply every setting of this module, unless MINIGAN_TUNING=0. Called by ``import minigan``."""
    if os.environ.get("MINIGAN_TUNING", "1").strip() == "0":
        applied.clear()
        return applied
    applied["allocator"] = tune_allocator()
    return applied
