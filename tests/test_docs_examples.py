"""The teaching material runs: the example script and every code cell of the notebook.

Learners copy from these files, so a change to minigan that breaks them must fail here, not in a
classroom. Both run in a few seconds.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "autodiff_basics.py"
NOTEBOOK = ROOT / "docs" / "notebooks" / "01_autodiff.ipynb"


def run_example(*args):
    return subprocess.run([sys.executable, str(EXAMPLE), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def table_rows(text, heading, n_columns):
    """The numeric rows of the first table printed after ``heading``."""
    after = text[text.index(heading):]
    number = r"\s+(-?\d+\.\d+)"
    return [[float(v) for v in m] for m in re.findall(r"^ " + number * n_columns + r"\s*$", after, re.M)]


def test_example_runs_and_prints_its_key_lines():
    """The example exits cleanly and shows what its comments tell the reader to look for."""
    result = run_example()
    assert result.returncode == 0, f"the example failed:\n{result.stderr}"
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr
    out = result.stdout
    for line in ["1. A tiny graph", "2. The graph behind", "3. Dense layers by hand",
                 "4. Writing your own op", "5. Second derivatives", "6. no_grad()",
                 "gradcheck(Cube): passed",
                 "gradcheck(BrokenCube) raised GradcheckError",
                 "gradcheck failed for input 0",
                 "gradgradcheck(critic) in float64: passed",
                 "gradcheck(penalty as a function of W1, b1, W2, b2) in float64: passed",
                 "creator Sub",
                 "all parameters are still leaves: True",
                 "docs/notebooks/01_autodiff.ipynb"]:
        assert line in out, f"missing from the example's output: {line!r}\n{out}"
    assert "should not happen" not in out

    # Step 1's table: columns x, y, x.grad, 2x + 3. The last two must agree row by row.
    rows = table_rows(out, "1. A tiny graph", 4)[:5]
    assert len(rows) == 5, out
    for x, y, grad, formula in rows:
        assert grad == formula and abs(y - (x * x + 3 * x)) < 1e-3
    # Step 5's first table: columns x, g, 3x^2, d2/dx2, 6x.
    rows = table_rows(out, "5. Second derivatives", 5)[:3]
    assert len(rows) == 3, out
    for x, g, g_formula, g2, g2_formula in rows:
        assert g == g_formula and g2 == g2_formula
    # Step 3: b2.grad printed next to the textbook formula mean(sigmoid(z) - t).
    match = re.search(r"b2\.grad = (-?\d+\.\d+);  mean\(sigmoid\(z\) - t\) = (-?\d+\.\d+)", out)
    assert match and match.group(1) == match.group(2), out


def test_example_help_describes_it():
    result = run_example("--help")
    assert result.returncode == 0, result.stderr
    assert "--seed" in result.stdout and "autodiff" in result.stdout


def load_notebook():
    with open(NOTEBOOK, encoding="utf-8") as fh:
        return json.load(fh)


def source(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_notebook_is_nbformat_4_with_empty_outputs():
    nb = load_notebook()
    assert nb["nbformat"] == 4
    assert isinstance(nb["metadata"], dict) and nb["cells"]
    kinds = [cell["cell_type"] for cell in nb["cells"]]
    assert set(kinds) == {"markdown", "code"}, kinds
    for k, cell in enumerate(nb["cells"]):
        assert isinstance(cell["metadata"], dict) and "source" in cell
        if cell["cell_type"] == "code":
            assert cell["execution_count"] is None and cell["outputs"] == [], (
                f"code cell {k} has saved outputs: clear them before committing "
                "(Jupyter: Kernel > Restart Kernel and Clear All Outputs)")
    headings = [line for cell in nb["cells"] if cell["cell_type"] == "markdown"
                for line in source(cell).splitlines()]
    assert "## Exercises" in headings and "## Solutions" in headings, "the notebook ends with both"


def test_notebook_code_cells_run_in_order(monkeypatch):
    """Execute every code cell, top to bottom, in one namespace, as Jupyter would from docs/."""
    monkeypatch.setenv("MPLBACKEND", "Agg")  # no windows: the cells plot
    monkeypatch.setenv("MINIGAN_FAST", "1")  # the notebook's own switch for small work, as in CI
    monkeypatch.chdir(NOTEBOOK.parent)
    namespace = {"__name__": "__notebook__"}
    saved_print_options = np.get_printoptions()  # the notebook sets its own
    try:
        for k, cell in enumerate(load_notebook()["cells"]):
            if cell["cell_type"] != "code":
                continue
            code = compile(source(cell), f"{NOTEBOOK.name}, code cell {k}", "exec")
            exec(code, namespace)  # an exception here names the cell in its traceback
    finally:
        np.set_printoptions(**saved_print_options)
        import matplotlib.pyplot as plt
        plt.close("all")  # the notebook's figures, kept by pyplot under Agg
