"""Toy 2-D distributions for watching mode collapse (``minigan.metrics.mode_coverage`` measures it).

Both distributions are mixtures of equally likely round Gaussians (the same ``std`` on each axis):

* ``ring``: ``modes`` Gaussians (8 by default) whose means sit evenly on a circle, at angles
  2*pi*k/modes for k = 0 .. modes-1. (Not ``linspace(0, 2*pi, modes)``: that includes both 0 and
  2*pi, the same point, so one mode would be counted twice and the circle would have a gap.)
* ``grid``: side x side Gaussians (25 by default) with means on a square grid centred on 0,
  ``spacing`` apart: {-4, -2, 0, 2, 4}^2 for the defaults.

The defaults (ring: radius 1, std 0.01; grid: spacing 2, std 0.05) are those of VEEGAN
(Srivastava et al., 2017) and PacGAN (Lin et al., 2018).

``minigan.metrics.mode_coverage`` scores a generator's samples on them as VEEGAN does.
"""
import numpy as np

from .. import backend
from ..checks import check_int, check_number


def _rng(rng):
    """None -> minigan's CPU generator (seeded by minigan.manual_seed); int -> a new seeded generator."""
    if rng is None:
        return backend.generator(backend.CPU)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")


def mixture(n, centres, std, rng=None):
    """``n`` samples (float32 (n, 2)) from equally likely Gaussians at ``centres`` with std ``std``."""
    n = check_int("mixture", "n", n, low=0)
    check_number("mixture", "std", std, low=0, low_open=True, expected="positive")
    rng = _rng(rng)
    centres = np.asarray(centres, dtype=np.float32)
    which = rng.integers(0, len(centres), size=n)
    noise = rng.standard_normal((n, centres.shape[1]), dtype=np.float32)
    return centres[which] + np.float32(std) * noise


def ring_centres(modes=8, radius=1.0):
    """The means of ``ring``: float32 (modes, 2), at angles 2*pi*k/modes."""
    modes = check_int("ring_centres", "modes", modes, low=1, expected="an int >= 1")
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_centres(side=5, spacing=2.0):
    """The means of ``grid``: float32 (side*side, 2), centred on 0 (rows of constant x)."""
    side = check_int("grid_centres", "side", side, low=1, expected="an int >= 1")
    coords = spacing * (np.arange(side) - (side - 1) / 2)
    xs, ys = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)


def ring(n, modes=8, radius=1.0, std=0.01, rng=None):
    """``n`` samples from a ring of ``modes`` Gaussians. Returns (samples float32 (n, 2), centres (modes, 2)).

    ``rng``: None uses minigan's generator (see ``minigan.manual_seed``), an int seeds a new one,
    or pass a ``numpy.random.Generator``.
    """
    centres = ring_centres(modes, radius)
    return mixture(n, centres, std, rng), centres


def grid(n, side=5, spacing=2.0, std=0.05, rng=None):
    """``n`` samples from a side x side grid of Gaussians. Returns (samples float32 (n, 2), centres (side**2, 2))."""
    centres = grid_centres(side, spacing)
    return mixture(n, centres, std, rng), centres

