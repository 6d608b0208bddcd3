"""PyTorch habits in ``minigan.nn``: ``ModuleList``, ``ModuleDict``, forward hooks, the loss
modules, and ``apply`` / ``named_modules`` walking the tree in PyTorch's order.

Expected names and orders were read off PyTorch 2.13 by hand (this file never imports torch).
The gradients of the containers and losses are checked in ``layer_cases.py``.
"""
import gc
import weakref

import numpy as np
import pytest

import minigan
import minigan.functional as F
import minigan.nn as nn
from minigan import Tensor


class Tower(nn.Module):
    """A model holding its layers in a ModuleList and its heads in a ModuleDict."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 3), nn.Linear(3, 3)])
        self.heads = nn.ModuleDict({"real": nn.Linear(3, 1), "label": nn.Linear(3, 5)})

    def forward(self, x, head="real"):
        for layer in self.layers:
            x = layer(x).tanh()
        return self.heads[head](x)


def names(container):
    return [type(m).__name__ for m in container]


# --- ModuleList --------------------------------------------------------------------------------

def test_a_model_with_containers_has_pytorchs_state_dict_keys_and_all_parameters():
    model = Tower()
    assert list(model.state_dict()) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
        "heads.real.weight", "heads.real.bias", "heads.label.weight", "heads.label.bias"]
    expected = [model.layers[0].weight, model.layers[0].bias, model.layers[1].weight, model.layers[1].bias,
                model.heads["real"].weight, model.heads["real"].bias,
                model.heads["label"].weight, model.heads["label"].bias]
    assert [id(p) for p in model.parameters()] == [id(p) for p in expected]
    assert model.num_parameters() == (12 + 3) + (9 + 3) + (3 + 1) + (15 + 5)
    assert model(minigan.randn(2, 4)).shape == (2, 1) and model(minigan.randn(2, 4), "label").shape == (2, 5)


def test_a_plain_list_hides_its_layers_which_is_why_modulelist_exists():
    class Hidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]

    assert list(Hidden().parameters()) == [] and len(list(Tower().parameters())) == 8


def test_state_dict_round_trips_and_the_containers_follow_to_and_train():
    a, b = Tower(), Tower()
    b.load_state_dict(a.state_dict())
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    a.double().eval()
    assert a.layers[1].weight.dtype == np.float64 and a.heads["label"].bias.dtype == np.float64
    assert not any(m.training for m in a.modules())


def test_modulelist_append_extend_insert_len_iter_and_iadd():
    a, b, c, d, e = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Linear(1, 1), nn.Flatten()
    layers = nn.ModuleList()
    assert len(layers) == 0 and list(layers) == []
    assert layers.append(a) is layers
    assert layers.extend([b, c]) is layers
    layers += (m for m in [d])  # any iterable, generators too
    assert list(layers) == [a, b, c, d] and len(layers) == 4
    layers.insert(1, e)
    assert list(layers) == [a, e, b, c, d]
    assert list(layers._modules) == ["0", "1", "2", "3", "4"]  # renumbered: names match positions
    assert [name for name, _ in layers.named_children()] == ["0", "1", "2", "3", "4"]


def test_modulelist_insert_follows_list_insert_for_negative_and_far_indices():
    """PyTorch's insert mis-numbers these (insert(-1) raises KeyError, insert(10) on 3 modules
    registers "10"); minigan follows list.insert, which is what PyTorch's code means."""
    for index in (-1, -10, 0, 2, 10):
        items = [nn.ReLU(), nn.Tanh(), nn.Sigmoid()]
        new = nn.Linear(1, 1)
        layers = nn.ModuleList(items)
        layers.insert(index, new)
        items.insert(index, new)
        assert list(layers) == items, index
        assert list(layers._modules) == ["0", "1", "2", "3"], index


def test_modulelist_indexing_negative_and_slices():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    layers = nn.ModuleList([a, b, c])
    assert layers[0] is a and layers[-1] is c and layers[-3] is a
    assert layers[np.int64(1)] is b  # NumPy integers are integers
    part = layers[1:]
    assert type(part) is nn.ModuleList and list(part) == [b, c]  # the same Modules, not copies
    assert list(part._modules) == ["0", "1"]
    assert list(layers[::-1]) == [c, b, a] and list(layers[5:]) == []


def test_modulelist_setitem_replaces_in_place_and_keeps_the_key_order():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2)])
    new = nn.Linear(2, 2)
    layers[0] = new
    layers[-1] = nn.Linear(2, 2)
    assert layers[0] is new and len(layers) == 3
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]


