"""The backward walk itself: how gradients flow, accumulate, and are differentiated again.

Every expected value here is derived by hand (the derivative is written in the docstring) and
computed with NumPy, never copied from minigan's output.
"""
import gc

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import ShapeError


def leaf(values, requires_grad=True):
    """A float64 leaf tensor: float64 keeps the analytic comparisons tight."""
    return minigan.tensor(np.asarray(values, dtype=np.float64), dtype="float64",
                          requires_grad=requires_grad)


def sigmoid_np(x):
    return 1.0 / (1.0 + np.exp(-x))


# --- a tensor used more than once --------------------------------------------------------------

def test_tensor_used_twice_gets_summed_gradient():
    """y = x*x + x uses x three times; dy/dx = 2x + 1 is the SUM of the contributions of each use."""
    x = leaf([-1.5, 0.0, 2.0])
    y = (x * x + x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1, rtol=1e-12)


def test_diamond_graph_sums_both_branches():
    """Diamond: a = x*2, b = x*3, y = a*b = 6x^2. Both branches reach x, so dy/dx = 12x.

    The walk must wait until BOTH a and b have passed their gradient back before it uses
    x's gradient -- this is why it processes ops in topological (generation) order.
    """
    x = leaf([0.5, -2.0])
    a = x * 2.0
    b = x * 3.0
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 12 * x.numpy(), rtol=1e-12)


def test_deep_diamond_with_unequal_branch_lengths():
    """x -> exp -> exp (long branch) and x (short branch) meet in a product:
    y = exp(exp(x)) * x,  dy/dx = exp(exp(x)) * exp(x) * x + exp(exp(x))."""
    x = leaf([0.1, -0.4, 0.7])
    long_branch = F.exp(F.exp(x))
    (long_branch * x).sum().backward()
    xn = x.numpy()
    expected = np.exp(np.exp(xn)) * np.exp(xn) * xn + np.exp(np.exp(xn))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


# --- accumulation and resetting ------------------------------------------------------------------

def test_gradients_accumulate_across_backward_calls():
    """Two backward() calls add up in .grad (as in PyTorch); zero them between training steps."""
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * x.numpy()), rtol=1e-12)


@pytest.mark.parametrize("reset", ["assign_none", "zero_grad"])
def test_resetting_grad_starts_accumulation_over(reset):
    """After ``x.grad = None`` or ``x.zero_grad()`` the next backward() gives a fresh gradient."""
    x = leaf([1.0, -2.0])
    (x * x).sum().backward()
    if reset == "assign_none":
        x.grad = None
    else:
        x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


# --- which tensors keep .grad --------------------------------------------------------------------

def test_only_leaves_keep_grad():
    """Intermediate results (non-leaves) get no .grad: it would waste memory in every step."""
    x = leaf([1.0, 2.0])
    h = x * 2.0
    y = (h * h).sum()
    y.backward()
    assert x.is_leaf and not h.is_leaf
    assert h.grad is None
    assert y.grad is None
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())  # d(4x^2)/dx


def test_retain_grad_keeps_non_leaf_gradient():
    """``h.retain_grad()`` asks to keep dL/dh for a non-leaf: here L = sum(h^2), so dL/dh = 2h."""
    x = leaf([1.0, -3.0])
    h = (x * 2.0).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())


def test_requires_grad_propagates():
    """An op's output requires grad iff some input does; a constant-only result does not."""
    a = leaf([1.0], requires_grad=True)
    c = leaf([2.0], requires_grad=False)
    assert (a * c).requires_grad
    assert (c * a).requires_grad
    assert not (c * c).requires_grad
    assert (c * c).creator is None
    assert F.exp(a + c).creator is not None


