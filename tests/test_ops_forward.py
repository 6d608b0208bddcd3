"""Forward values of every op, in float32 and float64, against NumPy computed independently.

A gradient check only proves that backward matches forward; if forward computes the wrong
function, both can agree. So here each op's output is compared with a NumPy formula written from
the maths (``1 / (1 + exp(-x))`` for sigmoid, ``log(1 + e^x)`` for softplus, ...), never with
minigan's own output. The tests also check that float32 stays float32 (Python numbers and integer
arrays take the float tensor's dtype) and that the logit-based ops survive logits of +-1000.
"""
import warnings

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import Tensor

from conv_reference import np_conv2d, np_conv_transpose2d
from op_cases import CASES

DTYPES = [np.float32, np.float64]
# float32 results against a float64 reference: float32 keeps about 7 significant digits
TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


# --- independent NumPy references ------------------------------------------------------------

def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_bce(p, t):
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}


# --- the table ---------------------------------------------------------------------------------
# Each entry: (id, minigan function, NumPy reference, input maker). The maker returns NumPy
# arrays; float arrays are cast to the dtype under test and passed to minigan as Tensors (other
# arrays, such as boolean masks, are passed as they are); the reference gets the same values.

def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def nonzero(*shape):
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)


def mask(*shape):
    return lambda rng: rng.random(shape) < 0.5


def inputs(*makers):
    return lambda rng: [make(rng) for make in makers]


