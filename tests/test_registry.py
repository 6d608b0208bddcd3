"""Do the tables in ``tests/op_cases.py`` and ``tests/layer_cases.py`` leave any op or layer
unchecked?

A gradient check only protects the ops it runs. Rather than trusting a hand-kept list, these
tests look at what the cases actually do:

* the op classes (``Function`` subclasses) in each case's graph, found by walking the graph from
  the output back through each tensor's ``creator`` (``minigan.autograd.graph_functions``);
* the public functions of ``minigan.functional`` that each case calls.

Every class in ``minigan.autograd.REGISTRY`` (each ``Function`` subclass defined in minigan) must
appear in some case's graph, and in a ``double=True`` case (every op's backward is written with
minigan ops, so every op can be differentiated twice);
every name in ``F.__all__`` must be called by some case.

Layers are found the same way: every public ``nn.Module`` subclass defined in minigan (the layers
of ``minigan.nn``, the Generator and Discriminator of ``minigan.gan.models``, and any added later)
must be the layer of some case in ``LAYER_CASES``, and of a case with ``second_order=True``.
"""
import gc
import importlib
import pkgutil
from functools import wraps

import pytest

import minigan
import minigan.functional as F
import minigan.nn as nn
from minigan.autograd import REGISTRY, Function, graph_functions

from layer_cases import LAYER_CASES
from op_cases import CASES

#: Public functions that are deliberately not gradient-checked; a name added here needs a
#: comment saying why. Every other function in ``F.__all__`` is differentiable in at least one
#: argument (``where``'s condition is not, but its two value arguments are).
NOT_DIFFERENTIABLE = {
    "argmax", "argmin",  # they return indices (int64), which have no gradient
}


