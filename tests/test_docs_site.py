"""The docs site builds in strict mode: every page, link and API reference resolves, and every
notebook executes (in fast mode, MINIGAN_FAST=1) without an error and shows its plots.

This is the build of docs/index.md ("Building this site"), so CI fails on a broken link or a
failing notebook. It takes a minute or two: mkdocs-jupyter runs each notebook on a fresh kernel.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_notebooks import nav_notebooks

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("mkdocs", reason="the docs tools come with the dev extra: pip install -e '.[dev]'")


@pytest.mark.slow
def test_the_docs_site_builds_strictly_with_every_notebook_executed(tmp_path):
    site = tmp_path / "site"
    env = dict(os.environ, MINIGAN_FAST="1", MPLBACKEND="Agg", NO_MKDOCS_2_WARNING="1")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    for notebook in nav_notebooks():
        page = site / notebook.removesuffix(".ipynb") / "index.html"
        html = page.read_text()
        assert html.count("data:image/png") >= 1, f"{page}: the executed notebook shows no plot"
        assert "Traceback" not in html, f"{page}: an error was rendered"
    api = (site / "api" / "nn" / "index.html").read_text()
    assert "Conv2d" in api and "backward" in api  # the reference is generated from the docstrings
    flow = (site / "architecture" / "index.html").read_text()
    assert "train_step" in flow and "minigan/gan/step.py" in flow  # the README's list, included
