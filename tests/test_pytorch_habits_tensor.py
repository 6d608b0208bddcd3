"""PyTorch habits that work on minigan's Tensor (issue 10, items 1-3).

* ``dim=`` and ``keepdim=`` are accepted wherever PyTorch spells them so, as aliases of NumPy's
  ``axis=`` and ``keepdims=``: both spellings give the same result, and passing both is an error.
* ``x.size`` is an int (NumPy) that can be called (PyTorch): ``x.size()``, ``x.size(1)``.
* In-place arithmetic under ``no_grad()`` (``W -= lr * W.grad``) changes W's own array and keeps W
  a leaf that requires grad; ``requires_grad_()``, ``zero_()`` and ``fill_()`` exist.
"""
import copy
import inspect
import pickle

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import Tensor


def _x(*shape, requires_grad=False):
    return minigan.randn(*shape, requires_grad=requires_grad)


def _same(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# --- item 1: dim= and keepdim= ------------------------------------------------------------------

# (name, the call with NumPy's names, the same call with PyTorch's)
DIM_CASES = [
    ("F.sum", lambda x: F.sum(x, axis=1), lambda x: F.sum(x, dim=1)),
    ("F.sum keepdim", lambda x: F.sum(x, axis=(0, 2), keepdims=True), lambda x: F.sum(x, dim=(0, 2), keepdim=True)),
    ("F.mean", lambda x: F.mean(x, axis=-1, keepdims=True), lambda x: F.mean(x, dim=-1, keepdim=True)),
    ("F.max", lambda x: F.max(x, axis=0), lambda x: F.max(x, dim=0)),
    ("F.min", lambda x: F.min(x, axis=2, keepdims=True), lambda x: F.min(x, dim=2, keepdim=True)),
    ("F.var", lambda x: F.var(x, axis=1, keepdims=True, ddof=1), lambda x: F.var(x, dim=1, keepdim=True, ddof=1)),
    ("F.softmax", lambda x: F.softmax(x, axis=1), lambda x: F.softmax(x, dim=1)),
    ("F.log_softmax", lambda x: F.log_softmax(x, axis=0), lambda x: F.log_softmax(x, dim=0)),
    ("F.cat", lambda x: F.cat([x, 2 * x], axis=2), lambda x: F.cat([x, 2 * x], dim=2)),
    ("F.concatenate", lambda x: F.concatenate([x, x], axis=-2), lambda x: F.concatenate([x, x], dim=-2)),
    ("F.stack", lambda x: F.stack([x, x + 1], axis=1), lambda x: F.stack([x, x + 1], dim=1)),
    ("F.squeeze", lambda x: F.squeeze(x[:, :1], axis=1), lambda x: F.squeeze(x[:, :1], dim=1)),
    ("F.unsqueeze", lambda x: F.unsqueeze(x, axis=-1), lambda x: F.unsqueeze(x, dim=-1)),
    ("x.sum", lambda x: x.sum(axis=1, keepdims=True), lambda x: x.sum(dim=1, keepdim=True)),
    ("x.mean", lambda x: x.mean(axis=0), lambda x: x.mean(dim=0)),
    ("x.max", lambda x: x.max(axis=1), lambda x: x.max(dim=1)),
    ("x.min", lambda x: x.min(axis=1, keepdims=True), lambda x: x.min(dim=1, keepdim=True)),
    ("x.var", lambda x: x.var(axis=2), lambda x: x.var(dim=2)),
    ("x.softmax", lambda x: x.softmax(axis=0), lambda x: x.softmax(dim=0)),
    ("x.log_softmax", lambda x: x.log_softmax(axis=2), lambda x: x.log_softmax(dim=2)),
    ("x.squeeze", lambda x: x[:1].squeeze(axis=0), lambda x: x[:1].squeeze(dim=0)),
    ("x.unsqueeze", lambda x: x.unsqueeze(axis=1), lambda x: x.unsqueeze(dim=1)),
]


@pytest.mark.parametrize("name, numpy_call, torch_call", DIM_CASES, ids=[c[0] for c in DIM_CASES])
def test_dim_gives_what_axis_gives(name, numpy_call, torch_call):
    """Each op gives the same values, and the same gradient, under either spelling."""
    x = _x(2, 3, 4, requires_grad=True)
    by_axis, by_dim = numpy_call(x), torch_call(x)
    _same(by_axis, by_dim)
    g_axis, = minigan.grad((by_axis * by_axis).sum(), x)
    g_dim, = minigan.grad((by_dim * by_dim).sum(), x)
    _same(g_axis, g_dim)


def test_dim_really_selects_the_axis():
    """Not a no-op alias: dim=0 and dim=1 differ, and match NumPy's axis=0 and axis=1."""
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = minigan.tensor(values)
    np.testing.assert_array_equal(x.sum(dim=0).numpy(), values.sum(axis=0))
    np.testing.assert_array_equal(x.sum(dim=1).numpy(), values.sum(axis=1))
    assert x.sum(dim=1, keepdim=True).shape == (2, 1)
    assert F.softmax(x, dim=0).numpy().sum(axis=0) == pytest.approx([1, 1, 1])
    assert F.cat([x, x], dim=1).shape == (2, 6)
    assert F.stack([x, x], dim=2).shape == (2, 3, 2)


BOTH_GIVEN = [
    ("sum", lambda x: F.sum(x, axis=1, dim=1), "axis=1 and dim=1"),
    ("mean", lambda x: x.mean(0, dim=1), "axis=0 and dim=1"),
    ("max", lambda x: F.max(x, axis=0, dim=0), "axis=0 and dim=0"),
    ("min", lambda x: x.min(axis=1, dim=0), "axis=1 and dim=0"),
    ("var", lambda x: F.var(x, axis=1, dim=1), "axis=1 and dim=1"),
    ("softmax", lambda x: F.softmax(x, axis=-1, dim=0), "axis=-1 and dim=0"),  # axis equal to its default
    ("log_softmax", lambda x: F.log_softmax(x, 1, dim=1), "axis=1 and dim=1"),
    ("concatenate", lambda x: F.cat([x, x], axis=0, dim=1), "axis=0 and dim=1"),
    ("stack", lambda x: F.stack([x, x], 0, dim=0), "axis=0 and dim=0"),
    ("squeeze", lambda x: F.squeeze(x, axis=0, dim=0), "axis=0 and dim=0"),
    ("unsqueeze", lambda x: x.unsqueeze(0, dim=0), "axis=0 and dim=0"),
    ("sum", lambda x: x.sum(1, True, keepdim=True), "keepdims=True and keepdim=True"),
    ("mean", lambda x: F.mean(x, keepdims=False, keepdim=True), "keepdims=False and keepdim=True"),
    ("max", lambda x: F.max(x, dim=1, keepdims=True, keepdim=False), "keepdims=True and keepdim=False"),
    ("var", lambda x: x.var(keepdims=True, keepdim=True), "keepdims=True and keepdim=True"),
]


@pytest.mark.parametrize("op, call, both", BOTH_GIVEN, ids=[f"{c[0]}-{c[2]}" for c in BOTH_GIVEN])
def test_passing_both_spellings_is_an_error_naming_both(op, call, both):
    with pytest.raises(TypeError, match=rf"{op}\(\) got both {both}; .* PyTorch's name"):
        call(_x(2, 3))


def test_an_alias_left_at_none_counts_as_not_given():
    x = _x(2, 3)
    _same(x.sum(axis=1, dim=None), x.sum(axis=1))
    _same(x.sum(axis=None, dim=1), x.sum(axis=1))
    _same(x.mean(keepdims=True, keepdim=None), x.mean(keepdims=True))


def test_signatures_show_the_real_defaults():
    """help(F.softmax) reads ``axis=-1``, not the marker object behind it."""
    assert str(inspect.signature(F.softmax)) == "(x, axis=-1, *, dim=None)"
    assert str(inspect.signature(F.sum)) == "(x, axis=None, keepdims=False, *, dim=None, keepdim=None)"
    assert str(inspect.signature(F.cat)) == "(xs, axis=0, *, dim=None)"


def test_unsqueeze_needs_a_position_and_checks_its_range():
    x = _x(2, 3)
    with pytest.raises(TypeError, match=r"unsqueeze\(\) needs the position of the new axis: axis=.*dim="):
        F.unsqueeze(x)
    assert x.unsqueeze(2).shape == (2, 3, 1)
    assert x.unsqueeze(-3).shape == (1, 2, 3)
    with pytest.raises(IndexError, match=r"unsqueeze: axis \(dim\) 3 is out of range; expected -3 <= axis < 3"):
        x.unsqueeze(dim=3)  # used to wrap around silently to position 0
    with pytest.raises(IndexError, match=r"squeeze: axis \(dim\) -3 is out of range; expected -2 <= axis < 2"):
        x.squeeze(dim=-3)


def test_squeeze_keeps_an_axis_whose_length_is_not_one():
    """As in PyTorch: squeeze(dim=d) on an axis of length > 1 leaves the tensor as it is."""
    x = _x(2, 1, 3)
    assert x.squeeze(dim=0).shape == (2, 1, 3)
    assert x.squeeze(dim=1).shape == (2, 3)
    assert x.squeeze(dim=(0, 1)).shape == (2, 3)


# --- item 2: x.size, x.size(), x.size(d) --------------------------------------------------------

def test_size_is_still_numpys_element_count():
    x = _x(3, 4)
    assert x.size == 12
    assert isinstance(x.size, int)
    assert x.size * 2 == 24 and type(x.size * 2) is int
    assert len(range(x.size)) == 12
    assert f"{x.size}" == "12" and repr(x.size) == "12" and str(x.size) == "12"
    assert np.empty(x.size).shape == (12,)
    assert sum(t.size for t in (x, _x(5))) == 17
    assert minigan.tensor(2.0).size == 1


def test_size_called_gives_the_shape_or_one_dimension():
    x = _x(3, 4, 5)
    assert x.size() == (3, 4, 5)
    assert isinstance(x.size(), tuple)
    assert x.size() == x.shape
    assert [x.size(0), x.size(1), x.size(2)] == [3, 4, 5]
    assert [x.size(-1), x.size(-3)] == [5, 3]
    assert x.size(np.int64(1)) == 4
    assert x.size(dim=1) == 4
    assert minigan.tensor(2.0).size() == ()


@pytest.mark.parametrize("dim", [3, -4, 10])
def test_size_of_a_missing_dimension_names_ndim(dim):
    with pytest.raises(IndexError, match=rf"size\({dim}\): dimension {dim} is out of range for a tensor "
                                         r"with ndim 3 \(shape \(3, 4, 5\)\); expected -3 <= dim < 3"):
        _x(3, 4, 5).size(dim)


def test_size_of_a_0d_tensor_has_no_dimensions_and_dim_must_be_an_int():
    with pytest.raises(IndexError, match=r"ndim 0 .* a 0-d tensor has no dimensions"):
        minigan.tensor(2.0).size(0)
    with pytest.raises(TypeError, match=r"size\(dim\): dim must be an int, got float 1.0"):
        _x(3, 4).size(1.0)


def test_size_copies_and_pickles_as_a_plain_int():
    size = _x(3, 4).size
    for copied in (copy.copy(size), copy.deepcopy(size), pickle.loads(pickle.dumps(size))):
        assert copied == 12 and type(copied) is int


# --- item 3: in-place arithmetic ----------------------------------------------------------------

def _loss(W, x):
    return ((x @ W).tanh() ** 2).sum()


def test_sgd_step_under_no_grad_keeps_W_a_leaf_that_requires_grad():
    """The issue's example: ``W -= lr * W.grad`` under no_grad, then another backward."""
    x = _x(4, 3)
    W = _x(3, 2, requires_grad=True)
    before, version, same_W = W.numpy().copy(), W._version, W
    _loss(W, x).backward()
    g, lr = W.grad.numpy().copy(), 0.1
    with minigan.no_grad():
        W -= lr * W.grad
    assert W is same_W                       # the same tensor, changed in place
    assert W.requires_grad and W.is_leaf and W.creator is None
    assert W.dtype == np.float32
    assert W._version == version + 1
    np.testing.assert_allclose(W.numpy(), before - lr * g, rtol=1e-6)
    # the next step works, and gives what a fresh tensor with these values gives
    W.grad = None
    _loss(W, x).backward()
    fresh = minigan.tensor(W.numpy(), requires_grad=True)
    _loss(fresh, x).backward()
    _same(W.grad, fresh.grad)


def test_an_update_loop_over_a_models_parameters_keeps_them():
    model = minigan.nn.Linear(3, 2)
    params = list(model.parameters())
    F.mse_loss(model(_x(5, 3)), _x(5, 2)).backward()
    with minigan.no_grad():
        for p in model.parameters():
            p -= 0.01 * p.grad
            p *= 0.5
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(isinstance(p, minigan.nn.Parameter) and p.requires_grad and p.is_leaf for p in params)


@pytest.mark.parametrize("update, symbol", [
    (lambda W: W.__iadd__(1.0), r"\+="), (lambda W: W.__isub__(1.0), "-="), (lambda W: W.__imul__(2.0), r"\*="),
    (lambda W: W.__itruediv__(2.0), "/="), (lambda W: W.__ipow__(2), r"\*\*="),
])
def test_a_leaf_that_requires_grad_refuses_in_place_arithmetic_with_grad_on(update, symbol):
    W = _x(3, requires_grad=True)
    before = W.numpy().copy()
    with pytest.raises(RuntimeError, match=rf"a leaf Variable that requires grad is being used in an "
                                           rf"in-place operation \(x {symbol} y\).*minigan.no_grad\(\)"):
        update(W)
    np.testing.assert_array_equal(W.numpy(), before)
    assert W._version == 0


@pytest.mark.parametrize("update, expected", [
    (lambda x: x.__iadd__(1.5), [2.5, 3.5]), (lambda x: x.__isub__(1.5), [-0.5, 0.5]),
    (lambda x: x.__imul__(3), [3.0, 6.0]), (lambda x: x.__itruediv__(2), [0.5, 1.0]),
    (lambda x: x.__ipow__(2), [1.0, 4.0]),
])
def test_in_place_without_requires_grad_writes_into_the_tensor(update, expected):
    x = minigan.tensor([1.0, 2.0])
    alias = x
    array = x.data
    assert update(x) is x
    assert alias.tolist() == expected                # every reference sees the change
    assert x.data is array and x.dtype == np.float32  # the same array, float32 kept
    assert x._version == 1


def test_in_place_broadcasts_the_other_operand_but_never_grows_the_tensor():
    x = minigan.zeros(2, 3)
    x += minigan.tensor([1.0, 2.0, 3.0])
    assert x.tolist() == [[1, 2, 3], [1, 2, 3]]
    small = minigan.zeros(3)
    with pytest.raises(ValueError, match=r"x \+= y: the result has shape \(2, 3\) but the tensor changed in "
                                         r"place has shape \(3,\).*x = x \+ y"):
        small += minigan.ones(2, 3)
    assert small.tolist() == [0, 0, 0] and small._version == 0


def test_in_place_keeps_the_dtype_and_refuses_what_it_cannot_hold():
    counts = minigan.tensor([1, 2, 3])
    counts += 2
    assert counts.dtype == np.int64 and counts.tolist() == [3, 4, 5]
    halves = minigan.zeros(2)
    halves += np.array([1, 2])  # an integer array takes the float tensor's dtype
    assert halves.dtype == np.float32
    with pytest.raises(TypeError, match=r"x \+= y: the result has dtype float32, which cannot be stored in "
                                        r"place in a tensor of dtype int64"):
        counts += 1.5
    with pytest.raises(TypeError, match=r"float32 and float64"):  # no silent float64 either
        halves += minigan.zeros(2, dtype=np.float64)
    assert counts.tolist() == [3, 4, 5]


def test_in_place_on_a_read_only_view_is_refused():
    view = F.broadcast_to(minigan.ones(3), (2, 3))
    with pytest.raises(RuntimeError, match=r"x \+= y: this tensor's array is a read-only view"):
        view += 1


def test_in_place_with_grad_on_and_a_graph_gives_a_new_tensor_as_x_eq_x_plus_y():
    """A non-leaf (or an operand that requires grad): minigan's documented difference from
    PyTorch, the result is new and recorded, exactly what ``y = y + 1`` gives."""
    W = _x(3, requires_grad=True)
    y = W * 2
    old = y
    y += 1
    assert y is not old and y.creator is not None
    np.testing.assert_allclose(y.numpy(), old.numpy() + 1)
    assert old._version == 0
    y *= y
    y.sum().backward()
    np.testing.assert_allclose(W.grad.numpy(), 2 * (2 * W.numpy() + 1) * 2, rtol=1e-6)
    # a plain tensor meeting one that requires grad: a new tensor in the graph as well
    z = minigan.zeros(3)
    plain = z
    z += W
    assert z is not plain and z.requires_grad and plain.tolist() == [0, 0, 0]


def test_in_place_under_no_grad_on_a_non_leaf_writes_into_it():
    W = _x(3, requires_grad=True)
    y = W * 2
    creator = y.creator
    with minigan.no_grad():
        same = y
        y += 1
    assert y is same and y.creator is creator and y._version == 1
    np.testing.assert_allclose(y.numpy(), 2 * W.numpy() + 1)


def test_a_tensor_saved_by_a_graph_then_changed_in_place_stops_its_backward():
    """The version counter: the graph saw the old values, so its gradient would be wrong."""
    W = _x(3, requires_grad=True)
    x = _x(3)
    loss = (W * x).sum()  # MulOp saves both
    with minigan.no_grad():
        W -= 0.1
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: input 0 of MulOp.*"
                                           r"is at version 1; expected version 0"):
        loss.backward()
    # the same for the other operand, changed with grad mode on (it does not require grad)
    loss = (W * x).sum()
    x *= 2
    with pytest.raises(RuntimeError, match=r"input 1 of MulOp.*version 1; expected version 0"):
        loss.backward()


