"""The errors and warnings a learner meets, and what they say.

An error is only useful if its message says what went wrong and where: which op, which shapes,
which value. Every test here checks the message as well as the exception type.
"""
import re
import warnings

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import ShapeError


def shapes_pattern(*shapes):
    """A regex matching the shapes in the order given, anything in between."""
    return ".*".join(re.escape(str(s)) for s in shapes)


# --- shapes ----------------------------------------------------------------------------------------

def test_broadcasting_mismatch_names_the_op_and_both_shapes():
    """(2, 3) + (4,) cannot broadcast: ShapeError naming Add and both shapes."""
    a, b = minigan.zeros(2, 3), minigan.zeros(4)
    with pytest.raises(ShapeError, match=r"^Add.*" + shapes_pattern((2, 3), (4,))):
        a + b


@pytest.mark.parametrize("op, name", [(F.sub, "Sub"), (F.mul, "Mul"), (F.div, "Div"),
                                      (F.maximum, "Maximum")])
def test_other_broadcasting_ops_name_themselves(op, name):
    """Every broadcasting op reports its own name, not a generic NumPy error."""
    with pytest.raises(ShapeError, match=f"^{name}.*" + shapes_pattern((3, 2), (3,))):
        op(minigan.ones(3, 2), minigan.ones(3))


def test_shape_error_is_a_value_error():
    """ShapeError subclasses ValueError, so ``except ValueError`` code keeps working."""
    assert issubclass(ShapeError, ValueError)


def test_matmul_mismatch_names_both_shapes():
    """(2, 3) @ (4, 5): the error names both shapes and the axes that must agree."""
    with pytest.raises(ValueError, match=r"matmul.*" + shapes_pattern((2, 3), (4, 5))) as info:
        minigan.zeros(2, 3) @ minigan.zeros(4, 5)
    assert "(3)" in str(info.value) and "(4)" in str(info.value)


def test_matmul_with_a_vector_mismatch():
    """A 1-D right operand must match the last axis of the left one."""
    with pytest.raises(ValueError, match=shapes_pattern((2, 3), (4,))):
        F.matmul(minigan.zeros(2, 3), minigan.zeros(4))


def test_matmul_of_a_scalar_suggests_star():
    """``@`` with a 0-d tensor is refused with a pointer to ``*``."""
    with pytest.raises(ValueError, match=r"use \* for multiplying by a scalar"):
        F.matmul(minigan.tensor(2.0), minigan.ones(2, 2))


def test_linear_with_wrong_in_features():
    """A (4, 5) input into a layer expecting 6 features names the shapes and in_features."""
    x, W = minigan.zeros(4, 5), minigan.zeros(3, 6)
    with pytest.raises(ValueError, match=shapes_pattern((4, 5), (3, 6)) + r".*in_features = 6"):
        F.linear(x, W)


def test_linear_with_wrong_bias_shape():
    """A bias must have one entry per output feature."""
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\).*got \(4,\)"):
        F.linear(minigan.zeros(4, 6), minigan.zeros(3, 6), minigan.zeros(4))


@pytest.mark.parametrize("loss", [F.binary_cross_entropy_with_logits, F.binary_cross_entropy,
                                  F.mse_loss],
                         ids=["bce_with_logits", "bce", "mse"])
def test_losses_refuse_mismatched_shapes(loss):
    """Logits of shape (N, 1) against targets of shape (N,) raise ShapeError naming both.

    Why not broadcast, as NumPy would? (N, 1) against (N,) broadcasts to (N, N): every output
    is compared with every target, the loss is a finite number, training runs, and the GAN
    quietly learns nothing. It is a classic bug, so losses insist on equal shapes.
    """
    n = 8
    probs = minigan.rand(n, 1)  # valid probabilities, so only the shape is wrong
    targets = minigan.ones(n)
    with pytest.raises(ShapeError, match=shapes_pattern((n, 1), (n,))) as info:
        loss(probs, targets)
    assert loss.__name__ in str(info.value)


def test_reshape_to_an_impossible_shape():
    """Reshaping 3 elements into 4 is a ShapeError naming Reshape and the input shape."""
    with pytest.raises(ShapeError, match=r"^Reshape.*" + re.escape("(3,)")):
        minigan.zeros(3).reshape(4)


# --- dtypes ----------------------------------------------------------------------------------------

def test_int_tensor_cannot_require_grad():
    """Gradients need floats: int tensors asking for them raise TypeError with the fix."""
    pattern = r"only floating-point tensors can require gradients.*int64"
    with pytest.raises(TypeError, match=pattern):
        minigan.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match=pattern):
        minigan.Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match=pattern):
        minigan.zeros(3, dtype=np.int64, requires_grad=True)
    x = minigan.tensor([1, 2, 3])
    with pytest.raises(TypeError, match=r"dtype='float32'"):
        x.requires_grad = True
    assert minigan.tensor([1, 2, 3], dtype="float32", requires_grad=True).requires_grad