FORWARD = [
    ("add_row", F.add, np.add, inputs(normal(3, 4), normal(4))),
    ("sub_outer", F.sub, np.subtract, inputs(normal(3, 1), normal(1, 4))),
    ("mul_scalar", F.mul, np.multiply, inputs(normal(3, 4), normal())),
    ("div", F.div, np.divide, inputs(normal(3, 4), nonzero(3, 4))),
    ("neg", F.neg, np.negative, inputs(normal(3, 4))),
    ("pow_number", lambda x: F.pow(x, 3), lambda x: x * x * x, inputs(normal(3, 4))),
    ("pow_fraction", lambda x: F.pow(x, -1.5), lambda x: 1 / (x * np.sqrt(x)), inputs(positive(3, 4))),
    ("pow_tensor", F.pow, np.power, inputs(positive(3, 4), normal(4))),
    ("pow_number_base", lambda e: F.pow(2.0, e), lambda e: np.exp2(e), inputs(normal(3, 4))),
    ("matmul_2d", F.matmul, np.matmul, inputs(normal(3, 4), normal(4, 5))),
    ("matmul_batched_broadcast", F.matmul, np.matmul, inputs(normal(2, 1, 3, 4), normal(3, 4, 2))),
    ("matmul_1d_2d", F.matmul, np.matmul, inputs(normal(4), normal(4, 3))),
    ("matmul_2d_1d", F.matmul, np.matmul, inputs(normal(3, 4), normal(4))),
    ("matmul_1d_1d", F.matmul, np.dot, inputs(normal(4), normal(4))),
    ("linear_bias", F.linear, lambda x, W, b: x @ W.T + b, inputs(normal(3, 4), normal(5, 4), normal(5))),
    ("linear_no_bias", F.linear, lambda x, W: x @ W.T, inputs(normal(3, 4), normal(5, 4))),
    ("linear_3d", F.linear, lambda x, W, b: np.einsum("bni,oi->bno", x, W) + b,
     inputs(normal(2, 3, 4), normal(5, 4), normal(5))),
    ("exp", F.exp, np.exp, inputs(normal(3, 4))),
    ("log", F.log, np.log, inputs(positive(3, 4))),
    ("sqrt", F.sqrt, np.sqrt, inputs(positive(3, 4))),
    ("abs", F.abs, np.abs, inputs(normal(3, 4))),
    ("clip", lambda x: F.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), inputs(normal(3, 4))),
    ("clip_min", lambda x: F.clip(x, min=0.2), lambda x: np.where(x < 0.2, 0.2, x), inputs(normal(3, 4))),
    ("clamp_max", lambda x: F.clamp(x, max=-0.3), lambda x: np.where(x > -0.3, -0.3, x), inputs(normal(3, 4))),
    ("maximum", F.maximum, np.maximum, inputs(normal(3, 4), normal(4))),
    ("minimum", F.minimum, np.minimum, inputs(normal(3, 1), normal(1, 4))),
    ("where", F.where, np.where, inputs(mask(3, 4), normal(3, 4), normal(4))),
    ("sum", F.sum, np.sum, inputs(normal(3, 4))),
    ("sum_axis_keepdims", lambda x: F.sum(x, axis=(0, 2), keepdims=True),
     lambda x: np.sum(x, axis=(0, 2), keepdims=True), inputs(normal(2, 3, 4))),
    ("mean_axis", lambda x: F.mean(x, axis=-1), lambda x: np.mean(x, axis=-1), inputs(normal(3, 4))),
    ("var", F.var, np.var, inputs(normal(3, 4))),
    ("var_ddof1_axis", lambda x: F.var(x, axis=0, ddof=1), lambda x: np.var(x, axis=0, ddof=1),
     inputs(normal(3, 4))),
    ("var_tuple_keepdims", lambda x: F.var(x, axis=(0, 1), keepdims=True),
     lambda x: np.var(x, axis=(0, 1), keepdims=True), inputs(normal(2, 3, 4))),
    ("max", F.max, np.max, inputs(normal(3, 4))),
    ("max_axis", lambda x: F.max(x, axis=1), lambda x: np.max(x, axis=1), inputs(normal(3, 4))),
    ("min_keepdims", lambda x: F.min(x, axis=0, keepdims=True), lambda x: np.min(x, axis=0, keepdims=True),
     inputs(normal(3, 4))),
    ("reshape", lambda x: F.reshape(x, (4, -1)), lambda x: x.reshape(4, 6), inputs(normal(2, 3, 4))),
    ("transpose", F.transpose, lambda x: x.T, inputs(normal(2, 3, 4))),
    ("transpose_axes", lambda x: F.transpose(x, (1, 2, 0)), lambda x: np.moveaxis(x, 0, -1),
     inputs(normal(2, 3, 4))),
    ("permute", lambda x: F.permute(x, (2, 0, 1)), lambda x: np.moveaxis(x, -1, 0), inputs(normal(2, 3, 4))),
    ("flatten", F.flatten, np.ravel, inputs(normal(2, 3, 4))),
    ("flatten_start_dim", lambda x: F.flatten(x, 1), lambda x: x.reshape(2, 12), inputs(normal(2, 3, 4))),
    ("squeeze", F.squeeze, np.squeeze, inputs(normal(3, 1, 4, 1))),
    ("squeeze_axis", lambda x: F.squeeze(x, 1), lambda x: x[:, 0], inputs(normal(3, 1, 4, 1))),
    ("unsqueeze", lambda x: F.unsqueeze(x, -1), lambda x: x[..., None], inputs(normal(3, 4))),
    ("broadcast_to", lambda x: F.broadcast_to(x, (2, 3, 4)), lambda x: np.tile(x, (2, 1, 4)),
     inputs(normal(3, 1))),
    ("sum_to_row", lambda x: F.sum_to(x, (4,)), lambda x: x[0] + x[1] + x[2], inputs(normal(3, 4))),
    ("sum_to_kept_axis", lambda x: F.sum_to(x, (3, 1)), lambda x: x.sum(axis=(0, 2))[:, None],
     inputs(normal(2, 3, 4))),
    ("getitem_slices", lambda x: F.getitem(x, (slice(None, None, -1), slice(1, None, 2))),
     lambda x: x[::-1, 1::2], inputs(normal(3, 4))),
    ("getitem_int_array", lambda x: F.getitem(x, np.array([0, 2, 0])), lambda x: x[[0, 2, 0]],
     inputs(normal(3, 4))),
    ("getitem_mask", F.getitem, lambda x, m: x[m], inputs(normal(3, 4), mask(3, 4))),
    ("getitem_none_ellipsis", lambda x: F.getitem(x, (None, Ellipsis, 1)), lambda x: x[None, :, 1],
     inputs(normal(3, 4))),
    ("concatenate", lambda a, b: F.concatenate([a, b], axis=1), lambda a, b: np.hstack([a, b]),
     inputs(normal(3, 2), normal(3, 4))),
    ("cat", lambda a, b: F.cat([a, b]), lambda a, b: np.vstack([a, b]), inputs(normal(2, 4), normal(3, 4))),
    ("stack", lambda a, b: F.stack([a, b], axis=-1), lambda a, b: np.dstack([a, b]),
     inputs(normal(3, 4), normal(3, 4))),
    ("pad_flat", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5),
     lambda x: np.pad(x, ((0, 1), (1, 2)), constant_values=0.5), inputs(normal(3, 4))),
    ("pad_pairs", lambda x: F.pad(x, ((1, 0), (2, 1))), lambda x: np.pad(x, ((1, 0), (2, 1))),
     inputs(normal(3, 4))),
    ("relu", F.relu, lambda x: np.where(x > 0, x, 0.0), inputs(normal(3, 4))),
    ("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), inputs(normal(3, 4))),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
     inputs(normal(3, 4))),
    ("sigmoid", F.sigmoid, np_sigmoid, inputs(lambda rng: 4 * rng.standard_normal((3, 4)))),
    ("tanh", F.tanh, lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1), inputs(normal(3, 4))),
    ("softplus", F.softplus, lambda x: np.log1p(np.exp(x)),
     inputs(lambda rng: 4 * rng.standard_normal((3, 4)))),
    ("log_sigmoid", F.log_sigmoid, lambda x: np.log(np_sigmoid(x)),
     inputs(lambda rng: 4 * rng.standard_normal((3, 4)))),
    *[(f"binary_cross_entropy_with_logits_{r}",
       lambda x, t, r=r: F.binary_cross_entropy_with_logits(x, t, reduction=r),
       lambda x, t, r=r: REDUCE[r](np_bce(np_sigmoid(x), t)),
       inputs(lambda rng: 4 * rng.standard_normal((3, 4)), lambda rng: rng.uniform(0, 1, (3, 4))))
      for r in REDUCE],
    *[(f"binary_cross_entropy_{r}", lambda p, t, r=r: F.binary_cross_entropy(p, t, reduction=r),
       lambda p, t, r=r: REDUCE[r](np_bce(p, t)),
       inputs(lambda rng: rng.uniform(0.05, 0.95, (3, 4)), lambda rng: rng.uniform(0, 1, (3, 4))))
      for r in REDUCE],
    *[(f"mse_loss_{r}", lambda x, t, r=r: F.mse_loss(x, t, reduction=r),
       lambda x, t, r=r: REDUCE[r](np.square(x - t)), inputs(normal(3, 4), normal(3, 4)))
      for r in REDUCE],
]


