"""Testing the tester: ``minigan.gradcheck`` must catch the bugs learners actually write.

Each test plants a broken op, written the way a learner would (a ``minigan.Function`` subclass
with a mistake in ``backward``), and shows that the checker fails on it with a useful message.
"""
import re

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import GradcheckError
from minigan.gradcheck import FULL_MODE_LIMIT


def leaf(values, requires_grad=True):
    return minigan.tensor(np.asarray(values, dtype=np.float64), dtype="float64",
                          requires_grad=requires_grad)


# --- planted bugs ------------------------------------------------------------------------------

class ForgetfulExp(minigan.Function):
    """y = e^x, but backward FORGETS the upstream gradient: returns e^x instead of gy * e^x.

    It records the upstream gradient it was given (``seen_gy``) so the tests can compute, on
    their own, what the correct answer would have been.
    """

    seen_gy = None

    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        ForgetfulExp.seen_gy = gy.numpy().copy()
        return F.exp(self.inputs[0])  # BUG: should be gy * exp(x)


class WrongSignExp(minigan.Function):
    """y = e^x with backward -gy * e^x: the sign is wrong."""

    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return -(gy * self.output)


class BadSecondInputMul(minigan.Function):
    """y = a * b; the gradient for a is right, the one for b wrongly uses b instead of a."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, gy * b  # BUG in the second gradient: should be gy * a


class RawArrayCube(minigan.Function):
    """y = x^3 with backward gy * 3x^2 -- numerically right, but 3x^2 is built from raw arrays
    (``x.data``), so it is a constant to the graph and its own derivative (6x) is lost."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        x, = self.inputs
        return gy * minigan.Tensor(3 * x.data ** 2)  # BUG for double backward only


