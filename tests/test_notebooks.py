"""The course notebooks follow the conventions of DEVELOPERS.md ("Writing a course notebook").

These checks read the notebooks without running them; tests/test_docs_site.py executes every one
(in fast mode) when it builds the site. The list of notebooks is the docs site's navigation, so a
notebook that the course map promises but nobody wrote fails here.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "docs" / "notebooks"


def nav_notebooks():
    """The notebook paths listed in mkdocs.yml's nav, in order (read as text: no YAML parser needed)."""
    text = (ROOT / "mkdocs.yml").read_text()
    return re.findall(r"^\s+- [^:]+: (notebooks/\S+\.ipynb)\s*$", text, re.M)


def test_the_site_lists_eleven_notebooks_and_every_notebook_is_listed():
    listed = nav_notebooks()
    assert len(listed) == 11, listed
    assert sorted(listed) == listed  # numbered in reading order
    on_disk = sorted(f"notebooks/{p.name}" for p in NOTEBOOKS.glob("*.ipynb"))
    assert on_disk == listed, "every notebook in docs/notebooks/ must be in mkdocs.yml's nav, and vice versa"


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


@pytest.mark.parametrize("name", [Path(p).name for p in nav_notebooks()])
def test_each_notebook_follows_the_course_conventions(name):
    path = NOTEBOOKS / name
    assert path.exists(), f"{path} is in the course map but does not exist"
    nb = cells(path)
    opening = source(nb[0])
    assert nb[0]["cell_type"] == "markdown" and opening.startswith("# "), f"{name}: opens with a # title"
    for phrase in ("What you will learn", "What to look at"):
        assert phrase in opening, f"{name}: the opening cell says {phrase!r}"
    code = [c for c in nb if c["cell_type"] == "code"]
    assert code and "MINIGAN_FAST" in source(code[0]), f"{name}: the first code cell reads MINIGAN_FAST"
    headings = [line.strip() for c in nb if c["cell_type"] == "markdown" for line in source(c).splitlines()]
    assert "## Exercises" in headings and "## Solutions" in headings, f"{name}: ends with exercises and solutions"
    assert headings.index("## Exercises") < headings.index("## Solutions")
    assert any("plt.show()" in source(c) for c in code), f"{name}: shows at least one plot"
    for c in code:
        assert not c.get("outputs") and c.get("execution_count") is None, f"{name}: stored without outputs"
        for line in source(c).splitlines():
            assert not line.lstrip().startswith(("%", "!")), f"{name}: no IPython magics ({line!r})"
