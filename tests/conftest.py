"""Fixtures shared by several test files."""

import pytest
from mnist_files import write_split


@pytest.fixture
def tiny_mnist(tmp_path):
    """A folder of small MNIST-format files: 300 training and 100 test images."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    # Raw (not gzipped) files: checked by their headers, never "repaired" by a download.
    write_split(folder, "train", n=300, seed=1, gz=False)
    write_split(folder, "test", n=100, seed=2, gz=False)
    return folder
