"""Splits and mini-batches of any (images, labels) arrays: nothing here knows about files."""

import numpy as np

from lenet.utils.checks import image_label_pair, is_int, positive_int
from lenet.utils.rng import as_generator

__all__ = ["train_val_split", "iterate_minibatches"]


def train_val_split(images, labels, n_val=5000):
    """The last n_val examples for validation: ((x_train, y_train), (x_val, y_val))."""
    image_label_pair("train_val_split", (images, labels))
    if not is_int(n_val) or not 0 <= n_val < len(images):
        raise ValueError(
            f"n_val must be an integer in [0, {len(images)}), got {n_val!r}: the validation "
            f"set takes n_val of the {len(images)} examples and leaves the rest for training"
        )
    cut = len(images) - n_val
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


def iterate_minibatches(images, labels, batch_size, rng=None, shuffle=True):
    """An iterator of (x, y) mini-batches covering every example once; the last may be smaller.

    images: (N, ...), labels: (N,). Shuffled by rng: a np.random.Generator, an int seed, or
    None for fresh randomness (np.random's global state is never used).
    """
    positive_int("batch_size", batch_size)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    n = len(images)
    order = as_generator(rng).permutation(n) if shuffle else np.arange(n)
    return _batches(images, labels, order, batch_size)  # checked now, not at the first batch


def _batches(images, labels, order, batch_size):
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield images[idx], labels[idx]
