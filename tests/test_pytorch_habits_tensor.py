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
