"""Pictures of a GAN run, saved as PNG: grids of images, training curves (losses, D's outputs,
gradient norms), histograms of D's outputs, and 2-D scatter plots.

A grid draws each pixel by its value on a fixed scale, the range the images are declared to take
(``value_range``, [-1, 1] by default: a tanh generator's and ``data.to_unit_range``'s): the low end
is black, the high end white, values outside are clipped. A fixed scale, never one guessed from the
pixels at hand, so the same value is the same grey in every grid: samples from early and late in
training can be compared. (The example draws its latent-space interpolation as such a grid.)

The only module that imports matplotlib, and only inside these functions, so that the rest of
minigan never needs a display (the Agg backend writes files and needs no screen). Files are written
with ``files.atomic_file``, so a viewer never opens half a PNG.
"""
import os

import numpy as np

from .files import atomic_file
from .tensor import Tensor


def _pyplot():
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        matplotlib.use("Agg")  # files only: works on machines without a screen
    import matplotlib.pyplot as plt
    return plt


def _as_images(images, value_range):
    """(N, H, W), (N, 1, H, W) or (N, H*W) with values in ``value_range`` -> float (N, H, W) in [0, 1]."""
    a = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
    a = a.astype(np.float64)
    if a.ndim == 2:
        side = int(round(np.sqrt(a.shape[1])))
        if side * side != a.shape[1]:
            raise ValueError(f"cannot show images of {a.shape[1]} values as a square; pass (N, H, W)")
        a = a.reshape(-1, side, side)
    elif a.ndim == 4:
        if a.shape[1] != 1:
            raise ValueError(f"only single-channel images are drawn, got shape {a.shape}")
        a = a[:, 0]
    elif a.ndim != 3:
        raise ValueError(f"expected images shaped (N, H, W), (N, 1, H, W) or (N, H*W), got {a.shape}")
    low, high = _check_range(value_range)
    # The same scale for every batch: low -> 0 (black), high -> 1 (white), whatever else is drawn.
    return np.clip((a - low) / (high - low), 0, 1)


def _check_range(value_range):
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise TypeError(f"value_range must be a pair of numbers (low, high), got {value_range!r}") from None
    if not low < high:  # written so that NaN fails too
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range!r}")
    return low, high


def image_grid(images, nrow=8, pad=2, value_range=(-1, 1)):
    """Tile images into one array in [0, 1] (rows of ``nrow``), ``pad`` white pixels between them.

    Pixel values are drawn on the fixed scale ``value_range`` (low -> 0, high -> 1, clipped): pass
    (0, 1) for images in [0, 1], (0, 255) for uint8 pixels.
    """
    a = _as_images(images, value_range)
    n, h, w = a.shape
    rows = -(-n // nrow)
    grid = np.ones((rows * (h + pad) + pad, nrow * (w + pad) + pad))
    for k in range(n):
        r, c = divmod(k, nrow)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = a[k]
    return grid


def save_image_grid(images, path, nrow=8, title=None, value_range=(-1, 1)):
    """Save a grid of images (white digits on black, as MNIST) to ``path`` (PNG); pixel values are
    drawn on the fixed scale ``value_range``, [-1, 1] by default (see ``image_grid``)."""
    grid = image_grid(images, nrow, value_range=value_range)
    plt = _pyplot()
    scale = 0.04
    fig = plt.figure(figsize=(max(2.0, grid.shape[1] * scale), max(2.0, grid.shape[0] * scale + (0.4 if title else 0))))
    ax = fig.add_axes([0, 0, 1, 0.92 if title else 1])
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    _save(fig, path)


# The panels of the loss plot: (title, y-axis label, the history columns drawn, their legend names).
_PANELS = [
    ("losses", "loss", ("d_loss", "g_loss"), ("D loss", "G loss")),
    ("D's mean output on real and fake batches", "mean D output", ("d_real", "d_fake"), ("D(x)", "D(G(z))")),
    ("gradient norms (log scale)", "gradient norm", ("d_grad_norm", "g_grad_norm"), ("D", "G")),
]


def moving_average(values, window):
    """The mean of each ``window`` consecutive values (``len(values) - window + 1`` of them)."""
    values = np.asarray(values, dtype=np.float64)
    return np.convolve(values, np.ones(window) / window, mode="valid")


def history_figure(history, smooth=50, equilibrium=None, probability=False, title=None):
    """The loss plot as a matplotlib figure (``plot_history`` saves it): one panel each for the
    losses, D's mean outputs D(x) and D(G(z)), and the gradient norms of D and G (log scale).

    ``history`` is a dict of equal-length lists: ``step`` and any of ``d_loss``, ``g_loss``,
    ``d_real``, ``d_fake``, ``d_grad_norm``, ``g_grad_norm`` (a panel whose columns are all
    missing is left out). NaN marks a step without a value (no G update under n_critic > 1): those
    steps are skipped. Each curve is drawn raw (faint) and, once it has at least ``2 * smooth``
    values, as a moving average over ``smooth`` of them on top, since one step's figures are noisy.
    ``equilibrium``: D's output once G matches the data (the objective's ``equilibrium_d_output``),
    drawn as a dashed line in the D output panel; ``probability``: whether D's outputs are
    probabilities (the BCE-based objectives) or raw scores, for the axis label.
    """
    plt = _pyplot()
    steps = np.asarray(history["step"])
    panels = []
    for panel_title, label, keys, names in _PANELS:
        present = [(k, n) for k, n in zip(keys, names) if len(history.get(k, ())) and np.isfinite(history[k]).any()]
        if present:
            panels.append((panel_title, label, present))
    if not panels:
        raise ValueError(f"nothing to plot: the history has no finite values under {[k for p in _PANELS for k in p[2]]}")
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), sharex=True, squeeze=False)
    for ax, (panel_title, label, present) in zip(axes[:, 0], panels):
        for key, name in present:
            values = np.asarray(history[key], dtype=np.float64)
            kept = np.isfinite(values)  # NaN: no value at that step
            x, y = steps[kept], values[kept]
            line, = ax.plot(x, y, alpha=0.25, linewidth=0.8)
            if len(y) >= 2 * smooth:  # the average sits at the last step of its window
                ax.plot(x[smooth - 1:], moving_average(y, smooth), color=line.get_color(),
                        label=f"{name} ({smooth}-step mean)")
            else:
                line.set_label(name)
        kind = present[0][0]  # the panel's first column says which panel this is
        if kind.endswith("grad_norm"):
            ax.set_yscale("log")  # a vanishing gradient is orders of magnitude down, not a little
        if kind in ("d_real", "d_fake"):
            label = "D's probability 'real'" if probability else "D's raw score"
            if equilibrium is not None:
                ax.axhline(equilibrium, color="black", linestyle="--", linewidth=1,
                           label=f"equilibrium ({equilibrium:g})")
        ax.set_title(panel_title, fontsize=9)
        ax.set_ylabel(label)
        ax.legend(loc="upper right", fontsize=7)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("training step")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_history(history, path, smooth=50, equilibrium=None, probability=False, title=None):
    """Save the loss plot (``history_figure``: losses, D(x) and D(G(z)), gradient norms) to ``path`` (PNG)."""
    _save(history_figure(history, smooth, equilibrium, probability, title), path)