# --- item 4: requires_grad_(), zero_(), fill_() -------------------------------------------------

def test_requires_grad_underscore_sets_the_flag_and_returns_self():
    x = minigan.randn(2, 3)
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad
    y = minigan.randn(2).requires_grad_() * 2
    assert y.requires_grad_(True) is y  # a computed tensor already requires grad: fine
    with pytest.raises(RuntimeError, match=r"you can only change requires_grad flags of leaf variables.*"
                                           r"MulOp.*\.detach\(\)"):
        y.requires_grad_(False)
    with pytest.raises(TypeError, match=r"only floating-point tensors can require gradients, got dtype int64"):
        minigan.tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError, match=r"requires_grad_\(\) takes True or False, got 'yes'"):
        x.requires_grad_("yes")


def test_zero_and_fill_change_the_tensor_in_place_and_return_it():
    x = minigan.randn(2, 3)
    array = x.data
    assert x.fill_(2.5) is x and x.tolist() == [[2.5] * 3] * 2
    assert x.data is array and x._version == 1
    assert x.zero_() is x and x.tolist() == [[0.0] * 3] * 2
    assert x._version == 2
    assert x.fill_(minigan.tensor(4.0)).tolist() == [[4.0] * 3] * 2
    counts = minigan.tensor([1, 2, 3])
    assert counts.fill_(1.7).tolist() == [1, 1, 1] and counts.dtype == np.int64  # as in PyTorch