def test_leaf_that_does_not_require_grad_gets_no_grad():
    """Only tensors asking for gradients receive them, even when they take part in the graph."""
    a = leaf([1.0, 2.0])
    c = leaf([3.0, 4.0], requires_grad=False)
    (a * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(a.grad.numpy(), c.numpy())


# --- grad mode -----------------------------------------------------------------------------------

def test_no_grad_records_nothing():
    """Inside ``no_grad()`` ops run but build no graph: no creator, no requires_grad."""
    x = leaf([1.0, 2.0])
    with minigan.no_grad():
        assert not minigan.is_grad_enabled()
        y = F.exp(x * 2.0).sum()
    assert minigan.is_grad_enabled()
    assert y.creator is None
    assert not y.requires_grad
    np.testing.assert_allclose(y.item(), np.exp(2 * x.numpy()).sum())


def test_set_grad_enabled_restores_state_after_exception():
    """Grad mode is restored on the way out of the ``with`` block, even when it is left by an error."""
    assert minigan.is_grad_enabled()
    with pytest.raises(ZeroDivisionError):
        with minigan.set_grad_enabled(False):
            assert not minigan.is_grad_enabled()
            1 / 0
    assert minigan.is_grad_enabled()
    with minigan.no_grad():
        with pytest.raises(KeyError):
            with minigan.enable_grad():
                assert minigan.is_grad_enabled()
                raise KeyError("boom")
        assert not minigan.is_grad_enabled()
    assert minigan.is_grad_enabled()


# --- create_graph and higher derivatives ---------------------------------------------------------

def test_backward_without_create_graph_records_no_graph_for_grad():
    """By default the backward pass runs without recording, so x.grad is a plain leaf."""
    x = leaf([0.3, 1.2])
    (x ** 3).sum().backward()
    assert x.grad.creator is None
    assert not x.grad.requires_grad


def test_backward_with_create_graph_gives_differentiable_grad():
    """With create_graph=True, x.grad = 3x^2 has a graph; differentiating it gives 6x."""
    x = leaf([0.3, -1.2, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.creator is not None and g.requires_grad
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2, rtol=1e-12)
    x.grad = None  # otherwise the next backward would add into the graph-carrying gradient
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy(), rtol=1e-12)


def test_second_derivative_of_cube():
    """d/dx x^3 = 3x^2, and d^2/dx^2 x^3 = 6x."""
    x = leaf([0.3, -1.2, 2.0])
    g, = minigan.grad((x ** 3).sum(), x, create_graph=True)
    gg, = minigan.grad(g.sum(), x)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2, rtol=1e-12)
    np.testing.assert_allclose(gg.numpy(), 6 * x.numpy(), rtol=1e-12)


def test_second_derivative_of_sigmoid():
    """s = sigmoid(x): s' = s(1 - s) and s'' = s(1 - s)(1 - 2s)."""
    x = leaf([-2.0, -0.3, 0.0, 0.8, 3.0])
    g, = minigan.grad(F.sigmoid(x).sum(), x, create_graph=True)
    gg, = minigan.grad(g.sum(), x)
    s = sigmoid_np(x.numpy())
    np.testing.assert_allclose(g.numpy(), s * (1 - s), rtol=1e-12)
    np.testing.assert_allclose(gg.numpy(), s * (1 - s) * (1 - 2 * s), rtol=1e-10, atol=1e-15)


def test_third_derivative_of_cube():
    """Differentiating three times: d^3/dx^3 x^3 = 6 (create_graph at every level but the last)."""
    x = leaf([0.5, -2.0])
    g1, = minigan.grad((x ** 3).sum(), x, create_graph=True)
    g2, = minigan.grad(g1.sum(), x, create_graph=True)
    g3, = minigan.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), [6.0, 6.0], rtol=1e-12)


