"""minigan/performance.py: the process-wide speed settings take effect, and can be turned off.

No timings here (they belong in benchmarks/): what the allocator setting saves is page faults,
which the kernel counts exactly, so that is what these tests measure.
"""
import os
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minigan

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# Allocate and free a 4 MiB array 40 times, and count the page faults this causes.
FAULTS = textwrap.dedent("""
    import resource
    import numpy as np
    import minigan
    np.ones(1 << 20, dtype=np.float32)          # first use: the pages are mapped once anyway
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(40):
        a = np.ones(1 << 20, dtype=np.float32)  # 4 MiB, freed when the next one replaces it
        del a
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, minigan.performance.applied)
""")


def _faults(tuning):
    env = dict(os.environ, MINIGAN_TUNING=tuning)
    out = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True, env=env, check=True)
    faults, applied = out.stdout.split(" ", 1)
    return int(faults), applied.strip()


@pytest.mark.skipif(not GLIBC, reason="the allocator setting is for glibc (Linux) only")
def test_import_tunes_the_allocator_so_freed_arrays_are_reused_without_page_faults():
    assert minigan.performance.applied["allocator"] is True
    tuned, applied = _faults("1")
    untuned, applied_off = _faults("0")
    assert "'allocator': True" in applied and applied_off == "{}"
    # Untuned, each new 4 MiB array is a fresh mapping: about 1,024 faults (4 KiB pages) each, or
    # a few with transparent huge pages; tuned, the freed block is reused and faults almost never.
    assert untuned >= 40, f"expected a fault per fresh array without tuning, got {untuned}"
    assert tuned * 10 < untuned, f"tuned {tuned} faults against {untuned} untuned"


def test_minigan_tuning_0_turns_every_setting_off(monkeypatch):
    monkeypatch.setenv("MINIGAN_TUNING", "0")
    try:
        assert minigan.performance.apply() == {}
    finally:
        monkeypatch.delenv("MINIGAN_TUNING")
        minigan.performance.apply()


def test_small_products_run_on_one_blas_thread_and_big_ones_on_all():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    perf = minigan.performance
    if not perf.applied.get("blas_threads_by_size") or perf._all_threads < 2:
        pytest.skip("needs a BLAS that threadpoolctl can reach and at least 2 BLAS threads")
    rng = np.random.default_rng(0)

    def blas_threads():
        return max(lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas")

    small = rng.standard_normal((64, 100), dtype=np.float32), rng.standard_normal((100, 128), dtype=np.float32)
    big = rng.standard_normal((512, 512), dtype=np.float32), rng.standard_normal((512, 512), dtype=np.float32)
    np.testing.assert_array_equal(perf.matmul(*small), small[0] @ small[1])  # the same product
    assert blas_threads() == 1
    np.testing.assert_array_equal(perf.matmul(*big), big[0] @ big[1])
    assert blas_threads() == perf._all_threads
    # and through the ops: a small linear layer leaves the BLAS on one thread
    minigan.functional.linear(minigan.tensor(small[0]), minigan.tensor(small[1].T.copy()))
    assert blas_threads() == 1
