"""The Tensor itself: its attributes, the factories that make one, seeding, and dtype discipline.

The dtype tests matter more than they look: NumPy promotes ``float32 * float64`` (and even
``float32 * int64-array``) to float64, which silently doubles memory and halves GPU speed. minigan
keeps training tensors in float32 and refuses to mix float types without being asked.
"""
import operator
import re

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import Tensor

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


# --- attributes ------------------------------------------------------------------------------

def test_attributes_of_a_fresh_tensor():
    """A new tensor exposes its array and shape information, and has no gradient yet."""
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = minigan.tensor(values, requires_grad=True)
    assert isinstance(x.data, np.ndarray)
    np.testing.assert_array_equal(x.data, values)
    assert x.grad is None
    assert x.requires_grad is True
    assert x.shape == (2, 3)
    assert x.ndim == 2
    assert x.size == 6
    assert len(x) == 2
    assert x.dtype == F32
    assert x.device == "cpu"
    assert x.is_leaf


def test_requires_grad_defaults_to_false():
    """Tensors do not track gradients unless asked: data and targets need none."""
    assert minigan.tensor([1.0, 2.0]).requires_grad is False
    assert minigan.zeros(3).requires_grad is False


def test_T_transposes_and_is_differentiable():
    """``.T`` reverses the axes, and the gradient flows back through it."""
    values = np.arange(6.0).reshape(2, 3)
    x = minigan.tensor(values, requires_grad=True)
    y = x.T
    assert y.shape == (3, 2)
    np.testing.assert_array_equal(y.data, values.T)
    weights = np.arange(6.0).reshape(3, 2)
    (y * weights).sum().backward()
    np.testing.assert_array_equal(x.grad.data, weights.T)


def test_numpy_returns_an_ndarray_with_the_values():
    """``.numpy()`` hands back a plain NumPy array equal to the tensor's data."""
    x = minigan.tensor([[1.5, -2.0], [0.0, 4.25]])
    out = x.numpy()
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, [[1.5, -2.0], [0.0, 4.25]])
    assert out.dtype == F32


def test_item_of_one_element():
    """``.item()`` turns a one-element tensor (of any shape) into a Python number."""
    assert minigan.tensor(2.5).item() == 2.5
    value = minigan.tensor([[7.0]]).item()
    assert value == 7.0 and isinstance(value, float)
    assert isinstance(minigan.tensor(3).item(), int)


def test_item_of_many_elements_raises():
    """``.item()`` on several elements is an error that shows the shape."""
    with pytest.raises(ValueError, match=re.escape("one element, got shape (2, 2)")):
        minigan.zeros(2, 2).item()


def test_detach_is_a_leaf_sharing_values():
    """``detach()`` gives a leaf outside the graph that shares memory with the original."""
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    np.testing.assert_array_equal(d.data, [3.0, 6.0])
    d.data[0] = 100.0  # shares memory, as PyTorch's detach does
    assert y.data[0] == 100.0
    # Gradients do not flow through a detached tensor.
    (x * 1.0 + d).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_to_cpu_on_a_cpu_tensor_is_a_no_op():
    """``.to("cpu")`` (and ``.cpu()``) return the tensor itself when it is already there."""
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x
    assert x.cpu() is x
    assert x.to() is x


def test_to_dtype_makes_a_converted_leaf_copy():
    """``.to(dtype=...)`` converts, keeps requires_grad, and leaves the original unchanged."""
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(dtype=np.float64)
    assert y is not x and y.dtype == F64 and x.dtype == F32
    assert y.requires_grad and y.is_leaf
    np.testing.assert_array_equal(y.data, [1.0, 2.0])
    y.data[0] = -1.0
    assert x.data[0] == 1.0
    assert x.to(dtype="float32") is x  # nothing to change


def test_to_an_integer_dtype_drops_requires_grad():
    """Integer tensors cannot require gradients, so converting to one drops the flag."""
    y = minigan.tensor([1.5, 2.5], requires_grad=True).to(dtype=np.int64)
    assert y.dtype == np.int64 and not y.requires_grad


