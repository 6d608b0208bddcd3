"""Matrix products: ``matmul`` (the ``@`` operator, batched) and ``linear`` (a dense layer's maths).

For y = a @ b the vector-Jacobian products are ga = gy @ b^T and gb = a^T @ gy: the shapes
tell you the rule, since ga must be shaped like a. Batch axes broadcast, so the gradients are
summed back down to each input's shape.
"""
from ..autograd import Function, ShapeError
from ..performance import matmul as matmul_with_threads_by_size
from ..tensor import Tensor, as_tensor, binary_operands
from .shaping import reshape, sum_to, transpose


def _mT(x):
    """Swap the last two axes (the matrix transpose of every matrix in a batch)."""
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return transpose(x, axes)


class MatMulOp(Function):
    """The graph node of ``matmul`` (just below, with the formula and the backward rule)."""

    def forward(self, a, b):
        return matmul_with_threads_by_size(a, b)  # a @ b, on 1 BLAS thread if small (performance.py)

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(matmul(gy, _mT(b)), a.shape) if need_a else None,
                sum_to(matmul(_mT(a), gy), b.shape) if need_b else None)


def matmul(a, b):
    """Matrix product a @ b with NumPy's rules: a 1-D operand acts as a row (left) or column
    (right) vector and that axis is dropped from the result; more than 2-D means a batch of matrices.

    y = a @ b (batch axes broadcast);
    backward: ga = sum_to(gy @ b^T, a.shape), gb = sum_to(a^T @ gy, b.shape)
    """
    a, b = binary_operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs tensors with at least 1 axis, got shapes {a.shape} and {b.shape}; "
                         "use * for multiplying by a scalar")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the first "
                         f"({a.shape[-1]}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} "
                         f"axis of the second ({b.shape[-2 if b.ndim > 1 else 0]})")
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMulOp()(a, b)
    y = MatMulOp()(reshape(a, (1,) + a.shape) if a.ndim == 1 else a,
                 reshape(b, b.shape + (1,)) if b.ndim == 1 else b)
    shape = y.shape
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return reshape(y, shape)


class LinearOp(Function):
    """The graph node of ``linear`` (just below, with the formula and the backward rule)."""

    def forward(self, x, W, b=None):
        y = matmul_with_threads_by_size(x, W.T)  # x @ W^T, on 1 BLAS thread if small (performance.py)
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        need = self.needs_input_grad
        gx = matmul(gy, W) if need[0] else None
        if x.ndim == 2:
            gy2, x2 = gy, x
        else:  # fold the leading axes into one batch axis
            gy2, x2 = reshape(gy, (-1, gy.shape[-1])), reshape(x, (-1, x.shape[-1]))
        gW = matmul(transpose(gy2), x2) if need[1] else None
        if len(self.inputs) == 2:
            return gx, gW
        gb = gy2.sum(axis=0) if need[2] else None
        return gx, gW, gb


def linear(x, weight, bias=None):
    """A dense layer's maths, with weight shaped (out_features, in_features) as in PyTorch.

    y = x @ W^T + b, with x (..., in), W (out, in), b (out,) or None;
    backward: gx = gy @ W,  gW = gy^T @ x (summed over all leading axes),  gb = gy summed over them.
    Fused: one op instead of transpose + matmul + add, since it is the hottest path of an MLP GAN.
    """
    x, weight = binary_operands(x, weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape}: "
                         f"the input's last axis must be in_features = {weight.shape[1]}")
    if bias is None:
        return LinearOp()(x, weight)
    if type(bias) is not Tensor or bias.dtype != weight.dtype:
        bias = as_tensor(bias, like=weight)
    if bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias must have shape ({weight.shape[0]},) to match weight "
                         f"{weight.shape}, got {bias.shape}")
    return LinearOp()(x, weight, bias)
