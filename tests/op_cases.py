"""The one table of gradient-check cases: small named examples of every differentiable op.

Each ``Case`` is a function of some float64 Tensors plus a recipe for those Tensors.
``tests/test_ops_gradcheck.py`` checks every case's backward rule against finite differences
(``gradcheck``) and, for ``double=True`` cases, the backward of the backward (``gradgradcheck``).
``tests/test_registry.py`` proves that the table leaves no op out, and
``tests/test_ops_forward.py`` reruns every case in float32 to check that dtypes are kept.

Kinks, and why every case stays away from them
----------------------------------------------
relu, leaky_relu and abs bend at 0; clip bends at its bounds; maximum/minimum bend where the two
operands are equal; max/min reductions bend where two values tie. At a kink the derivative jumps
from one slope to another, and the backward rule has to pick one of them (a convention, stated in
each op's docstring). A central difference (f(x + eps) - f(x - eps)) / (2 eps) whose two points
straddle the kink measures neither slope but their average (0.5 for relu at 0), so it would fail a
correct op. The inputs below are therefore drawn at least 0.1 away from every kink (eps is 1e-6, so
no perturbed point can cross one): relu/abs inputs are sign * U(0.1, 1.5), clip inputs avoid the
bounds, maximum/minimum operands differ by at least 0.1, max/min inputs have no ties. Likewise
log, sqrt and a tensor exponent need positive inputs, and division keeps denominators away from 0.

Second derivatives
------------------
Every case has ``double=True``: every backward rule is written with minigan ops, so each one can
be differentiated again. For piecewise-linear ops (relu, clip, abs, max, ...) the second
derivative is 0 away from the kinks, and gradgradcheck still checks that (and the derivative with
respect to the upstream gradient, which is not 0). If a case ever needs ``double=False``, say why
in a comment next to it.
"""
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

import minigan.functional as F
from minigan import Tensor
import minigan
from minigan.ops.convolution import Conv2dGradWeightOp
from minigan.ops.shaping import ScatterAddOp


@dataclass(frozen=True)
class Case:
    """One gradient check: ``fn(*make_inputs(rng))`` must return a Tensor.

    ``make_inputs`` returns the arguments of ``fn``: float64 Tensors (those with
    ``requires_grad=True`` are checked) and any constants that are not differentiated, such as a
    boolean mask. Float constants are passed as Tensors too, never captured in ``fn``, so that the
    whole case can be rerun in float32.
    """
    name: str
    fn: Callable
    make_inputs: Callable
    double: bool = True

    def inputs(self):
        """Fresh inputs, the same every time (the seed comes from the case's name)."""
        return self.make_inputs(np.random.default_rng(zlib.crc32(self.name.encode())))


# --- input recipes -----------------------------------------------------------------------------

def leaf(values):
    """A float64 Tensor whose gradient is checked."""
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def const(values):
    """A float64 Tensor that is an input of the op but is not differentiated (e.g. a target)."""
    return Tensor(np.array(values, dtype=np.float64))


def normal(rng, *shape):
    return leaf(rng.standard_normal(shape))


def positive(rng, *shape, low=0.5, high=2.0):
    """For log, sqrt, powers with a tensor exponent, and denominators."""
    return leaf(rng.uniform(low, high, shape))


def nonzero(rng, *shape, low=0.5, high=1.5):
    """sign * U(low, high): away from 0 (denominators, and kinks at 0 when low >= 0.1)."""
    return leaf(rng.choice([-1.0, 1.0], shape) * rng.uniform(low, high, shape))


def away_from(rng, shape, kinks, gap=0.1, scale=1.5):
    """U(-scale, scale) redrawn until every value is at least ``gap`` from every kink."""
    x = np.asarray(rng.uniform(-scale, scale, shape))
    while True:
        close = np.zeros(x.shape, dtype=bool)
        for k in kinks:
            close |= np.abs(x - k) < gap
        if not close.any():
            return leaf(x)
        x[close] = rng.uniform(-scale, scale, int(close.sum()))


