"""Small MNIST-format files for tests that need no real data."""

import gzip
import hashlib
import struct

import numpy as np

from lenet.data import MNIST


def idx_bytes(array, magic=None):
    """An IDX file of unsigned bytes holding array (1-D labels or 3-D images)."""
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else 0x0800 + array.ndim
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_split(folder, split="train", n=12, gz=True, seed=0, images=None, labels=None):
    """Write a split's two files into folder; returns (images, labels) as written."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28)) if images is None else images
    labels = rng.integers(0, 10, n) if labels is None else labels
    image_name, label_name = MNIST.files[split]
    for name, array in ((image_name, images), (label_name, labels)):
        content = idx_bytes(array)
        if gz:
            (folder / name).write_bytes(gzip.compress(content, mtime=0))
        else:
            (folder / name.removesuffix(".gz")).write_bytes(content)
    return np.asarray(images), np.asarray(labels)


def checksums_of(folder, split="train"):
    """The sha256 of a split's .gz files in folder, to load them as if they were published."""
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in MNIST.files[split]
    }


# Small files under the canonical names are not the published ones: load them with checksums={}
# (or as raw files, which are checked by their headers only).
NO_CHECKSUMS = {}
