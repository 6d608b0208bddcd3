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


def _blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return max(lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas")


def _needs_blas_threads():
    perf = minigan.performance
    if not perf.applied.get("blas_threads_by_size") or perf._all_threads < 2:
        pytest.skip("needs a BLAS that threadpoolctl can reach and at least 2 BLAS threads")
    return perf


def test_small_products_run_on_one_blas_thread_and_big_ones_on_all():
    perf = _needs_blas_threads()
    rng = np.random.default_rng(0)
    small = rng.standard_normal((8, 100), dtype=np.float32), rng.standard_normal((100, 128), dtype=np.float32)
    big = rng.standard_normal((512, 512), dtype=np.float32), rng.standard_normal((512, 512), dtype=np.float32)
    assert 2 * 8 * 100 * 128 < perf.SMALL_PRODUCT_FLOPS and 2 * 512**3 >= perf.LARGE_PRODUCT_FLOPS
    np.testing.assert_array_equal(perf.matmul(*small), small[0] @ small[1])  # the same product
    assert _blas_threads() == 1
    np.testing.assert_array_equal(perf.matmul(*big), big[0] @ big[1])
    assert _blas_threads() == perf._all_threads
    # and through the ops: a small linear layer leaves the BLAS on one thread
    minigan.functional.linear(minigan.tensor(small[0]), minigan.tensor(small[1].T.copy()))
    assert _blas_threads() == 1


def test_a_middling_product_with_a_long_inner_dimension_races_in_blocks_with_the_same_bits():
    # K = 784 > SAME_BITS_MAX_K: raced as blocks of 262, 262, 260, whose bits the thread count cannot change
    perf = _needs_blas_threads()
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((64, 784), dtype=np.float32), rng.standard_normal((784, 128), dtype=np.float32)
    assert perf.SMALL_PRODUCT_FLOPS <= 2 * a.size * 128 < perf.LARGE_PRODUCT_FLOPS
    perf._races.clear()
    first = perf.matmul(a, b)
    np.testing.assert_allclose(first, a @ b, rtol=1e-5, atol=1e-4)  # the same product, summed in blocks
    for _ in range(40):
        assert perf.matmul(a, b).tobytes() == first.tobytes()
    race = perf._races[(a.shape, a.strides, b.shape, b.strides)]
    assert None not in race.mean  # both lanes ran
    a3 = np.stack([a, a])  # a batched product with a long K stays off the race, on one thread
    perf.matmul(a3, b)
    assert _blas_threads() == 1 and len(perf._races) == 1


def test_float64_products_never_race():
    # the BLAS's float64 products change bits with the thread count from a shorter K (385) on
    perf = _needs_blas_threads()
    a, b = np.ones((64, 256)), np.ones((256, 128))
    assert perf.SMALL_PRODUCT_FLOPS <= 2 * a.size * 128 < perf.LARGE_PRODUCT_FLOPS
    perf._races.clear()
    for _ in range(10):
        perf.matmul(a, b)
        assert _blas_threads() == 1
    assert perf._races == {}


def test_a_middling_product_races_and_gives_the_same_numbers_on_either_lane():
    perf = _needs_blas_threads()
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((64, 256), dtype=np.float32), rng.standard_normal((256, 512), dtype=np.float32)
    perf._races.clear()
    first = perf.matmul(a, b)
    for _ in range(40):
        np.testing.assert_array_equal(perf.matmul(a, b), first)
    race = perf._races[(a.shape, a.strides, b.shape, b.strides)]
    assert None not in race.mean  # both lanes were timed


@pytest.mark.parametrize("k", [64, 100, 256, 257, 300, 383, 384])
def test_the_blas_gives_the_same_bits_on_one_thread_and_on_all_up_to_same_bits_max_k(k):
    """What racing relies on (performance.py, item 2): below SAME_BITS_MAX_K, the thread count
    does not change a product's bits. A BLAS that broke this would make seeded runs depend on
    the machine's load; this test would then fail, and SAME_BITS_MAX_K must come down."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    perf = _needs_blas_threads()
    assert k <= perf.SAME_BITS_MAX_K
    rng = np.random.default_rng(k)
    for m, n in [(64, 128), (64, 784), (784, 64), (256, 512), (1, 784), (128, 1), (1024, 64)]:
        for a_t, b_t in [(False, False), (True, False), (False, True), (True, True)]:
            a = rng.standard_normal((k, m) if a_t else (m, k), dtype=np.float32)
            b = rng.standard_normal((n, k) if b_t else (k, n), dtype=np.float32)
            a, b = (a.T if a_t else a), (b.T if b_t else b)  # transposed views, as backward uses
            with threadpoolctl.threadpool_limits(1, user_api="blas"):
                one = a @ b
            with threadpoolctl.threadpool_limits(perf._all_threads, user_api="blas"):
                every = a @ b
            assert one.tobytes() == every.tobytes(), f"({m}, {k}) @ ({k}, {n}), transposed {a_t, b_t}"
    perf._threads = None  # threadpool_limits changed the count behind matmul's back


def _needs_the_measured_blas():
    """The blocks of K in _as_on_all_threads were measured for OpenBLAS's AVX-512 kernels."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    perf = _needs_blas_threads()
    if not any(lib.get("internal_api") == "openblas" and lib.get("architecture") == "SkylakeX"
               for lib in threadpoolctl.threadpool_info()):
        pytest.skip("BLAS_K_BLOCK was measured for OpenBLAS's SkylakeX kernels")
    return perf, threadpoolctl


@pytest.mark.parametrize("k", [64, 385, 449, 512, 784, 900, 1024, 3136])
def test_summing_the_blas_blocks_of_k_on_one_thread_gives_the_all_threads_bits(k):
    """What item 3 of performance.py relies on, for products laid out as forward and backward
    lay them out (transposed views). Were the BLAS to block K otherwise, big products would only
    stop racing (the next test), but this test says so: BLAS_K_BLOCK is wrong for this BLAS."""
    perf, threadpoolctl = _needs_the_measured_blas()
    rng = np.random.default_rng(k)
    for m, n in [(64, 784), (64, 1024), (784, 64), (1024, 512)]:
        for a_t, b_t in [(False, False), (True, False), (False, True)]:
            a = rng.standard_normal((k, m) if a_t else (m, k), dtype=np.float32)
            b = rng.standard_normal((n, k) if b_t else (k, n), dtype=np.float32)
            a, b = (a.T if a_t else a), (b.T if b_t else b)
            with threadpoolctl.threadpool_limits(perf._all_threads, user_api="blas"):
                every = a @ b
            with threadpoolctl.threadpool_limits(1, user_api="blas"):
                one = perf._as_on_all_threads(a, b)
                if k in (449, 784, 900):  # whose last halves one thread cuts elsewhere (module
                    assert (a @ b).tobytes() != every.tobytes()  # docstring): the plain product differs
            assert one.tobytes() == every.tobytes(), f"({m}, {k}) @ ({k}, {n}), transposed {a_t, b_t}"
    perf._threads = None  # threadpool_limits changed the count behind matmul's back


def test_a_big_mlp_product_races_and_keeps_the_bits_it_has_on_all_threads(monkeypatch):
    perf, threadpoolctl = _needs_the_measured_blas()
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((64, 1024), dtype=np.float32), rng.standard_normal((1024, 784), dtype=np.float32)
    assert perf.LARGE_PRODUCT_FLOPS <= 2 * a.size * 784 < perf.RACE_MAX_FLOPS  # mlp_large's G, last layer
    with threadpoolctl.threadpool_limits(perf._all_threads, user_api="blas"):
        every = (a @ b).tobytes()
    perf._threads = None
    perf._races.clear()
    for _ in range(60):
        assert perf.matmul(a, b).tobytes() == every
    race = perf._races[(a.shape, a.strides, b.shape, b.strides)]
    assert isinstance(race, perf._Race) and None not in race.mean  # both lanes ran, same bits
    for lane in (0, 1):  # and each lane alone, whatever the race would pick
        monkeypatch.setattr(perf._Race, "pick", lambda self, lane=lane: setattr(self, "lane", lane) or lane)
        assert perf.matmul(a, b).tobytes() == every
        assert _blas_threads() == (perf._all_threads if lane else 1)


def test_a_big_product_whose_bits_the_thread_count_changes_never_races(monkeypatch):
    perf = _needs_blas_threads()
    monkeypatch.setattr(perf, "BLAS_K_BLOCK", 200)  # wrong blocks: one thread cannot match all
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((64, 784), dtype=np.float32), rng.standard_normal((784, 1024), dtype=np.float32)
    assert perf.LARGE_PRODUCT_FLOPS <= 2 * a.size * 1024 < perf.RACE_MAX_FLOPS
    perf._races.clear()
    for _ in range(5):
        np.testing.assert_allclose(perf.matmul(a, b), a @ b, rtol=1e-5, atol=1e-4)
        assert _blas_threads() == perf._all_threads
    assert perf._races == {(a.shape, a.strides, b.shape, b.strides): False}
    perf._races.clear()
    sliced = a[:, ::2]  # neither C- nor F-contiguous: not checked, not raced
    perf.matmul(sliced, b[::2])
    assert list(perf._races.values()) == [False]
    perf._races.clear()


class _Clock:
    """Feeds _Race made-up times: lane 0 (one thread) takes ``times[0]``, lane 1 ``times[1]``."""

    def __init__(self, race, times):
        self.race, self.times = race, list(times)

    def run(self, calls):
        lanes = []
        for _ in range(calls):
            lane = self.race.pick()
            self.race.record(self.times[lane])
            lanes.append(lane)
        return lanes


def test_a_race_follows_the_faster_lane_and_looks_at_the_other_now_and_then():
    race = minigan.performance._Race()
    clock = _Clock(race, (1.0, 0.6))  # all threads faster: a quiet machine
    lanes = clock.run(2000)
    assert lanes[:2] == [1, 0]  # the first calls time both lanes
    assert lanes[2:30] == [1] * 28  # then the leader...
    # ...and a look at the other lane once the leader has run LOOK_EVERY times its mean
    looks = lanes[2:].count(0)
    expected = 1998 / (race.LOOK_EVERY * 1.0 / 0.6 + 1)
    assert 0.8 * expected <= looks <= 1.2 * expected


def test_looking_at_a_much_slower_lane_costs_a_bounded_share_of_the_time():
    race = minigan.performance._Race()
    clock = _Clock(race, (1.0, 300.0))  # a busy machine: all threads stall
    lanes = clock.run(100_000)
    spent = lanes.count(0) * 1.0 + lanes.count(1) * 300.0
    assert lanes.count(1) * 300.0 <= spent / race.LOOK_EVERY * 1.1


def test_a_race_changes_lanes_when_the_load_changes():
    race = minigan.performance._Race()
    clock = _Clock(race, (1.0, 0.6))
    clock.run(3000)
    assert race.leader() == 1
    clock.times = [1.0, 10.0]  # another program starts: all threads stall
    lanes = clock.run(1000)
    assert lanes[:5].count(0) >= 1  # it notices within a few calls
    assert lanes[-500:].count(1) <= 500 / race.LOOK_EVERY / 10 + 1  # and keeps to one thread
    clock.times = [1.0, 0.6]  # and it stops: a few looks bring the mean of all threads back down
    lanes = clock.run(1000)
    assert lanes[-500:].count(0) <= 500 / (race.LOOK_EVERY * 1.0 / 0.6) + 1
