"""VEEGAN's mode-coverage scores (minigan.metrics.mode_coverage) on the ring and grid toys."""
import math

import numpy as np
import pytest

import minigan
from minigan.data import grid, ring
from minigan.metrics import Coverage, mode_coverage

# For a round 2-D Gaussian, |x - mean| / std follows a chi distribution with 2 degrees of freedom:
# P(r < 3) = 1 - exp(-9/2).
P_HIGH_QUALITY = 1 - math.exp(-4.5)


@pytest.mark.parametrize("make, std, modes", [(ring, 0.01, 8), (grid, 0.05, 25)], ids=["ring", "grid"])
def test_true_samples_capture_every_mode_and_98_9_percent_are_high_quality(make, std, modes):
    n = 2500
    samples, centres = make(n, std=std, rng=0)
    coverage = mode_coverage(samples, centres, std)
    assert isinstance(coverage, Coverage) and coverage.modes == modes
    # the share is a binomial proportion: its standard deviation is sqrt(p (1 - p) / n) = 0.0021
    sd = math.sqrt(P_HIGH_QUALITY * (1 - P_HIGH_QUALITY) / n)
    assert abs(coverage.high_quality - P_HIGH_QUALITY) < 4 * sd


def test_samples_at_one_centre_capture_one_mode():
    _, centres = ring(1)
    samples = np.repeat(centres[3:4], 100, axis=0)
    assert mode_coverage(samples, centres, 0.01) == Coverage(modes=1, high_quality=1.0)


def test_far_away_samples_are_not_high_quality():
    _, centres = ring(1)
    samples = np.full((100, 2), 5.0, dtype=np.float32)
    assert mode_coverage(samples, centres, 0.01) == Coverage(modes=0, high_quality=0.0)


def test_counting_by_hand():
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    samples = np.array([[0.02, 0.0],     # mode 0, within 3 std (0.03): high quality
                        [0.0, 0.029],    # mode 0, high quality
                        [1.04, 0.0],     # mode 1, outside 3 std: not high quality
                        [0.0, 0.98],     # mode 2, high quality
                        [0.5, 0.5]])     # far from all
    assert mode_coverage(samples, centres, std=0.01) == Coverage(modes=2, high_quality=0.6)
    assert mode_coverage(minigan.tensor(samples), minigan.tensor(centres), 0.01).modes == 2  # Tensors too


def test_min_samples_counts_a_mode_only_with_that_many_good_samples():
    centres = np.array([[0.0, 0.0], [1.0, 0.0]])
    samples = np.array([[0.0, 0.0]] * 3 + [[1.0, 0.0]])  # 3 good samples at mode 0, 1 at mode 1
    assert mode_coverage(samples, centres, 0.01).modes == 2
    assert mode_coverage(samples, centres, 0.01, min_samples=2) == Coverage(modes=1, high_quality=1.0)
    assert mode_coverage(samples, centres, 0.01, min_samples=4).modes == 0


def test_a_generator_on_half_the_ring_captures_half_the_modes():
    samples, centres = ring(2000, rng=0)
    nearest = np.linalg.norm(samples[:, None] - centres[None], axis=2).argmin(axis=1)
    coverage = mode_coverage(samples[nearest < 4], centres, 0.01)
    assert coverage.modes == 4 and coverage.high_quality > 0.97


def test_errors():
    with pytest.raises(ValueError, match=r"expected samples shaped \(N, D\), got shape \(4,\)"):
        mode_coverage(np.zeros(4), np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match=r"samples \(n, d\) and centres \(modes, d\) with the same d.*\(1, 3\)"):
        mode_coverage(np.zeros((1, 3)), np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="at least one sample"):
        mode_coverage(np.zeros((0, 2)), np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="std must be positive"):
        mode_coverage(np.zeros((1, 2)), np.zeros((2, 2)), 0)
    with pytest.raises(ValueError, match="min_samples must be a positive int"):
        mode_coverage(np.zeros((1, 2)), np.zeros((2, 2)), 0.1, min_samples=0)
    with pytest.raises(ValueError, match="expected finite samples"):
        mode_coverage(np.full((1, 2), np.nan), np.zeros((2, 2)), 0.1)
