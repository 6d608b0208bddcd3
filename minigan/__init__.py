"""minigan: a from-scratch deep-learning engine for learning how GANs train.

    import minigan
    import minigan.functional as F

    x = minigan.randn(64, 784)
    W = minigan.randn(256, 784, requires_grad=True)
    loss = F.relu(F.linear(x, W)).mean()
    loss.backward()            # W.grad now holds d loss / d W

Read in this order: ``tensor.py`` (the Tensor), ``autograd.py`` (Function and the backward
walk), ``ops/`` (each op's forward and backward, one family per file), ``gradcheck.py``
(how every backward rule is verified), ``backend.py`` (NumPy or CuPy).
"""
from . import performance
performance.apply()  # process-wide speed settings (glibc's allocator); MINIGAN_TUNING=0 skips them
from . import backend
# tensor first: it defines Tensor, then loads the ops, which need Tensor and autograd.
from .tensor import Tensor, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .autograd import (Function, ShapeError, enable_grad, grad, is_grad_enabled, no_grad,
                       set_grad_enabled)
from .backend import DeviceError, get_array_module, gpu_available, manual_seed
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import functional
from . import nn
from .serialization import load, save
from .safetensors import load_safetensors, save_safetensors
from . import optim
from . import data, gan, metrics

float32 = "float32"
float64 = "float64"

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "zeros_like", "ones_like", "randn", "rand", "manual_seed",
    "Function", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError", "ShapeError", "DeviceError",
    "get_array_module", "gpu_available", "backend", "functional", "float32", "float64",
    "optim", "nn", "save", "load", "save_safetensors", "load_safetensors", "data", "gan", "metrics",
]