class NaNBackward(minigan.Function):
    """y = 2x, but backward produces NaN."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return gy * float("nan")


class ExpAndSquare(minigan.Function):
    """Two outputs: (e^x, x^2); backward gets one upstream gradient per output:
    gx = g1 * e^x + g2 * 2x. With ``bug=True`` the second term is dropped."""

    def __init__(self, bug=False):
        self.bug = bug

    def forward(self, x):
        return np.exp(x), x * x

    def backward(self, g1, g2):
        x, = self.inputs
        gx = g1 * F.exp(x)
        return gx if self.bug else gx + g2 * 2 * x


def _parse_number(label, message):
    match = re.search(label + r"\s*(?:=\s*)?(-?[0-9.]+(?:e[-+]?[0-9]+)?)", message)
    assert match, f"no {label!r} number in: {message}"
    return float(match.group(1))


# --- the forgotten upstream gradient ----------------------------------------------------------

def test_forgetful_backward_is_caught_with_a_precise_message():
    """gradcheck backpropagates a RANDOM upstream gradient v, so ``return exp(x)`` (instead of
    ``gy * exp(x)``) gives exp(x) where the truth is v * exp(x). The message must say which input,
    which element is worst, both values and the tolerance -- enough to find the bug."""
    x = leaf([[0.1, -0.4, 0.7], [1.2, -1.0, 0.3]])
    atol, rtol = 1e-5, 1e-3
    with pytest.raises(GradcheckError) as info:
        minigan.gradcheck(lambda t: ForgetfulExp()(t), [x], atol=atol, rtol=rtol)
    message = str(info.value)

    # What it should report, computed here from the upstream gradient the op actually received.
    v = ForgetfulExp.seen_gy
    assert v.shape == x.shape and not np.allclose(v, 1.0)  # the upstream is random, not ones
    analytic = np.exp(x.numpy())
    numerical = v * np.exp(x.numpy())
    excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
    worst = np.unravel_index(np.argmax(excess), x.shape)

    assert "input 0" in message
    assert str(tuple(int(k) for k in worst)) in message
    np.testing.assert_allclose(_parse_number("analytic gradient", message), analytic[worst], rtol=1e-6)
    np.testing.assert_allclose(_parse_number("numerical", message), numerical[worst], rtol=1e-5)
    tolerance = _parse_number(r"atol \+ rtol\*\|numerical\|", message)
    np.testing.assert_allclose(tolerance, atol + rtol * abs(numerical[worst]), rtol=1e-2)


def test_forgetful_backward_passes_a_dezero_style_check():
    """WHY the random upstream gradient matters.

    DeZero's checker compares ``grad(fn(x).sum(), x)`` with central differences of
    ``fn(x).sum()``. Summing means the upstream gradient is all ones, and multiplying by one
    changes nothing -- so a backward that forgets ``gy *`` gives exactly the right numbers and the
    bug hides. Written out here, that check PASSES for ForgetfulExp; minigan.gradcheck (above)
    fails it, because its upstream gradient is random.
    """
    x = leaf([[0.1, -0.4, 0.7], [1.2, -1.0, 0.3]])

    def fn(t):
        return ForgetfulExp()(t)

    analytic, = minigan.grad(fn(x).sum(), x)
    eps = 1e-6
    numerical = np.empty(x.shape)
    for index in np.ndindex(x.shape):
        plus, minus = x.numpy().copy(), x.numpy().copy()
        plus[index] += eps
        minus[index] -= eps
        with minigan.no_grad():
            f_plus = fn(minigan.tensor(plus, dtype="float64")).sum().item()
            f_minus = fn(minigan.tensor(minus, dtype="float64")).sum().item()
        numerical[index] = (f_plus - f_minus) / (2 * eps)
    np.testing.assert_allclose(analytic.numpy(), numerical, rtol=1e-6)  # the bug goes unnoticed
    with pytest.raises(GradcheckError):
        minigan.gradcheck(fn, [x])  # ... but not by minigan's check


def test_correct_exp_passes():
    """The control: the correct rule gy * e^x passes the same check."""
    x = leaf([[0.1, -0.4, 0.7], [1.2, -1.0, 0.3]])
    assert minigan.gradcheck(F.exp, [x]) is True


# --- other classic bugs ------------------------------------------------------------------------

def test_wrong_sign_is_caught():
    """A backward with the sign flipped fails, and the message shows opposite-sign values."""
    x = leaf([0.2, -0.5, 1.0])
    with pytest.raises(GradcheckError, match="input 0") as info:
        minigan.gradcheck(lambda t: WrongSignExp()(t), [x])
    message = str(info.value)
    a, n = _parse_number("analytic gradient", message), _parse_number("numerical", message)
    np.testing.assert_allclose(a, -n, rtol=1e-5)


def test_bug_in_second_input_reports_input_1():
    """Only b's gradient is wrong, so input 1 is reported (input 0 passed)."""
    a = leaf([0.5, -1.0, 2.0])
    b = leaf([1.5, 0.3, -0.7])
    with pytest.raises(GradcheckError) as info:
        minigan.gradcheck(lambda p, q: BadSecondInputMul()(p, q), [a, b])
    assert "input 1" in str(info.value)
    assert "input 0" not in str(info.value)
    # With b not requiring grad, only a is checked, and a's rule is right.
    b.requires_grad = False
    assert minigan.gradcheck(lambda p, q: BadSecondInputMul()(p, q), [a, b])


def test_fast_mode_catches_bug_on_large_input():
    """mode='fast' checks one random direction per input (2 forward passes, not 2 per element);
    a wrong backward still changes the directional derivative, so a 100x100 input is caught."""
    rng = np.random.default_rng(1)
    x = leaf(rng.uniform(-1, 1, size=(100, 100)))
    with pytest.raises(GradcheckError, match=r"input 0\b.*\(100, 100\)"):
        minigan.gradcheck(lambda t: WrongSignExp()(t), [x], mode="fast")
    assert minigan.gradcheck(F.exp, [x], mode="fast")


def test_fast_mode_on_a_huge_input_checks_only_the_direction():
    """Above 50 * FULL_MODE_LIMIT elements locating the worst element would cost too much, so the
    failure reports the directional derivative instead -- still naming the input."""
    rng = np.random.default_rng(4)
    x = leaf(rng.uniform(-1, 1, size=(300, 200)))
    assert x.size > 50 * FULL_MODE_LIMIT
    with pytest.raises(GradcheckError, match=r"input 0\b.*\(300, 200\).*direction"):
        minigan.gradcheck(lambda t: WrongSignExp()(t), [x], mode="fast")


