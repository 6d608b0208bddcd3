"""Property-based tests (hypothesis): ops agree with NumPy on randomly drawn shapes.

Hand-picked shapes miss corner cases (scalars, length-1 axes that broadcast, negative axes,
empty slices). Here hypothesis draws the shapes, axes and indices; the values come from a
NumPy generator seeded by hypothesis, and every expected gradient is computed with NumPy
only, by a method independent of minigan's own ``sum_to``.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan
import minigan.functional as F

FAST = settings(max_examples=30, deadline=None)


def t64(array, requires_grad=True):
    return minigan.tensor(np.asarray(array, dtype=np.float64), dtype="float64",
                          requires_grad=requires_grad)


def reduce_to(g, shape):
    """Sum the upstream gradient ``g`` (output-shaped) onto an input of ``shape`` that was
    broadcast to the output: every output element adds into the input element it was copied
    from. Done with an explicit source-index map and ``np.bincount``, not with sum_to's
    "which axes to sum" logic, so a mistake there cannot hide here."""
    size = int(np.prod(shape, dtype=np.int64))
    source = np.broadcast_to(np.arange(size).reshape(shape), g.shape)
    return np.bincount(source.ravel(), weights=g.ravel(), minlength=size).reshape(shape)


# --- strategies --------------------------------------------------------------------------------

seeds = st.integers(0, 2 ** 32 - 1)


@st.composite
def broadcastable_shapes(draw, count=2):
    """A result shape, then ``count`` operand shapes derived from it by dropping some leading
    axes and setting some of the remaining axes to 1 -- so they always broadcast together."""
    result = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))
    shapes = []
    for _ in range(count):
        drop = draw(st.integers(0, len(result)))
        kept = result[drop:]
        ones = draw(st.lists(st.booleans(), min_size=len(kept), max_size=len(kept)))
        shapes.append(tuple(1 if one else n for n, one in zip(kept, ones)))
    return shapes


@st.composite
def shapes_and_axes(draw, max_ndim=3):
    """A shape and an ``axis`` argument: None, an int (maybe negative), or a tuple of distinct
    axes (each maybe written negative, possibly empty)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=max_ndim)))
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"])) if ndim else draw(st.sampled_from(["none", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)) if ndim else []
        axis = tuple(a - ndim if draw(st.booleans()) else a for a in axes)
    return shape, axis


def normalized_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else axis
    return tuple(sorted(a % ndim for a in axes))


# --- binary ops with broadcasting ----------------------------------------------------------------

def _binary_values(shape_a, shape_b, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2, 2, size=shape_a)
    # b stays away from 0 (for div) and cannot tie with a (for maximum: a tie is a kink).
    b = rng.choice([-1.0, 1.0], size=shape_b) * rng.uniform(0.5, 2, size=shape_b)
    return a, b


# name: (minigan op, NumPy forward, local derivatives (d out/d a, d out/d b) as NumPy arrays)
BINARY = {
    "add": (F.add, np.add, lambda a, b: (np.ones_like(a + b), np.ones_like(a + b))),
    "sub": (F.sub, np.subtract, lambda a, b: (np.ones_like(a + b), -np.ones_like(a + b))),
    "mul": (F.mul, np.multiply, lambda a, b: (b + 0 * a, a + 0 * b)),
    "div": (F.div, np.divide, lambda a, b: (1 / b + 0 * a, -a / b ** 2)),
    "maximum": (F.maximum, np.maximum, lambda a, b: ((a > b) * 1.0, (b > a) * 1.0)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@FAST
@given(shapes=broadcastable_shapes(), seed=seeds)
def test_broadcasting_binary_op_matches_numpy(name, shapes, seed):
    """Forward equals NumPy; each gradient has its input's shape and equals the upstream gradient
    times the local derivative, summed back over the axes that broadcasting stretched."""
    op, np_op, local = BINARY[name]
    (shape_a, shape_b) = shapes
    a_np, b_np = _binary_values(shape_a, shape_b, seed)
    a, b = t64(a_np), t64(b_np)
    y = op(a, b)
    expected = np_op(a_np, b_np)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)

    g = np.random.default_rng(seed + 1).uniform(-1, 1, size=expected.shape)
    ga, gb = minigan.grad(y, [a, b], grad_outputs=t64(g, requires_grad=False))
    da, db = local(a_np, b_np)
    assert ga.shape == shape_a and gb.shape == shape_b
    np.testing.assert_allclose(ga.numpy(), reduce_to(g * da, shape_a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), reduce_to(g * db, shape_b), rtol=1e-10, atol=1e-12)


@FAST
@given(shapes=broadcastable_shapes(count=3), seed=seeds)
def test_where_with_broadcasting_matches_numpy(shapes, seed):
    """where(cond, a, b): the gradient goes to a where cond holds and to b elsewhere, then is
    summed back to each input's shape; cond (a constant mask) broadcasts too."""
    shape_c, shape_a, shape_b = shapes
    rng = np.random.default_rng(seed)
    cond = rng.random(shape_c) < 0.5
    a_np, b_np = rng.normal(size=shape_a), rng.normal(size=shape_b)
    a, b = t64(a_np), t64(b_np)
    y = F.where(cond, a, b)
    expected = np.where(cond, a_np, b_np)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)

    g = rng.uniform(-1, 1, size=expected.shape)
    ga, gb = minigan.grad(y, [a, b], grad_outputs=t64(g, requires_grad=False))
    full_cond = np.broadcast_to(cond, expected.shape)
    assert ga.shape == shape_a and gb.shape == shape_b
    np.testing.assert_allclose(ga.numpy(), reduce_to(np.where(full_cond, g, 0.0), shape_a), rtol=1e-12)
    np.testing.assert_allclose(gb.numpy(), reduce_to(np.where(full_cond, 0.0, g), shape_b), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(BINARY))
