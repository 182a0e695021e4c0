"""Downloads: mirrors in turn, checksums, deadlines and stalls, permissions, nothing left behind;
against a real HTTP server on 127.0.0.1 (tests/support/mirror.py)."""

import contextlib
import errno
import gzip
import hashlib
import io
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mnist_files import NO_CHECKSUMS, idx_bytes, write_split

from lenet import data
from lenet.data import MNIST, download


def test_default_data_dir_is_the_checkout_data_folder(monkeypatch):
    monkeypatch.delenv("LENET_DATA_DIR", raising=False)
    repo = Path(__file__).resolve().parents[2]
    assert data.default_data_dir() == repo / "data"


def test_default_data_dir_outside_a_checkout_is_the_user_cache(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages" / "lenet" / "data"  # no pyproject.toml above it
    installed.mkdir(parents=True)
    monkeypatch.setattr(download, "__file__", str(installed / "download.py"))
    monkeypatch.delenv("LENET_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.default_data_dir() == tmp_path / "xdg" / "lenet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.default_data_dir() == tmp_path / "home" / ".cache" / "lenet"


NAME = "t10k-labels-idx1-ubyte.gz"
CONTENT = gzip.compress(idx_bytes(np.arange(200) % 10), mtime=0)
CHECKSUMS = {NAME: hashlib.sha256(CONTENT).hexdigest()}
FAILURES = ["404", "short", "drop", "chunked", "garbage", "stall"]


def serve(server, *modes, content=CONTENT):
    """Publish content on one mirror per mode; return the mirror URLs in order."""
    mirrors = []
    for i, mode in enumerate(modes):
        path = f"/m{i}/"
        server.files[path + NAME] = content
        server.modes[path] = mode
        mirrors.append(server.url + path)
    return mirrors


def fetch(root, mirrors, timeout=5, checksums=CHECKSUMS, **limits):
    return data.fetch_file(
        NAME, root, mirrors=mirrors, checksums=checksums, timeout=timeout, **limits
    )


def timeout_for(mode):
    return 0.5 if mode == "stall" else 5  # a stalled mirror costs one timeout


def assert_holds_only_the_verified_file(root):
    assert os.listdir(root) == [NAME]  # in particular no temporary file
    assert (root / NAME).read_bytes() == CONTENT


def test_download_success(server, tmp_path):
    path = fetch(tmp_path, serve(server, "ok"))
    assert path == tmp_path / NAME
    assert_holds_only_the_verified_file(tmp_path)


def test_download_creates_the_folder(server, tmp_path):
    fetch(tmp_path / "new" / "folder", serve(server, "ok"))
    assert_holds_only_the_verified_file(tmp_path / "new" / "folder")


@pytest.mark.parametrize("first", FAILURES)
def test_a_failing_mirror_falls_through_to_the_next(server, tmp_path, first):
    fetch(tmp_path, serve(server, first, "ok"), timeout=timeout_for(first))
    assert_holds_only_the_verified_file(tmp_path)
    assert server.requests == ["/m0/" + NAME, "/m1/" + NAME]


def test_wrong_checksum_is_never_kept(server, tmp_path):
    mirrors = serve(server, "ok", "ok")
    server.files["/m0/" + NAME] = CONTENT[:-1] + b"x"  # same length, other bytes
    fetch(tmp_path, mirrors)
    assert_holds_only_the_verified_file(tmp_path)
    assert server.requests == ["/m0/" + NAME, "/m1/" + NAME]


@pytest.mark.parametrize("mode", FAILURES)
def test_every_mirror_failing_leaves_nothing_and_explains(server, tmp_path, mode):
    with pytest.raises(data.DataNotFoundError) as err:
        fetch(tmp_path, serve(server, mode, mode), timeout=timeout_for(mode))
    assert os.listdir(tmp_path) == []
    message = str(err.value)
    assert NAME in message and str(tmp_path) in message
    assert f"{server.url}/m0/{NAME}: " in message and f"{server.url}/m1/{NAME}: " in message
    assert "LENET_DATA_DIR" in message and "by hand" in message


def test_unreachable_mirror(tmp_path):
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(data.DataNotFoundError, match="Connection refused"):
        fetch(tmp_path, [f"http://127.0.0.1:{port}/"])
    assert os.listdir(tmp_path) == []


def test_wrong_checksum_everywhere(server, tmp_path):
    mirrors = serve(server, "ok")
    server.files["/m0/" + NAME] = b"not the file"
    with pytest.raises(data.DataNotFoundError, match="checksum mismatch: got sha256 "):
        fetch(tmp_path, mirrors)
    assert os.listdir(tmp_path) == []


def test_a_web_page_instead_of_the_file_is_named(server, tmp_path):
    mirrors = serve(server, "ok")
    server.files["/m0/" + NAME] = b"<!DOCTYPE html><html>Please log in to the Wi-Fi</html>"
    with pytest.raises(data.DataNotFoundError, match=r"checksum mismatch \(an HTML page: "):
        fetch(tmp_path, mirrors)
    assert os.listdir(tmp_path) == []


def test_corrupt_cached_file_is_replaced(server, tmp_path):
    (tmp_path / NAME).write_bytes(b"half a file")
    with pytest.warns(UserWarning, match=f"{NAME} was corrupt"):
        fetch(tmp_path, serve(server, "ok"))
    assert_holds_only_the_verified_file(tmp_path)


def test_verified_cached_file_is_not_downloaded_again(server, tmp_path):
    (tmp_path / NAME).write_bytes(CONTENT)
    fetch(tmp_path, serve(server, "ok"))
    assert server.requests == []


# ---------------------------------------------------------------------------------------------
# Slow mirrors: a deadline for each file, and stalls detected (issue 12, item 8)

BIG = np.random.default_rng(0).bytes(20_000)  # 4 s from the "slow" mirror, 400 s from "trickle"
BIG_SUMS = {NAME: hashlib.sha256(BIG).hexdigest()}


def test_a_trickling_mirror_is_left_for_the_next(server, tmp_path, capfd):
    mirrors = serve(server, "trickle", "ok", content=BIG)
    start = time.monotonic()
    fetch(tmp_path, mirrors, timeout=0.3, checksums=BIG_SUMS)  # at least 1 kB/s over 0.3 s
    assert time.monotonic() - start < 3
    assert (tmp_path / NAME).read_bytes() == BIG and os.listdir(tmp_path) == [NAME]
    err = capfd.readouterr().err
    assert f"{NAME}: {mirrors[0]}{NAME}: stalled: " in err
    assert f"slower than 1.0 kB/s; trying the next mirror, {mirrors[1]}{NAME}" in err


def test_a_slow_mirror_misses_the_deadline(server, tmp_path, capfd):
    mirrors = serve(server, "slow", "ok", content=BIG)
    start = time.monotonic()
    fetch(tmp_path, mirrors, checksums=BIG_SUMS, deadline=0.5, min_speed=100)
    assert time.monotonic() - start < 3
    assert (tmp_path / NAME).read_bytes() == BIG
    err = capfd.readouterr().err
    assert f"{mirrors[0]}{NAME}: too slow: " in err
    assert f"past the deadline of 0.5 s for one file; trying the next mirror, {mirrors[1]}" in err


def test_every_mirror_trickling_is_an_error_that_says_so(server, tmp_path):
    mirrors = serve(server, "trickle", "slow", content=BIG)
    start = time.monotonic()
    with pytest.raises(data.DataNotFoundError) as err:
        fetch(tmp_path, mirrors, timeout=0.3, checksums=BIG_SUMS, deadline=0.6, min_speed=100)
    assert time.monotonic() - start < 4
    message = str(err.value)
    assert f"{mirrors[0]}{NAME}: stalled: " in message
    assert f"{mirrors[1]}{NAME}: too slow: " in message
    assert os.listdir(tmp_path) == []


def test_a_silent_mirror_costs_at_most_the_deadline(server, tmp_path):
    start = time.monotonic()
    fetch(tmp_path, serve(server, "stall", "ok"), timeout=30, deadline=0.3)
    assert time.monotonic() - start < 2
    assert_holds_only_the_verified_file(tmp_path)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"deadline": 0}, "deadline must be a positive number of seconds, got 0"),
        ({"timeout": -1}, "timeout must be a positive number of seconds, got -1"),
        ({"min_speed": "fast"}, "min_speed must be a finite number >= 0, got 'fast'"),
        ({"mirrors": "http://127.0.0.1:9/"}, "mirrors must be a non-empty list of URLs"),
    ],
)
def test_bad_download_limits(tmp_path, limits, message):
    limits = {"mirrors": ["http://127.0.0.1:9/"], **limits}
    with pytest.raises(ValueError, match=message):
        data.fetch_file(NAME, tmp_path, **limits)
    write_split(tmp_path, "test")  # reported at the call, even when nothing is downloaded
    with pytest.raises(ValueError, match=message):
        data.load_mnist("test", tmp_path, checksums=NO_CHECKSUMS, **limits)


