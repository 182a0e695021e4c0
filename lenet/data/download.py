"""Where data files live, and downloading them: mirrors in turn, checksums, deadlines, stalls.

    path = fetch_file("train-images-idx3-ubyte.gz", root, mirrors, checksums)

Where the files are looked for: ``root`` if given, else ``$LENET_DATA_DIR`` (which must
exist: a mistyped name is refused, not created), else the ``data/`` folder of this checkout (for
an editable install), else a per-user cache folder.

A download streams into a hidden temporary file beside the target (lenet.utils.files.atomic_write:
the umask's permissions, removed on any exception) and is renamed only once its sha256 checks.
A mirror that fails, stalls (less than ``min_speed`` bytes per second over ``timeout`` seconds)
or misses the ``deadline`` for the file is reported on stderr, and the next mirror is tried. A
disk that is full is no mirror's fault: it stops the download with a DataFolderError.
"""

import errno
import hashlib
import http.client
import math
import os
import sys
import time
import urllib.request
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from lenet.data.errors import DataFileError, DataFolderError, DataNotFoundError
from lenet.data.idx import looks_like_html
from lenet.utils.checks import non_negative_number, number_in
from lenet.utils.files import atomic_write, check_writable, remove_stale_temporaries

__all__ = [
    "TIMEOUT",
    "DEADLINE",
    "MIN_SPEED",
    "DOWNLOAD_ERRORS",
    "DISK_FULL",
    "DownloadTooSlow",
    "ChecksumMismatch",
    "default_data_dir",
    "fallback_data_dir",
    "sha256_of",
    "download",
    "download_from_mirrors",
    "check_data_folder",
    "check_limits",
    "fetch_file",
]

TIMEOUT = 30  # seconds: the longest silence, and the window over which MIN_SPEED is measured
DEADLINE = 600  # seconds for one file from one mirror (MNIST's largest, 9.9 MB, at 16 kB/s)
MIN_SPEED = 1024  # bytes per second: slower than this over TIMEOUT seconds counts as stalled


class DownloadTooSlow(TimeoutError):
    """A mirror stalled or missed the deadline for a file."""


class ChecksumMismatch(ValueError):
    """A mirror delivered a file whose sha256 is not the published one."""


# What a failing mirror can raise: URLError, HTTPError, timeouts and resets are OSErrors;
# IncompleteRead and garbled responses are HTTPExceptions; a bad URL or header is a ValueError
# (and so is a ChecksumMismatch).
DOWNLOAD_ERRORS = (OSError, http.client.HTTPException, ValueError)
# Errors writing the file here, not the mirror's: no space left, over quota, over the size limit.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def default_data_dir():
    """$LENET_DATA_DIR, else data/ of a source checkout, else ~/.cache/lenet (XDG aware).

    A LENET_DATA_DIR that does not exist is a DataFolderError (a mistyped name), not a folder
    to create and download into.
    """
    if not os.environ.get("LENET_DATA_DIR"):
        return fallback_data_dir()
    folder = Path(os.environ["LENET_DATA_DIR"]).expanduser()
    if not folder.exists():
        raise DataFolderError(
            folder,
            "LENET_DATA_DIR names a folder that does not exist",
            "Create it, or correct LENET_DATA_DIR (or unset it: lenet then uses "
            f"{fallback_data_dir()})",
        )
    return folder


def fallback_data_dir():
    """data/ of a source checkout (lenet/data/download.py is 3 levels down), else the user cache."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "lenet"


def sha256_of(path):
    """The sha256 of a file as hex; DataFileError naming the file if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise DataFileError(path, f"cannot read it ({err.strerror or err})") from err
    return digest.hexdigest()


def check_limits(mirrors, timeout, deadline, min_speed):
    """ValueError for a bad download argument, else the limits as keyword arguments of download."""
    if isinstance(mirrors, (str, bytes)) or not mirrors:
        raise ValueError(f"mirrors must be a non-empty list of URLs, got {mirrors!r}")
    return {
        "timeout": _seconds("timeout", timeout),
        "deadline": _seconds("deadline", deadline),
        "min_speed": non_negative_number("min_speed", min_speed),
    }


def _seconds(name, value):
    seconds = number_in(name, value, 0, math.inf, "a positive number of seconds")
    if seconds == 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return seconds


def _size(n):
    for unit in ("bytes", "kB", "MB"):
        if n < 1000 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000


class _Pace:
    """Raises DownloadTooSlow when the deadline passes or a window of `window` s is too slow."""

    def __init__(self, deadline, window, min_speed, total):
        self.start = self.window_start = time.monotonic()
        self.deadline, self.window, self.min_speed, self.total = deadline, window, min_speed, total
        self.received = self.window_received = 0

    def update(self, n):
        self.received += n
        now = time.monotonic()
        if now - self.start > self.deadline:
            of = f" of {_size(self.total)}" if self.total else ""
            raise DownloadTooSlow(
                f"too slow: {_size(self.received)}{of} after {now - self.start:.3g} s, "
                f"past the deadline of {self.deadline:g} s for one file"
            )
        elapsed = now - self.window_start
        if elapsed >= self.window:
            got = self.received - self.window_received
            if got < self.min_speed * elapsed:
                raise DownloadTooSlow(
                    f"stalled: {_size(got)} in {elapsed:.3g} s, "
                    f"slower than {_size(self.min_speed)}/s"
                )
            self.window_start, self.window_received = now, self.received