@FAST
@given(shapes=broadcastable_shapes(), seed=seeds)
def test_broadcasting_binary_op_passes_gradcheck(name, shapes, seed):
    """The same ops, checked against central differences with a random upstream gradient."""
    op = BINARY[name][0]
    a_np, b_np = _binary_values(*shapes, seed)
    assert minigan.gradcheck(op, [t64(a_np), t64(b_np)])


# --- reductions --------------------------------------------------------------------------------

def _distinct_values(shape, seed):
    """Values that are all different (a permutation of 0..n-1, scaled), so max has no ties and
    a finite-difference step of 1e-6 never changes which element is the maximum."""
    size = int(np.prod(shape, dtype=np.int64))
    return np.random.default_rng(seed).permutation(size).reshape(shape) * 0.5 - size / 4


@pytest.mark.parametrize("name", ["sum", "mean", "max", "var"])
@FAST
@given(case=shapes_and_axes(), keepdims=st.booleans(), seed=seeds)
def test_reduction_matches_numpy_and_passes_gradcheck(name, case, keepdims, seed):
    """Forward equals NumPy for any axis spelling (None, int, negative, tuple) and keepdims;
    the gradient has the input's shape; and it passes gradcheck."""
    shape, axis = case
    x_np = _distinct_values(shape, seed)
    x = t64(x_np)
    y = getattr(F, name)(x, axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(x_np, axis=axis, keepdims=keepdims)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)

    g = np.random.default_rng(seed + 1).uniform(-1, 1, size=np.shape(expected))
    gx, = minigan.grad(y, x, grad_outputs=t64(g, requires_grad=False))
    assert gx.shape == shape
    assert minigan.gradcheck(lambda t: getattr(F, name)(t, axis=axis, keepdims=keepdims), [x])


@FAST
@given(case=shapes_and_axes(), keepdims=st.booleans(), seed=seeds)
def test_reduction_gradients_match_hand_derived_rules(case, keepdims, seed):
    """The reduction rules written out in NumPy, with g put back on the reduced axes:
    sum -> g everywhere; mean -> g / n; max -> g only at the maximum of each group."""
    shape, axis = case
    axes = normalized_axes(axis, len(shape))
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    x_np = _distinct_values(shape, seed)
    x = t64(x_np)
    kept_shape = tuple(1 if i in axes else s for i, s in enumerate(shape))
    out_shape = kept_shape if keepdims else tuple(s for i, s in enumerate(shape) if i not in axes)
    g = np.random.default_rng(seed + 1).uniform(-1, 1, size=out_shape)
    g_back = np.broadcast_to(g.reshape(kept_shape), shape)  # g placed over the reduced axes

    for name, expected in [
        ("sum", g_back),
        ("mean", g_back / n),
        ("max", np.where(x_np == np.max(x_np, axis=axis, keepdims=True), g_back, 0.0)),
    ]:
        y = getattr(F, name)(x, axis=axis, keepdims=keepdims)
        gx, = minigan.grad(y, x, grad_outputs=t64(g, requires_grad=False))
        np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-12, err_msg=name)


# --- reshape and transpose ------------------------------------------------------------------------

