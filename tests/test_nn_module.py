"""``Parameter`` and ``Module``: registration, naming, modes, devices and dtypes, state_dict, repr.

The DCGAN generator and discriminator built here (``dcgan_generator`` / ``dcgan_discriminator``)
are the MNIST DCGAN of the TensorFlow tutorial written with PyTorch's layer names; other test
files import them.
"""
import copy

import numpy as np
import pytest

import minigan
import minigan.nn as nn
from minigan import Tensor
from minigan.nn import Parameter


def dcgan_generator():
    """z (N, 100) -> image (N, 1, 28, 28) in [-1, 1]."""
    return nn.Sequential(
        nn.Linear(100, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256), nn.LeakyReLU(),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 5, 1, 2), nn.BatchNorm2d(128), nn.LeakyReLU(),
        nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1), nn.BatchNorm2d(64), nn.LeakyReLU(),
        nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1), nn.Tanh())


def dcgan_discriminator():
    """image (N, 1, 28, 28) -> one logit per image (N, 1)."""
    return nn.Sequential(
        nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))


class Critic(nn.Module):
    """A custom module: a child Sequential, an own Parameter, a buffer and a plain attribute."""

    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.LeakyReLU(0.2))
        self.head = nn.Linear(3, 1)
        self.temperature = Parameter(minigan.ones(1))
        self.register_buffer("calls", minigan.zeros(1))
        self.name = "critic"  # a plain attribute: not registered anywhere

    def forward(self, x):
        return self.head(self.main(x)) * self.temperature


# --- Parameter -----------------------------------------------------------------------------------

def test_parameter_requires_grad_and_says_parameter():
    p = Parameter(minigan.zeros(2, 3))
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float32 and p.shape == (2, 3)
    assert repr(p).startswith("Parameter containing:")


def test_parameter_from_a_list_is_float32_and_from_a_tensor_shares_memory():
    assert Parameter([1.0, 2.0]).dtype == np.float32
    t = minigan.zeros(3, dtype="float64")
    p = Parameter(t)
    assert p.dtype == np.float64 and p.data is t.data


def test_parameter_refuses_integer_data():
    with pytest.raises(TypeError, match="floating-point.*int64"):
        Parameter(np.arange(3))
    with pytest.raises(TypeError, match="floating-point"):
        Parameter([1, 2, 3])


def test_parameter_gets_a_gradient():
    p = Parameter(minigan.ones(3))
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.data, [2, 2, 2])


# --- registration and naming ---------------------------------------------------------------------

def test_named_parameters_use_dotted_names_like_pytorch():
    names = [n for n, _ in Critic().named_parameters()]
    assert names == ["temperature", "main.0.weight", "main.0.bias", "main.1.weight", "main.1.bias",
                     "head.weight", "head.bias"]
    assert [n for n, _ in dcgan_generator().named_parameters()][:3] == ["0.weight", "1.weight", "1.bias"]


def test_buffers_children_and_modules():
    c = Critic()
    assert [n for n, _ in c.named_buffers()] == ["calls", "main.1.running_mean", "main.1.running_var",
                                                 "main.1.num_batches_tracked"]
    assert len(list(c.buffers())) == 4
    assert [n for n, _ in c.named_children()] == ["main", "head"]
    assert list(c.children()) == [c.main, c.head]
    assert [n for n, _ in c.named_modules()] == ["", "main", "main.0", "main.1", "main.2", "head"]
    assert len(list(c.modules())) == 6
    assert "name" not in c._parameters and c.name == "critic"
    assert [n for n, _ in c.named_parameters(recurse=False)] == ["temperature"]


def test_a_shared_parameter_is_listed_and_counted_once():
    a = nn.Linear(3, 3)
    model = nn.Sequential(a, nn.Tanh(), a)
    assert len(list(model.parameters())) == 2
    assert model.num_parameters() == 12


