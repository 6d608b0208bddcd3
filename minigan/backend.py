"""Where arrays live: NumPy on the CPU, CuPy on a CUDA GPU.

This is the only module that knows CuPy exists. Everything else asks it two questions:

* ``get_array_module(*arrays)`` -- which library (``numpy`` or ``cupy``) owns these arrays?
  Ops call it on their inputs, so one code path serves both devices.
* ``device_of(array)`` -- is this array on ``"cpu"`` or ``"gpu"``?

CuPy is imported lazily, the first time a GPU is asked for, so a CPU-only install never pays for
it. The default device comes from the ``MINIGAN_DEVICE`` environment variable (``cpu``, ``gpu``,
``auto``; unset means ``cpu``).

Tests only: ``MINIGAN_FAKE_CUPY=1`` makes the backend load ``cupy_standin`` (tests/cupy_standin, a
strict CuPy stand-in run by NumPy) in place of CuPy, so the GPU path is tested on machines
without a GPU. tests/conftest.py sets it when no real GPU answers; nothing else should.

Randomness: ``manual_seed(seed)`` seeds one generator per device from the same seed, and every
random draw in minigan (``randn``, ``rand``, dropout masks, data shuffling) goes through
``generator(device)``.
"""
import os

import numpy as np

CPU, GPU = "cpu", "gpu"
_ALIASES = {"cpu": CPU, "gpu": GPU, "cuda": GPU}
_INSTALL_HINT = 'install the GPU extra with: pip install -e ".[gpu]"'


class DeviceError(RuntimeError):
    """A device was asked for that is not available, or two devices were mixed in one op."""


# --- CuPy, imported on first need ------------------------------------------------------------

_cupy = None          # the cupy module once it imported and a device answered
_cupy_problem = None  # why not, as a sentence, once we have tried


def _load_cupy():
    """Import CuPy once and check that a CUDA device answers. Returns the module or None."""
    global _cupy, _cupy_problem
    if _cupy is not None or _cupy_problem is not None:
        return _cupy
    try:
        cupy = _import_cupy()
    except Exception as e:  # ImportError, or a broken CUDA install raising something else
        _cupy_problem = f"CuPy is not installed or failed to import ({e}); {_INSTALL_HINT}"
        return None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        count, reason = 0, f" ({e})"
    else:
        reason = ""
    if count < 1:
        _cupy_problem = (f"CuPy is installed but no CUDA device answered{reason}; "
                         "check the driver with nvidia-smi, or use device='cpu'")
        return None
    _cupy = cupy
    return cupy


def _import_cupy():
    """``import cupy``, or the tests' CuPy stand-in when ``$MINIGAN_FAKE_CUPY`` is ``1``."""
    if os.environ.get("MINIGAN_FAKE_CUPY", "").strip() == "1":
        try:
            import cupy_standin
        except ImportError as e:
            raise ImportError(f"MINIGAN_FAKE_CUPY=1 asks for the tests' CuPy stand-in, which did "
                              f"not import ({e}); put the repository's tests/ folder on PYTHONPATH") from None
        return cupy_standin
    import cupy
    return cupy


def gpu_available():
    """True when CuPy imports and at least one CUDA device answers."""
    return _load_cupy() is not None


def gpu_unavailable_reason():
    """A sentence saying why the GPU cannot be used (None when it can)."""
    _load_cupy()
    return _cupy_problem


# --- Device names ------------------------------------------------------------------------------

def normalize_device(device):
    """Turn ``None``/``"cpu"``/``"gpu"``/``"cuda"``/``"auto"`` into ``"cpu"`` or ``"gpu"``.

    ``None`` means the default device. Asking for the GPU where it cannot be had raises
    DeviceError saying whether CuPy or the CUDA device is missing.
    """
    if device is None:
        return default_device()
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'cpu' or 'gpu', got {device!r}")
    name = device.strip().lower()
    if name == "auto":
        return GPU if gpu_available() else CPU
    if name.startswith("cuda:") or name.startswith("gpu:"):
        name = name.split(":")[0]  # one GPU is all minigan drives; accept PyTorch's spelling
    if name not in _ALIASES:
        raise DeviceError(f"unknown device {device!r}: expected 'cpu', 'gpu' (or 'cuda'), or 'auto'")
    name = _ALIASES[name]
    if name == GPU and not gpu_available():
        raise DeviceError(f"device 'gpu' was asked for but {_cupy_problem}")
    return name


def default_device():
    """The device named by ``$MINIGAN_DEVICE`` (``cpu`` when unset)."""
    env = os.environ.get("MINIGAN_DEVICE", "").strip()
    if not env:
        return CPU
    try:
        return normalize_device(env)
    except DeviceError as e:
        raise DeviceError(f"MINIGAN_DEVICE={env!r}: {e}") from None


def xp_for(device):
    """The array module (numpy or cupy) for a normalized device name."""
    return _cupy if device == GPU else np


def uses_gpu():
    """True once CuPy has been loaded (only then can any array be on the GPU)."""
    return _cupy is not None


def device_of(array):
    """``"gpu"`` for a CuPy array, ``"cpu"`` for anything else."""
    return CPU if _cupy is None or not isinstance(array, _cupy.ndarray) else GPU


def get_array_module(*arrays):
    """The module (numpy or cupy) that owns ``arrays``; DeviceError if they are on both.

    Non-array arguments (Python numbers, None) are ignored.
    """
    if _cupy is None:  # CuPy never loaded, so nothing can be on the GPU: the fast, common case
        return np
    on_gpu = [isinstance(a, _cupy.ndarray) for a in arrays if hasattr(a, "shape")]  # skip numbers, None
    if any(on_gpu):
        if not all(on_gpu):
            raise DeviceError("expected all arrays on one device, got arrays on both 'cpu' and 'gpu'; "
                              "move them with .to('gpu') or .to('cpu') first")
        return _cupy
    return np


def to_device(array, device):
    """Copy ``array`` to ``device`` (``"cpu"`` or ``"gpu"``); returns it unchanged if already there."""
    device = normalize_device(device)
    if device_of(array) == device:
        return array
    if device == GPU:
        return _cupy.asarray(array)
    return _cupy.asnumpy(array)


def as_numpy(array):
    """A NumPy array with the same values (copied from the GPU when needed)."""
    return np.asarray(array) if device_of(array) == CPU else _cupy.asnumpy(array)


# --- Randomness ----------------------------------------------------------------------------------

_seed = None
_generators = {}


def manual_seed(seed):
    """Seed all of minigan's randomness (on every device) so that runs repeat exactly."""
    global _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise TypeError(f"manual_seed expects a non-negative int, got {seed!r}")
    _seed = int(seed)
    _generators.clear()


def generator(device=None):
    """The random generator for ``device``: ``numpy``/``cupy`` ``random.Generator``.

    Both libraries' generators offer the same ``standard_normal(size, dtype)``,
    ``random(size, dtype)`` and ``integers`` calls, so callers need not know which they hold.
    """
    device = normalize_device(device)
    if device not in _generators:
        _generators[device] = xp_for(device).random.default_rng(_seed)
    return _generators[device]


def get_rng_state():
    """The CPU generator's state (a dict), e.g. to store in a checkpoint."""
    return generator(CPU).bit_generator.state


def set_rng_state(state):
    """Restore a state taken with ``get_rng_state``."""
    generator(CPU).bit_generator.state = state
