"""The backend: device names, ``$MINIGAN_DEVICE``, the messages when a GPU cannot be had, and the
NumPy/CuPy dispatch helpers.

Most of these run on any machine. Where a test needs "a GPU" or "no GPU" regardless of the
machine it runs on, it fakes the backend's module state with ``monkeypatch`` (which puts the
real state back after the test):

* ``_cupy``         -- the CuPy module once loaded (None when not);
* ``_cupy_problem`` -- the sentence saying why CuPy cannot be used (None until tried);
* ``sys.modules["cupy"]`` -- what ``import cupy`` finds;
* ``$MINIGAN_FAKE_CUPY`` -- removed, so the backend looks for real CuPy and not for the tests'
  CuPy stand-in (which conftest.py switches on where no GPU answers).
"""
import sys
import types

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import DeviceError, backend


# --- fakes ---------------------------------------------------------------------------------------

class FakeGpuArray(np.ndarray):
    """Stands in for ``cupy.ndarray``: a NumPy array the fake backend counts as "on the GPU"."""


def gpu_array(values):
    return np.asarray(values, dtype=np.float64).view(FakeGpuArray)


@pytest.fixture
def fake_gpu(monkeypatch):
    """Pretend CuPy loaded and a device answered: ``backend._cupy`` is a stub module whose
    ``ndarray`` is FakeGpuArray. Enough for device names and device checks, not for maths."""
    stub = types.SimpleNamespace(ndarray=FakeGpuArray, __name__="fake_cupy")
    monkeypatch.setattr(backend, "_cupy", stub)
    monkeypatch.setattr(backend, "_cupy_problem", None)
    return stub


@pytest.fixture
def fresh_backend(monkeypatch):
    """Forget what the backend learnt about CuPy, so the next question tries the import again
    (of real CuPy: the tests' stand-in is switched off)."""
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_problem", None)
    monkeypatch.delenv("MINIGAN_FAKE_CUPY", raising=False)


@pytest.fixture
def no_cupy(fresh_backend, monkeypatch):
    """Make ``import cupy`` fail, as on a machine where CuPy is not installed."""
    monkeypatch.setitem(sys.modules, "cupy", None)  # None in sys.modules makes import raise


def fake_cupy_module(get_device_count):
    """A module that imports as ``cupy`` and answers ``cupy.cuda.runtime.getDeviceCount()``."""
    module = types.ModuleType("cupy")
    module.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    return module


# --- device names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cpu", "CPU", " cpu "])
def test_normalize_device_cpu(name):
    """'cpu' in any case or padding means the CPU."""
    assert backend.normalize_device(name) == "cpu"


@pytest.mark.parametrize("name", ["gpu", "cuda", "GPU", "CUDA:0", "cuda:1", "gpu:0"])
def test_normalize_device_gpu_names(fake_gpu, name):
    """'gpu', 'cuda' and PyTorch's 'cuda:0' all mean the GPU (when there is one)."""
    assert backend.normalize_device(name) == "gpu"


def test_normalize_device_auto_picks_the_gpu_when_there_is_one(fake_gpu):
    """'auto' means the GPU if it can be used..."""
    assert backend.normalize_device("auto") == "gpu"


def test_normalize_device_auto_falls_back_to_cpu(no_cupy):
    """... and the CPU otherwise, without raising."""
    assert backend.normalize_device("auto") == "cpu"
    assert backend.normalize_device("AUTO") == "cpu"


@pytest.mark.parametrize("name", ["tpu", "", "cpu0", "mps"])
def test_unknown_device_names_list_the_valid_ones(name):
    """A misspelt device raises DeviceError quoting it and listing what is accepted."""
    with pytest.raises(DeviceError) as info:
        backend.normalize_device(name)
    message = str(info.value)
    assert repr(name) in message
    for valid in ("'cpu'", "'gpu'", "'cuda'", "'auto'"):
        assert valid in message


def test_device_must_be_a_string():
    """A device given as a number is a TypeError that shows what came."""
    with pytest.raises(TypeError, match=r"device must be a string.*got 0"):
        backend.normalize_device(0)


def test_unknown_device_in_a_factory():
    """The factories check the device name too."""
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        minigan.zeros(2, device="tpu")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        minigan.tensor([1.0], device="tpu")


# --- MINIGAN_DEVICE --------------------------------------------------------------------------------

def test_default_device_is_cpu_when_unset(monkeypatch):
    """Without $MINIGAN_DEVICE everything is made on the CPU."""
    monkeypatch.delenv("MINIGAN_DEVICE", raising=False)
    assert backend.default_device() == "cpu"
    assert backend.normalize_device(None) == "cpu"
    assert minigan.tensor([1.0]).device == "cpu"


@pytest.mark.parametrize("value", ["cpu", "CPU", "  cpu", ""])
def test_minigan_device_cpu(monkeypatch, value):
    """MINIGAN_DEVICE=cpu (or empty) gives CPU tensors."""
    monkeypatch.setenv("MINIGAN_DEVICE", value)
    assert backend.default_device() == "cpu"
    assert minigan.randn(2).device == "cpu"