def test_mixed_partial_derivative():
    """f = (x y)^2:  df/dx = 2 x y^2,  d/dy (df/dx) = 4 x y."""
    x = leaf([1.5, -0.5])
    y = leaf([2.0, 3.0])
    gx, = minigan.grad(((x * y) ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(gx.numpy(), 2 * x.numpy() * y.numpy() ** 2, rtol=1e-12)
    gxy, = minigan.grad(gx.sum(), y)
    np.testing.assert_allclose(gxy.numpy(), 4 * x.numpy() * y.numpy(), rtol=1e-12)


# --- minigan.grad ----------------------------------------------------------------------------

def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    """``minigan.grad`` returns the gradients; it does not write into any ``.grad``."""
    x = leaf([1.0, 2.0])
    w = leaf([3.0, -1.0])
    result = minigan.grad((x * w).sum(), [x, w])
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_allclose(result[0].numpy(), w.numpy())
    np.testing.assert_allclose(result[1].numpy(), x.numpy())
    assert x.grad is None and w.grad is None


def test_grad_does_not_touch_existing_grad():
    """A .grad already there (from backward) is left exactly as it was."""
    x = leaf([1.0, 2.0])
    (x * 5.0).sum().backward()
    before = x.grad
    minigan.grad((x * x).sum(), x)
    assert x.grad is before
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_grad_with_respect_to_non_leaf():
    """grad works for an intermediate tensor: L = sum(h^3) with h = 2x gives dL/dh = 3h^2."""
    x = leaf([0.5, -1.0])
    h = x * 2.0
    gh, = minigan.grad((h ** 3).sum(), h)
    np.testing.assert_allclose(gh.numpy(), 3 * h.numpy() ** 2, rtol=1e-12)
    assert x.grad is None and h.grad is None


def test_grad_with_multiple_outputs_and_grad_outputs():
    """Several outputs: the result is the sum of v_k^T J_k. Here y1 = x^2, y2 = 3x, so
    dx = v1 * 2x + v2 * 3."""
    x = leaf([1.0, -2.0, 0.5])
    y1, y2 = x * x, x * 3.0
    v1 = leaf([0.1, 0.2, -0.3], requires_grad=False)
    v2 = leaf([1.0, -1.0, 2.0], requires_grad=False)
    gx, = minigan.grad([y1, y2], [x], grad_outputs=[v1, v2])
    np.testing.assert_allclose(gx.numpy(), v1.numpy() * 2 * x.numpy() + v2.numpy() * 3, rtol=1e-12)


def test_grad_with_non_scalar_output_and_grad_outputs():
    """For a non-scalar y, grad_outputs is the upstream gradient v: the result is v * dy/dx."""
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([[0.5, -1.0], [2.0, 0.25]])
    gx, = minigan.grad(F.exp(x), x, grad_outputs=minigan.tensor(v, dtype="float64"))
    np.testing.assert_allclose(gx.numpy(), v * np.exp(x.numpy()), rtol=1e-12)


def test_grad_create_graph_flag():
    """create_graph=False gives a plain result; True gives one with a graph to differentiate."""
    x = leaf([1.0, 2.0])
    plain, = minigan.grad((x ** 3).sum(), x)
    assert plain.creator is None
    graphed, = minigan.grad((x ** 3).sum(), x, create_graph=True)
    assert graphed.creator is not None


def test_grad_allow_unused():
    """An input the output does not depend on is an error, unless allow_unused=True gives None."""
    x = leaf([1.0])
    unused = leaf([2.0])
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        minigan.grad(y, [x, unused], retain_graph=True)  # the graph is used again below
    gx, gu = minigan.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0])
    assert gu is None


# --- long chains: the walk is iterative -----------------------------------------------------------

def test_ten_thousand_op_chain_backpropagates():
    """y = x * 1.0001 repeated 10,000 times: dy/dx = 1.0001^10000. A recursive walk would hit
    Python's recursion limit long before this; minigan's walk uses a heap instead."""
    x = leaf(1.5)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001 ** 10_000, rtol=1e-9)


def test_ten_thousand_alternating_op_chain():
    """Alternating ops: each pair (y + 0.5) * 0.999 has derivative 0.999, so 5,000 pairs give 0.999^5000."""
    x = leaf([0.2, -0.7])
    y = x
    for i in range(10_000):
        y = y + 0.5 if i % 2 == 0 else y * 0.999
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(2, 0.999 ** 5_000), rtol=1e-9)


def test_ten_thousand_op_chain_is_freed_when_dropped():
    """Dropping the last tensor of a 10,000-op chain frees every node at once by reference
    counting (no RecursionError on the way). The garbage collector is off during the test, so
    the nodes can only go if no reference cycle holds them."""
    x = leaf([1.0])
    gc.collect()
    gc.disable()
    try:
        y = x
        for _ in range(10_000):
            y = F.exp(y * 1e-3)
        with_graph = sum(isinstance(o, minigan.Tensor) for o in gc.get_objects())
        del y
        without_graph = sum(isinstance(o, minigan.Tensor) for o in gc.get_objects())
    finally:
        gc.enable()
    assert with_graph - without_graph >= 2 * 10_000  # both outputs of each of the 10,000 steps


