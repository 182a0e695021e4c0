"""Small made-up data sets for tests that need no real MNIST."""

import numpy as np


def tiny_data(seed=0):
    """(train, val, test) splits of random 'digits' whose class is where the ink is."""
    rng = np.random.default_rng(seed)

    def split(n):
        labels = rng.integers(0, 10, n)
        images = 0.1 * rng.random((n, 1, 28, 28), dtype=np.float32)
        for k in range(10):  # class k: a bright block in row band k
            images[labels == k, 0, 2 * k + 3 : 2 * k + 6, 8:20] = 1.0
        return images, labels

    return split(256), split(64), split(64)