def test_assigning_replaces_and_none_removes():
    m = nn.Linear(2, 2)
    new = Parameter(minigan.zeros(2))
    m.bias = new
    assert m.bias is new and m._parameters["bias"] is new
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        m.weight = minigan.zeros(2, 2)
    del m.weight
    assert "weight" not in m._parameters


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_register_buffer_checks_its_arguments():
    m = nn.Module()
    with pytest.raises(TypeError, match="must be a Tensor"):
        m.register_buffer("stats", np.zeros(3))
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("a.b", minigan.zeros(1))
    with pytest.raises(KeyError, match="already has an attribute"):
        m.register_buffer("train", minigan.zeros(1))
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing


def test_call_runs_forward_and_a_module_without_forward_says_so():
    x = minigan.randn(5, 4)
    c = Critic()
    np.testing.assert_array_equal(c(x).data, c.forward(x).data)
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(x)


def test_forward_pre_hooks_run_first_may_replace_the_input_and_can_be_removed():
    layer, seen = nn.Tanh(), []
    record = layer.register_forward_pre_hook(lambda module, args: seen.append((module, args[0].item())))
    double = layer.register_forward_pre_hook(lambda module, args: args[0] * 2)  # replaces the input
    x = minigan.tensor([0.25])
    np.testing.assert_allclose(layer(x).numpy(), np.tanh([0.5]), rtol=1e-6)
    assert seen == [(layer, 0.25)]
    double.remove()
    np.testing.assert_allclose(layer(x).numpy(), np.tanh([0.25]), rtol=1e-6)
    record.remove()
    layer(x)
    assert len(seen) == 2 and not layer._forward_pre_hooks


def test_apply_and_requires_grad():
    seen = []
    model = Critic().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "LeakyReLU", "Sequential", "Linear", "Critic"]
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_zero_grad_sets_every_grad_to_none():
    c = Critic()
    c(minigan.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in c.parameters())
    c.zero_grad()
    assert all(p.grad is None for p in c.parameters())


def test_deepcopy_gives_an_independent_model():
    """GANs keep an exponential moving average of G as a deep copy."""
    g = Critic()
    h = copy.deepcopy(g)
    assert isinstance(h.head.weight, Parameter) and h.head.weight is not g.head.weight
    h.head.weight.data += 1
    assert not np.allclose(h.head.weight.data, g.head.weight.data)


# --- modes, devices, dtypes --------------------------------------------------------------------

def test_train_and_eval_are_recursive():
    g = dcgan_generator()
    assert all(m.training for m in g.modules())
    assert g.eval() is g and not any(m.training for m in g.modules())
    g.train()
    assert all(m.training for m in g.modules())
    with pytest.raises(TypeError, match="expects a bool"):
        g.train("no")


def test_to_cpu_returns_self_and_keeps_arrays():
    c = Critic()
    before = [p.data for p in c.parameters()]
    assert c.to("cpu") is c and c.cpu() is c
    assert all(p.data is b for p, b in zip(c.parameters(), before))


def test_double_and_float_change_every_float_parameter_and_buffer():
    c = Critic()
    c(minigan.randn(5, 4)).sum().backward()
    params = list(c.parameters())
    assert c.double() is c
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in c.parameters())
    assert all(a is b for a, b in zip(params, c.parameters()))  # the same Parameter objects
    assert c.main[1].running_mean.dtype == np.float64 and c.calls.dtype == np.float64
    assert c.main[1].num_batches_tracked.dtype == np.int64  # a counter stays an integer
    assert c(minigan.randn(5, 4, dtype="float64")).dtype == np.float64
    c.float()
    assert all(t.dtype == np.float32 for t in list(c.parameters()) + [c.calls])
    c.to(minigan.float64)
    assert all(p.dtype == np.float64 for p in c.parameters())
    c.to("cpu", np.float32)
    assert all(p.dtype == np.float32 for p in c.parameters())


