"""Image grids draw every value on a fixed scale, and every plot is written atomically."""
import os

import numpy as np
import pytest

import minigan
from minigan.plotting import d_outputs_figure, history_figure, image_grid, plot_history, save_image_grid

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def digit():
    """A 28x28 image with no negative values: a white bar on grey 0.2, and a column of greys."""
    image = np.full((28, 28), 0.2, dtype=np.float32)
    image[4:24, 12:16] = 1.0
    image[4:24, 16] = np.linspace(0.0, 0.6, 20)
    return image


def batch_with(others):
    """16 images: the same digit first, then ``others`` (15 images)."""
    return np.concatenate([digit()[None], others]).astype(np.float32)


def test_the_same_image_gets_the_same_pixels_whatever_else_is_in_the_batch(tmp_path):
    # Before: the range was guessed from the batch. With no negative value anywhere the batch was
    # taken to be in [0, 1], so this image's 0.2 was drawn as 0.2 there but as 0.6 in a batch
    # with one dark pixel elsewhere, read as [-1, 1].
    dark = batch_with(np.full((15, 28, 28), -1.0))
    bright = batch_with(np.full((15, 28, 28), 1.0))
    positive = batch_with(np.full((15, 28, 28), 0.5))
    grids = [image_grid(b, nrow=8) for b in (dark, bright, positive)]
    first = [g[2:30, 2:30] for g in grids]  # the first image's cell (2 pixels of padding around it)
    np.testing.assert_array_equal(first[0], first[1])
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_allclose(first[0], (digit() + 1) / 2)  # [-1, 1] -> [0, 1]: 0.2 -> 0.6

    # and in the PNG files: 4 pixels per grid pixel, the first cell is rows and columns 8..119
    pictures = []
    for name, b in (("dark.png", dark), ("bright.png", bright)):
        save_image_grid(b, tmp_path / name, nrow=8)
        pictures.append(plt.imread(tmp_path / name))
    assert pictures[0].shape == pictures[1].shape
    np.testing.assert_array_equal(pictures[0][:124, :124], pictures[1][:124, :124])
    assert not np.array_equal(pictures[0], pictures[1])  # the rest of the batch does differ