def _import_all_of_minigan():
    """Import every minigan module, so that REGISTRY holds every op however minigan is used."""
    for module in pkgutil.walk_packages(minigan.__path__, prefix="minigan."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def op_classes_in_graphs(cases):
    """The Function classes in the graphs of ``cases``: (all cases, double=True cases only)."""
    everywhere, in_double = set(), set()
    for case in cases:
        out = case.fn(*case.inputs())
        found = graph_functions(*(out if isinstance(out, tuple) else (out,)))
        everywhere |= found
        if case.double:
            in_double |= found
    return everywhere, in_double


def uncovered_ops(cases, registry=REGISTRY):
    """Names of registered ops that no case checks: (no gradcheck, no gradgradcheck).

    Every op needs both: each backward is written with minigan ops, so it can be differentiated.
    """
    everywhere, in_double = op_classes_in_graphs(cases)
    no_first = sorted(name for name, cls in registry.items() if cls not in everywhere)
    no_second = sorted(name for name, cls in registry.items() if cls not in in_double)
    return no_first, no_second


def public_functions_called(case):
    """The names in ``F.__all__`` that ``case.fn`` calls itself.

    Each public function is swapped for a spy that records its name while the case runs (and a
    case whose ``fn`` *is* a public function, like ``F.exp``, runs through its spy). Only
    outermost calls count: ``F.var`` is made of mean, sub, mul and sum, but that does not make
    the var case a test of ``mul``. Operators count as what they call
    (``x * 2`` calls ``F.mul``). Aliases (``F.clamp is F.clip``) are one function: both names count.
    """
    called, depth = set(), [0]

    def spy(names, function):
        @wraps(function)
        def wrapper(*args, **kwargs):
            if depth[0] == 0:
                called.update(names)
            depth[0] += 1
            try:
                return function(*args, **kwargs)
            finally:
                depth[0] -= 1
        return wrapper

    originals = {name: getattr(F, name) for name in F.__all__}
    spies = {}  # id(function) -> its spy, one per function object (aliases share one)
    for function in originals.values():
        if id(function) not in spies:
            names = {n for n, f in originals.items() if f is function}
            spies[id(function)] = spy(names, function)
    # Tensor's operators and methods are bound to these same functions (end of functional.py):
    # x * 2 runs Tensor.__mul__, which is F.mul itself, so those attributes get the spies too.
    bound = {name: value for name, value in vars(minigan.Tensor).items() if id(value) in spies}
    try:
        for name, function in originals.items():
            setattr(F, name, spies[id(function)])
        for name, function in bound.items():
            setattr(minigan.Tensor, name, spies[id(function)])
        spies.get(id(case.fn), case.fn)(*case.inputs())
    finally:
        for name, function in originals.items():
            setattr(F, name, function)
        for name, function in bound.items():
            setattr(minigan.Tensor, name, function)
    return called


@pytest.fixture(scope="module")
def coverage():
    _import_all_of_minigan()
    return uncovered_ops(CASES)


def test_every_registered_op_has_a_gradcheck_case(coverage):
    """Each Function subclass in minigan appears in the graph of at least one case."""
    no_first, _ = coverage
    assert not no_first, f"ops with no case in tests/op_cases.py: {no_first}"


def test_every_op_has_a_gradgradcheck_case(coverage):
    """Each op appears in at least one double=True case."""
    _, no_second = coverage
    assert not no_second, f"ops with no double=True case: {no_second}"


def test_every_public_function_is_called_by_a_case():
    """Each differentiable name in F.__all__ is called directly by at least one case."""
    called = set()
    for case in CASES:
        called |= public_functions_called(case)
    missing = sorted(set(F.__all__) - NOT_DIFFERENTIABLE - called)
    assert not missing, f"public functions that no case in tests/op_cases.py calls: {missing}"


def test_public_functions_called_sees_only_outermost_calls():
    """The spy must not credit ``mean`` to ``mul``, nor miss an operator such as ``x * 2``."""
    by_name = {case.name: case for case in CASES}
    assert public_functions_called(by_name["mean_all"]) == {"mean"}
    assert public_functions_called(by_name["mul_operator_number"]) == {"mul"}
    assert public_functions_called(by_name["pow_tensor_exponent"]) == {"pow"}  # fn is F.pow itself
    assert public_functions_called(by_name["cat_axis0"]) == {"cat", "concatenate"}  # one function


def test_case_names_are_unique():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_cases_use_float64_inputs_that_require_grad():
    """Finite differences need float64; a case with nothing to differentiate checks nothing."""
    for case in CASES:
        tensors = [x for x in case.inputs() if isinstance(x, minigan.Tensor)]
        assert any(x.requires_grad for x in tensors), case.name
        assert all(x.dtype == "float64" for x in tensors if x.dtype.kind == "f"), case.name


def test_coverage_check_reports_a_new_untested_op():
    """The coverage check can fail: an op defined inside minigan with no case is reported."""
    name = "UntestedFakeOp"
    assert name not in REGISTRY

    try:
        class UntestedFakeOp(Function):
            __module__ = "minigan.fake"  # as if defined in a minigan module

            def forward(self, x):
                return x

            def backward(self, gy):
                return gy

        assert REGISTRY.get(name) is UntestedFakeOp
        no_first, no_second = uncovered_ops(CASES)
        assert name in no_first
        assert name in no_second
    finally:
        REGISTRY.pop(name, None)


# --- layers ----------------------------------------------------------------------------------

def minigan_module_classes():
    """Every public Module subclass defined in a minigan module (``_ConvNd`` and other private
    bases are left out: they are only used through their public subclasses)."""
    _import_all_of_minigan()
    found, stack = set(), [nn.Module]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("minigan.") and not sub.__name__.startswith("_"):
                found.add(sub)
    return found


def uncovered_layers(cases, classes):
    """Names of Module classes that no case checks: (no gradcheck, no gradgradcheck)."""
    checked = {type(case.make_layer()) for case in cases}
    checked_twice = {type(case.make_layer()) for case in cases if case.second_order}
    return (sorted(c.__name__ for c in classes - checked),
            sorted(c.__name__ for c in classes - checked_twice))


def test_every_layer_has_a_gradcheck_and_a_gradgradcheck_case():
    classes = minigan_module_classes()
    assert {nn.Linear, nn.BatchNorm2d, nn.Sequential, minigan.gan.models.Generator} <= classes
    no_first, no_second = uncovered_layers(LAYER_CASES, classes)
    assert not no_first, f"layers with no case in tests/layer_cases.py: {no_first}"
    assert not no_second, f"layers with no second_order=True case in tests/layer_cases.py: {no_second}"


def test_coverage_check_reports_a_new_untested_layer():
    """The layer coverage check can fail: a Module defined inside minigan with no case is reported."""
    class UntestedFakeLayer(nn.Module):
        __module__ = "minigan.fake"

        def forward(self, x):
            return x

    classes = set()
    try:
        classes = minigan_module_classes()
        assert UntestedFakeLayer in classes
        assert uncovered_layers(LAYER_CASES, classes) == (["UntestedFakeLayer"], ["UntestedFakeLayer"])
    finally:  # a class lives on in nn.Module.__subclasses__() until it is garbage collected
        del classes, UntestedFakeLayer
        gc.collect()


def test_layer_case_names_are_unique():
    names = [case.name for case in LAYER_CASES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