def test_float_and_double():
    """``.float()`` gives float32 and ``.double()`` float64, each a no-op when already so."""
    x = minigan.tensor([1, 2, 3])
    assert x.float().dtype == F32
    assert x.double().dtype == F64
    f = minigan.tensor([1.0])
    assert f.float() is f
    d = f.double()
    assert d.double() is d


def test_repr_is_readable():
    """repr looks like PyTorch's: values first, then only the facts that differ from defaults."""
    assert repr(minigan.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(minigan.tensor([1.0], requires_grad=True))
    assert "dtype=float64" in repr(minigan.tensor([1.0], dtype="float64"))
    x = minigan.tensor([1.0], requires_grad=True)
    assert "grad_fn=MulOp" in repr(x * 2)
    assert "device" not in repr(x)  # the CPU is the default and is not mentioned


# --- factories -------------------------------------------------------------------------------

def test_tensor_from_python_floats_is_float32():
    """Python floats become float32, as in PyTorch: training runs in float32."""
    assert minigan.tensor(1.5).dtype == F32
    assert minigan.tensor([1.0, 2.0]).dtype == F32
    assert minigan.tensor([[1, 2.5]]).dtype == F32  # a mix of ints and floats is float too


def test_tensor_from_python_ints_is_int64():
    """Python ints become int64 (and bools stay bool)."""
    assert minigan.tensor([1, 2, 3]).dtype == np.int64
    assert minigan.tensor(7).dtype == np.int64
    assert minigan.tensor([True, False]).dtype == np.bool_


def test_tensor_keeps_the_dtype_of_numpy_arrays():
    """NumPy arrays keep their dtype: float64 data stays float64 (for gradient checks)."""
    assert minigan.tensor(np.zeros(3)).dtype == F64
    assert minigan.tensor(np.zeros(3, dtype=np.float32)).dtype == F32
    assert minigan.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32


def test_tensor_dtype_argument_is_honoured():
    """``dtype=`` overrides the default for lists, numbers and arrays alike."""
    assert minigan.tensor([1.0, 2.0], dtype="float64").dtype == F64
    assert minigan.tensor([1, 2], dtype=np.float32).dtype == F32
    assert minigan.tensor(np.zeros(2), dtype=minigan.float32).dtype == F32
    x = minigan.tensor([1, 2], dtype="float32", requires_grad=True)
    assert x.requires_grad


def test_tensor_copies_its_data():
    """``minigan.tensor`` copies: changing the source array afterwards changes nothing."""
    source = np.array([1.0, 2.0, 3.0])
    x = minigan.tensor(source)
    source[0] = 99.0
    assert x.data[0] == 1.0
    y = minigan.tensor(x)  # from a Tensor: a copy too, and a fresh leaf
    y.data[1] = -5.0
    assert x.data[1] == 2.0


def test_tensor_device_argument():
    """``device="cpu"`` gives a CPU tensor (``None`` means the default device, cpu here)."""
    assert minigan.tensor([1.0], device="cpu").device == "cpu"
    assert minigan.tensor([1.0], device=None).device == "cpu"


@pytest.mark.parametrize("factory, value", [(minigan.zeros, 0.0), (minigan.ones, 1.0)])
def test_zeros_and_ones(factory, value):
    """``zeros``/``ones`` take the shape as varargs or as a tuple; float32 unless told."""
    a = factory(2, 3)
    b = factory((2, 3))
    assert a.shape == b.shape == (2, 3)
    assert a.dtype == b.dtype == F32
    assert np.all(a.data == value)
    assert factory(4, dtype=np.float64).dtype == F64
    assert factory(2, requires_grad=True).requires_grad


@pytest.mark.parametrize("factory", [minigan.randn, minigan.rand])
def test_random_factories_shape_and_dtype(factory):
    """``randn``/``rand`` take varargs or a tuple, give float32 by default, float64 on request."""
    assert factory(3, 4).shape == (3, 4)
    assert factory((3, 4)).shape == (3, 4)
    assert factory(3, 4).dtype == F32
    assert factory(5, dtype=np.float64).dtype == F64
    assert factory(2, requires_grad=True).requires_grad


def test_randn_and_rand_have_the_right_distribution():
    """randn looks like N(0, 1) and rand like U[0, 1) on a large sample."""
    n = minigan.randn(100_000, dtype=np.float64).data
    assert abs(n.mean()) < 0.02 and abs(n.std() - 1) < 0.02
    u = minigan.rand(100_000, dtype=np.float64).data
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01


@pytest.mark.parametrize("factory", [minigan.randn, minigan.rand])
def test_manual_seed_repeats_exactly(factory):
    """The same seed gives the same numbers; a different seed gives different ones."""
    minigan.manual_seed(123)
    first = factory(4, 5).numpy()
    second = factory(4, 5).numpy()
    assert not np.array_equal(first, second)  # the generator moves on between draws
    minigan.manual_seed(123)
    np.testing.assert_array_equal(factory(4, 5).numpy(), first)
    np.testing.assert_array_equal(factory(4, 5).numpy(), second)
    minigan.manual_seed(124)
    assert not np.array_equal(factory(4, 5).numpy(), first)


def test_manual_seed_accepts_numpy_integers():
    """A seed read from a NumPy array works like a Python int."""
    minigan.manual_seed(np.int64(5))
    a = minigan.randn(3).numpy()
    minigan.manual_seed(5)
    np.testing.assert_array_equal(minigan.randn(3).numpy(), a)


def test_zeros_like_and_ones_like():
    """``zeros_like``/``ones_like`` copy shape and dtype."""
    x = minigan.randn(2, 3, dtype=np.float64)
    z, o = minigan.zeros_like(x), minigan.ones_like(x)
    assert z.shape == o.shape == (2, 3) and z.dtype == o.dtype == F64
    assert np.all(z.data == 0) and np.all(o.data == 1)


# --- dtype discipline ------------------------------------------------------------------------

BINARY_OPS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
}

