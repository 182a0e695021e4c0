"""MNIST on disk and in mini-batches: IDX parsing, checksummed download, batching.

    images, labels = load_mnist("train")   # (60000, 1, 28, 28) float32 in [0, 1], (60000,) int64

Where the files are looked for: ``root`` if given, else ``$LENET_DATA_DIR``, else the ``data/``
folder of this checkout (for an editable install), else a per-user cache folder.
"""

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
import warnings
import zlib
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lenet.checks import is_int, positive_int

__all__ = [
    "FILES",
    "MIRRORS",
    "SHA256",
    "MNISTError",
    "MNISTNotFoundError",
    "default_data_dir",
    "read_idx",
    "fetch_file",
    "load_mnist",
    "train_val_split",
    "iterate_minibatches",
]

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
SHA256 = {  # of the canonical files, as every mirror serves them
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # 0x0803: unsigned bytes, 3-D; 0x0801: unsigned bytes, 1-D

# What a failing mirror can raise: URLError, HTTPError, timeouts and resets are OSErrors;
# IncompleteRead and garbled responses are HTTPExceptions; a bad URL or header is a ValueError.
DOWNLOAD_ERRORS = (OSError, http.client.HTTPException, ValueError)


class MNISTError(ValueError):
    """A data file is corrupt, truncated, or not what its name says."""


class MNISTNotFoundError(FileNotFoundError):
    """The data files are missing and could not be downloaded."""


def default_data_dir():
    """$LENET_DATA_DIR, else data/ of a source checkout, else ~/.cache/lenet (XDG aware)."""
    if os.environ.get("LENET_DATA_DIR"):
        return Path(os.environ["LENET_DATA_DIR"]).expanduser()
    return _fallback_data_dir()


def _fallback_data_dir():
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "lenet"


# ---------------------------------------------------------------------------------------------
# IDX files: a big-endian header (magic, then one count per dimension), then unsigned bytes.


def read_idx(path):
    """Read an IDX file of unsigned bytes (gzip if the name ends in .gz) -> read-only uint8 array.

    Raises MNISTError naming the file when the compression, header, type or length is wrong.
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
            raise MNISTError(f"{path}: not a readable gzip file ({err})") from err
    if len(raw) < 4:
        raise MNISTError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    zero, dtype_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        magic = int.from_bytes(raw[:4], "big")
        raise MNISTError(
            f"{path}: not an MNIST IDX file (magic number {magic}, expected "
            f"{IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MNISTError(f"{path}: truncated header ({len(raw)} bytes, expected {header})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise MNISTError(
            f"{path}: file is {what}: {len(raw)} bytes, the header {shape} needs {expected}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _check_pair(images, labels, image_path, label_path):
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise MNISTError(
            f"{image_path}: expected an image file (magic {IMAGES_MAGIC}) of 28x28 images, "
            f"got shape {images.shape}"
        )
    if labels.ndim != 1:
        raise MNISTError(
            f"{label_path}: expected a label file (magic {LABELS_MAGIC}), got shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise MNISTError(
            f"{image_path} holds {len(images)} images but {label_path} holds "
            f"{len(labels)} labels: the two files do not belong together"
        )
    if labels.size and labels.max() > 9:
        raise MNISTError(f"{label_path}: labels must be digits 0-9, found {labels.max()}")


# ---------------------------------------------------------------------------------------------
# Download: each mirror in turn, streamed to a temporary file, renamed only once verified.


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_intact(path, expected, download):
    """Whether a cached file matches its known sha256 (True when none is known).

    A corrupt file gives a warning when it will be downloaded again, else an MNISTError.
    """
    if expected is None:
        return True
    actual = _sha256(path)
    if actual == expected:
        return True
    problem = f"{path} is corrupt: its sha256 is {actual}, expected {expected}"
    if not download:
        raise MNISTError(f"{problem}. Delete it, or load with download=True to replace it.")
    warnings.warn(f"{problem}: downloading it again", stacklevel=3)
    return False


def _download(url, target, sha256, timeout):
    """Stream url into target via a temporary file in the same folder; verify, then rename."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
                received = 0
                for block in iter(lambda: resp.read(1 << 16), b""):
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    bar.update(len(block))
        if total is not None and received != total:
            raise OSError(f"connection closed after {received} of {total} bytes")
        if sha256 is not None and digest.hexdigest() != sha256:
            raise MNISTError(
                f"checksum mismatch: got sha256 {digest.hexdigest()}, expected {sha256}"
            )
        os.replace(tmp, target)
    except BaseException:  # also on Ctrl-C: never leave a partial file behind
        os.unlink(tmp)
        raise


def _download_from_mirrors(target, mirrors, sha256, timeout):
    """Download target.name from the first mirror that delivers it intact.

    Returns None on success, else a list with each mirror's failure.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in MIRRORS if mirrors is None else mirrors:
        url = mirror.rstrip("/") + "/" + target.name
        try:
            _download(url, target, sha256, timeout)
            return None
        except DOWNLOAD_ERRORS as err:
            failures.append(f"{url}: {type(err).__name__}: {err}")
    return failures or ["no mirror to download from"]


def fetch_file(name, root, mirrors=None, checksums=None, timeout=30):
    """Make sure root/name exists and matches its checksum, downloading it if needed.

    mirrors and checksums default to MIRRORS and SHA256; timeout is in seconds per request.
    Returns the path. A cached file with a wrong checksum is reported and replaced. Raises
    MNISTNotFoundError listing each mirror's failure when no mirror delivers a good file.
    """
    target = Path(root) / name
    sha256 = (SHA256 if checksums is None else checksums).get(name)
    if target.is_file() and _is_intact(target, sha256, download=True):
        return target
    failures = _download_from_mirrors(target, mirrors, sha256, timeout)
    if failures:
        raise MNISTNotFoundError(_missing_message([name], target.parent, failures))
    return target


def _missing_message(names, root, failures=()):
    lines = [f"MNIST files not found in {root}: {', '.join(names)}"]
    if failures:
        lines.append("Downloading them failed:")
        lines += [f"  {failure}" for failure in failures]
    env = os.environ.get("LENET_DATA_DIR")
    lines += [
        "lenet reads MNIST from the `root` argument if given, else from $LENET_DATA_DIR "
        f"({env if env else 'not set'}), else from {_fallback_data_dir()}.",
        "To place the files by hand, download these four files from an MNIST mirror "
        f"(such as {MIRRORS[0]}):",
        *[f"  {name}" for pair in FILES.values() for name in pair],
        f"into {root}, or into any folder and set LENET_DATA_DIR to it.",
    ]
    return "\n".join(lines)


def load_mnist(split="train", root=None, download=True, mirrors=None, checksums=None, timeout=30):
    """MNIST images and labels of a split ("train" or "test").

    Returns images float32 (N, 1, 28, 28) scaled to [0, 1] and labels int64 (N,).
    Each file is read as name.gz (checked against `checksums`, default SHA256) or, if only that
    is present, as the un-gzipped file (checked by its header). Missing or corrupt .gz files are
    downloaded when `download` is true (see fetch_file for mirrors and timeout).
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root) if root is not None else default_data_dir()
    checksums = SHA256 if checksums is None else checksums
    paths, missing = {}, []
    for name in FILES[split]:
        gz, raw = root / name, root / name.removesuffix(".gz")
        if gz.is_file():
            if _is_intact(gz, checksums.get(name), download):
                paths[name] = gz
            else:
                missing.append(name)
        elif raw.is_file():
            paths[name] = raw
        else:
            missing.append(name)
    if missing and not download:
        raise MNISTNotFoundError(_missing_message(missing, root))
    for name in missing:
        failures = _download_from_mirrors(root / name, mirrors, checksums.get(name), timeout)
        if failures:
            raise MNISTNotFoundError(_missing_message(missing, root, failures))
        paths[name] = root / name

    image_path, label_path = (paths[name] for name in FILES[split])
    images, labels = read_idx(image_path), read_idx(label_path)
    _check_pair(images, labels, image_path, label_path)
    x = images[:, None].astype(np.float32)
    x /= 255.0
    return x, labels.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Splits and mini-batches


def _check_lengths(images, labels):
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")


def train_val_split(images, labels, n_val=5000):
    """The last n_val examples for validation: ((x_train, y_train), (x_val, y_val))."""
    _check_lengths(images, labels)
    if not is_int(n_val) or not 0 <= n_val < len(images):
        raise ValueError(f"n_val must be an integer in [0, {len(images)}), got {n_val!r}")
    cut = len(images) - n_val
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


def iterate_minibatches(images, labels, batch_size, rng=None, shuffle=True):
    """An iterator of (x, y) mini-batches covering every example once; the last may be smaller.

    images: (N, ...), labels: (N,). Shuffled by rng: a np.random.Generator, an int seed, or
    None for fresh randomness (np.random's global state is never used).
    """
    positive_int("batch_size", batch_size)
    _check_lengths(images, labels)
    n = len(images)
    order = np.random.default_rng(rng).permutation(n) if shuffle else np.arange(n)
    return _batches(images, labels, order, batch_size)  # checked now, not at the first batch


def _batches(images, labels, order, batch_size):
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield images[idx], labels[idx]