def test_modulelist_delitem_and_pop_renumber_as_pytorch_does():
    a, b, c, d = nn.Linear(1, 1), nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    layers = nn.ModuleList([a, b, c, d])
    del layers[1]
    assert list(layers) == [a, c, d] and list(layers._modules) == ["0", "1", "2"]
    del layers[0:2]
    assert list(layers) == [d] and list(layers._modules) == ["0"]
    layers.extend([a, b, c])
    del layers[::2]
    assert list(layers) == [a, c] and list(layers._modules) == ["0", "1"]
    assert layers.pop() is c and layers.pop(0) is a and len(layers) == 0
    model = Tower()
    del model.layers[0]
    assert list(model.state_dict())[:2] == ["layers.0.weight", "layers.0.bias"]
    assert model.layers[0].weight.shape == (3, 3)  # the old second layer is now "0"


def test_modulelist_add_gives_a_new_list_of_the_same_modules():
    a, b = nn.ReLU(), nn.Tanh()
    left = nn.ModuleList([a])
    both = left + nn.ModuleList([b])
    assert list(both) == [a, b] and list(left) == [a]


def test_modulelist_refuses_what_is_not_a_module_naming_the_type_and_changes_nothing():
    with pytest.raises(TypeError, match="ModuleList holds Modules, got int at index 1"):
        nn.ModuleList([nn.ReLU(), 3])
    layers = nn.ModuleList([nn.ReLU()])
    with pytest.raises(TypeError, match="got NoneType at index 1"):
        layers.append(None)
    with pytest.raises(TypeError, match="got str at index 2"):
        layers.extend([nn.Tanh(), "relu"])
    assert len(layers) == 1  # the Tanh before the bad element was not added either
    with pytest.raises(TypeError, match="got function"):
        layers[0] = F.relu
    with pytest.raises(TypeError, match="got float"):
        layers.insert(0, 1.0)
    with pytest.raises(TypeError, match="expects an iterable of Modules, got Linear"):
        layers.extend(nn.Linear(1, 1))
    with pytest.raises(TypeError, match="expects an iterable of Modules, got int"):
        nn.ModuleList(3)
    assert names(layers) == ["ReLU"]


def test_modulelist_bad_indices_name_the_length_or_the_type():
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    for bad in (2, -3):
        with pytest.raises(IndexError, match=rf"index {bad} is out of range for a ModuleList of length 2"):
            layers[bad]
        with pytest.raises(IndexError, match="of length 2"):
            layers[bad] = nn.ReLU()
        with pytest.raises(IndexError, match="of length 2"):
            del layers[bad]
    with pytest.raises(IndexError, match="of length 0"):
        nn.ModuleList().pop()
    with pytest.raises(TypeError, match="indices must be integers or slices, got str"):
        layers["0"]
    with pytest.raises(TypeError, match="got bool"):
        layers[True]
    with pytest.raises(TypeError, match=r"integers when assigning \(not slices\), got slice"):
        layers[0:1] = [nn.ReLU()]
    with pytest.raises(TypeError, match="insert expects an integer index, got float"):
        layers.insert(1.0, nn.ReLU())
    assert names(layers) == ["ReLU", "Tanh"]


def test_containers_cannot_be_called_and_say_what_to_do_instead():
    with pytest.raises(NotImplementedError, match="ModuleList has no forward.*for layer in self.layers"):
        nn.ModuleList([nn.ReLU()])(minigan.ones(2))
    with pytest.raises(NotImplementedError, match=r"ModuleDict has no forward.*self.heads\[name\]"):
        nn.ModuleDict({"a": nn.ReLU()})(minigan.ones(2))


def test_container_repr_shows_the_children_like_sequential():
    assert repr(nn.ModuleList()) == "ModuleList()"
    assert repr(nn.ModuleDict()) == "ModuleDict()"
    assert repr(nn.ModuleList([nn.ReLU(), nn.Linear(2, 1)])) == (
        "ModuleList(\n"
        "  (0): ReLU()\n"
        "  (1): Linear(in_features=2, out_features=1, bias=True)  # weight (1, 2), bias (1,): 3 parameters\n"
        ")\n"
        "Total parameters: 3")
    assert repr(nn.ModuleDict({"act": nn.Tanh()})) == "ModuleDict(\n  (act): Tanh()\n)\nTotal parameters: 0"


# --- ModuleDict --------------------------------------------------------------------------------