def distinct(rng, *shape):
    """Values 0.25 apart in a random order: no ties, so max/min have a single winner."""
    n = int(np.prod(shape))
    return leaf((rng.permutation(n).reshape(shape) - n / 2) * 0.25)


def apart_from(rng, other, shape):
    """other + sign * U(0.1, 1) broadcast to ``shape``: differs from ``other`` by at least 0.1."""
    step = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 1.0, shape)
    return leaf(other.data + step)


def probabilities(rng, *shape):
    return rng.uniform(0.05, 0.95, shape)


CASES = []


def case(name, fn, make_inputs, double=True):
    """Add a Case to the table."""
    CASES.append(Case(name, fn, make_inputs, double))


# --- arithmetic --------------------------------------------------------------------------------

# Shapes for the binary ops: equal shapes, then each broadcasting pattern. A broadcast operand's
# gradient must be summed back to its own shape (sum_to), which these cases check.
BINARY_SHAPES = {
    "same": ((3, 4), (3, 4)),
    "row": ((3, 4), (4,)),
    "outer": ((3, 1), (1, 4)),
    "scalar": ((3, 4), ()),
    "scalar_first": ((), (3, 4)),
}
for label, (sa, sb) in BINARY_SHAPES.items():
    case(f"add_{label}", F.add, lambda rng, sa=sa, sb=sb: [normal(rng, *sa), normal(rng, *sb)])
    case(f"sub_{label}", F.sub, lambda rng, sa=sa, sb=sb: [normal(rng, *sa), normal(rng, *sb)])
    case(f"mul_{label}", F.mul, lambda rng, sa=sa, sb=sb: [normal(rng, *sa), normal(rng, *sb)])
    case(f"div_{label}", F.div, lambda rng, sa=sa, sb=sb: [normal(rng, *sa), nonzero(rng, *sb)])

# the operators, with Python numbers and integer arrays as the other operand
case("add_operator_int_array", lambda x: x + np.arange(4), lambda rng: [normal(rng, 3, 4)])
case("mul_operator_number", lambda x: x * 2.5, lambda rng: [normal(rng, 3, 4)])
case("sub_operator_number_first", lambda x: 2.0 - x, lambda rng: [normal(rng, 3, 4)])
case("div_operator_number_first", lambda x: 1.5 / x, lambda rng: [nonzero(rng, 3, 4)])
case("div_operator_int_array", lambda x: x / np.arange(1, 5), lambda rng: [normal(rng, 3, 4)])
case("neg", F.neg, lambda rng: [normal(rng, 3, 4)])
case("neg_operator", lambda x: -x, lambda rng: [normal(rng, 3, 4)])

# pow: a number exponent uses the Pow op (2 has its own backward path); a tensor exponent or a
# number base goes through exp(exponent * log(base)), so the base must be positive there.
case("pow_square", lambda x: F.pow(x, 2), lambda rng: [normal(rng, 3, 4)])
case("pow_cube", lambda x: F.pow(x, 3), lambda rng: [normal(rng, 3, 4)])
case("pow_half", lambda x: F.pow(x, 0.5), lambda rng: [positive(rng, 3, 4)])
case("pow_negative_fraction", lambda x: F.pow(x, -1.5), lambda rng: [positive(rng, 3, 4)])
case("pow_operator", lambda x: x ** 3, lambda rng: [normal(rng, 3, 4)])
case("pow_tensor_exponent", F.pow, lambda rng: [positive(rng, 3, 4), normal(rng, 3, 4)])
case("pow_tensor_exponent_row", F.pow, lambda rng: [positive(rng, 3, 4), normal(rng, 4)])
case("pow_number_base", lambda e: F.pow(2.0, e), lambda rng: [normal(rng, 3, 4)])
case("pow_operator_number_base", lambda e: 3 ** e, lambda rng: [normal(rng, 3, 4)])