def test_minigan_device_auto_without_gpu_is_cpu(monkeypatch, no_cupy):
    """MINIGAN_DEVICE=auto quietly uses the CPU when no GPU can be had."""
    monkeypatch.setenv("MINIGAN_DEVICE", "auto")
    assert backend.default_device() == "cpu"
    assert minigan.zeros(2).device == "cpu"


def test_minigan_device_auto_with_gpu_is_gpu(monkeypatch, fake_gpu):
    """MINIGAN_DEVICE=auto picks the GPU when one answers."""
    monkeypatch.setenv("MINIGAN_DEVICE", "auto")
    assert backend.default_device() == "gpu"


def test_minigan_device_invalid_names_the_variable(monkeypatch):
    """A bad MINIGAN_DEVICE names the variable, its value and the valid choices."""
    monkeypatch.setenv("MINIGAN_DEVICE", "tpu")
    with pytest.raises(DeviceError, match=r"MINIGAN_DEVICE='tpu'.*'cpu', 'gpu'.*'auto'"):
        backend.default_device()
    with pytest.raises(DeviceError, match="MINIGAN_DEVICE='tpu'"):
        minigan.ones(3)


def test_minigan_device_gpu_without_cupy(monkeypatch, no_cupy):
    """MINIGAN_DEVICE=gpu where CuPy is missing says so, and how to install it."""
    monkeypatch.setenv("MINIGAN_DEVICE", "gpu")
    with pytest.raises(DeviceError, match=r"MINIGAN_DEVICE='gpu'.*CuPy is not installed") as info:
        minigan.zeros(2)
    assert 'pip install -e ".[gpu]"' in str(info.value)


# --- when the GPU cannot be had ------------------------------------------------------------------

def test_asking_for_the_gpu_on_this_cpu_only_machine(fresh_backend):
    """On a machine without CuPy, device='gpu' raises DeviceError with the install command."""
    if minigan.gpu_available():
        pytest.skip("this machine has a working GPU, so asking for one does not fail")
    with pytest.raises(DeviceError) as info:
        minigan.tensor([1.0], device="gpu")
    message = str(info.value)
    assert "CuPy" in message
    assert 'pip install -e ".[gpu]"' in message
    assert backend.gpu_unavailable_reason() in message


def test_missing_cupy_message(no_cupy):
    """Simulated missing CuPy (on any machine): the reason and the error give the install command."""
    assert backend.gpu_available() is False
    reason = backend.gpu_unavailable_reason()
    assert "CuPy is not installed" in reason and 'pip install -e ".[gpu]"' in reason
    with pytest.raises(DeviceError, match=r"device 'gpu' was asked for but CuPy is not installed"):
        backend.normalize_device("cuda")


def _zero_devices():
    return 0


def _driver_error():
    raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")


@pytest.mark.parametrize("count", [_zero_devices, _driver_error], ids=["zero devices", "driver error"])
def test_cupy_installed_but_no_device(fresh_backend, monkeypatch, count):
    """CuPy imports but no CUDA device answers: the message says so (not "install CuPy")."""
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy_module(count))
    assert backend.gpu_available() is False
    reason = backend.gpu_unavailable_reason()
    assert "CuPy is installed but no CUDA device answered" in reason
    assert "pip install" not in reason
    with pytest.raises(DeviceError, match="no CUDA device answered"):
        backend.normalize_device("gpu")


def test_cupy_driver_error_is_quoted(fresh_backend, monkeypatch):
    """The driver's own error text is kept in the message, to help a learner search for it."""
    def broken():
        raise RuntimeError("cudaErrorInsufficientDriver")
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy_module(broken))
    assert "cudaErrorInsufficientDriver" in backend.gpu_unavailable_reason()


def test_cupy_is_probed_only_once(fresh_backend, monkeypatch):
    """The import and the device query happen once; later questions reuse the answer."""
    calls = []

    def count():
        calls.append(1)
        return 0
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy_module(count))
    for _ in range(3):
        backend.gpu_available()
        backend.gpu_unavailable_reason()
    assert len(calls) == 1


def test_fake_cupy_that_cannot_be_imported_says_where_it_lives(fresh_backend, monkeypatch):
    """MINIGAN_FAKE_CUPY=1 without tests/ on the path: the reason names the stand-in and the fix."""
    monkeypatch.setenv("MINIGAN_FAKE_CUPY", "1")
    monkeypatch.setitem(sys.modules, "cupy_standin", None)
    assert backend.gpu_available() is False
    assert "MINIGAN_FAKE_CUPY=1" in backend.gpu_unavailable_reason()
    assert "tests/ folder on PYTHONPATH" in backend.gpu_unavailable_reason()