def test_zero_and_fill_on_a_parameter_need_no_grad_as_in_pytorch():
    W = _x(3, requires_grad=True)
    for call, name in ((lambda: W.zero_(), r"zero_\(\)"), (lambda: W.fill_(1.0), r"fill_\(\)")):
        with pytest.raises(RuntimeError, match=rf"a leaf Variable that requires grad is being used in an "
                                               rf"in-place operation \({name}\).*no_grad"):
            call()
    assert W._version == 0
    with minigan.no_grad():
        assert W.zero_() is W
    assert W.tolist() == [0, 0, 0] and W.requires_grad and W.is_leaf and W._version == 1


def test_zero_a_gradient_and_refuse_to_fill_a_recorded_tensor():
    W = _x(3, requires_grad=True)
    (W * W).sum().backward()
    W.grad.zero_()  # a PyTorch habit: .grad is a plain tensor
    assert W.grad.tolist() == [0, 0, 0]
    y = W * 2
    with pytest.raises(RuntimeError, match=r"fill_\(\) on a tensor computed by MulOp, while grad mode is on: "
                                           r"minigan does not record in-place ops"):
        y.fill_(0)


def test_fill_takes_a_number_or_a_0d_tensor():
    x = minigan.zeros(3)
    with pytest.raises(TypeError, match=r"fill_\(\) takes a number or a 0-d tensor, got list"):
        x.fill_([1, 2, 3])
    with pytest.raises(ValueError, match=r"fill_\(\) takes a number or a 0-d tensor, got a tensor of shape \(3,\)"):
        x.fill_(minigan.ones(3))
    assert x._version == 0


