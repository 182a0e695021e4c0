"""Datasets on disk and in mini-batches.

    images, labels = load_mnist("train")   # (60000, 1, 28, 28) float32 in [0, 1], (60000,) int64
    (x_train, y_train), (x_val, y_val) = train_val_split(images, labels, n_val=5000)
    for x, y in iterate_minibatches(x_train, y_train, 64, rng=0): ...

The modules: idx (reading IDX files and saying what is wrong with one), download (the data
folder, mirrors, checksums, deadlines), datasets (IDXDataset: a dataset described by its files,
sums and mirrors, with .load), mnist (MNIST's description), errors (DataError and its kinds, with
the fields a caller needs to word its own message), batches (train_val_split,
iterate_minibatches: generic, no files).

Where files are looked for: ``root`` if given, else ``$LENET_DATA_DIR`` (which must
exist: a mistyped name is refused, not created), else the ``data/`` folder of this checkout (for
an editable install), else a per-user cache folder.
"""

from lenet.data.batches import iterate_minibatches, train_val_split
from lenet.data.datasets import IDXDataset
from lenet.data.download import default_data_dir, fetch_file
from lenet.data.errors import (
    DataError,
    DataFileError,
    DataFolderError,
    DataNotFoundError,
    SwappedFilesError,
)
from lenet.data.idx import read_idx
from lenet.data.mnist import MNIST

__all__ = [
    "MNIST",
    "MIRRORS",
    "IDXDataset",
    "DataError",
    "DataFileError",
    "DataFolderError",
    "DataNotFoundError",
    "SwappedFilesError",
    "default_data_dir",
    "read_idx",
    "fetch_file",
    "load_mnist",
    "train_val_split",
    "iterate_minibatches",
]

# Where load_mnist downloads from, read at each call (a test points it at a local server).
MIRRORS = MNIST.mirrors


def load_mnist(split="train", root=None, download=True, *, mirrors=None, **limits):
    """MNIST images float32 (N, 1, 28, 28) scaled to [0, 1] and labels int64 (N,) of a split.

    split: "train" or "test"; root: the folder with the files (default: default_data_dir());
    download: fetch missing or corrupt files, from mirrors (default lenet.data.MIRRORS, read at
    each call); limits: checksums, timeout, deadline, min_speed, as IDXDataset.load takes them.
    Raises a DataError naming the file or folder at fault, what is wrong and what to do.
    """
    mirrors = MIRRORS if mirrors is None else mirrors
    return MNIST.load(split, root, download, mirrors, **limits)