# Things a float tensor meets in real code; none of them may change its float dtype.
NON_FLOAT_OTHERS = {
    "python float": 2.0,
    "python int": 3,
    "numpy float scalar": np.float64(2.0),
    "int array": np.array([1, 2, 3]),
    "bool array": np.array([True, True, True]),  # no False: x / False would divide by zero
    "int tensor": minigan.tensor([1, 2, 3]),
}


def _leaf(dtype):
    return minigan.tensor([1.0, 2.0, 4.0], dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("other", NON_FLOAT_OTHERS.values(), ids=NON_FLOAT_OTHERS.keys())
@pytest.mark.parametrize("op", BINARY_OPS.values(), ids=BINARY_OPS.keys())
@pytest.mark.parametrize("reverse", [False, True], ids=["x op other", "other op x"])
def test_binary_ops_keep_the_float_dtype(op, other, dtype, reverse):
    """``x op other`` and ``other op x`` keep x's float dtype, in the value and the gradient."""
    x = _leaf(dtype)
    y = op(other, x) if reverse else op(x, other)
    assert isinstance(y, Tensor)
    assert y.dtype == np.dtype(dtype)
    y.sum().backward()
    assert x.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("expr", [
    lambda x: x ** 2,
    lambda x: x ** 0.5,
    lambda x: x ** -1,
    lambda x: 2.0 ** x,
    lambda x: x ** np.array([1, 2, 3]),
    lambda x: -x,
    lambda x: 2.0 - x,
    lambda x: 1 / x,
    lambda x: abs(x),
], ids=["x**2", "x**0.5", "x**-1", "2.0**x", "x**int_array", "-x", "2.0-x", "1/x", "abs(x)"])
def test_powers_and_unary_ops_keep_the_float_dtype(expr, dtype):
    """Powers (number or array exponents, number bases) and unary ops keep the float dtype."""
    x = _leaf(dtype)
    y = expr(x)
    assert y.dtype == np.dtype(dtype)
    y.sum().backward()
    assert x.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_matmul_with_integer_arrays_keeps_the_float_dtype(dtype):
    """``@`` against an int array (either side) keeps the tensor's float dtype."""
    W = minigan.tensor(np.ones((3, 2)), dtype=dtype, requires_grad=True)
    ints = np.arange(6).reshape(2, 3)
    y = ints @ W
    assert isinstance(y, Tensor) and y.dtype == np.dtype(dtype) and y.shape == (2, 2)
    z = W @ np.arange(2)
    assert z.dtype == np.dtype(dtype) and z.shape == (3,)
    (y.sum() + z.sum()).backward()
    assert W.grad.dtype == np.dtype(dtype)


def test_float32_and_float64_tensors_together_raise():
    """Two tensors of different float dtypes in one op raise TypeError naming both dtypes."""
    a = minigan.ones(3)
    b = minigan.ones(3, dtype=np.float64)
    with pytest.raises(TypeError, match=r"float32 and float64"):
        a + b
    with pytest.raises(TypeError, match=r"float64 and float32"):
        b * a


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv],
                         ids=["+", "-", "*", "/"])