# --- linear algebra ----------------------------------------------------------------------------

case("matmul_2d", F.matmul, lambda rng: [normal(rng, 3, 4), normal(rng, 4, 5)])
case("matmul_operator", lambda a, b: a @ b, lambda rng: [normal(rng, 3, 4), normal(rng, 4, 2)])
case("matmul_batched_3d", F.matmul, lambda rng: [normal(rng, 2, 3, 4), normal(rng, 2, 4, 2)])
case("matmul_batched_3d_with_2d", F.matmul, lambda rng: [normal(rng, 2, 3, 4), normal(rng, 4, 2)])
# batch axes (2, 1) and (3,) broadcast to (2, 3): both gradients are summed back
case("matmul_batched_broadcast", F.matmul, lambda rng: [normal(rng, 2, 1, 3, 4), normal(rng, 3, 4, 2)])
case("matmul_1d_2d", F.matmul, lambda rng: [normal(rng, 4), normal(rng, 4, 3)])
case("matmul_2d_1d", F.matmul, lambda rng: [normal(rng, 3, 4), normal(rng, 4)])
case("matmul_1d_1d", F.matmul, lambda rng: [normal(rng, 4), normal(rng, 4)])
case("matmul_batched_1d", F.matmul, lambda rng: [normal(rng, 2, 3, 4), normal(rng, 4)])

case("linear_bias", F.linear, lambda rng: [normal(rng, 3, 4), normal(rng, 5, 4), normal(rng, 5)])
case("linear_no_bias", F.linear, lambda rng: [normal(rng, 3, 4), normal(rng, 5, 4)])
case("linear_3d_input", F.linear, lambda rng: [normal(rng, 2, 3, 4), normal(rng, 5, 4), normal(rng, 5)])
case("linear_1d_input", F.linear, lambda rng: [normal(rng, 4), normal(rng, 5, 4), normal(rng, 5)])

# --- elementwise -------------------------------------------------------------------------------

case("exp", F.exp, lambda rng: [normal(rng, 3, 4)])
case("log", F.log, lambda rng: [positive(rng, 3, 4)])
case("sqrt", F.sqrt, lambda rng: [positive(rng, 3, 4)])
case("abs", F.abs, lambda rng: [nonzero(rng, 3, 4, low=0.1)])
case("clip_both", lambda x: F.clip(x, -0.5, 0.5), lambda rng: [away_from(rng, (3, 4), [-0.5, 0.5])])
case("clip_min_only", lambda x: F.clip(x, min=0.2), lambda rng: [away_from(rng, (3, 4), [0.2])])
case("clip_max_only", lambda x: F.clip(x, max=-0.3), lambda rng: [away_from(rng, (3, 4), [-0.3])])
case("clamp", lambda x: F.clamp(x, -0.5, 0.5), lambda rng: [away_from(rng, (3, 4), [-0.5, 0.5])])


def _pair(rng, shape_a, shape_b):
    """b, then a at least 0.1 away from b wherever they meet after broadcasting."""
    b = normal(rng, *shape_b)
    return [apart_from(rng, b, np.broadcast_shapes(shape_a, shape_b)), b]


case("maximum", F.maximum, lambda rng: _pair(rng, (3, 4), (3, 4)))
case("maximum_row", F.maximum, lambda rng: _pair(rng, (3, 4), (4,)))
case("maximum_number", lambda x: F.maximum(x, 0.0), lambda rng: [nonzero(rng, 3, 4, low=0.1)])
case("minimum", F.minimum, lambda rng: _pair(rng, (3, 4), (3, 4)))
case("minimum_row", F.minimum, lambda rng: _pair(rng, (3, 4), (4,)))