def test_requires_grad_cannot_be_turned_off_inside_the_graph():
    """Turning off requires_grad on an op's output is refused, pointing at detach()."""
    y = minigan.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"\.detach\(\)"):
        y.requires_grad = False


def test_gradcheck_wants_float64():
    """gradcheck on float32 inputs explains that finite differences need float64."""
    x = minigan.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match=r"float32.*float64.*\.double\(\)"):
        minigan.gradcheck(F.exp, [x])


# --- numerical danger: log(0) and binary cross-entropy ---------------------------------------------

def test_log_of_zero_warns_and_suggests_logits():
    """log(0) gives -inf, which poisons a loss: minigan warns and points to the logits form.
    The warning points at the caller's line, and NumPy's own vaguer warning is silenced."""
    x = minigan.tensor([0.0, 1.0, 2.0])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        y = F.log(x)
    assert len(record) == 1
    warning = record[0]
    assert issubclass(warning.category, RuntimeWarning)
    assert "binary_cross_entropy_with_logits" in str(warning.message)
    assert "1 value(s) <= 0" in str(warning.message)
    assert warning.filename == __file__
    assert y.data[0] == -np.inf
    np.testing.assert_allclose(y.data[1:], np.log([1.0, 2.0]))


def test_log_of_positive_values_does_not_warn():
    """No warning when every value is positive."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.log(minigan.tensor([0.5, 1.0, 3.0]))


def test_bce_on_exact_zero_and_one_warns_and_clamps():
    """Probabilities of exactly 0 or 1 make log(0): the warning suggests the logits form and
    each log is clamped at -100, so a confidently wrong prediction costs 100 (as in PyTorch)."""
    probs = minigan.tensor([0.0, 1.0], requires_grad=True)
    targets = minigan.tensor([1.0, 0.0])  # both predictions completely wrong
    with pytest.warns(RuntimeWarning, match="binary_cross_entropy_with_logits") as record:
        loss = F.binary_cross_entropy(probs, targets, reduction="none")
    assert record[0].filename == __file__
    np.testing.assert_array_equal(loss.data, [100.0, 100.0])
    with pytest.warns(RuntimeWarning):
        mean = F.binary_cross_entropy(probs, targets)
    assert mean.item() == 100.0
    mean.backward()
    assert np.all(np.isfinite(probs.grad.data))


def test_bce_on_exact_zero_and_one_when_right_is_zero_not_nan():
    """Confidently right predictions cost 0, not NaN (0 * log 0 would be NaN without the clamp)."""
    with pytest.warns(RuntimeWarning):
        loss = F.binary_cross_entropy(minigan.tensor([0.0, 1.0]), minigan.tensor([0.0, 1.0]),
                                      reduction="none")
    np.testing.assert_array_equal(loss.data, [0.0, 0.0])


@pytest.mark.parametrize("bad", [1.5, -0.25])
def test_bce_outside_zero_one_raises(bad):
    """BCE of values outside [0, 1] (usually logits passed by mistake) is a ValueError that
    shows the range found and names the logits form."""
    probs = minigan.tensor([0.5, bad])
    with pytest.raises(ValueError, match=r"probability in \[0, 1\]") as info:
        F.binary_cross_entropy(probs, minigan.tensor([1.0, 0.0]))
    message = str(info.value)
    assert f"{bad:.4g}" in message
    assert "binary_cross_entropy_with_logits" in message


# --- wrong argument types --------------------------------------------------------------------------

@pytest.mark.parametrize("bad, shown", [("abc", "str"), (None, "NoneType"), ({"a": 1}, "dict")])
def test_op_on_a_non_number_names_its_type(bad, shown):
    """An op given something that is not a tensor, array or number says what it got."""
    with pytest.raises(TypeError, match=rf"expected a Tensor, an array or a number, got {shown}"):
        F.exp(bad)


def test_adding_a_string_names_its_type():
    """``x + "a"`` is a TypeError naming str, not a NumPy casting error."""
    x = minigan.ones(3)
    with pytest.raises(TypeError, match=r"got str"):
        x + "a"
    with pytest.raises(TypeError, match=r"got str"):
        "a" + x


def test_tensor_of_an_object_names_it():
    """``minigan.tensor(object())`` refuses, showing the object it was given."""
    with pytest.raises(TypeError, match=r"tensor\(\) needs numbers.*got <object object"):
        minigan.tensor(object())
    with pytest.raises(TypeError, match=r"got None"):
        minigan.tensor(None)
    with pytest.raises(TypeError, match=r"Tensor needs numbers.*got <object object"):
        minigan.Tensor(object())


@pytest.mark.parametrize("bad", ["abc", [1.0, "a"]], ids=["string", "list with a string"])
def test_tensor_of_strings_is_refused(bad):
    """Strings are not numbers: ``minigan.tensor`` must refuse them like other non-numbers,
    instead of making a string tensor that fails later with a NumPy casting error."""
    with pytest.raises(TypeError, match=r"tensor\(\) needs numbers"):
        minigan.tensor(bad)


def test_manual_seed_needs_a_non_negative_int():
    """Seeds must be non-negative ints; other values raise TypeError showing the value."""
    for bad in (-1, "x", 1.5, True, None):
        with pytest.raises(TypeError, match=r"non-negative int, got " + re.escape(repr(bad))):
            minigan.manual_seed(bad)


# --- arguments out of range ------------------------------------------------------------------------

@pytest.mark.parametrize("reduce, axis", [(F.sum, 2), (F.mean, -3), (F.max, 5), (F.min, (0, 2)),
                                          (F.var, 7)])
def test_reduction_axis_out_of_range(reduce, axis):
    """Reducing over an axis the tensor does not have names the op, the axis and the ndim."""
    x = minigan.ones(2, 3)
    with pytest.raises(ValueError, match=rf"{reduce.__name__}: axis {re.escape(str(axis))} is out of range"
                                         r" for a tensor with 2 axes"):
        reduce(x, axis=axis)


@pytest.mark.parametrize("loss", [F.binary_cross_entropy_with_logits, F.binary_cross_entropy,
                                  F.mse_loss],
                         ids=["bce_with_logits", "bce", "mse"])
def test_invalid_reduction_string(loss):
    """``reduction=`` must be 'mean', 'sum' or 'none'; the error lists them and the bad value."""
    p = minigan.tensor([0.25, 0.75])
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        loss(p, minigan.tensor([0.0, 1.0]), reduction="avg")


@pytest.mark.parametrize("axes", [(0, 0), (0, 1, 2), (1,)])
def test_transpose_with_a_bad_permutation(axes):
    """transpose axes must name each axis exactly once; the error shows them and the shape."""
    x = minigan.ones(2, 3)
    with pytest.raises(ValueError, match=re.escape(f"axes {axes} are not a permutation")
                       + r".*" + re.escape("(2, 3)")):
        F.transpose(x, axes)


def test_stack_of_different_shapes():
    """stack needs one shape; the error lists the shapes it got."""
    with pytest.raises(ValueError, match=shapes_pattern((2,), (3,))):
        F.stack([minigan.zeros(2), minigan.zeros(3)])


def test_pad_with_an_odd_number_of_widths():
    """PyTorch-style pad comes in (before, after) pairs, so an odd count is refused."""
    with pytest.raises(ValueError, match=r"even number of widths.*\(1, 2, 3\)"):
        F.pad(minigan.ones(2, 3), (1, 2, 3))


def test_pad_with_negative_widths():
    """Negative padding is refused (use slicing to crop)."""
    with pytest.raises(ValueError, match=r"non-negative"):
        F.pad(minigan.ones(2, 3), (1, -1))


def test_clip_needs_a_bound():
    """clip with neither min nor max is almost certainly a mistake."""
    with pytest.raises(ValueError, match=r"at least one of min and max"):
        F.clip(minigan.ones(2))


# --- backward ----------------------------------------------------------------------------------------

def test_backward_of_a_non_scalar_needs_a_gradient():
    """backward() on a vector needs an upstream gradient; the message suggests .sum()/.mean()."""
    y = minigan.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=re.escape("shape (3,)") + r".*\.sum\(\)"):
        y.backward()


def test_backward_without_requires_grad():
    """backward() through tensors that never required grad explains why nothing can flow."""
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        (minigan.ones(3) * 2).sum().backward()


def test_backward_under_no_grad():
    """A loss computed under no_grad() has no graph to walk back through."""
    x = minigan.ones(3, requires_grad=True)
    with minigan.no_grad():
        loss = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"no_grad\(\)"):
        loss.backward()


def test_grad_of_an_unused_input():
    """minigan.grad with an input the output does not use names it and offers allow_unused."""
    x = minigan.ones(2, requires_grad=True)
    unused = minigan.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(4,\)\).*allow_unused=True"):
        minigan.grad((x * 2).sum(), [x, unused])
    gx, gu = minigan.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])