def test_moduledict_behaves_like_a_dict_in_insertion_order():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    heads = nn.ModuleDict({"b": a, "a": b})  # insertion order, not sorted
    assert list(heads) == ["b", "a"] and len(heads) == 2
    heads["c"] = c
    assert list(heads.keys()) == ["b", "a", "c"]
    assert list(heads.values()) == [a, b, c]
    assert list(heads.items()) == [("b", a), ("a", b), ("c", c)]
    assert heads["a"] is b and heads.a is b  # attribute access, as in PyTorch
    assert "c" in heads and "d" not in heads
    del heads["b"]
    assert list(heads) == ["a", "c"]
    assert heads.pop("a") is b and list(heads) == ["c"]
    heads.clear()
    assert len(heads) == 0 and list(heads.children()) == []


def test_moduledict_update_from_a_dict_pairs_or_another_moduledict():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Flatten()
    heads = nn.ModuleDict([("x", a), ["y", b]])
    heads.update({"z": c})
    heads.update(nn.ModuleDict({"x": d}))  # replaces x, which keeps its place
    assert list(heads.items()) == [("x", d), ("y", b), ("z", c)]


def test_moduledict_replacing_an_entry_keeps_its_place_in_state_dict():
    heads = nn.ModuleDict({"real": nn.Linear(2, 1), "label": nn.Linear(2, 3)})
    heads["real"] = nn.Linear(2, 1)
    assert list(heads.state_dict()) == ["real.weight", "real.bias", "label.weight", "label.bias"]


def test_moduledict_errors_name_what_was_expected_and_what_came():
    heads = nn.ModuleDict({"real": nn.ReLU(), "fake": nn.Tanh()})
    with pytest.raises(KeyError, match=r"ModuleDict has no key 'rael'; its keys are \['real', 'fake'\]"):
        heads["rael"]
    with pytest.raises(KeyError, match="no key 'x'"):
        del heads["x"]
    with pytest.raises(KeyError, match="no key 'x'"):
        heads.pop("x")
    with pytest.raises(TypeError, match="ModuleDict holds Modules, got int for key 'n'"):
        heads["n"] = 3
    with pytest.raises(TypeError, match="module name must be a string, got int"):
        heads[0] = nn.ReLU()
    with pytest.raises(KeyError, match="without '.'"):
        heads["a.b"] = nn.ReLU()
    with pytest.raises(KeyError, match="ModuleDict already has an attribute of that name"):
        heads["keys"] = nn.ReLU()  # d.keys would stop being the method, as PyTorch also refuses
    with pytest.raises(TypeError, match="mapping or an iterable of .key, module. pairs, got int"):
        heads.update(3)
    with pytest.raises(TypeError, match=r"\(key, module\) pairs, got tuple \('a',\) at position 1"):
        heads.update([("b", nn.ReLU()), ("a",)])
    with pytest.raises(TypeError, match="got str 'ab' at position 0"):
        heads.update(["ab"])
    with pytest.raises(TypeError, match="got NoneType for key 'b'"):
        heads.update({"a": nn.ReLU(), "b": None})
    with pytest.raises(KeyError, match="attribute of that name"):
        heads.update({"a": nn.ReLU(), "train": nn.ReLU()})
    assert list(heads) == ["real", "fake"]  # no failed update added anything


# --- forward hooks -------------------------------------------------------------------------------

def test_forward_hook_sees_module_args_and_output_after_forward():
    layer, seen = nn.Linear(3, 2), []
    layer.register_forward_hook(lambda module, args, output: seen.append((module, args, output)))
    x = minigan.randn(4, 3)
    y = layer(x)
    assert len(seen) == 1
    module, args, output = seen[0]
    assert module is layer and args == (x,) and output is y


def test_forward_hooks_run_in_registration_order_and_replacements_chain():
    layer, order = nn.Tanh(), []

    def first(module, args, output):
        order.append("first")
        return output * 10  # replaces the output; the next hook sees the replacement

    def second(module, args, output):
        order.append(("second", round(output.item(), 6)))

    def third(module, args, output):
        order.append("third")
        return output + 1

    handles = [layer.register_forward_hook(h) for h in (first, second, third)]
    y = layer(minigan.tensor([0.5]))
    assert order == ["first", ("second", round(10 * np.tanh(0.5), 6)), "third"]
    np.testing.assert_allclose(y.numpy(), 10 * np.tanh([0.5]) + 1, rtol=1e-6)
    handles[0].remove()
    handles[2].remove()
    np.testing.assert_allclose(layer(minigan.tensor([0.5])).numpy(), np.tanh([0.5]), rtol=1e-6)


def test_forward_hook_output_replacement_carries_the_gradient():
    layer = nn.Linear(2, 1)
    layer.register_forward_hook(lambda module, args, output: output * 3)
    layer(minigan.ones(1, 2)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), [[3.0, 3.0]])