# where: the condition is a constant boolean array, passed as an input that is not checked
case("where", F.where, lambda rng: [rng.random((3, 4)) < 0.5, normal(rng, 3, 4), normal(rng, 3, 4)])
case("where_row", F.where, lambda rng: [rng.random((3, 4)) < 0.5, normal(rng, 3, 4), normal(rng, 4)])
case("where_number", lambda c, a: F.where(c, a, 0.0), lambda rng: [rng.random((3, 4)) < 0.5, normal(rng, 3, 4)])

# --- reductions --------------------------------------------------------------------------------

# (input shape, keyword arguments): all axes, one axis, a negative axis, a tuple of axes, each
# with and without keepdims. max/min get inputs without ties (see the top of this file).
REDUCTION_VARIANTS = {
    "all": ((3, 4), {}),
    "all_keepdims": ((3, 4), {"keepdims": True}),
    "axis0": ((3, 4), {"axis": 0}),
    "axis-1_keepdims": ((3, 4), {"axis": -1, "keepdims": True}),
    "tuple_axes": ((2, 3, 4), {"axis": (0, 2)}),
    "tuple_axes_keepdims": ((2, 3, 4), {"axis": (0, 2), "keepdims": True}),
}
for op_name in ("sum", "mean", "var", "max", "min"):
    draw = distinct if op_name in ("max", "min") else normal
    for label, (shape, kwargs) in REDUCTION_VARIANTS.items():
        case(f"{op_name}_{label}",
             lambda x, op_name=op_name, kwargs=kwargs: getattr(F, op_name)(x, **kwargs),
             lambda rng, shape=shape, draw=draw: [draw(rng, *shape)])
case("var_ddof1", lambda x: F.var(x, ddof=1), lambda rng: [normal(rng, 3, 4)])
case("var_ddof1_axis1_keepdims", lambda x: F.var(x, axis=1, keepdims=True, ddof=1),
     lambda rng: [normal(rng, 3, 4)])
case("max_method", lambda x: x.max(axis=1), lambda rng: [distinct(rng, 3, 4)])

# --- shape ops ---------------------------------------------------------------------------------

case("reshape", lambda x: F.reshape(x, (2, 6)), lambda rng: [normal(rng, 3, 4)])
case("reshape_minus_one", lambda x: F.reshape(x, (4, -1)), lambda rng: [normal(rng, 2, 3, 4)])
case("transpose", F.transpose, lambda rng: [normal(rng, 3, 4)])
case("transpose_3d_reversed", F.transpose, lambda rng: [normal(rng, 2, 3, 4)])
case("transpose_axes", lambda x: F.transpose(x, (1, 2, 0)), lambda rng: [normal(rng, 2, 3, 4)])
case("transpose_negative_axes", lambda x: F.transpose(x, (-1, 0, 1)), lambda rng: [normal(rng, 2, 3, 4)])
case("transpose_T", lambda x: x.T, lambda rng: [normal(rng, 3, 4)])
case("permute", lambda x: F.permute(x, (2, 0, 1)), lambda rng: [normal(rng, 2, 3, 4)])
case("flatten", F.flatten, lambda rng: [normal(rng, 2, 3, 4)])
case("flatten_start_dim", lambda x: F.flatten(x, 1), lambda rng: [normal(rng, 2, 3, 4)])
case("squeeze", F.squeeze, lambda rng: [normal(rng, 3, 1, 4, 1)])
case("squeeze_axis", lambda x: F.squeeze(x, 1), lambda rng: [normal(rng, 3, 1, 4, 1)])
case("unsqueeze", lambda x: F.unsqueeze(x, 0), lambda rng: [normal(rng, 3, 4)])
case("unsqueeze_last", lambda x: F.unsqueeze(x, -1), lambda rng: [normal(rng, 3, 4)])
case("broadcast_to", lambda x: F.broadcast_to(x, (3, 4)), lambda rng: [normal(rng, 4)])
case("broadcast_to_new_and_stretched_axes", lambda x: F.broadcast_to(x, (2, 3, 4)),
     lambda rng: [normal(rng, 3, 1)])
