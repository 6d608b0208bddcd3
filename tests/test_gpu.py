"""The GPU (CuPy) backend gives the same answers as the CPU (NumPy) one.

Every test here is marked ``gpu``: where CuPy or a CUDA device is missing it is skipped, and
``pytest -rs`` shows why. With a GPU, each op case of ``tests/op_cases.py`` is run on both
devices in float64; values and gradients must agree to 1e-10 (the two libraries may sum in a
different order, so not bit for bit), and the numerical gradient checks must pass on the GPU too.
"""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import DeviceError, Tensor, backend

from op_cases import CASES

pytestmark = pytest.mark.gpu

DOUBLE_CASES = [c for c in CASES if c.double]

# Cases whose ``fn`` holds a NumPy array as an operand (``x + np.arange(4)``). That array lives in
# host memory, and minigan never copies host data to the GPU behind your back: on the GPU these
# raise DeviceError by design (see test_numpy_array_with_a_gpu_tensor_raises), so they are CPU-only.
HOST_OPERAND_CASES = {"add_operator_int_array", "div_operator_int_array"}

# Cases that draw random numbers: each device has its own generator (CuPy's XORWOW is not NumPy's
# PCG64), so the same seed gives other numbers on the GPU and the two devices cannot agree.
RANDOM_CASES = {"dropout"}

TOL64 = dict(rtol=1e-10, atol=1e-10)


def _gpu_case_param(case, compare_with_cpu=False):
    marks = ()
    if case.name in HOST_OPERAND_CASES:
        marks = pytest.mark.skip(reason="the case's fn holds a NumPy array; host arrays are not "
                                        "moved to the GPU implicitly")
    elif compare_with_cpu and case.name in RANDOM_CASES:
        marks = pytest.mark.skip(reason="the case draws random numbers, and each device has its "
                                        "own random stream")
    return pytest.param(case, id=case.name, marks=marks)


GPU_CASES = [_gpu_case_param(c) for c in CASES]
COMPARED_CASES = [_gpu_case_param(c, compare_with_cpu=True) for c in CASES]
GPU_DOUBLE_CASES = [_gpu_case_param(c) for c in DOUBLE_CASES]


def to_gpu(value):
    """A case input on the GPU: Tensors keep requires_grad, arrays (e.g. masks) are copied."""
    if isinstance(value, Tensor):
        moved = value.to("gpu")
        assert moved.requires_grad == value.requires_grad
        return moved
    if isinstance(value, np.ndarray):
        return backend.to_device(value, "gpu")
    return value


def outputs_of(result):
    return [result] if isinstance(result, Tensor) else list(result)


def forward_and_grads(case, inputs, upstream):
    """Run the case; return its outputs and the gradients of sum(v * output) for each input
    that requires grad (None where an input is unused), all as NumPy arrays."""
    outs = outputs_of(case.fn(*inputs))
    wanted = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    differentiable = [y for y in outs if y.requires_grad]
    device = wanted[0].device
    vs = [Tensor(backend.to_device(v, device)) for v in upstream[:len(differentiable)]]
    grads = minigan.grad(differentiable, wanted, grad_outputs=vs, allow_unused=True)
    for t in outs + [g for g in grads if g is not None]:
        assert t.device == device, f"{case.name}: a result left the {device}"
    return ([y.numpy() for y in outs],
            [None if g is None else g.numpy() for g in grads])


# --- tensors on the GPU ------------------------------------------------------------------------

def test_factories_make_gpu_tensors():
    """Every factory honours device='gpu' and keeps the default float32."""
    made = [minigan.tensor([1.0, 2.0], device="gpu"), minigan.zeros(2, 3, device="gpu"),
            minigan.ones(2, device="cuda"), minigan.randn(4, device="gpu"),
            minigan.rand(4, device="gpu")]
    for t in made:
        assert t.device == "gpu"
        assert t.dtype == np.float32
        assert backend.get_array_module(t.data) is not np


def test_numpy_of_a_gpu_tensor_is_a_numpy_array():
    """``.numpy()`` copies the values back to the host as a plain NumPy array."""
    values = np.arange(6, dtype=np.float64).reshape(2, 3)
    x = minigan.tensor(values, device="gpu")
    out = x.numpy()
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, values)
    assert x.dtype == np.float64
    assert x.tolist() == values.tolist()