# --- the WGAN-GP gradient penalty (a "Done when" item) ---------------------------------------------

def _discriminator(x, W1, b1, W2, b2):
    """D(x) = linear(leaky_relu(linear(x, W1, b1), 0.2), W2, b2): a 2-layer MLP critic."""
    return F.linear(F.leaky_relu(F.linear(x, W1, b1), 0.2), W2, b2)


def _gradient_penalty(x, W1, b1, W2, b2):
    """penalty = mean over the batch of (||dD/dx_i||_2 - 1)^2, as in WGAN-GP.

    dD/dx is taken with create_graph=True, so the penalty can itself be backpropagated.
    """
    d = _discriminator(x, W1, b1, W2, b2)
    gx, = minigan.grad(d.sum(), x, create_graph=True)
    norms = F.sqrt((gx * gx).sum(axis=1))
    return ((norms - 1.0) ** 2).mean()


def _penalty_setup(seed=3):
    rng = np.random.default_rng(seed)
    x = leaf(rng.normal(size=(4, 3)))
    W1 = leaf(rng.normal(size=(5, 3)))
    b1 = leaf(rng.normal(size=5) * 0.5)
    W2 = leaf(rng.normal(size=(1, 5)))
    b2 = leaf(rng.normal(size=1), requires_grad=False)  # the penalty does not depend on b2
    # Finite differences must not straddle the leaky_relu kink: keep pre-activations off zero.
    pre = x.numpy() @ W1.numpy().T + b1.numpy()
    assert np.abs(pre).min() > 1e-3
    return x, W1, b1, W2, b2


def test_gradient_penalty_value_matches_closed_form():
    """For this MLP, dD/dx_i = W2 diag(slope_i) W1 with slope 1 where the pre-activation is
    positive and 0.2 elsewhere; the penalty computed by minigan must match that formula."""
    x, W1, b1, W2, b2 = _penalty_setup()
    pre = x.numpy() @ W1.numpy().T + b1.numpy()
    slope = np.where(pre > 0, 1.0, 0.2)                        # (batch, hidden)
    grads = (slope * W2.numpy()[0]) @ W1.numpy()               # row i = W2 diag(slope_i) W1
    expected = np.mean((np.linalg.norm(grads, axis=1) - 1.0) ** 2)
    got = _gradient_penalty(x, W1, b1, W2, b2)
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12)


def test_gradient_penalty_through_leaky_relu_mlp_passes_gradcheck_and_gradgradcheck():
    """Done when: grad(..., create_graph=True) differentiates a WGAN-GP penalty correctly.

    gradcheck verifies d penalty / d(x, W1, b1, W2) -- derivatives THROUGH a gradient;
    gradgradcheck verifies the next order too. Note that D is piecewise linear in x, so the
    exact derivative w.r.t. x and b1 is 0 almost everywhere: the check confirms minigan does
    not invent a spurious one, while W1 and W2 give non-trivial derivatives.
    """
    x, W1, b1, W2, b2 = _penalty_setup()

    def penalty(x, W1, b1, W2):
        return _gradient_penalty(x, W1, b1, W2, b2)

    assert minigan.gradcheck(penalty, [x, W1, b1, W2])
    assert minigan.gradgradcheck(penalty, [x, W1, b1, W2])
    # The check is not vacuous: the weights do receive a gradient.
    gW1, gW2 = minigan.grad(penalty(x, W1, b1, W2), [W1, W2])
    assert np.abs(gW1.numpy()).max() > 1e-3 and np.abs(gW2.numpy()).max() > 1e-3


def test_gradient_penalty_backward_matches_closed_form_for_w2():
    """With D linear in W2 inside one activation pattern, g_i = (W2 * slope_i) @ W1, and
    d penalty / d W2 = mean_i 2 (|g_i| - 1) / |g_i| * (W1 @ g_i^T * slope_i)^T (chain rule by hand)."""
    x, W1, b1, W2, b2 = _penalty_setup()
    _gradient_penalty(x, W1, b1, W2, b2).backward()
    pre = x.numpy() @ W1.numpy().T + b1.numpy()
    slope = np.where(pre > 0, 1.0, 0.2)
    g = (slope * W2.numpy()[0]) @ W1.numpy()
    norm = np.linalg.norm(g, axis=1)
    coef = 2 * (norm - 1) / norm / len(norm)                  # d mean((|g|-1)^2) / d|g_i| * 1/|g_i|
    expected = (coef[:, None] * slope * (g @ W1.numpy().T)).sum(axis=0)
    np.testing.assert_allclose(W2.grad.numpy()[0], expected, rtol=1e-10)