case("sum_to_row", lambda x: F.sum_to(x, (4,)), lambda rng: [normal(rng, 3, 4)])
case("sum_to_kept_axis", lambda x: F.sum_to(x, (3, 1)), lambda rng: [normal(rng, 2, 3, 4)])
case("sum_to_scalar", lambda x: F.sum_to(x, ()), lambda rng: [normal(rng, 3, 4)])

# getitem: GetItem's backward scatters the gradient back into zeros. With integer arrays an
# index may repeat, and then the gradients of the repeats must add up.
GETITEM_INDICES = {
    "slices": (slice(1, None), slice(None, None, 2)),
    "int": 1,
    "two_ints": (1, -2),
    "negative_step": (slice(None, None, -1), slice(-2, None, -2)),
    "int_array_repeated": np.array([0, 2, 0, 0]),
    "int_array_repeated_axis1": (slice(None), np.array([3, 1, 3])),
    "int_array_pairs_repeated": (np.array([0, 0, 2]), np.array([1, 1, 3])),
    "bool_mask": np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]]),
    "bool_rows": np.array([True, False, True]),
    "none_ellipsis": (None, Ellipsis, 1),
    "ellipsis_none": (Ellipsis, None),
}
for label, index in GETITEM_INDICES.items():
    case(f"getitem_{label}", lambda x, index=index: F.getitem(x, index), lambda rng: [normal(rng, 3, 4)])
case("getitem_operator_list", lambda x: x[[2, 2, 0]], lambda rng: [normal(rng, 3, 4)])
case("getitem_operator_slice", lambda x: x[1:3, -1], lambda rng: [normal(rng, 3, 4)])

# ScatterAddOp has no public function: it is GetItemOp's backward. It is checked directly here so
# that its own backward (a getitem) is checked too, with a repeated index and with slices.
case("scatter_add_repeated", lambda g: ScatterAddOp(np.array([0, 2, 0, 0]), (3, 4))(g),
     lambda rng: [normal(rng, 4, 4)])
case("scatter_add_slices", lambda g: ScatterAddOp((slice(1, None), slice(None, None, 2)), (3, 4))(g),
     lambda rng: [normal(rng, 2, 2)])

case("concatenate_axis0", lambda a, b: F.concatenate([a, b], axis=0),
     lambda rng: [normal(rng, 2, 4), normal(rng, 3, 4)])
case("concatenate_axis1", lambda a, b: F.concatenate([a, b], axis=1),
     lambda rng: [normal(rng, 3, 2), normal(rng, 3, 4)])
case("concatenate_three_negative_axis", lambda a, b, c: F.concatenate([a, b, c], axis=-1),
     lambda rng: [normal(rng, 3, 1), normal(rng, 3, 2), normal(rng, 3, 3)])
case("cat_axis0", lambda a, b: F.cat([a, b]), lambda rng: [normal(rng, 1, 4), normal(rng, 3, 4)])
case("cat_axis1", lambda a, b: F.cat([a, b], axis=1), lambda rng: [normal(rng, 3, 3), normal(rng, 3, 1)])
case("stack", lambda a, b: F.stack([a, b]), lambda rng: [normal(rng, 3, 4), normal(rng, 3, 4)])
case("stack_last_axis", lambda a, b, c: F.stack([a, b, c], axis=-1),
     lambda rng: [normal(rng, 3, 4), normal(rng, 3, 4), normal(rng, 3, 4)])

# pad: PyTorch's flat form lists (before, after) for the last axis first; NumPy's form gives one
# pair per axis. The padding is constant, so its gradient is simply sliced away.
case("pad_flat_last_axis", lambda x: F.pad(x, (1, 2)), lambda rng: [normal(rng, 3, 4)])
case("pad_flat_two_axes", lambda x: F.pad(x, (1, 2, 0, 1)), lambda rng: [normal(rng, 3, 4)])
case("pad_flat_3d_value", lambda x: F.pad(x, (2, 0), value=0.5), lambda rng: [normal(rng, 2, 3, 4)])
case("pad_pairs", lambda x: F.pad(x, ((1, 0), (2, 1))), lambda rng: [normal(rng, 3, 4)])

