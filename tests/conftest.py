"""Shared test setup.

* Every test starts from the same random state (``minigan.manual_seed(0)``), so a failure
  seen once can be reproduced by running that test alone.
* Tests marked ``@pytest.mark.gpu`` run on the GPU: on real CuPy where a CUDA device answers,
  and everywhere else on the strict CuPy stand-in in tests/cupy_standin (NumPy behind CuPy's
  names; it refuses implicit host copies and counts explicit ones), which this file switches on
  with ``MINIGAN_FAKE_CUPY=1`` before minigan first asks for CuPy. The variable is exported, so
  the examples the tests start as subprocesses (with tests/ on their PYTHONPATH) use it too.
  ``MINIGAN_FAKE_CUPY=1 pytest`` forces the stand-in on a GPU machine; ``=0`` forbids it, and the
  ``gpu`` tests then skip, with the reason, where no GPU answers.
"""
import importlib.util
import os
import pathlib

import pytest

TESTS = pathlib.Path(__file__).resolve().parent


def _real_gpu_answers():
    """True when real CuPy imports and sees a CUDA device (asked before minigan caches anything)."""
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # not installed, no driver, no device
        return False


if "MINIGAN_FAKE_CUPY" not in os.environ and not _real_gpu_answers():
    os.environ["MINIGAN_FAKE_CUPY"] = "1"
if os.environ.get("MINIGAN_FAKE_CUPY") == "1":  # the examples run as subprocesses import it too
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p)

import minigan  # noqa: E402  (after the environment is settled)
from minigan import backend  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_minigan():
    """Seed minigan's generators before each test: results never depend on test order."""
    minigan.manual_seed(0)


@pytest.fixture(scope="module")
def example():
    """examples/mnist_gan.py as a module, so that its main(argv) and parse_args run in the test's process."""
    spec = importlib.util.spec_from_file_location("mnist_gan", TESTS.parent / "examples" / "mnist_gan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_collection_modifyitems(config, items):
    """Skip the ``gpu`` tests, with the backend's own explanation, when no GPU can be used."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_tests or minigan.gpu_available():  # ask only if needed: it may import CuPy
        return
    skip = pytest.mark.skip(reason=f"no GPU: {backend.gpu_unavailable_reason()}")
    for item in gpu_tests:
        item.add_marker(skip)
