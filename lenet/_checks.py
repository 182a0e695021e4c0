"""Argument checks shared by the modules: a clear ValueError naming the argument and the value."""

import numpy as np


def is_int(value):
    """True for Python and numpy integers, False for bool (an int in Python, never meant as one)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def positive_int(name, value):
    """value as an int >= 1, else ValueError naming `name`."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(name, value):
    """value as an int >= 0, else ValueError naming `name`."""
    if not is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)