def test_gpu_unavailable_reason_is_none_with_a_gpu(fake_gpu):
    """When the GPU can be used there is no reason to report."""
    assert backend.gpu_available() is True
    assert backend.gpu_unavailable_reason() is None


# --- array helpers -------------------------------------------------------------------------------

def test_get_array_module_for_numpy_arrays():
    """NumPy arrays (and numbers or None mixed in) belong to numpy."""
    a, b = np.zeros(2), np.ones((3, 3), dtype=np.float32)
    assert backend.get_array_module(a) is np
    assert backend.get_array_module(a, b, 1.5, None) is np
    assert backend.get_array_module() is np
    assert minigan.get_array_module is backend.get_array_module


def test_get_array_module_with_a_gpu_loaded(fake_gpu):
    """With CuPy loaded: CPU arrays still give numpy, GPU arrays give cupy."""
    assert backend.get_array_module(np.zeros(2), 3.0) is np
    assert backend.get_array_module(gpu_array([1.0]), gpu_array([2.0]), None) is fake_gpu


def test_get_array_module_ignores_numbers_next_to_gpu_arrays(fake_gpu):
    """As documented, Python numbers and None have no device: next to a GPU array they are
    ignored, not counted as CPU arrays (which would raise DeviceError)."""
    assert backend.get_array_module(gpu_array([1.0]), None) is fake_gpu
    assert backend.get_array_module(gpu_array([1.0]), 2.0) is fake_gpu
    assert backend.get_array_module(3, gpu_array([1.0])) is fake_gpu


def test_get_array_module_refuses_mixed_devices(fake_gpu):
    """Arrays on both devices are a DeviceError naming both and the fix."""
    with pytest.raises(DeviceError, match=r"'cpu' and 'gpu'.*\.to\("):
        backend.get_array_module(np.zeros(2), gpu_array([1.0, 2.0]))


def test_device_of():
    """NumPy arrays (and anything not a CuPy array) are on the CPU."""
    assert backend.device_of(np.zeros(2)) == "cpu"
    assert backend.device_of(3.0) == "cpu"


def test_device_of_a_gpu_array(fake_gpu):
    """A CuPy array is on the GPU, and a Tensor holding one says so."""
    assert backend.device_of(gpu_array([1.0])) == "gpu"
    assert backend.device_of(np.zeros(1)) == "cpu"
    assert minigan.Tensor(gpu_array([1.0])).device == "gpu"


def test_to_device_cpu_is_a_no_op():
    """Moving a CPU array to the CPU returns the very same array (no copy)."""
    a = np.arange(4.0)
    assert backend.to_device(a, "cpu") is a
    assert backend.to_device(a, "CPU") is a


def test_as_numpy():
    """``as_numpy`` gives a NumPy array with the same values, also from a list."""
    a = np.arange(6.0).reshape(2, 3)
    out = backend.as_numpy(a)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, a)
    np.testing.assert_array_equal(backend.as_numpy([1, 2]), np.array([1, 2]))


# --- mixing devices in one op --------------------------------------------------------------------

@pytest.mark.parametrize("op", [F.add, F.mul, F.matmul, F.maximum],
                         ids=["add", "mul", "matmul", "maximum"])
def test_mixing_devices_in_an_op_names_both(fake_gpu, op):
    """A CPU tensor and a GPU tensor in one op: DeviceError naming the op and each input's device.
    (The check runs before any maths, so a fake GPU array is enough to trigger it.)"""
    cpu = minigan.tensor(np.eye(2))
    gpu = minigan.Tensor(gpu_array(np.eye(2)))
    with pytest.raises(DeviceError) as info:
        op(cpu, gpu)
    message = str(info.value)
    assert "different devices" in message
    assert "input 0 on 'cpu'" in message and "input 1 on 'gpu'" in message
    with pytest.raises(DeviceError, match=r"input 0 on 'gpu', input 1 on 'cpu'"):
        op(gpu, cpu)


def test_mixing_devices_names_the_op(fake_gpu):
    """The message starts with the op's name, so the learner knows which line to look at."""
    with pytest.raises(DeviceError, match=r"^AddOp got tensors on different devices"):
        minigan.tensor([1.0, 2.0], dtype="float64") + minigan.Tensor(gpu_array([1.0, 2.0]))


# --- randomness ----------------------------------------------------------------------------------

def test_rng_state_round_trip():
    """``get_rng_state``/``set_rng_state`` rewind the CPU generator (for checkpoints)."""
    state = backend.get_rng_state()
    first = minigan.randn(5).numpy()
    backend.set_rng_state(state)
    np.testing.assert_array_equal(minigan.randn(5).numpy(), first)


def test_generator_is_per_device_and_reset_by_manual_seed():
    """One generator per device, kept between calls and replaced by ``manual_seed``."""
    g = backend.generator("cpu")
    assert backend.generator("cpu") is g
    assert backend.generator(None) is g
    minigan.manual_seed(1)
    assert backend.generator("cpu") is not g
