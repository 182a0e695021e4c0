"""Randomness: every random choice in lenet comes from a seeded np.random.Generator."""

import numpy as np

__all__ = ["as_generator"]


def as_generator(rng):
    """A np.random.Generator from a Generator, an int seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a np.random.Generator, an int seed or None, got {type(rng)}")