# ---------------------------------------------------------------------------------------------
# Downloaded files: the umask's permissions, nothing left behind (issue 12, item 7)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_downloaded_file_gets_the_umask_permissions(server, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        fetch(tmp_path, serve(server, "ok"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / NAME).stat().st_mode) == mode


class Terminated(BaseException):
    """What the command line raises on SIGTERM: not an Exception, like KeyboardInterrupt."""


def test_an_interrupted_download_leaves_nothing(server, tmp_path):
    # SIGALRM stands for Ctrl-C or the command line's SIGTERM, half-way through a slow mirror.
    def terminate(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGALRM, terminate)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(Terminated):
            fetch(tmp_path, serve(server, "slow", content=BIG), checksums=BIG_SUMS)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert os.listdir(tmp_path) == []


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_leftovers_of_killed_downloads_are_removed_on_the_next_run(tmp_path):
    write_split(tmp_path, "test")
    images = MNIST.files["test"][0]
    dead = tmp_path / f".{images}.{dead_pid()}.1a2b3c4d.tmp"  # atomic_write's, process gone
    alive = tmp_path / f".{images}.1.1a2b3c4d.tmp"  # pid 1 runs: maybe still downloading
    for leftover in (dead, alive):
        leftover.write_bytes(b"partial")
    data.load_mnist("test", root=tmp_path, download=False, checksums=NO_CHECKSUMS)
    assert not dead.exists() and alive.exists()


