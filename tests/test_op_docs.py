"""``help(F.<op>)`` teaches the op: every public function's docstring gives its forward formula
and its backward rule, in the function itself (not only on the Op class behind it)."""
import re

import pytest

import minigan.functional as F

FORMULA = re.compile(r"^\s*(\w+(\[[^\]]*\])?|training:\s*y)\s*=\s*\S", re.M)  # "y = ...", "loss = ..."
BACKWARD = re.compile(r"\bbackward:\s*\S")


def test_every_public_function_is_documented_by_the_rule():
    missing = []
    for name in F.__all__:
        doc = getattr(F, name).__doc__ or ""
        if not FORMULA.search(doc) or not BACKWARD.search(doc):
            missing.append(name)
    assert not missing, f"functions whose help() lacks a formula line or a 'backward:' rule: {missing}"


@pytest.mark.parametrize("doc, ok", [
    ("a * b.\n\ny = a * b;  backward: ga = gy * b", True),
    ("a * b, elementwise.", False),                         # no formula, no rule
    ("a * b.\n\ny = a * b", False),                         # no backward rule
    ("Join.\n\nbackward: through the ops", False),          # no formula
])
def test_the_rule_tells_a_documented_op_from_an_undocumented_one(doc, ok):
    assert bool(FORMULA.search(doc) and BACKWARD.search(doc)) is ok


def test_each_public_function_sits_in_the_file_of_its_op_class():
    """The function that calls an Op class is defined in the same module as that class."""
    import ast
    import inspect
    for name in F.__all__:
        fn = getattr(F, name)
        module = inspect.getmodule(fn)
        tree = ast.parse(inspect.getsource(fn))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.endswith("Op"):
                assert hasattr(module, node.func.id), (name, node.func.id)