def test_forward_hook_args_are_after_the_pre_hooks():
    layer, seen = nn.Tanh(), []
    layer.register_forward_pre_hook(lambda module, args: args[0] * 2)
    layer.register_forward_hook(lambda module, args, output: seen.append(args[0].item()))
    layer(minigan.tensor([0.25]))
    assert seen == [0.5]


def test_forward_hooks_on_children_fire_inside_the_parent_forward():
    model, seen = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)), []
    for name, child in model.named_children():
        child.register_forward_hook(lambda module, args, output, name=name: seen.append((name, output.shape)))
    model.register_forward_hook(lambda module, args, output: seen.append(("model", output.shape)))
    model(minigan.randn(4, 2))
    assert seen == [("0", (4, 3)), ("1", (4, 3)), ("2", (4, 1)), ("model", (4, 1))]


def test_a_hook_may_remove_itself_while_running():
    layer, calls = nn.Tanh(), []

    def once(module, args, output):
        calls.append("once")
        handle.remove()

    handle = layer.register_forward_hook(once)
    layer.register_forward_hook(lambda module, args, output: calls.append("always"))
    layer(minigan.ones(1))
    layer(minigan.ones(1))
    assert calls == ["once", "always", "always"]


def test_removing_is_idempotent_and_never_removes_a_later_hook():
    """Hook keys are never reused: removing the newest hook and registering another must not let
    the old handle's second remove() take the new hook away."""
    layer, calls = nn.Tanh(), []
    layer.register_forward_hook(lambda *_: calls.append("a"))
    b = layer.register_forward_hook(lambda *_: calls.append("b"))
    b.remove()
    c = layer.register_forward_hook(lambda *_: calls.append("c"))
    b.remove()
    layer(minigan.ones(1))
    assert calls == ["a", "c"] and b.id != c.id
    pre = layer.register_forward_pre_hook(lambda *_: calls.append("pre"))
    pre.remove()
    pre2 = layer.register_forward_pre_hook(lambda *_: calls.append("pre2"))
    pre.remove()
    layer(minigan.ones(1))
    assert calls == ["a", "c", "pre2", "a", "c"]
    pre2.remove()


def test_handle_as_a_context_manager_keeps_the_hook_only_inside_the_block():
    layer, calls = nn.Tanh(), []
    with layer.register_forward_hook(lambda *_: calls.append("in")):
        layer(minigan.ones(1))
    layer(minigan.ones(1))
    assert calls == ["in"] and not layer._forward_hooks


def test_a_hook_holding_its_own_handle_makes_no_reference_cycle():
    def hooked_layer():
        layer = nn.Tanh()
        handle = layer.register_forward_hook(lambda module, args, output: handle.remove())
        return weakref.ref(layer._forward_hooks)

    gc.disable()
    try:
        hooks = hooked_layer()
        assert hooks() is None  # freed by reference counting alone: nothing kept it alive
    finally:
        gc.enable()


def test_register_hook_refuses_what_is_not_callable():
    with pytest.raises(TypeError, match=r"register_forward_hook expects a function hook\(module, args, output\), got int"):
        nn.Tanh().register_forward_hook(3)
    with pytest.raises(TypeError, match=r"register_forward_pre_hook expects a function hook\(module, args\), got str"):
        nn.Tanh().register_forward_pre_hook("hook")


# --- walking the tree: apply and named_modules ----------------------------------------------------

def test_apply_visits_children_first_then_self_and_returns_self():
    seen = []
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU(), nn.Tanh()))
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]  # PyTorch's order


def test_apply_visits_a_shared_module_once_per_parent_as_pytorch_does():
    shared, seen = nn.ReLU(), []
    nn.Sequential(shared, nn.Sequential(shared)).apply(lambda m: seen.append(m))
    assert sum(m is shared for m in seen) == 2


def test_named_modules_yields_self_first_deduplicates_and_takes_a_prefix():
    shared = nn.ReLU()
    inner = nn.Sequential(shared, nn.Tanh())
    model = nn.Sequential(shared, inner, shared)
    assert [name for name, _ in model.named_modules()] == ["", "0", "1", "1.1"]
    assert [m for _, m in model.named_modules()] == [model, shared, inner, inner[1]]
    assert [name for name, _ in model.named_modules(prefix="p")] == ["p", "p.0", "p.1", "p.1.1"]
    assert list(model.modules()) == [model, shared, inner, inner[1]]