# --- convolutions and layer functions (conv references: tests/conv_reference.py) -------------

def np_batch_norm_train(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    return xhat * w.reshape(shape) + b.reshape(shape)


FORWARD += [
    *[(f"conv2d_s{s}_p{p}_d{d}", lambda x, W, b, s=s, p=p, d=d: F.conv2d(x, W, b, s, p, d),
       lambda x, W, b, s=s, p=p, d=d: np_conv2d(x, W, b, s, p, d),
       inputs(normal(2, 3, 7, 6), normal(4, 3, 3, 2), normal(4)))
      for s, p, d in [(1, 0, 1), (2, 1, 1), (3, 2, 2)]],
    *[(f"conv_transpose2d_s{s}_p{p}_op{op}_d{d}",
       lambda x, W, b, s=s, p=p, op=op, d=d: F.conv_transpose2d(x, W, b, s, p, op, d),
       lambda x, W, b, s=s, p=p, op=op, d=d: np_conv_transpose2d(x, W, b, s, p, op, d),
       inputs(normal(2, 4, 3, 4), normal(4, 3, 3, 2), normal(3)))
      for s, p, op, d in [(1, 0, 0, 1), (2, 1, 1, 1), (3, 1, 2, 1), (1, 0, 1, 2)]],
    ("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     np_batch_norm_train, inputs(normal(4, 3, 2, 2), normal(3), normal(3))),
    ("dropout_eval_is_identity", lambda x: F.dropout(x, 0.5, training=False), lambda x: x,
     inputs(normal(3, 4))),
    ("embedding", lambda W: F.embedding(np.array([[2, 0], [2, 4]]), W),
     lambda W: W[np.array([[2, 0], [2, 4]])], inputs(normal(5, 3))),
]


def np_log_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return np.log(e / e.sum(axis=axis, keepdims=True)) + 0.0


FORWARD += [
    ("softmax", lambda x: F.softmax(x, axis=1), lambda x: np.exp(np_log_softmax(x, 1)), inputs(normal(3, 4))),
    ("log_softmax", lambda x: F.log_softmax(x, axis=0), lambda x: np_log_softmax(x, 0), inputs(normal(3, 4))),
    ("cross_entropy", lambda x: F.cross_entropy(x, np.array([2, 0, 3])),
     lambda x: -np.mean(np_log_softmax(x, 1)[np.arange(3), [2, 0, 3]]), inputs(normal(3, 4))),
]


def _as_dtype(values, dtype):
    """Float arrays become Tensors of ``dtype``; the reference gets the same (rounded) values."""
    args, ref_args = [], []
    for v in values:
        if v.dtype.kind == "f":
            v = v.astype(dtype)
            args.append(Tensor(v))
            ref_args.append(v.astype(np.float64))
        else:
            args.append(v)
            ref_args.append(v)
    return args, ref_args


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name, fn, reference, make", FORWARD, ids=[f[0] for f in FORWARD])
def test_forward_matches_numpy(name, fn, reference, make, dtype):
    """Value, shape and dtype of each op's output, against the NumPy formula."""
    args, ref_args = _as_dtype(make(np.random.default_rng(0)), dtype)
    out = fn(*args)
    expected = np.asarray(reference(*ref_args))
    assert out.dtype == dtype
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, **TOLERANCE[dtype])


#: Ops that return indices (int64, whatever the input's float dtype): name, fn, NumPy reference.
INDEX_FORWARD = [
    ("argmax", lambda x: F.argmax(x, dim=1), lambda x: x.argmax(axis=1)),
    ("argmax_all", lambda x: x.argmax(), lambda x: x.argmax()),
    ("argmin", lambda x: F.argmin(x, axis=0, keepdims=True), lambda x: x.argmin(axis=0, keepdims=True)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name, fn, reference", INDEX_FORWARD, ids=[f[0] for f in INDEX_FORWARD])
def test_index_ops_match_numpy(name, fn, reference, dtype):
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    out = fn(minigan.tensor(x))
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), reference(x))


def test_forward_table_covers_every_public_function():
    """Every name in F.__all__ has a forward case (aliases count through their own entry)."""
    names = set(F.__all__)
    table = FORWARD + INDEX_FORWARD
    covered = {n for n in names if any(f[0] == n or f[0].startswith(n + "_") for f in table)}
    assert sorted(names - covered) == []


# --- float32 stays float32 ---------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_float32_in_float32_out(case):
    """Every gradient-check case rerun in float32: the output and every gradient are float32,
    and they agree with the float64 run to float32 accuracy."""
    inputs64 = case.inputs()
    inputs32 = [Tensor(x.data.astype(np.float32), requires_grad=x.requires_grad)
                if isinstance(x, Tensor) and x.dtype.kind == "f" else x for x in inputs64]
    out64, out32 = case.fn(*inputs64), case.fn(*inputs32)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-4, atol=1e-5)

    upstream = np.random.default_rng(1).uniform(-1, 1, out64.shape)
    leaves64 = [x for x in inputs64 if isinstance(x, Tensor) and x.requires_grad]
    leaves32 = [x for x in inputs32 if isinstance(x, Tensor) and x.requires_grad]
    grads64 = minigan.grad(out64, leaves64, grad_outputs=Tensor(upstream))
    grads32 = minigan.grad(out32, leaves32, grad_outputs=Tensor(upstream.astype(np.float32)))
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32.numpy(), g64.numpy(), rtol=1e-3, atol=1e-4)