def test_to_rejects_what_is_neither_device_nor_float_dtype():
    c = Critic()
    with pytest.raises(TypeError, match="float dtypes, got int32"):
        c.to("int32")
    with pytest.raises(TypeError, match="a device .* or a float dtype"):
        c.to("tpu")


# --- state_dict ----------------------------------------------------------------------------------

def test_state_dict_keys_and_values_match_pytorch_conventions():
    g = dcgan_generator()
    state = g.state_dict()
    assert list(state)[:6] == ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                               "1.num_batches_tracked"]
    assert list(state)[-2:] == ["10.weight", "10.bias"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert state["4.weight"].shape == (256, 128, 5, 5) and state["4.weight"].dtype == np.float32
    state["4.weight"][...] = 0  # a copy: the model is untouched
    assert np.abs(g[4].weight.data).sum() > 0


def test_load_state_dict_round_trip_and_dtype_conversion():
    a, b = Critic(), Critic()
    state = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in a.state_dict().items()}
    result = b.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        assert q.dtype == np.float32  # converted to the parameter's dtype
    x = minigan.randn(5, 4)
    np.testing.assert_array_equal(a.eval()(x).data, b.eval()(x).data)


def test_load_state_dict_accepts_tensors():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict({k: Tensor(v) for k, v in a.state_dict().items()})
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_load_state_dict_names_missing_and_unexpected_keys():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    state = m.state_dict()
    del state["1.running_var"]
    state["2.weight"] = np.zeros(2, dtype=np.float32)
    before = m[0].weight.data.copy()
    state["0.weight"] = before + 1
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(state)
    message = str(info.value)
    assert "Sequential" in message
    assert "missing key(s) in state_dict: '1.running_var'" in message
    assert "unexpected key(s) in state_dict: '2.weight'" in message
    np.testing.assert_array_equal(m[0].weight.data, before)  # nothing loaded when anything is wrong
    result = m.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.running_var"] and result.unexpected_keys == ["2.weight"]
    np.testing.assert_array_equal(m[0].weight.data, before + 1)


def test_load_state_dict_names_both_shapes_on_mismatch():
    m = nn.Linear(3, 2)
    state = m.state_dict()
    state["weight"] = np.zeros((2, 4), dtype=np.float32)
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"size mismatch for 'weight': the checkpoint has shape "
                                               r"\(2, 4\), the model has shape \(2, 3\)"):
            m.load_state_dict(state, strict=strict)


def test_load_state_dict_checks_every_entry_before_changing_any():
    """A bad shape in the last entry, or a float for an integer buffer (it would be truncated):
    refused, and every earlier entry keeps its value, bit for bit."""
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    before = {k: v.copy() for k, v in m.state_dict().items()}
    bad_shape = {k: v + 1 for k, v in before.items()}
    bad_shape["2.bias"] = np.zeros(3, dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"size mismatch for '2.bias': the checkpoint has shape \(3,\), "
                                           r"the model has shape \(2,\)"):
        m.load_state_dict(bad_shape)
    bad_dtype = {k: v + 1 for k, v in before.items()}
    bad_dtype["1.num_batches_tracked"] = np.array(2.5)
    with pytest.raises(RuntimeError, match=r"dtype mismatch for '1.num_batches_tracked': the checkpoint "
                                           r"has float64, the model holds whole numbers \(int64\)"):
        m.load_state_dict(bad_dtype)
    for key, value in m.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_load_state_dict_rejects_what_is_not_a_dict_of_arrays():
    m = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="expects a dict"):
        m.load_state_dict([1, 2])
    with pytest.raises(RuntimeError, match="value for 'bias' must be an array or Tensor, got list"):
        m.load_state_dict({"weight": m.weight.data, "bias": [0.0, 0.0]})


# --- repr ----------------------------------------------------------------------------------------

