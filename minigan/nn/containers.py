"""Containers: Modules that hold other Modules.

* ``Sequential``: layers applied one after another, ``Sequential(a, b, c)(x) == c(b(a(x)))``.
* ``ModuleList``: a list of Modules with no forward of its own, for a network that loops over its
  layers itself (``for block in self.blocks: x = block(x) + x``).
* ``ModuleDict``: Modules by name, also with no forward (``self.heads[task](features)``).

A plain Python list or dict of layers would hide them: ``parameters()``, ``state_dict()``, ``to()``
and ``train()`` walk only registered children. These containers register each layer as a child,
``Sequential`` and ``ModuleList`` under the names "0", "1", ..., which is where state_dict keys
such as ``0.weight`` and ``layers.1.running_mean`` come from (as in PyTorch).
"""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from .module import Module, _check_name


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


# --- ModuleList and ModuleDict -----------------------------------------------------------------


def _check_module(container, module, where):
    if not isinstance(module, Module):
        raise TypeError(f"{type(container).__name__} holds Modules, got {type(module).__name__} {where}")


def _no_forward(container, example):
    raise NotImplementedError(
        f"{type(container).__name__} has no forward: it only holds Modules, so it cannot be called. "
        f"Call its Modules from your own Module's forward, e.g. {example}")


class ModuleList(Module):
    """A list of Modules, registered as children "0", "1", ... so that their Parameters are found
    and saved (``layers.0.weight``). Index it (negative indices and slices too; a slice is a new
    ModuleList of the same Modules), ``len()`` and iterate it, and change it with ``append``,
    ``extend``, ``insert``, ``pop``, ``+=``, ``l[i] = module`` and ``del l[i]``. After an insertion
    or a deletion the children are numbered again from 0, as in PyTorch, so names always match
    positions. It has no forward: your Module's forward decides how the layers are used::

        class Residual(nn.Module):
            def __init__(self, width, depth):
                super().__init__()
                self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

            def forward(self, x):
                for block in self.blocks:
                    x = x + block(x).relu()
                return x
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args, **kwargs):
        _no_forward(self, "for layer in self.layers: x = layer(x)")

    def _position(self, index, allowed=""):
        """``index`` (an int; negative counts from the end) as a position from 0 to len - 1."""
        # hasattr __index__: ints and NumPy integers; not bool, where True would silently mean 1.
        if isinstance(index, bool) or not hasattr(type(index), "__index__"):
            raise TypeError(f"ModuleList indices must be integers{allowed}, got {type(index).__name__}")
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a ModuleList of length {len(self)}")
        return index % len(self)

    def _renumber(self, modules):
        """Register ``modules`` afresh under "0", "1", ..., as PyTorch does after a deletion."""
        self._modules.clear()
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self)[index])
        return self._modules[str(self._position(index, " or slices"))]

    def __setitem__(self, index, module):
        name = str(self._position(index, " when assigning (not slices)"))
        _check_module(self, module, f"at index {index}")
        self.add_module(name, module)  # replaces the child in place: same name, same position

    def __delitem__(self, index):
        if isinstance(index, slice):
            doomed = set(range(len(self))[index])
        else:
            doomed = {self._position(index, " or slices")}
        self._renumber([m for i, m in enumerate(self) if i not in doomed])

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        _check_module(self, module, f"at index {len(self)}")
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append every Module of the iterable ``modules``; returns self. Every element is checked
        before any is added, so a bad one leaves the list as it was."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend expects an iterable of Modules, got {type(modules).__name__}")
        modules = list(modules)
        for i, module in enumerate(modules):
            _check_module(self, module, f"at index {len(self) + i}")
        for module in modules:
            self.add_module(str(len(self)), module)
        return self

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        """A new ModuleList of this one's Modules followed by ``other``'s (the same objects)."""
        return ModuleList(list(self)).extend(other)

    def insert(self, index, module):
        """Insert ``module`` before position ``index``, as ``list.insert`` does (negative counts
        from the end; past either end means at that end); later Modules are numbered again."""
        if isinstance(index, bool) or not hasattr(type(index), "__index__"):
            raise TypeError(f"ModuleList.insert expects an integer index, got {type(index).__name__}")
        index = operator.index(index)
        _check_module(self, module, f"to insert at index {index}")
        modules = list(self)
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index=-1):
        """Remove the Module at ``index`` (the last by default) and return it."""
        module = self[index]
        del self[index]
        return module


class ModuleDict(Module):
    """Modules by name, in insertion order, registered as children under their keys (so
    ``heads.real.weight`` in ``state_dict``). Use it like a dict: ``d[key]``, ``d[key] = module``,
    ``del d[key]``, ``key in d``, ``len``, iteration over the keys, ``keys()``, ``values()``,
    ``items()``, ``update()``, ``pop()`` and ``clear()``. Keys are strings without '.' that are not
    already attribute names of the ModuleDict (not "keys", "train", ...), as in PyTorch. It has no
    forward: your Module's forward picks the Modules it needs."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def forward(self, *args, **kwargs):
        _no_forward(self, "x = self.heads[name](x)")

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; its keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key, module):
        _check_module(self, module, f"for key {key!r}")
        self.add_module(key, module)

    def __delitem__(self, key):
        self[key]  # a missing key raises the KeyError that lists the keys
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        """Add or replace entries from a mapping (a dict, another ModuleDict) or an iterable of
        (key, module) pairs. Every entry is checked before any is added."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        elif isinstance(modules, Iterable) and not isinstance(modules, (str, Module)):
            pairs = []
            for j, item in enumerate(modules):
                pair = tuple(item) if isinstance(item, Iterable) and not isinstance(item, str) else ()
                if len(pair) != 2:
                    raise TypeError(f"ModuleDict.update expects (key, module) pairs, got "
                                    f"{type(item).__name__} {item!r} at position {j}")
                pairs.append(pair)
        else:
            raise TypeError(f"ModuleDict.update expects a mapping or an iterable of (key, module) "
                            f"pairs, got {type(modules).__name__}")
        for key, module in pairs:
            _check_module(self, module, f"for key {key!r}")
            if key not in self._modules:
                _check_name(self, key, "module")  # a bad key, like a bad module, changes nothing
        for key, module in pairs:
            self[key] = module

    def pop(self, key):
        """Remove the Module under ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def clear(self):
        """Remove every Module."""
        self._modules.clear()
