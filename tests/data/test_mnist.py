"""MNIST: its description, and the real files where LENET_DATA_DIR points at them (CI)."""

import os

import numpy as np
import pytest

from lenet import data

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.skipif(not os.environ.get("LENET_DATA_DIR"), reason="LENET_DATA_DIR is not set")
@pytest.mark.parametrize(("split", "counts"), [("train", TRAIN_COUNTS), ("test", TEST_COUNTS)])
def test_real_mnist(split, counts):
    x, y = data.load_mnist(split, download=False)  # also checks the published sha256
    assert x.shape == (sum(counts), 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (sum(counts),) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y, minlength=10).tolist() == counts
