"""Small MNIST-format files for tests that need no real data."""

import gzip
import hashlib
import struct
import zlib

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


def write_gzip_of_zeros(path, prefix, zeros):
    """A gzip file of prefix then `zeros` zero bytes (a multiple of 2**24): megabytes on disk
    that unpack to gigabytes, written without ever holding them (one deflate block repeated)."""
    chunk = bytes(2**24)
    if zeros % len(chunk):
        raise ValueError(f"zeros must be a multiple of {len(chunk)}, got {zeros}")
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, gzip's framing added here
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)  # the same every time
    crc = zlib.crc32(prefix)
    for _ in range(zeros // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + head)
        for _ in range(zeros // len(chunk)):
            f.write(block)
        f.write(deflate.flush())
        f.write(struct.pack("<II", crc, (len(prefix) + zeros) % 2**32))
