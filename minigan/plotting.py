"""Pictures of a GAN run, saved as PNG: grids of images, loss curves, and 2-D scatter plots.

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


def plot_history(history, path, smooth=50):
    """Loss curves of D and G (and mean D outputs) over training steps, saved to ``path`` (PNG).

    ``history`` is a dict of equal-length lists (``step``, ``d_loss``, ``g_loss``, optionally
    ``d_real``, ``d_fake``); curves are shown raw (faint) and as a running mean over ``smooth`` steps.
    """
    plt = _pyplot()
    steps = np.asarray(history["step"])
    panels = [("loss", ("d_loss", "g_loss")), ("mean D output", ("d_real", "d_fake"))]
    panels = [(t, [k for k in keys if k in history and len(history[k])]) for t, keys in panels]
    panels = [p for p in panels if p[1]]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), sharex=True, squeeze=False)
    for ax, (title, keys) in zip(axes[:, 0], panels):
        for key in keys:
            values = np.asarray(history[key], dtype=np.float64)
            line, = ax.plot(steps, values, alpha=0.25, linewidth=0.8)
            if len(values) >= 2 * smooth:
                kernel = np.ones(smooth) / smooth
                ax.plot(steps[smooth - 1:], np.convolve(values, kernel, mode="valid"),
                        color=line.get_color(), label=key)
            else:
                line.set_label(key)
        ax.set_ylabel(title)
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("training step")
    fig.tight_layout()
    _save(fig, path)


def save_scatter(points, path, centres=None, title=None, limit=None):
    """2-D samples (and the true mode centres) as a scatter plot, for the toy mode-collapse runs."""
    plt = _pyplot()
    p = points.numpy() if isinstance(points, Tensor) else np.asarray(points)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(p[:, 0], p[:, 1], s=2, alpha=0.4)
    if centres is not None:
        c = np.asarray(centres)
        ax.scatter(c[:, 0], c[:, 1], s=30, marker="x", color="red")
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