@FAST
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=4), data=st.data())
def test_reshape_round_trip(shape, data):
    """Reshaping to a shuffled shape (one entry possibly -1) and back restores x; the gradient of
    a reshape is the upstream gradient reshaped back, and through the round trip it is unchanged."""
    shape = tuple(shape)
    new_shape = list(data.draw(st.permutations(shape)))
    new_shape.insert(data.draw(st.integers(0, len(new_shape))), 1)
    spelled = list(new_shape)
    if data.draw(st.booleans()):
        spelled[data.draw(st.integers(0, len(spelled) - 1))] = -1
    rng = np.random.default_rng(data.draw(seeds))
    x_np = rng.normal(size=shape)
    x = t64(x_np)

    y = x.reshape(tuple(spelled))
    assert y.shape == tuple(new_shape)
    np.testing.assert_array_equal(y.numpy(), x_np.reshape(new_shape))
    g = rng.normal(size=tuple(new_shape))
    gx, = minigan.grad(y, x, grad_outputs=t64(g, requires_grad=False), retain_graph=True)  # y is reused
    np.testing.assert_array_equal(gx.numpy(), g.reshape(shape))

    back = y.reshape(shape)
    np.testing.assert_array_equal(back.numpy(), x_np)
    g2 = rng.normal(size=shape)
    gx2, = minigan.grad(back, x, grad_outputs=t64(g2, requires_grad=False))
    np.testing.assert_array_equal(gx2.numpy(), g2)


@FAST
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_transpose_round_trip(shape, data):
    """Transpose by a random permutation matches NumPy; its gradient is the upstream gradient
    transposed by the inverse permutation; transposing back restores x."""
    shape = tuple(shape)
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    inverse = tuple(np.argsort(perm))
    rng = np.random.default_rng(data.draw(seeds))
    x_np = rng.normal(size=shape)
    x = t64(x_np)

    y = x.transpose(perm)
    np.testing.assert_array_equal(y.numpy(), np.transpose(x_np, perm))
    g = rng.normal(size=y.shape)
    gx, = minigan.grad(y, x, grad_outputs=t64(g, requires_grad=False))
    np.testing.assert_array_equal(gx.numpy(), np.transpose(g, inverse))
    np.testing.assert_array_equal(y.transpose(inverse).numpy(), x_np)
    np.testing.assert_array_equal(x.T.numpy(), x_np.T)


# --- indexing ----------------------------------------------------------------------------------

@st.composite
def shapes_and_basic_indices(draw):
    """A shape and a basic index: per axis a slice with random start/stop/step (negative ones
    too, possibly empty) or an integer."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    index = []
    for n in shape[:draw(st.integers(1, len(shape)))]:
        if draw(st.integers(0, 4)) == 0:
            index.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.none() | st.integers(-n - 1, n + 1)
            step = st.none() | st.integers(-3, 3).filter(lambda s: s != 0)
            index.append(slice(draw(bound), draw(bound), draw(step)))
    return shape, tuple(index)


@FAST
@given(case=shapes_and_basic_indices(), seed=seeds)
def test_getitem_gradient_marks_selected_positions(case, seed):
    """x[index] matches NumPy. With an all-ones upstream gradient the input's gradient is 1 at
    every selected position and 0 elsewhere (each position is selected at most once)."""
    shape, index = case
    x_np = np.random.default_rng(seed).normal(size=shape)
    x = t64(x_np)
    y = x[index]
    np.testing.assert_array_equal(y.numpy(), x_np[index])
    selected = np.zeros(shape)
    selected[index] = 1.0
    gx, = minigan.grad(y, x, grad_outputs=t64(np.ones(y.shape), requires_grad=False))
    np.testing.assert_array_equal(gx.numpy(), selected)
    assert selected.sum() == y.size


@FAST
@given(case=shapes_and_basic_indices(), seed=seeds)
def test_getitem_passes_gradcheck(case, seed):
    """The same indices checked with a random upstream gradient (it must land at the right spot)."""
    shape, index = case
    x = t64(np.random.default_rng(seed).normal(size=shape))
    assert minigan.gradcheck(lambda t: t[index], [x])


@FAST
@given(n=st.integers(1, 6), picks=st.lists(st.integers(0, 5), min_size=1, max_size=10), seed=seeds)
def test_getitem_with_repeated_integer_indices_adds_up(n, picks, seed):
    """x[[i, i, j]] uses x[i] twice, so its gradient (all-ones upstream) counts the repeats."""
    picks = [p % n for p in picks]
    x_np = np.random.default_rng(seed).normal(size=(n, 2))
    x = t64(x_np)
    y = x[np.array(picks)]
    np.testing.assert_array_equal(y.numpy(), x_np[picks])
    gx, = minigan.grad(y.sum(), x)
    counts = np.bincount(picks, minlength=n).astype(np.float64)
    np.testing.assert_array_equal(gx.numpy(), np.repeat(counts[:, None], 2, axis=1))
