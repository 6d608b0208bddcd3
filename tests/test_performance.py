"""minigan/performance.py: the process-wide speed settings take effect, and can be turned off.

No timings here (they belong in benchmarks/): what the allocator setting saves is page faults,
which the kernel counts exactly, so that is what these tests measure.
"""
import os
import platform
import subprocess
import sys
import textwrap

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
    assert minigan.performance.applied == {"allocator": True}
    tuned, applied = _faults("1")
    untuned, applied_off = _faults("0")
    assert applied == "{'allocator': True}" and applied_off == "{}"
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