def d_outputs_figure(real, fake, equilibrium=None, probability=False, title=None, bins=30):
    """Two histograms on one axis: D's outputs on each image of a real batch and of a fake batch.

    Early in training the two lumps sit apart (D tells them apart with ease); as G improves they
    slide together, towards the dashed ``equilibrium`` line where there is one. A D that wins
    outright pushes them to the two ends. ``probability``: the outputs are probabilities in
    [0, 1] (the BCE-based objectives), drawn on that fixed scale; else raw scores.
    """
    plt = _pyplot()
    real = np.asarray(real, dtype=np.float64).reshape(-1)
    fake = np.asarray(fake, dtype=np.float64).reshape(-1)
    if probability:
        edges = np.linspace(0, 1, bins + 1)
    else:  # one set of bins for both, so that the two bars of a bin compare
        both = np.concatenate([real, fake])
        both = both[np.isfinite(both)]
        low, high = (both.min(), both.max()) if both.size else (0.0, 1.0)
        edges = np.linspace(low, high if high > low else low + 1, bins + 1)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(real, bins=edges, alpha=0.6, label=f"real: D(x), mean {real.mean():.3g}")
    ax.hist(fake, bins=edges, alpha=0.6, label=f"fake: D(G(z)), mean {fake.mean():.3g}")
    if equilibrium is not None:
        ax.axvline(equilibrium, color="black", linestyle="--", linewidth=1, label=f"equilibrium ({equilibrium:g})")
    ax.set_xlabel("D's probability 'real'" if probability else "D's raw score")
    ax.set_ylabel("images")
    ax.set_title(title or "D's outputs on a real and a fake batch", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def save_d_outputs(real, fake, path, equilibrium=None, probability=False, title=None):
    """Save ``d_outputs_figure`` (histograms of D's outputs on real and on fake images) to ``path`` (PNG)."""
    _save(d_outputs_figure(real, fake, equilibrium, probability, title), path)


def save_scatter(points, path, centres=None, title=None, limit=None, radius=None):
    """2-D samples (and the true mode centres) as a scatter plot, for the toy mode-collapse runs.

    ``radius`` (data units; the toys pass 3 standard deviations): a red circle that size around
    each centre, the region where a sample counts as high quality, instead of a cross on the
    centre (a cross hides the very samples that sit on a mode)."""
    plt = _pyplot()
    p = points.numpy() if isinstance(points, Tensor) else np.asarray(points)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(p[:, 0], p[:, 1], s=2, alpha=0.4)
    if centres is not None:
        c = np.asarray(centres)
        if radius is None:
            ax.scatter(c[:, 0], c[:, 1], s=30, marker="x", color="red")
        else:
            for x, y in c:
                ax.add_patch(plt.Circle((x, y), radius, fill=False, color="red", linewidth=0.8))
    if limit is not None:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path):
    """Write ``fig`` to ``path`` as a PNG, atomically (a viewer never sees half a file), and close it."""
    import matplotlib.pyplot as plt
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        with atomic_file(path) as f:
            fig.savefig(f, format="png", dpi=100)  # format: the temporary's name ends in .tmp, not .png
    finally:
        plt.close(fig)
