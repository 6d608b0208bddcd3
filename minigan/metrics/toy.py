"""VEEGAN's mode-coverage scores for the 2-D toys (``minigan.data.ring`` and ``minigan.data.grid``).

VEEGAN (Srivastava et al., 2017, section 5.1) and PacGAN (Lin et al., 2018, Table 1) score a
generator on a mixture of round Gaussians (means ``centres``, the same ``std`` on each axis) by
two numbers, which ``mode_coverage`` computes:

* a sample is *high quality* when it lies within 3 standard deviations of its nearest mode's
  mean: ||x - c_nearest(x)|| < 3 std. The score is the share of such samples.
* a mode is *captured* when it is the nearest mode of at least ``min_samples`` high-quality
  samples (1 by default, which is the definition used throughout minigan's tables: a single
  good sample next to a mode counts it). The score is how many modes are captured.

For samples drawn from the true mixture, ||x - c|| / std follows a chi distribution with 2
degrees of freedom, so the expected high-quality share is P(r < 3) = 1 - exp(-9/2) = 0.9889:
even a perfect generator scores about 98.9%, not 100%.
"""
from collections import namedtuple

import numpy as np

from ..checks import check_int, check_number
from .scores import as_float64

Coverage = namedtuple("Coverage", ["modes", "high_quality"])
Coverage.__doc__ = "modes: how many modes are captured (int); high_quality: the share of high-quality samples (float)"


def mode_coverage(samples, centres, std, min_samples=1):
    """VEEGAN's scores for ``samples`` (n, d) against a mixture with these ``centres`` (modes, d) and ``std``.

        nearest(x) = argmin_c ||x - c||,   high quality: ||x - nearest(x)|| < 3 std
        high_quality = #{high-quality samples} / n
        modes = #{modes c : at least min_samples high-quality samples have nearest(x) = c}

    Returns ``Coverage(modes, high_quality)``. Accepts arrays or Tensors on any device.
    """
    samples = as_float64(samples, "mode_coverage", "samples")
    centres = as_float64(centres, "mode_coverage", "centres")
    if samples.shape[1] != centres.shape[1]:
        raise ValueError(f"mode_coverage expects samples (n, d) and centres (modes, d) with the same d; "
                         f"got samples {samples.shape} and centres {centres.shape}")
    if len(samples) == 0 or len(centres) == 0:
        raise ValueError(f"mode_coverage needs at least one sample and one centre; got {len(samples)} "
                         f"samples and {len(centres)} centres")
    check_number("mode_coverage", "std", std, low=0, low_open=True, expected="positive")
    min_samples = check_int("mode_coverage", "min_samples", min_samples, low=1)
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)  # (n, modes)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] < 3 * std
    per_mode = np.bincount(nearest[good], minlength=len(centres))
    return Coverage(modes=int((per_mode >= min_samples).sum()), high_quality=float(good.mean()))