def test_repr_prints_tree_shapes_and_the_total_count():
    g = dcgan_generator()
    text = repr(g)
    print(text)
    expected_total = (100 * 12544                        # Linear(100, 12544, bias=False)
                      + 2 * 12544                        # BatchNorm1d: weight, bias
                      + 256 * 128 * 5 * 5 + 128          # ConvTranspose2d(256, 128, 5)
                      + 2 * 128                          # BatchNorm2d(128)
                      + 128 * 64 * 5 * 5 + 64            # ConvTranspose2d(128, 64, 5)
                      + 2 * 64                           # BatchNorm2d(64)
                      + 64 * 1 * 5 * 5 + 1)              # ConvTranspose2d(64, 1, 5)
    independent = sum(int(np.prod(p.shape)) for p in g.parameters())
    assert expected_total == independent == g.num_parameters() == 2_305_665
    lines = text.splitlines()
    assert lines[0] == "Sequential(" and lines[-2] == ")"
    assert lines[-1] == f"Total parameters: {expected_total:,}"
    assert "(0): Linear(in_features=100, out_features=12544, bias=False)  # weight (12544, 100): " \
           "1,254,400 parameters" in text
    assert "(1): BatchNorm1d(12544, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)" in text
    assert "(3): Unflatten(dim=1, unflattened_size=(256, 7, 7))" in text
    assert ("(7): ConvTranspose2d(128, 64, kernel_size=(5, 5), stride=(2, 2), padding=(2, 2), "
            "output_padding=(1, 1))  # weight (128, 64, 5, 5), bias (64,): 204,864 parameters") in text
    assert "(11): Tanh()" in text


def test_repr_of_nested_modules_and_leaves():
    text = repr(Critic())
    assert text.splitlines()[0] == "Critic(  # temperature (1,): 1 parameter"
    assert "  (main): Sequential(\n    (0): Linear(in_features=4, out_features=3, bias=True)" in text
    assert "    (2): LeakyReLU(negative_slope=0.2)\n  )\n  (head): Linear" in text
    assert text.splitlines()[-1] == f"Total parameters: {4 * 3 + 3 + 2 * 3 + 3 * 1 + 1 + 1}"
    assert repr(nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)  # weight (3, 2), " \
                                    "bias (3,): 9 parameters"
    assert repr(nn.ReLU()) == "ReLU()"


def test_extra_repr_of_each_layer():
    assert nn.Conv2d(1, 64, 5, 2, 2).extra_repr() == \
        "1, 64, kernel_size=(5, 5), stride=(2, 2), padding=(2, 2)"
    assert nn.Conv2d(3, 8, 3, bias=False, dilation=2).extra_repr() == \
        "3, 8, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), bias=False"
    assert nn.Dropout(0.3).extra_repr() == "p=0.3"
    assert nn.LeakyReLU(0.2, inplace=True).extra_repr() == "negative_slope=0.2, inplace=True"
    assert nn.Flatten().extra_repr() == "start_dim=1, end_dim=-1"
    assert nn.Reshape(-1, 256, 7, 7).extra_repr() == "-1, 256, 7, 7"
    assert nn.Embedding(10, 4).extra_repr() == "10, 4"


# --- GPU -----------------------------------------------------------------------------------------

@pytest.mark.gpu
def test_to_gpu_moves_everything_and_state_dicts_cross_devices():
    cpu_model = Critic().eval()
    gpu_model = copy.deepcopy(cpu_model).to("gpu")
    assert all(t.device == "gpu" for t in list(gpu_model.parameters()) + list(gpu_model.buffers()))
    x = minigan.randn(5, 4)
    np.testing.assert_allclose(gpu_model(x.to("gpu")).numpy(), cpu_model(x).numpy(), rtol=1e-5, atol=1e-6)
    state = gpu_model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    fresh = Critic().to("gpu")
    fresh.load_state_dict(state)                            # NumPy arrays into a GPU model
    cpu_model.load_state_dict({k: t.data for k, t in gpu_model._state_tensors()})  # CuPy into a CPU model
    assert all(t.device == "gpu" for t in fresh.parameters())
    assert all(t.device == "cpu" for t in cpu_model.parameters())