def test_float64_ndarray_meeting_float32_tensor_raises(op):
    """``np.ones(3) * x`` with a float32 x raises: np.ones is float64, and promoting would
    silently turn a float32 model into float64. The message names both dtypes and the fix."""
    x = minigan.ones(3, requires_grad=True)
    for a, b in [(np.ones(3), x), (x, np.ones(3))]:
        with pytest.raises(TypeError) as info:
            op(a, b)
        message = str(info.value)
        assert "float32" in message and "float64" in message
        assert ".float()" in message


def test_float32_ndarray_with_float32_tensor_is_fine():
    """A float32 NumPy array mixes freely with a float32 tensor."""
    x = minigan.ones(3, requires_grad=True)
    y = np.ones(3, dtype=np.float32) * x
    assert y.dtype == F32


def test_ndarray_op_tensor_returns_a_tensor():
    """``ndarray + Tensor`` gives a Tensor in the graph, not an object array of Tensors:
    ``Tensor.__array_ufunc__ = None`` makes NumPy hand the operation to the Tensor."""
    x = minigan.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = np.array([10, 20, 30]) + x
    assert isinstance(y, Tensor)
    assert y.dtype == F32
    np.testing.assert_array_equal(y.data, [11.0, 22.0, 33.0])
    assert not y.is_leaf
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("compare", [operator.lt, operator.le, operator.gt, operator.ge,
                                     operator.eq, operator.ne],
                         ids=["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_return_boolean_tensors_without_grad(compare):
    """Comparisons are elementwise, give bool tensors, and are never part of the graph."""
    values = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x = minigan.tensor(values, requires_grad=True)
    result = compare(x, 2.0)
    assert isinstance(result, Tensor)
    assert result.dtype == np.bool_
    assert not result.requires_grad and result.is_leaf
    np.testing.assert_array_equal(result.data, compare(values, 2.0))
    other = minigan.tensor([3.0, 2.0, 1.0])
    np.testing.assert_array_equal(compare(x, other).data, compare(values, other.data))


def test_tensors_are_hashable_by_identity():
    """Tensors can be dict keys and set members; equal values are still distinct keys
    (``==`` is elementwise, so hashing by value would make no sense)."""
    a = minigan.tensor([1.0, 2.0])
    b = minigan.tensor([1.0, 2.0])
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"
    assert len({a, b, a}) == 2
    assert hash(a) == hash(a) and hash(a) != hash(b)


def test_ops_on_lists_of_python_floats_are_float32():
    """Python floats become float32 everywhere: ``F.exp([1.0, 2.0])`` must be float32, as
    ``F.exp(1.0)`` and ``minigan.tensor([1.0, 2.0])`` are."""
    assert F.exp(1.0).dtype == np.float32
    assert F.exp(minigan.tensor([1.0, 2.0])).dtype == np.float32
    assert F.exp([1.0, 2.0]).dtype == np.float32


def test_int_tensor_meeting_float_tensor_becomes_float():
    """An int tensor combined with a float32 tensor takes the float dtype."""
    i = minigan.tensor([1, 2, 3])
    x = minigan.tensor([0.5, 0.5, 0.5])
    assert (i + x).dtype == F32
    assert (x * i).dtype == F32
