"""minigan's modules import each other without cycles, so the code reads bottom-up.

The stack, from the bottom: backend -> tensor -> autograd -> ops -> functional -> nn -> optim ->
gan, data, metrics. A cycle means a reader cannot start anywhere, and it makes import order decide
what exists when (the cause of "partially initialised module" errors). The graph is built from the
source with ``ast``: every ``import`` and ``from ... import`` statement counts, also one inside a
function (an import moved into a function still ties the two modules together).
"""
import ast
import os

import minigan

ROOT = os.path.dirname(minigan.__file__)


def _module_name(path):
    rel = os.path.relpath(path, os.path.dirname(ROOT))[:-len(".py")].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def _modules():
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                found[_module_name(path)] = path
    return found


def import_graph():
    """{module: {modules it imports}}, for the modules of the minigan package only."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        is_package = path.endswith("__init__.py")
        package = module if is_package else module.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read(), path)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: . is this package, .. its parent, ...
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # "from pkg import name" imports the submodule pkg.name when there is one
                targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                           for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # "import minigan.nn.init" -> that module
                    target = target.rpartition(".")[0]
                if target and target != module:
                    edges.add(target)
        graph[module] = edges
    return graph


def find_cycle(graph):
    """One cycle as a list of modules [a, b, ..., a], or None."""
    state = {}  # module -> "open" while on the current path, "done" after

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target, path + [target])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [module])
            if cycle:
                return cycle
    return None


def test_minigan_has_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_planted_cycle():
    """The check itself can fail: a graph with a three-module loop is reported, loop and all."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_relative_and_function_level_imports():
    graph = import_graph()
    assert "minigan.backend" in graph["minigan.tensor"]        # from . import backend
    assert "minigan.autograd" in graph["minigan.ops.arithmetic"]  # from ..autograd import Function
