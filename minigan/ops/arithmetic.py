"""+ - * / ** and negation, with NumPy broadcasting.

Broadcasting in the forward pass means summing in the backward pass: if ``b`` was stretched to
the output's shape, every copy of it received gradient, and ``sum_to`` adds those back up to
``b.shape``. ``needs_input_grad`` lets each rule skip work for inputs that want no gradient.
"""
from numbers import Number

from ..autograd import Function
from ..tensor import as_tensor, binary_operands
from .shaping import sum_to


class AddOp(Function):
    """The graph node of ``add`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward needs only the inputs' shapes

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy, a.shape) if need_a else None,
                sum_to(gy, b.shape) if need_b else None)


def add(a, b):
    """a + b, with broadcasting.

    y = a + b;  backward: ga = sum_to(gy, a.shape), gb = sum_to(gy, b.shape)
    """
    return AddOp()(*binary_operands(a, b))


class SubOp(Function):
    """The graph node of ``sub`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward needs only the inputs' shapes

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy, a.shape) if need_a else None,
                -sum_to(gy, b.shape) if need_b else None)


def sub(a, b):
    """a - b, with broadcasting.

    y = a - b;  backward: ga = sum_to(gy, a.shape), gb = -sum_to(gy, b.shape)
    """
    return SubOp()(*binary_operands(a, b))


class MulOp(Function):
    """The graph node of ``mul`` (just below, with the formula and the backward rule)."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * b, a.shape) if need_a else None,
                sum_to(gy * a, b.shape) if need_b else None)


def mul(a, b):
    """a * b, elementwise, with broadcasting.

    y = a * b;  backward: ga = sum_to(gy * b, a.shape), gb = sum_to(gy * a, b.shape)
    """
    return MulOp()(*binary_operands(a, b))


class DivOp(Function):
    """The graph node of ``div`` (just below, with the formula and the backward rule)."""

    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy / b, a.shape) if need_a else None,
                sum_to(-(gy * a) / (b * b), b.shape) if need_b else None)


def div(a, b):
    """a / b, elementwise, with broadcasting.

    y = a / b;  backward: ga = sum_to(gy / b, a.shape), gb = sum_to(-gy * a / b**2, b.shape)
    """
    return DivOp()(*binary_operands(a, b))


class NegOp(Function):
    """The graph node of ``neg`` (just below, with the formula and the backward rule)."""
    saves_inputs = False  # backward needs only the inputs' shapes

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x):
    """-x.

    y = -x;  backward: gx = -gy
    """
    return NegOp()(as_tensor(x))


class PowOp(Function):
    """The graph node of ``pow`` (just below, with the formula and the backward rule)."""

    def __init__(self, exponent):
        # a Python number, so NumPy treats it as "weak" and keeps x's dtype (np.float64 would not)
        self.c = exponent.item() if hasattr(exponent, "item") else exponent

    def forward(self, x):
        return x ** self.c

    def backward(self, gy):
        x, = self.inputs
        if self.c == 2:  # the common square: skip the pow
            return gy * 2 * x
        return gy * self.c * x ** (self.c - 1)


def pow(x, exponent):
    """x ** exponent.

    y = x ** c, for a number exponent c (the op PowOp);  backward: gx = gy * c * x ** (c - 1)
    A tensor exponent, or a number base, is the composition exp(exponent * log(x)), so the base
    must be positive there; backward: through exp, mul and log.
    """
    from .elementwise import exp, log
    if isinstance(exponent, Number) and not isinstance(exponent, bool):
        return PowOp(exponent)(as_tensor(x))
    x, exponent = binary_operands(x, exponent)
    return exp(exponent * log(x))