# --- user-defined Functions ------------------------------------------------------------------

class Cube(minigan.Function):
    """y = x^3;  backward: gx = gy * 3 x^2 (written with minigan ops, so twice differentiable)."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        x, = self.inputs
        return gy * 3 * x ** 2


def test_user_defined_function_backward_and_double_backward():
    """A Function subclass written by a user plugs into backward() and create_graph like any op."""
    x = leaf([0.5, -1.5])
    y = Cube()(x)
    assert isinstance(y.creator, Cube)
    np.testing.assert_allclose(y.numpy(), x.numpy() ** 3)
    g, = minigan.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy())


def test_user_defined_function_is_not_registered():
    """REGISTRY lists only minigan's own ops (each must have a gradcheck); a user's op is not added."""
    registry = minigan.autograd.REGISTRY
    assert "Cube" not in registry
    assert Cube not in registry.values()
    assert registry.get("ExpOp") is F.exp(leaf([1.0])).creator.__class__
    assert all(cls.__module__.startswith("minigan.") for cls in registry.values())


# --- error messages ------------------------------------------------------------------------------

def test_backward_on_non_scalar_without_grad_names_the_shape():
    """backward() with no upstream gradient only makes sense for a scalar."""
    x = leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2.0).backward()


def test_backward_on_tensor_that_does_not_require_grad():
    """backward() on a constant says why: nothing it came from has requires_grad."""
    c = leaf([1.0, 2.0], requires_grad=False)
    with pytest.raises(RuntimeError, match="requires_grad"):
        (c * 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="requires_grad"):
        with minigan.no_grad():
            y = (leaf([1.0]) * 2.0).sum()
        y.backward()


def test_wrong_shape_upstream_gradient_names_both_shapes():
    """An upstream gradient must have the output's shape; the error gives both."""
    x = leaf(np.ones((2, 3)))
    y = x * 2.0
    with pytest.raises(ShapeError) as info:
        y.backward(np.ones((3, 2)))
    assert "(3, 2)" in str(info.value) and "(2, 3)" in str(info.value)
    with pytest.raises(ShapeError) as info:
        minigan.grad(y, x, grad_outputs=minigan.tensor(np.ones(6), dtype="float64"))
    assert "(6,)" in str(info.value) and "(2, 3)" in str(info.value)


class TwoGradsForOneInput(minigan.Function):
    """A buggy op: one input but backward returns two gradients."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return gy * 2, gy * 2


class SummedGrad(minigan.Function):
    """A buggy op: backward returns a scalar instead of a gradient shaped like the input."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return (gy * 2).sum()


def test_backward_returning_wrong_number_of_grads_names_the_op():
    """One gradient per input is the contract; the error names the op class that broke it."""
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="TwoGradsForOneInput") as info:
        TwoGradsForOneInput()(x).sum().backward()
    assert "2" in str(info.value) and "1" in str(info.value)


def test_backward_returning_wrongly_shaped_grad_names_the_op():
    """A gradient must have its input's shape; the error names the op and both shapes."""
    x = leaf([1.0, 2.0])
    with pytest.raises(ShapeError, match="SummedGrad") as info:
        SummedGrad()(x).sum().backward()
    assert "()" in str(info.value) and "(2,)" in str(info.value)


def test_every_leaf_gets_a_gradient_of_its_own():
    """a + b hands both the same upstream gradient, and a mean's gradient is a read-only broadcast
    view; still, each leaf's .grad must be its own writable array, so that scaling one in place
    (as gradient clipping does) cannot change another."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).mean().backward()
    assert a.grad is not b.grad
    a.grad.data *= 10  # must not raise (read-only) and must not touch b.grad
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 0.5])
    np.testing.assert_allclose(a.grad.numpy(), [5.0, 5.0])
