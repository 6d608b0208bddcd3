"""Layers and networks: ``Module``, ``Parameter`` and the layers a GAN is built from.

    import minigan.nn as nn

    G = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 784), nn.Tanh())
    print(G)                     # the layer tree, parameter shapes and the total count
    fake = G(minigan.randn(64, 100))

Names, argument orders, parameter shapes and default initialisations follow PyTorch, so what
you learn here carries over. ``nn.init`` holds the initialisers (``dcgan_init_`` among them);
``nn.utils`` gradient clipping and ``spectral_norm``. ``ModuleList`` and ``ModuleDict`` hold
layers that your own forward uses; the loss modules (``BCEWithLogitsLoss``, ``MSELoss``, ...)
wrap the loss functions of ``minigan.functional``.
"""
from . import init, utils
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout
from .linear import Embedding, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import IncompatibleKeys, Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d
from .shape import Flatten, Reshape, Unflatten

__all__ = [
    "Module", "Parameter", "IncompatibleKeys", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Conv2d", "ConvTranspose2d", "Embedding",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid",
    "Flatten", "Unflatten", "Reshape", "Dropout", "BatchNorm1d", "BatchNorm2d",
    "BCEWithLogitsLoss", "BCELoss", "MSELoss", "CrossEntropyLoss",
    "init",
]
