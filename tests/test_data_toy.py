"""Toy 2-D mixtures (ring, grid); their scores, VEEGAN's mode coverage, are tested in test_metrics_toy.py."""
import math

import numpy as np
import pytest

import minigan
from minigan.data import grid, ring
from minigan.data.toy import grid_centres, ring_centres


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


def test_errors():
    with pytest.raises(ValueError, match="modes must be an int >= 1"):
        ring(10, modes=0)
    with pytest.raises(TypeError, match="rng must be None, an int seed or a numpy.random.Generator"):
        ring(10, rng="seed")