def test_moving_between_devices():
    """``.to("gpu")`` and ``.to("cpu")`` copy, keep values, dtype and requires_grad."""
    x = minigan.tensor([1.0, -2.0, 3.5], requires_grad=True)
    g = x.to("gpu")
    assert g.device == "gpu" and g.requires_grad and g.is_leaf and g.dtype == np.float32
    assert g.to("gpu") is g and g.gpu() is g
    back = g.cpu()
    assert back.device == "cpu" and type(back.data) is np.ndarray
    np.testing.assert_array_equal(back.data, x.data)
    assert x.cuda().device == "gpu"
    assert "device='gpu'" in repr(g)


def test_backward_on_the_gpu_leaves_gradients_on_the_gpu():
    """A backward pass run on the GPU puts ``.grad`` on the GPU, with the right values."""
    x = minigan.tensor([1.0, 2.0, 3.0], device="gpu", requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.device == "gpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_minigan_device_gpu(monkeypatch):
    """MINIGAN_DEVICE=gpu (or auto, with a GPU) makes new tensors on the GPU."""
    for value in ("gpu", "auto", "cuda"):
        monkeypatch.setenv("MINIGAN_DEVICE", value)
        assert minigan.zeros(2).device == "gpu"
        assert minigan.tensor([1.0]).device == "gpu"


def test_backend_helpers_on_gpu_arrays():
    """get_array_module / device_of / to_device / as_numpy with CuPy arrays (the stand-in's
    where there is no GPU)."""
    cupy = backend.xp_for("gpu")
    a = cupy.arange(4.0)
    assert backend.get_array_module(a, None) is cupy
    assert backend.device_of(a) == "gpu"
    assert backend.to_device(a, "gpu") is a
    host = backend.to_device(a, "cpu")
    assert type(host) is np.ndarray
    out = backend.as_numpy(a)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, [0.0, 1.0, 2.0, 3.0])


# --- the same answers on both devices ----------------------------------------------------------

@pytest.mark.parametrize("case", COMPARED_CASES)
def test_op_agrees_with_the_cpu(case):
    """Forward values and gradients (for a random upstream gradient) agree to 1e-10 in float64."""
    cpu_inputs = case.inputs()
    gpu_inputs = [to_gpu(x) for x in case.inputs()]
    cpu_outs = outputs_of(case.fn(*cpu_inputs))
    rng = np.random.default_rng(0)
    upstream = [rng.uniform(-1, 1, y.shape) for y in cpu_outs if y.requires_grad]

    cpu_values, cpu_grads = forward_and_grads(case, cpu_inputs, upstream)
    gpu_values, gpu_grads = forward_and_grads(case, gpu_inputs, upstream)
    for c, g in zip(cpu_values, gpu_values):
        assert g.dtype == c.dtype == np.float64
        assert g.shape == c.shape
        np.testing.assert_allclose(g, c, **TOL64)
    assert len(gpu_grads) == len(cpu_grads)
    for c, g in zip(cpu_grads, gpu_grads):
        assert (c is None) == (g is None)
        if c is not None:
            np.testing.assert_allclose(g, c, **TOL64)


@pytest.mark.parametrize("case", GPU_CASES)
def test_gradcheck_on_the_gpu(case):
    """The backward rule agrees with finite differences when the op runs on the GPU."""
    assert minigan.gradcheck(case.fn, [to_gpu(x) for x in case.inputs()])


@pytest.mark.parametrize("case", GPU_DOUBLE_CASES)
def test_gradgradcheck_on_the_gpu(case):
    """Second derivatives are right on the GPU too."""
    assert minigan.gradgradcheck(case.fn, [to_gpu(x) for x in case.inputs()])


def test_host_operand_cases_exist():
    """The lists of cases left out above name real cases (so they cannot go stale unnoticed)."""
    assert HOST_OPERAND_CASES | RANDOM_CASES <= {c.name for c in CASES}