def _x32():
    return Tensor(np.linspace(0.5, 2.0, 12).reshape(3, 4).astype(np.float32), requires_grad=True)


W32 = np.linspace(-1, 1, 20).reshape(5, 4).astype(np.float32)
INT_ROW = np.arange(1, 5)          # an int64 array
MASK = np.arange(12).reshape(3, 4) % 3 == 0

# (description, expression of the float32 Tensor x, NumPy reference of the float64 array x)
MIXED = [
    ("x * 2", lambda x: x * 2, lambda x: x * 2),
    ("2.0 - x", lambda x: 2.0 - x, lambda x: 2.0 - x),
    ("x / int array", lambda x: x / INT_ROW, lambda x: x / INT_ROW),
    ("int array / x", lambda x: INT_ROW / x, lambda x: INT_ROW / x),
    ("x + numpy int", lambda x: x + np.int64(3), lambda x: x + 3),
    ("x * numpy float64", lambda x: x * np.float64(2.5), lambda x: x * 2.5),
    ("numpy float64 * x", lambda x: np.float64(2.5) * x, lambda x: 2.5 * x),
    ("x ** 2", lambda x: x ** 2, lambda x: x * x),
    ("x ** 0.5", lambda x: x ** 0.5, np.sqrt),
    ("x ** numpy float64", lambda x: x ** np.float64(1.5), lambda x: x * np.sqrt(x)),
    ("2 ** x", lambda x: 2 ** x, np.exp2),
    ("maximum(x, 1)", lambda x: F.maximum(x, 1), lambda x: np.maximum(x, 1)),
    ("minimum(x, int array)", lambda x: F.minimum(x, INT_ROW), lambda x: np.minimum(x, INT_ROW)),
    ("where(mask, x, 0)", lambda x: F.where(MASK, x, 0), lambda x: np.where(MASK, x, 0)),
    ("clip(x, 0, 1)", lambda x: F.clip(x, 0, 1), lambda x: np.clip(x, 0, 1)),
    ("clip(x, numpy float64 bounds)", lambda x: F.clip(x, np.float64(0.6), np.float64(1.5)),
     lambda x: np.clip(x, 0.6, 1.5)),
    ("matmul(x, int array)", lambda x: F.matmul(x, np.ones((4, 2), dtype=int)), lambda x: x @ np.ones((4, 2))),
    ("linear(x, W, int bias)", lambda x: F.linear(x, W32, np.arange(5)),
     lambda x: x @ W32.astype(np.float64).T + np.arange(5)),
    ("mse_loss(x, int targets)", lambda x: F.mse_loss(x, np.ones((3, 4), dtype=int)),
     lambda x: np.mean((x - 1) ** 2)),
    ("bce_with_logits(x, int targets)",
     lambda x: F.binary_cross_entropy_with_logits(x, MASK.astype(int), reduction="none"),
     lambda x: np_bce(np_sigmoid(x), MASK)),
    ("concatenate([x, int array])", lambda x: F.concatenate([x, INT_ROW[None]]),
     lambda x: np.concatenate([x, INT_ROW[None]])),
    ("stack([x[0], int array])", lambda x: F.stack([x[0], INT_ROW]), lambda x: np.stack([x[0], INT_ROW])),
    ("pad(x, value=2)", lambda x: F.pad(x, (1, 1), value=2),
     lambda x: np.pad(x, ((0, 0), (1, 1)), constant_values=2)),
]