def download(url, target, sha256=None, timeout=TIMEOUT, deadline=DEADLINE, min_speed=MIN_SPEED):
    """Stream url into target through atomic_write; verify the sha256 (if given), then rename.

    timeout: seconds of silence allowed, and the window over which the speed must reach
    min_speed (bytes per second); deadline: seconds for the whole file. Raises one of
    DOWNLOAD_ERRORS: DownloadTooSlow when the mirror stalls or misses the deadline,
    ChecksumMismatch for a wrong file. Nothing is left behind on any exception (Ctrl-C and the
    command line's SIGTERM included).
    """
    with atomic_write(target) as out:
        with urllib.request.urlopen(url, timeout=min(timeout, deadline)) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            pace = _Pace(deadline, timeout, min_speed, total)
            read = getattr(resp, "read1", resp.read)  # read1: what has arrived, without waiting
            digest, head = hashlib.sha256(), b""
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
                for block in iter(lambda: read(1 << 16), b""):
                    head += block[: 512 - len(head)]
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
                    pace.update(len(block))
        if total is not None and pace.received != total:
            raise OSError(f"connection closed after {pace.received} of {total} bytes")
        if sha256 is not None and digest.hexdigest() != sha256:
            page = " (an HTML page: a login or error page?)" if looks_like_html(head) else ""
            raise ChecksumMismatch(
                f"checksum mismatch{page}: got sha256 {digest.hexdigest()}, expected {sha256}"
            )


def _failure(url, err):
    if isinstance(err, (DownloadTooSlow, ChecksumMismatch)):
        return f"{url}: {err}"
    return f"{url}: {type(err).__name__}: {err}"


def _note(message):
    tqdm.write(message, file=sys.stderr)


def download_from_mirrors(
    target, mirrors, sha256=None, timeout=TIMEOUT, deadline=DEADLINE, min_speed=MIN_SPEED
):
    """Download target.name from the first mirror that delivers it intact (see download).

    Each failure is reported on stderr when another mirror follows. Returns [] on success,
    else one line per mirror: "<url>: <what went wrong>". A disk that is full (or a file-size
    limit) raises DataFolderError at once: no other mirror would do better.
    """
    limits = check_limits(mirrors, timeout, deadline, min_speed)
    urls = [mirror.rstrip("/") + "/" + target.name for mirror in mirrors]
    failures = []
    for i, url in enumerate(urls):
        try:
            download(url, target, sha256, **limits)
            return []
        except DOWNLOAD_ERRORS as err:
            if isinstance(err, OSError) and err.errno in DISK_FULL:
                raise DataFolderError(
                    target.parent,
                    f"cannot write {target.name} into this folder: {err.strerror or err}",
                    "Free some space on that disk, or download into a folder on another one",
                ) from err
            failures.append(_failure(url, err))
        if i + 1 < len(urls):
            _note(f"{target.name}: {failures[-1]}; trying the next mirror, {urls[i + 1]}")
    return failures


def check_data_folder(root, name, where="{root_name}"):
    """Raise DataFolderError when root/name cannot be written (root a file, read-only, ...).

    where: how the message names the setting that chose root ("{root_name}" stands for the
    caller's name of the root argument, see DataError.explain).
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise DataFolderError(
            root,
            "the data folder is a file",
            f"Point {where} at a folder (it is created if missing)",
        )
    try:
        check_writable(root / name)
    except OSError as err:
        raise DataFolderError(
            root,
            f"cannot download into this folder ({err})",
            f"Point {where} at a folder you can write to, or place the files there by hand",
        ) from err


def fetch_file(
    name, root, mirrors, checksums=None, timeout=TIMEOUT, deadline=DEADLINE, min_speed=MIN_SPEED
):
    """Make sure root/name exists and matches its checksum, downloading it if needed.

    checksums: file name -> sha256 (a file without one is not verified); timeout, deadline,
    min_speed: see download. Returns the path. A cached file with a wrong checksum is replaced,
    with a warning. Raises DataNotFoundError listing each mirror's failure when no mirror
    delivers a good file, or DataFileError when a bad file stays in the way.
    """
    check_limits(mirrors, timeout, deadline, min_speed)
    target = Path(root) / name
    sha256 = (checksums or {}).get(name)
    remove_stale_temporaries(target)
    problem = None
    if target.is_file():
        actual = sha256_of(target) if sha256 else None
        if actual == sha256:
            return target
        problem = f"its sha256 is {actual}, not the published file's {sha256}"
    check_data_folder(target.parent, name)
    failures = download_from_mirrors(target, mirrors, sha256, timeout, deadline, min_speed)
    if failures and problem:
        fix = (
            "Delete it to download it again when a mirror can be reached, or put the "
            "published file there by hand. Downloading it again failed:"
        )
        raise DataFileError(target, problem, fix, failures)
    if failures:
        raise DataNotFoundError(target.parent, [name], failures=failures, mirrors=mirrors)
    if problem:
        warnings.warn(f"{target} was corrupt ({problem}); downloaded it again", stacklevel=2)
    return target