# --- activations -------------------------------------------------------------------------------

case("relu", F.relu, lambda rng: [nonzero(rng, 3, 4, low=0.1)])
case("relu_method", lambda x: x.relu(), lambda rng: [nonzero(rng, 3, 4, low=0.1)])
case("leaky_relu", F.leaky_relu, lambda rng: [nonzero(rng, 3, 4, low=0.1)])
case("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda rng: [nonzero(rng, 3, 4, low=0.1)])
case("sigmoid", F.sigmoid, lambda rng: [leaf(3 * rng.standard_normal((3, 4)))])
case("tanh", F.tanh, lambda rng: [normal(rng, 3, 4)])
case("softplus", F.softplus, lambda rng: [leaf(3 * rng.standard_normal((3, 4)))])
case("log_sigmoid", F.log_sigmoid, lambda rng: [leaf(3 * rng.standard_normal((3, 4)))])

# --- losses ------------------------------------------------------------------------------------

for reduction in ("mean", "sum", "none"):
    case(f"bce_with_logits_{reduction}",
         lambda x, t, r=reduction: F.binary_cross_entropy_with_logits(x, t, reduction=r),
         lambda rng: [leaf(3 * rng.standard_normal((3, 4))), const(rng.uniform(0, 1, (3, 4)))])
    case(f"bce_{reduction}",
         lambda p, t, r=reduction: F.binary_cross_entropy(p, t, reduction=r),
         lambda rng: [leaf(probabilities(rng, 3, 4)), const(rng.uniform(0, 1, (3, 4)))])
    case(f"mse_loss_{reduction}",
         lambda x, t, r=reduction: F.mse_loss(x, t, reduction=r),
         lambda rng: [normal(rng, 3, 4), const(rng.standard_normal((3, 4)))])
# gradients with respect to the targets as well (soft labels can be learned, e.g. in a penalty)
case("bce_with_logits_targets_grad", F.binary_cross_entropy_with_logits,
     lambda rng: [leaf(3 * rng.standard_normal((3, 4))), leaf(rng.uniform(0, 1, (3, 4)))])
case("bce_with_logits_none_targets_grad",
     lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
     lambda rng: [leaf(3 * rng.standard_normal((3, 4))), leaf(rng.uniform(0, 1, (3, 4)))])
case("bce_targets_grad", F.binary_cross_entropy,
     lambda rng: [leaf(probabilities(rng, 3, 4)), leaf(rng.uniform(0, 1, (3, 4)))])
case("mse_loss_targets_grad", F.mse_loss, lambda rng: [normal(rng, 3, 4), normal(rng, 3, 4)])

# --- a small composite: a discriminator's loss, as a GAN step computes it ---------------------

case("discriminator_step",
     lambda x, W1, b1, W2, b2, t: F.binary_cross_entropy_with_logits(
         F.linear(F.tanh(F.linear(x, W1, b1)), W2, b2), t),
     lambda rng: [normal(rng, 4, 3), normal(rng, 5, 3), normal(rng, 5), normal(rng, 1, 5),
                  normal(rng, 1), const(np.array([[1.0], [0.0], [1.0], [0.0]]))])


# --- convolutions ------------------------------------------------------------------------------
# (stride, padding, dilation) combinations that exercise each term of the output-size formula,
# including a non-square kernel and strides that leave input rows unread at the bottom edge.

for name, (stride, padding, dilation, kernel) in {
    "plain": (1, 0, 1, (3, 3)),
    "stride2_pad1": (2, 1, 1, (3, 3)),
    "stride2_rect_kernel": (2, (1, 0), 1, (3, 2)),
    "dilation2_pad2": (1, 2, 2, (3, 3)),
    "stride3_unread_rows": (3, 0, 1, (2, 2)),
}.items():
    case(f"conv2d_{name}",
         lambda x, W, b, s=stride, p=padding, d=dilation: F.conv2d(x, W, b, s, p, d),
         lambda rng, k=kernel: [normal(rng, 2, 2, 6, 5), normal(rng, 3, 2, *k), normal(rng, 3)])
case("conv2d_no_bias", lambda x, W: F.conv2d(x, W, padding=1),
     lambda rng: [normal(rng, 2, 2, 4, 4), normal(rng, 3, 2, 3, 3)])

for name, (stride, padding, output_padding, dilation) in {
    "plain": (1, 0, 0, 1),
    "stride2_pad1_outpad1": (2, 1, 1, 1),
    "stride3_pad2": (3, 2, 2, 1),
    # output_padding >= stride (allowed when dilation is larger): trailing rows no input reaches
    "dilation2_outpad1": (1, 0, 1, 2),
}.items():
    case(f"conv_transpose2d_{name}",
         lambda x, W, b, s=stride, p=padding, op=output_padding, d=dilation:
             F.conv_transpose2d(x, W, b, s, p, op, d),
         lambda rng: [normal(rng, 2, 3, 4, 3), normal(rng, 3, 2, 3, 3), normal(rng, 2)])
case("conv_transpose2d_no_bias", lambda x, W: F.conv_transpose2d(x, W, stride=2),
     lambda rng: [normal(rng, 2, 3, 3, 3), normal(rng, 3, 2, 2, 2)])

# Conv2dGradWeightOp has no public function: it is the weight gradient inside conv2d's backward
# (and conv_transpose2d's). Called directly, so that its own backward rule is checked too.
case("conv2d_grad_weight",
     lambda x, gy: Conv2dGradWeightOp((3, 3), (2, 2), (1, 1), (1, 1))(x, gy),
     lambda rng: [normal(rng, 2, 2, 5, 5), normal(rng, 2, 3, 3, 3)])

# --- layers' functions -------------------------------------------------------------------------

case("batch_norm_train_4d",
     lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     lambda rng: [normal(rng, 3, 2, 3, 3), normal(rng, 2), normal(rng, 2)])
case("batch_norm_train_2d",
     lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     lambda rng: [normal(rng, 4, 3), normal(rng, 3), normal(rng, 3)])
case("batch_norm_eval",
     lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b, training=False),
     lambda rng: [normal(rng, 3, 2, 2, 2), const(rng.standard_normal(2)), const(rng.uniform(0.5, 2, 2)),
                  normal(rng, 2), normal(rng, 2)])


def _dropout_seeded(x):
    minigan.manual_seed(7)  # the same mask on every call, so finite differences see one function
    return F.dropout(x, 0.4, training=True)


case("dropout", _dropout_seeded, lambda rng: [normal(rng, 4, 5)])
case("embedding_repeated_rows",
     lambda W: F.embedding(np.array([[1, 3], [1, 1]]), W),
     lambda rng: [normal(rng, 5, 3)])


# --- softmax and cross-entropy (compositions: the max-shift keeps exp from overflowing) ----------

case("softmax_rows", lambda x: F.softmax(x, axis=1), lambda rng: [normal(rng, 3, 4)])
case("log_softmax_cols", lambda x: F.log_softmax(x, axis=0), lambda rng: [normal(rng, 3, 4)])
case("log_softmax_large_logits", lambda x: F.log_softmax(x * 100.0), lambda rng: [normal(rng, 2, 5)])
for reduction in ("mean", "sum", "none"):
    case(f"cross_entropy_{reduction}",
         lambda x, r=reduction: F.cross_entropy(x, np.array([0, 3, 1]), reduction=r),
         lambda rng: [normal(rng, 3, 4)])
