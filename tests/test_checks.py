"""minigan.checks: the one set of argument checks, and the errors they give."""
import math

import numpy as np
import pytest

import minigan
import minigan.metrics
import minigan.nn as nn
from minigan.checks import check_flag, check_int, check_number, check_seed
from minigan.data import DataLoader


@pytest.mark.parametrize("call, value, kind", [
    (lambda: check_number("f", "x", 0.5), 0.5, float),
    (lambda: check_number("f", "x", -7), -7, int),                       # no bounds: any number, as it came
    (lambda: check_number("f", "x", np.float32(0.25), low=0, high=1), 0.25, np.float32),
    (lambda: check_number("f", "x", 0, low=0), 0, int),                  # the bounds themselves are allowed
    (lambda: check_number("f", "x", None, low=0, or_none=True), None, type(None)),
    (lambda: check_int("f", "n", np.int64(3), low=1), 3, int),           # ints come back as Python ints
    (lambda: check_int("f", "dim", -2), -2, int),
    (lambda: check_flag("f", "amsgrad", False), False, bool),
    (lambda: check_seed("f", np.uint32(7)), 7, int),
    (lambda: check_seed("f", None, or_none=True), None, type(None)),
])
def test_good_values_come_back(call, value, kind):
    result = call()
    assert result == value and type(result) is kind


@pytest.mark.parametrize("call, error, message", [
    # not a number at all: a TypeError showing the type
    (lambda: check_number("Adam parameter group 0", "lr", "0.1"), TypeError,
     r"^Adam parameter group 0: lr must be a number, got str '0.1'$"),
    (lambda: check_number("f", "x", True), TypeError, r"^f: x must be a number, got bool True$"),
    (lambda: check_number("f", "x", [1]), TypeError, r"^f: x must be a number, got list \[1\]$"),
    (lambda: check_number("BatchNorm1d", "momentum", "0.1", low=0, high=1, or_none=True), TypeError,
     r"^BatchNorm1d: momentum must be a number or None, got str '0.1'$"),
    # a number out of range: a ValueError showing the range and the value
    (lambda: check_number("clip_grad_norm_", "max_norm", -1.0, low=0), ValueError,
     r"^clip_grad_norm_: max_norm must be a number >= 0, got -1.0$"),
    (lambda: check_number("f", "x", 0, low=0, low_open=True), ValueError, r"^f: x must be a number > 0, got 0$"),
    (lambda: check_number("f", "x", 2, high=1), ValueError, r"^f: x must be a number <= 1, got 2$"),
    (lambda: check_number("f", "x", 1.0, low=0, high=1, high_open=True), ValueError,
     r"^f: x must be a number in \[0, 1\), got 1.0$"),
    (lambda: check_number("f", "x", 1.5, low=0, high=1, or_none=True), ValueError,
     r"^f: x must be a number in \[0, 1\] or None, got 1.5$"),
    (lambda: check_number("f", "x", math.nan, low=0), ValueError, r"^f: x must be a number >= 0, got nan$"),
    (lambda: check_number("Dropout", "p", 1.5, low=0, high=1, expected="a probability in [0, 1]"), ValueError,
     r"^Dropout: p must be a probability in \[0, 1\], got 1.5$"),
    (lambda: check_number("SGD parameter group 0", "lr", -0.1, low=0, setting=True), ValueError,
     r"^SGD parameter group 0: invalid lr = -0.1; expected a number >= 0$"),
    # ints: a string is a TypeError; 2.5 (a number, but not whole) and numbers too small are ValueErrors
    (lambda: check_int("Linear", "in_features", "3", low=1), TypeError,
     r"^Linear: in_features must be a positive int, got str '3'$"),
    (lambda: check_int("Linear", "in_features", True, low=1), TypeError, r"got bool True$"),
    (lambda: check_int("Linear", "in_features", 2.5, low=1), ValueError,
     r"^Linear: in_features must be a positive int, got 2.5$"),
    (lambda: check_int("Linear", "in_features", 3.0, low=1), ValueError, r"got 3.0$"),
    (lambda: check_int("f", "epoch", -3, low=0), ValueError, r"^f: epoch must be a non-negative int, got -3$"),
    (lambda: check_int("f", "k", 1, low=2), ValueError, r"^f: k must be an int >= 2, got 1$"),
    (lambda: check_int("f", "dim", 0.5), ValueError, r"^f: dim must be an int, got 0.5$"),
    (lambda: check_int("ring_centres", "modes", 0, low=1, expected="an int >= 1"), ValueError,
     r"^ring_centres: modes must be an int >= 1, got 0$"),
    # flags and seeds
    (lambda: check_flag("Adam parameter group 0", "amsgrad", 1), TypeError,
     r"^Adam parameter group 0: amsgrad must be True or False, got 1$"),
    (lambda: check_seed("DataLoader", -1, or_none=True), TypeError,
     r"^DataLoader: seed must be a non-negative int or None, got -1$"),
    (lambda: check_seed("f", 1.5), TypeError, r"^f: seed must be a non-negative int, got 1.5$"),
    (lambda: check_seed("f", True), TypeError, r"got True$"),
])
def test_bad_values_name_where_what_was_expected_and_what_came(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_layers_optimisers_and_loaders_use_them():
    # One wording everywhere: each message names the layer, the argument, the range and the value.
    with pytest.raises(ValueError, match=r"^Embedding: embedding_dim must be a positive int, got 0$"):
        nn.Embedding(10, 0)
    with pytest.raises(ValueError, match=r"^BatchNorm2d: momentum must be a number in \[0, 1\] or None, got 1.5$"):
        nn.BatchNorm2d(3, momentum=1.5)
    with pytest.raises(TypeError, match=r"^LeakyReLU: negative_slope must be a number, got str '0.2'$"):
        nn.LeakyReLU("0.2")
    with pytest.raises(ValueError, match=r"^Unflatten: dim must be an int, got 1.5$"):
        nn.Unflatten(1.5, (2, 2))
    with pytest.raises(ValueError, match=r"^RMSprop parameter group 0: invalid alpha = 1.5; "
                                         r"expected a number in \[0, 1\]$"):
        minigan.optim.RMSprop([minigan.randn(2, requires_grad=True)], alpha=1.5)
    with pytest.raises(TypeError, match=r"^DataLoader: seed must be a non-negative int or None, got -1$"):
        DataLoader(np.zeros((4, 2)), batch_size=2, seed=-1)
    with pytest.raises(ValueError, match=r"^mode_coverage: std must be positive, got 0$"):
        minigan.metrics.mode_coverage(np.zeros((1, 2)), np.zeros((2, 2)), 0)
    # NumPy integers are ints: a width read from an array makes a layer like any other
    layer = nn.Linear(np.int64(3), np.int32(2))
    assert (layer.in_features, layer.out_features) == (3, 2) and type(layer.in_features) is int
    assert layer.weight.shape == (2, 3)