def test_float32_inputs_are_refused():
    """Finite differences with eps = 1e-6 drown in float32 rounding: float64 is required."""
    x = minigan.tensor([1.0, 2.0], requires_grad=True)  # float32 by default
    with pytest.raises(TypeError, match="float64"):
        minigan.gradcheck(F.exp, [x])


def test_no_input_requiring_grad_is_an_error():
    """A check with nothing to check is a mistake in the test, not a pass."""
    x = leaf([1.0, 2.0], requires_grad=False)
    with pytest.raises(ValueError, match="requires_grad"):
        minigan.gradcheck(F.exp, [x])
    with pytest.raises(ValueError, match="requires_grad"):
        minigan.gradgradcheck(F.exp, [x])


@pytest.mark.parametrize("check", [minigan.gradcheck, minigan.gradgradcheck],
                         ids=["gradcheck", "gradgradcheck"])
def test_output_not_depending_on_inputs_is_an_error(check):
    """If fn's output is cut off from the inputs (here by detach()), there is no gradient to
    check: both checkers must say so with a ValueError, not crash or pass."""
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match="depends|requires grad|requires_grad"):
        check(lambda t: F.exp(t).detach(), [x])


# --- second derivatives -----------------------------------------------------------------------

def test_gradgradcheck_catches_backward_written_with_raw_arrays():
    """RawArrayCube's first derivative is right (gradcheck passes), but its backward leaves the
    graph by using ``x.data``, so the second derivative comes out 0 instead of 6x: only
    gradgradcheck notices."""
    x = leaf([0.5, -1.2, 2.0])
    assert minigan.gradcheck(lambda t: RawArrayCube()(t), [x])
    with pytest.raises(GradcheckError, match="input 0"):
        minigan.gradgradcheck(lambda t: RawArrayCube()(t), [x])


def test_gradgradcheck_passes_for_correct_cube():
    """The control: the same op with backward written in minigan ops passes gradgradcheck."""
    x = leaf([0.5, -1.2, 2.0])
    assert minigan.gradgradcheck(lambda t: t ** 3, [x])


# --- the checker's own hygiene ----------------------------------------------------------------

@pytest.mark.parametrize("mode", ["full", "fast"])
def test_gradcheck_leaves_inputs_unchanged(mode):
    """Perturbing inputs in place must be undone exactly (bit for bit), in both modes."""
    rng = np.random.default_rng(2)
    x = leaf(rng.normal(size=(3, 4)))
    w = leaf(rng.normal(size=(4,)))
    x_before, w_before = x.numpy().copy(), w.numpy().copy()
    minigan.gradcheck(lambda a, b: F.tanh(a * b), [x, w], mode=mode)
    assert np.array_equal(x.numpy(), x_before)
    assert np.array_equal(w.numpy(), w_before)


def test_gradcheck_leaves_inputs_unchanged_after_a_failure():
    """Even when the check fails part-way, the inputs keep their values."""
    x = leaf([0.3, -0.2, 0.9])
    before = x.numpy().copy()
    with pytest.raises(GradcheckError):
        minigan.gradcheck(lambda t: WrongSignExp()(t), [x])
    assert np.array_equal(x.numpy(), before)


def test_gradcheck_handles_tuple_outputs():
    """A function returning several outputs is checked on the sum of v_k^T J_k over outputs."""
    x = leaf([0.4, -0.3, 1.1])
    assert minigan.gradcheck(lambda t: ExpAndSquare()(t), [x])
    assert minigan.gradcheck(lambda t: (t * t, F.sigmoid(t)), [x])


def test_gradcheck_catches_bug_in_one_output_of_a_tuple():
    """Dropping the second output's contribution to the gradient is caught."""
    x = leaf([0.4, -0.3, 1.1])
    with pytest.raises(GradcheckError, match="input 0"):
        minigan.gradcheck(lambda t: ExpAndSquare(bug=True)(t), [x])


def test_nan_backward_fails():
    """NaN compares False with everything; the check must treat that as a failure, not a pass."""
    x = leaf([0.5, 1.0])
    with pytest.raises(GradcheckError):
        minigan.gradcheck(lambda t: NaNBackward()(t), [x])
    with pytest.raises(GradcheckError):
        minigan.gradcheck(lambda t: NaNBackward()(t), [x], mode="fast")