def test_mlp_float32_agrees_with_the_cpu():
    """A GAN-discriminator-sized MLP (784-256-256-1, leaky relu) in float32: loss and every
    gradient agree between CPU and GPU to float32 precision (not bit for bit: summation order)."""
    rng = np.random.default_rng(0)
    sizes = [784, 256, 256, 1]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)).astype(np.float32))
        params.append((0.1 * rng.standard_normal(fan_out)).astype(np.float32))
    x = rng.standard_normal((64, 784)).astype(np.float32)
    targets = (rng.random((64, 1)) < 0.5).astype(np.float32)

    def run(device):
        ps = [minigan.tensor(p, device=device, requires_grad=True) for p in params]
        h = minigan.tensor(x, device=device)
        for i in range(0, len(ps), 2):
            h = F.linear(h, ps[i], ps[i + 1])
            if i + 2 < len(ps):
                h = F.leaky_relu(h, 0.2)
        loss = F.binary_cross_entropy_with_logits(h, minigan.tensor(targets, device=device))
        loss.backward()
        assert loss.dtype == np.float32 and loss.device == device
        for p in ps:
            assert p.grad.dtype == np.float32 and p.grad.device == device
        return loss.item(), [p.grad.numpy() for p in ps]

    cpu_loss, cpu_grads = run("cpu")
    gpu_loss, gpu_grads = run("gpu")
    np.testing.assert_allclose(gpu_loss, cpu_loss, rtol=1e-5)
    for c, g in zip(cpu_grads, gpu_grads):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5 * np.abs(c).max())


# --- mistakes and randomness -------------------------------------------------------------------

@pytest.mark.parametrize("op", [F.add, F.mul, F.matmul], ids=["add", "mul", "matmul"])
def test_mixing_cpu_and_gpu_tensors_raises(op):
    """A CPU and a GPU tensor in one op: DeviceError naming each input's device."""
    cpu = minigan.ones(2, 2)
    gpu = minigan.ones(2, 2, device="gpu")
    with pytest.raises(DeviceError, match=r"input 0 on 'cpu', input 1 on 'gpu'"):
        op(cpu, gpu)
    with pytest.raises(DeviceError, match=r"input 0 on 'gpu', input 1 on 'cpu'"):
        op(gpu, cpu)


def test_numpy_array_with_a_gpu_tensor_raises():
    """A NumPy array is host data: combining it with a GPU tensor is refused, not copied."""
    gpu = minigan.ones(3, device="gpu")
    with pytest.raises(DeviceError, match=r"'gpu'.*'cpu'"):
        gpu + np.arange(3)
    assert (gpu + 2.0).device == "gpu"  # Python numbers are fine: they have no device


def test_manual_seed_repeats_on_the_gpu():
    """``manual_seed`` makes GPU randn/rand repeat exactly; another seed gives other numbers."""
    minigan.manual_seed(7)
    a = minigan.randn(1000, device="gpu").numpy()
    u = minigan.rand(10, device="gpu").numpy()
    minigan.manual_seed(7)
    np.testing.assert_array_equal(minigan.randn(1000, device="gpu").numpy(), a)
    np.testing.assert_array_equal(minigan.rand(10, device="gpu").numpy(), u)
    minigan.manual_seed(8)
    assert not np.array_equal(minigan.randn(1000, device="gpu").numpy(), a)
    assert abs(a.mean()) < 0.2 and abs(a.std() - 1) < 0.2


def test_infogan_codes_draw_from_a_prior_on_the_gpu():
    """Codes.sample with a prior picks values on the device (inverse CDF with searchsorted), and
    the one-hot part of G's input follows them."""
    codes = minigan.gan.Codes(noise_dim=2, categories=3, continuous=1, prior=[0.6, 0.0, 0.4])
    minigan.manual_seed(5)
    latent, cat, cont = codes.sample(20_000, device="gpu")
    assert latent.device == "gpu" and backend.get_array_module(cat) is not np
    cat = backend.as_numpy(cat)
    shares = np.bincount(cat, minlength=3) / 20_000
    assert shares[1] == 0 and abs(shares[0] - 0.6) < 0.02, shares
    np.testing.assert_array_equal(latent.numpy()[:, 2:5], np.eye(3)[cat])
