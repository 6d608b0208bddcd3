"""Shared test setup.

* Every test starts from the same random state (``minigan.manual_seed(0)``), so a failure
  seen once can be reproduced by running that test alone.
* Tests marked ``@pytest.mark.gpu`` need CuPy and a CUDA device. Where either is missing they
  are skipped, and ``pytest -rs`` prints why (e.g. "CuPy is not installed ...").
"""
import pytest

import minigan
from minigan import backend


@pytest.fixture(autouse=True)
def _seed_minigan():
    """Seed minigan's generators before each test: results never depend on test order."""
    minigan.manual_seed(0)


def pytest_collection_modifyitems(config, items):
    """Skip the ``gpu`` tests, with the backend's own explanation, when no GPU can be used."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_tests or minigan.gpu_available():  # ask only if needed: it may import CuPy
        return
    skip = pytest.mark.skip(reason=f"no GPU: {backend.gpu_unavailable_reason()}")
    for item in gpu_tests:
        item.add_marker(skip)