def test_named_modules_lists_a_module_shared_deeper_first_under_its_first_name():
    shared = nn.Tanh()
    model = nn.Sequential(nn.Sequential(nn.Sequential(shared)), shared)
    assert [name for name, _ in model.named_modules()] == ["", "0", "0.0", "0.0.0"]


def test_reassigning_a_child_keeps_its_place_in_state_dict():
    model = Tower()
    model.layers = nn.ModuleList([nn.Linear(4, 3)])
    assert list(model.state_dict()) == ["layers.0.weight", "layers.0.bias", "heads.real.weight",
                                        "heads.real.bias", "heads.label.weight", "heads.label.bias"]


# --- loss modules --------------------------------------------------------------------------------

def _inputs(rng):
    logits = Tensor(rng.standard_normal((4, 3)))
    soft = Tensor(rng.uniform(0, 1, (4, 3)))
    probs = Tensor(rng.uniform(0.05, 0.95, (4, 3)))
    classes = rng.integers(0, 3, 4)
    return logits, soft, probs, classes


LOSSES = [  # module class, functional op, which inputs it takes
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, lambda logits, soft, probs, classes: (logits, soft)),
    (nn.BCELoss, F.binary_cross_entropy, lambda logits, soft, probs, classes: (probs, soft)),
    (nn.MSELoss, F.mse_loss, lambda logits, soft, probs, classes: (logits, soft)),
    (nn.CrossEntropyLoss, F.cross_entropy, lambda logits, soft, probs, classes: (logits, classes)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("cls, op, pick", LOSSES, ids=[c.__name__ for c, _, _ in LOSSES])
def test_loss_modules_equal_their_functional_op(cls, op, pick, reduction):
    inputs = pick(*_inputs(np.random.default_rng(0)))
    loss = cls(reduction=reduction)
    got, want = loss(*inputs), op(*inputs, reduction=reduction)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert list(loss.parameters()) == [] and loss.state_dict() == {}


def test_loss_modules_default_to_the_mean_and_match_the_formulas():
    x, t = np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([[1.0, 0.0], [0.25, 1.0]])
    np.testing.assert_allclose(nn.MSELoss()(Tensor(x), Tensor(t)).item(), np.mean((x - t) ** 2))
    sig = 1 / (1 + np.exp(-x))
    bce = -(t * np.log(sig) + (1 - t) * np.log(1 - sig))
    np.testing.assert_allclose(nn.BCEWithLogitsLoss()(Tensor(x), Tensor(t)).item(), bce.mean())
    np.testing.assert_allclose(nn.BCELoss(reduction="sum")(Tensor(sig), Tensor(t)).item(), bce.sum())
    log_softmax = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(Tensor(x), np.array([1, 0])).numpy(),
                               -log_softmax[[0, 1], [1, 0]])


def test_loss_module_reduction_is_checked_when_the_loss_is_made():
    for bad in ("avg", "Mean", None, 0):
        with pytest.raises(ValueError, match=rf"MSELoss: reduction must be 'mean', 'sum' or 'none', got {bad!r}"):
            nn.MSELoss(reduction=bad)
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be"):
        nn.CrossEntropyLoss("sums")


def test_loss_modules_refuse_pytorch_arguments_that_the_functions_do_not_support():
    with pytest.raises(TypeError, match="pos_weight"):
        nn.BCEWithLogitsLoss(pos_weight=minigan.ones(1))
    with pytest.raises(TypeError, match="weight"):
        nn.BCELoss(weight=minigan.ones(1))
    with pytest.raises(TypeError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=0.1)


def test_loss_modules_pass_on_the_functions_errors():
    with pytest.raises(minigan.autograd.ShapeError, match=r"input has shape \(4, 1\) but target has shape \(4,\)"):
        nn.BCEWithLogitsLoss()(minigan.zeros(4, 1), minigan.zeros(4))


def test_loss_module_repr_like_pytorch_with_a_non_default_reduction_shown():
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.BCEWithLogitsLoss()) == "BCEWithLogitsLoss()"
    assert repr(nn.BCELoss(reduction="none")) == "BCELoss(reduction='none')"
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"


def test_a_gan_step_written_the_pytorch_way_runs():
    """criterion = nn.BCEWithLogitsLoss(); D's loss on real and fake; backward reaches D."""
    D = nn.Sequential(nn.Linear(2, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    criterion = nn.BCEWithLogitsLoss()
    real, fake = minigan.randn(3, 2), minigan.randn(3, 2)
    loss = criterion(D(real), minigan.ones(3, 1)) + criterion(D(fake), minigan.zeros(3, 1))
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in D.parameters())
