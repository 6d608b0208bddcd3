"""Argument checks for layers, optimisers and data: is it a number, an int, a flag, in its range?

A layer or an optimiser checks its arguments when it is made, so that a mistake is reported where
it was written (``nn.Linear(784, 2.5)``), not later from deep inside an op. Each check returns the
value, or raises an error that says where, which argument, what was expected and what came::

    Linear: in_features must be a positive int, got 2.5
    clip_grad_norm_: max_norm must be a number >= 0, got -1.0
    Adam parameter group 0: lr must be a number, got str '0.1'

Something that is not a number at all (a string, None, a list) is a TypeError; a number that is
not allowed (negative, NaN, 2.5 where a whole number is needed) is a ValueError. True and False
are refused where a number is expected, although Python counts them as 1 and 0: ``Linear(True,
3)`` is a mistake, not a layer with one input. NumPy's scalars (``np.float32(0.1)``,
``np.int64(3)``) are numbers like any other: ``numbers.Real`` and ``numbers.Integral`` know them.

Standard library only: this module sits at the bottom of minigan, so that any module may use it.
"""
import numbers


def check_number(where, name, value, low=None, high=None, *, low_open=False, high_open=False,
                 or_none=False, expected=None, setting=False):
    """Return ``value`` if it is a real number between ``low`` and ``high`` (None: no bound; the
    bounds are allowed unless ``low_open`` / ``high_open``), else raise.

    ``or_none``: None is allowed too. ``expected``: words for what is allowed, when better ones
    than "a number in [0, 1]" exist ("a probability in [0, 1]"). ``setting``: word a value out
    of range as an entry of a dict of settings, as an optimiser's parameter group is printed:
    "invalid lr = -0.1; expected a number >= 0".
    """
    if or_none and value is None:
        return value
    if expected is None:
        expected = "a number" + _range_words(low, high, low_open, high_open)
    if or_none:
        expected += " or None"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "a number or None" if or_none else "a number"
        raise TypeError(f"{where}: {name} must be {kind}, got {type(value).__name__} {value!r:.40}")
    # NaN compares False with everything, so it fails any bound (and passes when there is none).
    fits = ((low is None or (value > low if low_open else value >= low))
            and (high is None or (value < high if high_open else value <= high)))
    if not fits:
        if setting:
            raise ValueError(f"{where}: invalid {name} = {value!r}; expected {expected}")
        raise ValueError(f"{where}: {name} must be {expected}, got {value!r}")
    return value


def check_int(where, name, value, low=None, *, expected=None):
    """Return ``value`` as a Python int if it is a whole number >= ``low`` (None: any), else raise.

    The words are "a positive int" for ``low=1``, "a non-negative int" for ``low=0`` and
    "an int >= low" otherwise, unless ``expected`` gives others.
    """
    if expected is None:
        expected = {None: "an int", 0: "a non-negative int", 1: "a positive int"}.get(low, f"an int >= {low}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be {expected}, got {type(value).__name__} {value!r:.40}")
    # A number, but not a whole one (2.5, or 3.0 given as a float), or one below the range.
    if not isinstance(value, numbers.Integral) or (low is not None and value < low):
        raise ValueError(f"{where}: {name} must be {expected}, got {value!r}")
    return int(value)


def check_flag(where, name, value):
    """Return ``value`` if it is True or False, else raise: 1, 0 or "yes" are refused, since
    a flag given a number is more often an argument in the wrong place than a deliberate choice."""
    if not isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be True or False, got {value!r:.40}")
    return value


def check_seed(where, value, *, or_none=False):
    """Return a random seed, a whole number >= 0, as a Python int (None too, with ``or_none``).

    Every bad seed is a TypeError, a negative one too: the rule ``minigan.manual_seed`` has always
    followed, so that one ``except TypeError`` catches every bad seed.
    """
    if or_none and value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        expected = "a non-negative int" + (" or None" if or_none else "")
        raise TypeError(f"{where}: seed must be {expected}, got {value!r:.40}")
    return int(value)


def _range_words(low, high, low_open, high_open):
    """The range as the messages word it: ' >= 0', ' > 0', ' in [0, 1)', or '' for no bounds."""
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""