def test_values_outside_the_range_are_clipped_and_other_ranges_are_declared():
    values = np.array([[-3.0, -1.0, 0.0, 1.0, 3.0]])
    grid = image_grid(values.reshape(1, 1, 5), nrow=1, pad=0)
    np.testing.assert_array_equal(grid, [[0.0, 0.0, 0.5, 1.0, 1.0]])
    pixels = np.array([[[0, 51, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(image_grid(pixels, nrow=1, pad=0, value_range=(0, 255)), [[0.0, 0.2, 1.0]])
    unit = minigan.tensor([[[0.0, 0.25, 1.0]]])  # a Tensor with values in [0, 1]
    np.testing.assert_allclose(image_grid(unit, nrow=1, pad=0, value_range=(0, 1)), [[0.0, 0.25, 1.0]])


@pytest.mark.parametrize("value_range, error, message", [
    ((1, -1), ValueError, r"low < high, got \(1, -1\)"),
    ((0, 0), ValueError, r"low < high, got \(0, 0\)"),
    ((0, float("nan")), ValueError, r"low < high"),
    (1, TypeError, r"a pair of numbers \(low, high\), got 1"),
    ((0, 1, 2), TypeError, r"a pair of numbers \(low, high\), got \(0, 1, 2\)"),
])
def test_a_bad_value_range_is_named(value_range, error, message):
    with pytest.raises(error, match=message):
        image_grid(np.zeros((1, 4, 4)), value_range=value_range)


def test_plots_are_written_atomically_as_png(tmp_path, monkeypatch):
    path = tmp_path / "samples" / "grid.png"  # the folder is made when missing
    save_image_grid(np.zeros((4, 28, 28)), path, nrow=2, title="four")
    before = path.read_bytes()
    assert before.startswith(b"\x89PNG")
    plot_history({"step": [0, 1, 2], "d_loss": [1.0, 0.9, 0.8], "g_loss": [0.7, 0.8, 0.9]}, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")

    def savefig_that_fails_half_way(self, file, **options):
        file.write(b"\x89PNG half an image")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig_that_fails_half_way)
    with pytest.raises(OSError, match="simulated"):
        save_image_grid(np.ones((4, 28, 28)), path, nrow=2)
    assert path.read_bytes() == before  # the old picture is untouched
    assert os.listdir(path.parent) == ["grid.png"]  # and no temporary file is left
    assert plt.get_fignums() == []  # every figure was closed, the failed one too


def a_history(n=200, g_every=1):
    """``n`` steps of made-up figures; G's columns are NaN except every ``g_every``-th step, as
    under n_critic > 1."""
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1)
    g_norm = np.where(steps % g_every == 0, 10.0 ** rng.uniform(-3, 1, n), np.nan)
    return {"step": list(steps), "d_loss": list(rng.uniform(1, 1.4, n)), "g_loss": list(rng.uniform(0.6, 1, n)),
            "d_real": list(rng.uniform(0.5, 0.7, n)), "d_fake": list(rng.uniform(0.3, 0.5, n)),
            "d_grad_norm": list(10.0 ** rng.uniform(-1, 0, n)), "g_grad_norm": list(g_norm)}


def test_the_loss_plot_has_panels_for_losses_d_outputs_and_gradient_norms():
    fig = history_figure(a_history(), smooth=50, equilibrium=0.5, probability=True)
    losses, outputs, norms = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["losses", "D's mean output on real and fake batches",
                                                   "gradient norms (log scale)"]
    assert norms.get_yscale() == "log" and losses.get_yscale() == "linear"
    assert outputs.get_ylabel() == "D's probability 'real'"
    legend = [t.get_text() for t in outputs.get_legend().get_texts()]
    assert legend == ["D(x) (50-step mean)", "D(G(z)) (50-step mean)", "equilibrium (0.5)"]
    equilibrium = [line for line in outputs.get_lines() if line.get_linestyle() == "--"]
    assert len(equilibrium) == 1 and np.all(np.asarray(equilibrium[0].get_ydata()) == 0.5)
    # raw and smoothed: the moving average of 200 values over 50 has 151 points, at steps 50..200
    raw, smoothed = norms.get_lines()[:2]
    assert len(raw.get_xdata()) == 200 and list(smoothed.get_xdata()[[0, -1]]) == [50, 200]
    np.testing.assert_allclose(smoothed.get_ydata()[0], np.mean(a_history()["d_grad_norm"][:50]))
    plt.close(fig)


def test_steps_without_a_g_update_are_skipped_and_no_equilibrium_means_no_line():
    # a WGAN-like run: G's gradient norm at one step in five, a critic with no equilibrium value
    fig = history_figure(a_history(g_every=5), smooth=50, equilibrium=None, probability=False)
    outputs, norms = fig.axes[1:]
    g_raw = norms.get_lines()[2]  # D raw, D smoothed, G raw (40 values: too few to smooth over 50)
    assert len(g_raw.get_xdata()) == 40 and np.isfinite(g_raw.get_ydata()).all()
    assert [t.get_text() for t in norms.get_legend().get_texts()] == ["D (50-step mean)", "G"]
    assert not [line for line in outputs.get_lines() if line.get_linestyle() == "--"]
    assert outputs.get_ylabel() == "D's raw score"
    plt.close(fig)
    # an old history with only the losses gets only the loss panel
    fig = history_figure({"step": [1, 2], "d_loss": [1.0, 0.9], "g_loss": [0.7, 0.8]})
    assert [ax.get_title() for ax in fig.axes] == ["losses"]
    plt.close(fig)
    with pytest.raises(ValueError, match="nothing to plot"):
        history_figure({"step": [1], "g_grad_norm": [float("nan")]})


def test_the_d_output_histograms_count_every_image_of_both_batches():
    real, fake = np.array([0.9, 0.8, 0.95, 0.65]), np.array([0.1, 0.2, 0.45])
    fig = d_outputs_figure(real, fake, equilibrium=0.5, probability=True)
    (ax,) = fig.axes
    bars = [p for p in ax.patches]
    counts = [sum(p.get_height() for p in bars[:30]), sum(p.get_height() for p in bars[30:])]
    assert counts == [4, 3]  # 30 bins each: every image lands in one
    assert ax.get_xlim()[0] <= 0 and ax.get_xlim()[1] >= 1  # probabilities on the fixed [0, 1] scale
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "real: D(x), mean 0.825", "fake: D(G(z)), mean 0.25", "equilibrium (0.5)"]
    plt.close(fig)


def test_the_toy_scatter_rings_each_mode_with_its_high_quality_radius(tmp_path, monkeypatch):
    """save_scatter(radius=r): one red circle of radius r around each centre (where a sample counts
    as high quality) and no cross on top of the samples; without radius, a cross per centre."""
    from minigan import plotting
    figures = []
    monkeypatch.setattr(plotting, "_save", lambda fig, path: figures.append(fig))
    centres = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    points = np.random.default_rng(0).normal(size=(50, 2))
    plotting.save_scatter(points, str(tmp_path / "a.png"), centres=centres, radius=0.03)
    plotting.save_scatter(points, str(tmp_path / "b.png"), centres=centres)
    ringed, crossed = (fig.axes[0] for fig in figures)
    assert [(tuple(c.center), c.radius) for c in ringed.patches] == [((0.0, 1.0), 0.03), ((1.0, 0.0), 0.03),
                                                                    ((-1.0, 0.0), 0.03)]
    assert len(ringed.collections) == 1  # the samples only
    assert not crossed.patches and len(crossed.collections) == 2  # samples, then the crosses on the centres
    np.testing.assert_array_equal(crossed.collections[1].get_offsets(), centres)
    for fig in figures:
        plt.close(fig)