def test_tensor_methods_are_documented():
    for method in (Tensor.requires_grad_, Tensor.zero_, Tensor.fill_, Tensor.__iadd__, Tensor.__itruediv__):
        assert method.__doc__ and "in place" in method.__doc__.replace("in-place", "in place")
    assert "x.size()" in Tensor.size.__doc__ and "x.size()" in Tensor.__doc__


def test_transpose_with_two_dims_swaps_them_as_in_pytorch():
    x = minigan.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert np.array_equal(x.transpose(-1, 1).data, x.data.swapaxes(-1, 1))
    m = minigan.tensor(np.arange(6.0).reshape(2, 3))
    assert np.array_equal(m.transpose(0, 1).data, m.data.T)  # NumPy would keep the order here
    assert np.array_equal(m.transpose(1, 0).data, m.data.T)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)             # three axes: NumPy's permutation
    assert x.transpose((1, 0, 2)).shape == (3, 2, 4)
    assert x.transpose().shape == (4, 3, 2)
    with pytest.raises(IndexError, match=r"dimension 3 is out of range .*\(2, 3, 4\)"):
        x.transpose(0, 3)


def test_transpose_with_two_dims_passes_the_gradient_back():
    x = minigan.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)), requires_grad=True)
    g = np.random.default_rng(1).standard_normal((4, 3, 2))
    (x.transpose(0, 2) * minigan.tensor(g)).sum().backward()
    assert np.array_equal(x.grad.data, g.swapaxes(0, 2))


def test_argmax_and_argmin_take_dim_and_give_int64_indices_without_grad():
    data = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    x = minigan.tensor(data, requires_grad=True)
    assert np.array_equal(x.argmax(dim=1).data, [1, 0])           # the first of the tied 7s
    assert np.array_equal(F.argmin(x, axis=0).data, [0, 1, 0])
    assert x.argmax(dim=1, keepdim=True).shape == (2, 1)
    assert int(x.argmax().data) == 3                               # over the flattened tensor
    assert x.argmax(dim=1).dtype == np.int64 and not x.argmax(dim=1).requires_grad
    with pytest.raises(TypeError, match="both"):
        x.argmax(axis=1, dim=1)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        x.argmax(dim=2)
    with pytest.raises(ValueError, match="empty"):
        F.argmax(minigan.zeros(0))
