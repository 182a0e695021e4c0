"""Argument checks shared by the modules: a clear ValueError naming the argument and the value."""

import math

import numpy as np

__all__ = [
    "is_int",
    "positive_int",
    "non_negative_int",
    "non_negative_number",
    "positive_number",
    "number_in",
    "image_label_pair",
]


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


def non_negative_number(name, value):
    """value as a finite float >= 0, else ValueError naming `name`."""
    return number_in(name, value, 0, math.inf, "a finite number >= 0")


def positive_number(name, value):
    """value as a finite float > 0, else ValueError naming `name`."""
    return number_in(name, value, 0, math.inf, "a finite number > 0", low_inclusive=False)


def number_in(name, value, low, high, expected, low_inclusive=True, high_inclusive=True):
    """value as a finite float between low and high, else ValueError saying `expected`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    inside = (low < number or (low_inclusive and number == low)) and (
        number < high or (high_inclusive and number == high)
    )
    if isinstance(value, bool) or not math.isfinite(number) or not inside:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def image_label_pair(name, data, like=None):
    """data = (images (N, ...), labels (N,)) with N > 0 and finite images -> the two arrays.

    like: images whose shape past the first axis the images must share.
    """
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{name} must be a pair (images, labels), got {type(data).__name__}")
    images, labels = np.asarray(data[0]), np.asarray(data[1])
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(
            f"{name}: expected images of shape (N, ...) with N > 0, got {images.shape}"
        )
    if labels.shape[:1] != (len(images),):
        raise ValueError(
            f"{name}: expected {len(images)} labels for {len(images)} images, "
            f"got labels of shape {labels.shape}"
        )
    if like is not None and images.shape[1:] != like.shape[1:]:
        expected = (len(images), *like.shape[1:])
        raise ValueError(
            f"{name}: expected images of shape {expected} like the training images, "
            f"got {images.shape}"
        )
    if np.issubdtype(images.dtype, np.floating) and not np.isfinite(images).all():
        bad = int(np.count_nonzero(~np.isfinite(images).reshape(len(images), -1).all(axis=1)))
        raise ValueError(
            f"{name}: {bad} of the {len(images)} images hold NaN or inf values; "
            "clean the data before training (this is not a learning-rate problem)"
        )
    return images, labels