# ---------------------------------------------------------------------------------------------
# A full disk is no mirror's fault (issue 29, item 7)


class FullDisk(io.RawIOBase):
    """A file on a disk with no space left: every write fails as the kernel's would."""

    def writable(self):
        return True

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@contextlib.contextmanager
def full_disk(path):
    yield FullDisk()


def test_a_full_disk_is_reported_as_such_and_no_other_mirror_is_tried(
    server, tmp_path, monkeypatch
):
    monkeypatch.setattr(download, "atomic_write", full_disk)
    mirrors = serve(server, "ok", "ok")
    with pytest.raises(data.DataFolderError) as err:
        fetch(tmp_path, mirrors)
    assert str(err.value) == (
        f"{tmp_path}: cannot write {NAME} into this folder: No space left on device. "
        "Free some space on that disk, or download into a folder on another one"
    )
    assert server.requests == ["/m0/" + NAME]


FILE_SIZE_LIMIT = """
import resource, signal, sys
from lenet.data import DataError, fetch_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
try:
    fetch_file(sys.argv[1], sys.argv[2], sys.argv[3:], timeout=5)
except DataError as err:
    print(err)
"""


def test_a_file_size_limit_stops_the_download_in_a_real_process(server, tmp_path):
    mirrors = serve(server, "ok", "ok", content=BIG)
    result = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT, NAME, str(tmp_path), *mirrors],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == (
        f"{tmp_path}: cannot write {NAME} into this folder: File too large. "
        "Free some space on that disk, or download into a folder on another one"
    )
    assert server.requests == ["/m0/" + NAME]
    assert os.listdir(tmp_path) == []  # the partial file is gone


# ---------------------------------------------------------------------------------------------
# A mistyped LENET_DATA_DIR is refused, not created (issue 29, item 7)


def test_a_lenet_data_dir_that_does_not_exist_is_refused(tmp_path, monkeypatch):
    missing = tmp_path / "mnsit"
    monkeypatch.setenv("LENET_DATA_DIR", str(missing))
    with pytest.raises(data.DataFolderError) as err:
        data.load_mnist("test")
    assert str(err.value) == (
        f"{missing}: LENET_DATA_DIR names a folder that does not exist. Create it, or correct "
        f"LENET_DATA_DIR (or unset it: lenet then uses {download.fallback_data_dir()})"
    )
    assert os.listdir(tmp_path) == []  # nothing created, nothing downloaded
