"""IDX files (MNIST's format, and Fashion-MNIST's): reading them and saying what is wrong with one.

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions, then
one 4-byte count per dimension) followed by the values. Image files hold unsigned bytes in three
dimensions (magic number 2051 = 0x0803), label files unsigned bytes in one (2049 = 0x0801).
Files may be gzipped (names ending in .gz).
"""

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from lenet.data.errors import DataFileError, SwappedFilesError

__all__ = [
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "MAX_IDX_BYTES",
    "read_idx",
    "check_pair",
    "looks_like_html",
]

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # 0x0803: unsigned bytes, 3-D; 0x0801: unsigned bytes, 1-D
# The most values read_idx reads unless told otherwise: MNIST's largest file holds 47 MB; a
# header declaring more than this is refused before its body is read (or decompressed).
MAX_IDX_BYTES = 2**28  # 268 MB


def read_idx(path, max_bytes=MAX_IDX_BYTES):
    """Read an IDX file of unsigned bytes (gzip if the name ends in .gz) -> read-only uint8 array.

    The header is read and checked first; then exactly the bytes it declares (at most
    max_bytes) are read or decompressed, and nothing more. Raises DataFileError naming the file
    and what is wrong with it: unreadable, empty, an HTML page, bad compression, a wrong header
    or type, too large, too short or too long.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            start = f.read(512)
            if not start:
                raise DataFileError(path, "the file is empty (0 bytes)")
            if looks_like_html(start):
                raise DataFileError(path, "an HTML page (a web server's answer), not data")
            f.seek(0)
            if path.suffix != ".gz":
                return _read(path, f, max_bytes, os.fstat(f.fileno()).st_size)
            with gzip.GzipFile(fileobj=f) as unzipped:
                return _read_gzip(path, unzipped, max_bytes)
    except OSError as err:
        raise DataFileError(path, f"cannot read it ({err.strerror or err})") from err


def looks_like_html(raw):
    """Whether bytes start like a web page (what a mirror or a proxy sends instead of a file)."""
    start = raw[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body"))


def _read_gzip(path, f, max_bytes):
    try:
        if looks_like_html(f.peek(512)[:512]):
            raise DataFileError(path, "a gzipped HTML page (a web server's answer), not IDX data")
        return _read(path, f, max_bytes)
    except EOFError as err:
        reason = f"not a readable gzip file: it is cut short, as by an interrupted download ({err})"
        raise DataFileError(path, reason) from err
    except (OSError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DataFileError(path, f"not a readable gzip file ({err})") from err


def _read(path, f, max_bytes, size=None):
    """The array of an open IDX file f (size: its length in bytes when known, else None)."""
    shape = _header(path, f)
    header = 4 + 4 * len(shape)
    count = math.prod(shape)
    if count > max_bytes:
        raise DataFileError(
            path,
            f"its header declares {shape}: {count:,} bytes, more than the {max_bytes:,} "
            "an IDX file may hold here",
        )
    if size is not None and size != header + count:
        what = "truncated" if size < header + count else "longer than its header says"
        reason = f"file is {what}: {size} bytes, the header {shape} needs {header + count}"
        raise DataFileError(path, reason)
    body = bytearray(count)
    got = _read_into(f, memoryview(body))
    if got < count:
        reason = (
            f"file is truncated: {header + got} bytes, the header {shape} needs {header + count}"
        )
        raise DataFileError(path, reason)
    if f.read(1):
        reason = f"file is longer than its header says: the header {shape} needs {header + count}"
        raise DataFileError(path, reason)
    array = np.frombuffer(body, dtype=np.uint8).reshape(shape)
    array.flags.writeable = False
    return array


def _header(path, f):
    """The shape an IDX header declares, the file positioned at the first value."""
    start = f.read(4)
    if len(start) < 4:
        raise DataFileError(path, f"{len(start)} bytes is too short for an IDX header")
    zero, dtype_code, ndim = int.from_bytes(start[:2], "big"), start[2], start[3]
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        magic = int.from_bytes(start, "big")
        raise DataFileError(
            path,
            f"not an IDX file of images or labels (magic number {magic}, expected "
            f"{IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels)",
        )
    counts = f.read(4 * ndim)
    if len(counts) < 4 * ndim:
        header = 4 + 4 * ndim
        raise DataFileError(path, f"truncated header ({4 + len(counts)} bytes, expected {header})")
    return tuple(int.from_bytes(counts[4 * i : 4 * i + 4], "big") for i in range(ndim))


def _read_into(f, buffer):
    """Fill buffer from f as far as f goes; the number of bytes read."""
    got = 0
    while got < len(buffer):
        n = f.readinto(buffer[got:])
        if not n:
            break
        got += n
    return got


def check_pair(images, labels, image_path, label_path, image_shape=(28, 28), n_classes=10):
    """Check that an image file and a label file read by read_idx belong together.

    Raises SwappedFilesError when the two are swapped, else DataFileError naming the file at
    fault: a wrong kind or image size, no images, different counts, or labels >= n_classes.
    """
    if images.ndim == 1 and labels.ndim == 3:
        raise SwappedFilesError(image_path, label_path)
    size = "x".join(map(str, image_shape))
    if images.ndim != 3 or images.shape[1:] != tuple(image_shape):
        kind = "a label file" if images.ndim == 1 else f"shape {images.shape}"
        raise DataFileError(
            image_path,
            f"expected an image file (magic {IMAGES_MAGIC}) of {size} images, got {kind}",
        )
    if labels.ndim != 1:
        raise DataFileError(
            label_path,
            f"expected a label file (magic {LABELS_MAGIC}), got shape {labels.shape}",
        )
    if len(images) == 0:
        raise DataFileError(image_path, "holds no images (its header says 0)")
    if len(images) != len(labels):
        raise DataFileError(
            image_path,
            f"holds {len(images)} images but {label_path} holds {len(labels)} labels: "
            "the two files do not belong together",
        )
    if labels.max() >= n_classes:
        raise DataFileError(
            label_path,
            f"labels must be class numbers 0-{n_classes - 1}, found {labels.max()}",
        )
