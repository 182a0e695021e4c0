"""IDX files (MNIST's format, and Fashion-MNIST's): reading them and saying what is wrong with one.

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions, then
one 4-byte count per dimension) followed by the values. Image files hold unsigned bytes in three
dimensions (magic number 2051 = 0x0803), label files unsigned bytes in one (2049 = 0x0801).
Files may be gzipped (names ending in .gz).
"""

import gzip
import zlib
from pathlib import Path

import numpy as np

from lenet.data.errors import DataFileError, SwappedFilesError

__all__ = ["IMAGES_MAGIC", "LABELS_MAGIC", "read_idx", "check_pair", "looks_like_html"]

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # 0x0803: unsigned bytes, 3-D; 0x0801: unsigned bytes, 1-D


def read_idx(path):
    """Read an IDX file of unsigned bytes (gzip if the name ends in .gz) -> read-only uint8 array.

    Raises DataFileError naming the file and what is wrong with it: unreadable, empty, an HTML
    page, bad compression, a wrong header or type, too short or too long.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataFileError(path, f"cannot read it ({err.strerror or err})") from err
    if not raw:
        raise DataFileError(path, "the file is empty (0 bytes)")
    if looks_like_html(raw):
        raise DataFileError(path, "an HTML page (a web server's answer), not data")
    if path.suffix == ".gz":
        raw = _gunzip(path, raw)
        if looks_like_html(raw):
            raise DataFileError(path, "a gzipped HTML page (a web server's answer), not IDX data")
    return _parse(path, raw)


def looks_like_html(raw):
    """Whether bytes start like a web page (what a mirror or a proxy sends instead of a file)."""
    start = raw[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body"))


def _gunzip(path, raw):
    try:
        return gzip.decompress(raw)
    except EOFError as err:
        reason = f"not a readable gzip file: it is cut short, as by an interrupted download ({err})"
        raise DataFileError(path, reason) from err
    except (OSError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DataFileError(path, f"not a readable gzip file ({err})") from err


def _parse(path, raw):
    if len(raw) < 4:
        raise DataFileError(path, f"{len(raw)} bytes is too short for an IDX header")
    zero, dtype_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        magic = int.from_bytes(raw[:4], "big")
        raise DataFileError(
            path,
            f"not an IDX file of images or labels (magic number {magic}, expected "
            f"{IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels)",
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(path, f"truncated header ({len(raw)} bytes, expected {header})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        reason = f"file is {what}: {len(raw)} bytes, the header {shape} needs {expected}"
        raise DataFileError(path, reason)
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


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
