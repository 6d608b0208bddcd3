"""``Linear``: the dense layer, y = x W^T + b, and ``Embedding``: a learned lookup table."""

from .. import functional as F
from ..checks import check_int
from . import init
from .module import Module, empty_parameter


class Linear(Module):
    """y = x @ weight^T + bias, for input (..., in_features) and output (..., out_features).

    weight: (out_features, in_features), bias: (out_features,), as in PyTorch. Default
    initialisation (PyTorch's): weight and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)),
    written as kaiming_uniform_(weight, a=sqrt(5)).
    """

    def __init__(self, in_features, out_features, bias=True, *, device=None, dtype=None):
        super().__init__()
        self.in_features = check_int("Linear", "in_features", in_features, low=1)
        self.out_features = check_int("Linear", "out_features", out_features, low=1)
        self.weight = empty_parameter((self.out_features, self.in_features), device, dtype)
        if bias:
            self.bias = empty_parameter((self.out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_init_(self.weight, self.bias)  # PyTorch's default (see nn/init.py)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim``; ``layer(indices)``
    returns the rows picked by an integer tensor of any shape, shaped indices.shape + (dim,).

    A conditional GAN uses one to turn a class label into a vector. weight ~ N(0, 1) (PyTorch's
    default). Rows looked up several times in a batch receive the sum of their gradients.
    """

    def __init__(self, num_embeddings, embedding_dim, *, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = check_int("Embedding", "num_embeddings", num_embeddings, low=1)
        self.embedding_dim = check_int("Embedding", "embedding_dim", embedding_dim, low=1)
        self.weight = empty_parameter((self.num_embeddings, self.embedding_dim), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
