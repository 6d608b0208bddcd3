"""``Sequential``: layers applied one after another, ``Sequential(a, b, c)(x) == c(b(a(x)))``.

The layers are registered as children named "0", "1", ..., which is where state_dict keys such as
``0.weight`` and ``1.running_mean`` come from (an OrderedDict argument gives them names instead).
"""
from collections import OrderedDict

from .module import Module


class Sequential(Module):
    """A chain of Modules; index it (``model[0]``, ``model[-1]``, ``model[1:3]``), ``len()`` it,
    iterate over it, or ``append`` to it."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for module in modules:
                self.append(module)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"Sequential takes Modules, got {type(module).__name__} at position {len(self)}")
        self.add_module(str(len(self)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"Sequential indices must be ints or slices, got {type(index).__name__}")
        if not -len(items) <= index < len(items):
            raise IndexError(f"index {index} is out of range for a Sequential of {len(items)} layers")
        return items[index][1]

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x
