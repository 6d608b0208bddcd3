"""benchmarks/quality.py in smoke form: it runs the examples it names, reads what they print and
write, and makes the table. (The real matrix is a benchmark, about an hour: not a test.)"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_quality_matrix_runs_in_smoke_form_and_writes_its_table(tmp_path):
    md = tmp_path / "QUALITY.md"
    result = subprocess.run([sys.executable, "benchmarks/quality.py", "--smoke", "--datasets", "ring", "mnist",
                             "--losses", "nonsaturating", "wgan", "--out", str(tmp_path), "--md", str(md),
                             "--jobs", "2"],  # the two toy cells side by side
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    text = md.read_text()
    assert "Smoke run" in text and "## Ring of 8 Gaussians" in text and "## MNIST" in text
    assert "Grid of 25" not in text  # only the datasets asked for
    rows = [line for line in text.splitlines() if line.startswith("| nonsaturating") or line.startswith("| wgan")]
    assert [row.split("|")[1].strip() for row in rows] == ["nonsaturating", "wgan"] * 2, rows  # --losses order,
    # one row per (dataset, objective), whichever toy cell finished first
    assert "*98.2%*" in text and "PacGAN" in text  # the published yardstick, with its source
    saved = json.loads((tmp_path / "results.json").read_text())
    results = saved["results"]
    assert set(saved["walls"]) == {"ring/nonsaturating", "ring/wgan", "mnist/nonsaturating", "mnist/wgan"}
    assert set(saved["loads"]) == set(saved["walls"])  # what else ran, for reading the times
    assert "load average as each cell ended" in text or not hasattr(os, "getloadavg")
    assert [r["seed"] for r in results["ring"]["wgan"]] == [0]
    wgan = results["mnist"]["wgan"]
    assert wgan["d_steps"] == 5 * wgan["g_updates"]  # every objective gets the same G updates
    assert 0 < wgan["score_ratio"] and 0 <= wgan["recall"] <= 1
    assert os.path.exists(tmp_path / "mnist-wgan" / "metrics.json")

    # --resume keeps the cells it has (same settings) and runs only the missing ones
    again = subprocess.run([sys.executable, "benchmarks/quality.py", "--smoke", "--resume", "--datasets", "ring",
                            "--losses", "nonsaturating", "hinge", "--out", str(tmp_path), "--md", "-"],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "ring   nonsaturating    (kept from" in again.stderr and "ring   hinge" in again.stderr
    assert "| hinge |" in again.stdout and "| nonsaturating |" in again.stdout
