"""Toy 2-D mixtures (ring, grid) and VEEGAN's mode-coverage metrics."""
import math

import numpy as np
import pytest

import minigan
from minigan.data import Coverage, grid, mode_coverage, ring
from minigan.data.toy import grid_centres, ring_centres

# For a round 2-D Gaussian, |x - mean| / std follows a chi distribution with 2 degrees of freedom:
# P(r < 3) = 1 - exp(-9/2).
P_HIGH_QUALITY = 1 - math.exp(-4.5)


def test_ring_centres_are_distinct_and_evenly_spaced():
    centres = ring_centres(8, radius=1.0)
    assert centres.shape == (8, 2) and centres.dtype == np.float32
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=2) + np.eye(8) * 9
    assert gaps.min() > 0.7  # no two centres coincide (linspace(0, 2*pi, 8) would repeat one)
    angles = np.arctan2(centres[:, 1], centres[:, 0]) % (2 * np.pi)
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-6)
    neighbours = np.linalg.norm(centres - np.roll(centres, 1, axis=0), axis=1)
    np.testing.assert_allclose(neighbours, 2 * math.sin(math.pi / 8), rtol=1e-6)  # equal chords
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(ring_centres(5, radius=2.0).mean(axis=0), 0, atol=1e-6)


def test_grid_centres_are_the_5x5_lattice_centred_on_0():
    centres = grid_centres()
    assert centres.shape == (25, 2) and centres.dtype == np.float32
    expected = {(float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(map(float, c)) for c in centres} == expected
    assert grid_centres(side=4, spacing=1.0).min() == -1.5


def test_samples_shapes_types_and_spread():
    samples, centres = ring(4000)
    assert samples.shape == (4000, 2) and samples.dtype == np.float32 and centres.shape == (8, 2)
    nearest = np.linalg.norm(samples[:, None] - centres[None], axis=2).argmin(axis=1)
    assert np.bincount(nearest, minlength=8).min() > 400  # every mode drawn (500 each expected)
    np.testing.assert_allclose((samples - centres[nearest]).std(), 0.01, rtol=0.05)
    samples, centres = grid(3000, std=0.05)
    assert samples.shape == (3000, 2) and centres.shape == (25, 2) and samples.dtype == np.float32


def test_reproducible_from_manual_seed_or_rng():
    minigan.manual_seed(11)
    a, _ = ring(50)
    minigan.manual_seed(11)
    b, _ = ring(50)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(grid(50, rng=3)[0], grid(50, rng=np.random.default_rng(3))[0])
    assert not np.array_equal(ring(50, rng=1)[0], ring(50, rng=2)[0])


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


def test_errors():
    with pytest.raises(ValueError, match=r"samples \(n, d\) and centres \(modes, d\).*\(4,\)"):
        mode_coverage(np.zeros(4), np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="at least one sample"):
        mode_coverage(np.zeros((0, 2)), np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="std must be positive"):
        mode_coverage(np.zeros((1, 2)), np.zeros((2, 2)), 0)
    with pytest.raises(ValueError, match="modes must be an int >= 1"):
        ring(10, modes=0)
    with pytest.raises(TypeError, match="rng must be None, an int seed or a numpy.random.Generator"):
        ring(10, rng="seed")