@pytest.mark.parametrize("expr, reference", [m[1:] for m in MIXED], ids=[m[0] for m in MIXED])
def test_numbers_and_int_arrays_take_the_float32_dtype(expr, reference):
    """Mixing a float32 Tensor with Python/NumPy numbers or integer arrays gives float32 values
    and float32 gradients (NumPy alone would often promote to float64)."""
    x = _x32()
    y = expr(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), reference(x.numpy().astype(np.float64)), rtol=1e-5, atol=1e-6)
    gx, = minigan.grad(F.sum(y), x)
    assert gx.dtype == np.float32


# --- numerical stability -----------------------------------------------------------------------

LOGITS = [-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0]
STABLE = {
    "sigmoid": F.sigmoid,
    "softplus": F.softplus,
    "log_sigmoid": F.log_sigmoid,
    "bce_with_logits_target_0": lambda x: F.binary_cross_entropy_with_logits(x, 0 * x.data, "none"),
    "bce_with_logits_target_1": lambda x: F.binary_cross_entropy_with_logits(x, 0 * x.data + 1, "none"),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", STABLE)
def test_extreme_logits_give_finite_values_and_gradients(name, dtype):
    """Logits of +-1000 overflow e^x; the stable formulas never compute it: no inf, no NaN,
    not even a floating-point warning."""
    x = Tensor(np.array(LOGITS, dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = STABLE[name](x)
        gx, = minigan.grad(F.sum(y), x)
    assert np.isfinite(y.numpy()).all() and np.isfinite(gx.numpy()).all()
    assert y.dtype == dtype and gx.dtype == dtype


def test_extreme_logit_values_are_the_limits():
    """At +-1000 the exact results are known without computing e^1000."""
    x = Tensor(np.array([-1000.0, 1000.0]), requires_grad=True)
    np.testing.assert_array_equal(F.sigmoid(x).numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(F.softplus(x).numpy(), [0.0, 1000.0])      # log(1 + e^x) -> max(x, 0)
    np.testing.assert_array_equal(F.log_sigmoid(x).numpy(), [-1000.0, 0.0])  # -softplus(-x)
    # BCE with logits: the loss of a confident wrong answer is |x|; its gradient sigmoid(x) - t
    wrong = np.array([1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, wrong, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [1000.0, 1000.0])
    gx, = minigan.grad(F.sum(loss), x)
    np.testing.assert_array_equal(gx.numpy(), [-1.0, 1.0])


def test_sigmoid_keeps_precision_for_very_negative_logits():
    """sigmoid(-30) = 1 / (1 + e^30) ~ 9.4e-14, to full float64 precision (1 - sigmoid(30)
    would round it to 0.0 or lose most of its digits)."""
    y = F.sigmoid(Tensor(np.array(-30.0))).item()
    assert y == pytest.approx(1 / (1 + np.exp(30.0)), rel=1e-12)
