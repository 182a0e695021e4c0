"""Datasets: small IDX files made here, downloads from a real HTTP server on 127.0.0.1."""

import gzip
import hashlib
import http.server
import os
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from mnist_files import checksums_of, idx_bytes, write_split

from lenet import data
from lenet.data import download

# Small files under the canonical names are not the published ones: load them with checksums={}
# (or as raw files, which are checked by their headers only).
NO_CHECKSUMS = {}

# ---------------------------------------------------------------------------------------------
# Small IDX files


@pytest.mark.parametrize("gz", [True, False])
def test_load_small_split(tmp_path, gz):
    images, labels = write_split(tmp_path, "test", gz=gz)
    x, y = data.load_mnist("test", root=tmp_path, download=False, checksums=NO_CHECKSUMS)
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (12,) and y.dtype == np.int64
    np.testing.assert_allclose(x[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_scaling_reaches_exactly_0_and_1(tmp_path):
    write_split(
        tmp_path, "test", n=2, gz=False, images=np.array([[[0] * 28] * 28, [[255] * 28] * 28])
    )
    x, _ = data.load_mnist("test", root=tmp_path, download=False)
    assert x[0].max() == 0.0 and x[1].min() == 1.0


def test_read_idx_returns_the_stored_array(tmp_path):
    array = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    (tmp_path / "x-idx3-ubyte").write_bytes(idx_bytes(array))
    read = data.read_idx(tmp_path / "x-idx3-ubyte")
    assert read.dtype == np.uint8
    np.testing.assert_array_equal(read, array)


def test_root_defaults_to_lenet_data_dir(tmp_path, monkeypatch):
    write_split(tmp_path, "train", gz=False)
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    assert data.load_mnist("train", download=False)[0].shape == (12, 1, 28, 28)


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


IMAGES, LABELS = data.FILES["train"]


def put(folder, name, content, gz=True):
    """Replace one file of a written split, gzipped (under name) or raw (name without .gz)."""
    if gz:
        (folder / name).write_bytes(gzip.compress(content))
    else:
        (folder / name).unlink()
        (folder / name.removesuffix(".gz")).write_bytes(content)


def broken_deflate(folder, name):
    content = bytearray((folder / name).read_bytes())
    content[10] = 0xFF  # the first byte after the gzip header: an invalid deflate block
    (folder / name).write_bytes(bytes(content))


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (
            lambda p: put(p, IMAGES, b"<html>Not found</html>"),
            rf"{IMAGES}: a gzipped HTML page \(a web server's answer\), not IDX data",
        ),
        (
            lambda p: put(p, IMAGES, b"<html>Not found</html>", gz=False),
            rf"{IMAGES.removesuffix('.gz')}: an HTML page \(a web server's answer\), not data",
        ),
        (
            lambda p: put(p, IMAGES, b"no IDX header"),
            rf"{IMAGES}: not an IDX file of images or labels \(magic number 1852776521, "
            "expected 2051 for images or 2049 for labels",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros((2, 28, 28)), magic=0x0D03)),
            rf"{IMAGES}: not an IDX file of images or labels \(magic number 3331",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros((12, 28, 28)))[:-100]),
            rf"{IMAGES}: file is truncated: 9324 bytes, .* needs 9424",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros((12, 28, 28)))[:-100], gz=False),
            rf"{IMAGES.removesuffix('.gz')}: file is truncated: 9324 bytes, .* needs 9424",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros((12, 28, 28)))[:10]),
            rf"{IMAGES}: truncated header \(10 bytes, expected 16\)",
        ),
        (
            lambda p: (p / IMAGES).write_bytes(idx_bytes(np.zeros((12, 28, 28)))),
            rf"{IMAGES}: not a readable gzip file",
        ),
        (
            lambda p: broken_deflate(p, IMAGES),
            rf"{IMAGES}: not a readable gzip file \(Error -3",
        ),
        (
            lambda p: (p / IMAGES).write_bytes((p / IMAGES).read_bytes()[:-20]),
            rf"{IMAGES}: not a readable gzip file: it is cut short",
        ),
        (
            lambda p: (p / IMAGES).write_bytes(b""),
            rf"{IMAGES}: the file is empty \(0 bytes\)",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros((12, 27, 28)))),
            r"of 28x28 images, got shape \(12, 27, 28\)",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros(11))),
            rf"{IMAGES}: expected an image file \(magic 2051\) of 28x28 images, got a label file",
        ),
        (
            lambda p: put(p, LABELS, idx_bytes(np.zeros(11))),
            rf"{IMAGES}: holds 12 images but .*{LABELS} holds 11 labels",
        ),
        (
            lambda p: put(p, LABELS, idx_bytes(np.full(12, 10))),
            rf"{LABELS}: labels must be class numbers 0-9, found 10",
        ),
        (
            lambda p: write_split(p, "train", n=0),
            rf"{IMAGES}: holds no images \(its header says 0\)",
        ),
    ],
    ids=[
        "html-gz",
        "html-raw",
        "not-idx",
        "float-idx",
        "truncated",
        "truncated-raw",
        "truncated-header",
        "not-gzip",
        "broken-deflate",
        "cut-gzip",
        "empty",
        "wrong-size",
        "labels-as-images",
        "count-mismatch",
        "bad-label",
        "no-images",
    ],
)
def test_bad_files_are_named_in_the_error(tmp_path, break_it, message):
    write_split(tmp_path, "train")
    break_it(tmp_path)
    with pytest.raises(data.DataFileError, match=message) as err:
        data.load_mnist("train", root=tmp_path, download=False, checksums=NO_CHECKSUMS)
    assert "Delete it" in str(err.value).splitlines()[0]  # and what to do
    assert isinstance(err.value, data.MNISTError)  # the name before the split still works


def test_missing_files_without_download(tmp_path):
    with pytest.raises(data.MNISTNotFoundError) as err:
        data.load_mnist("test", root=tmp_path, download=False)
    message = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path) in message and "LENET_DATA_DIR" in message and "by hand" in message
    assert "failed" not in message  # nothing was tried


def test_corrupt_cached_file_without_download_is_an_error(tmp_path):
    write_split(tmp_path, "test")  # valid IDX files, but not the published ones
    message = (
        r"t10k-images-idx3-ubyte.gz: an IDX file of shape \(12, 28, 28\), but not the "
        r"published one \(its sha256 is [0-9a-f]{64}, expected 8d422c7b.*\)\. Delete it"
    )
    with pytest.raises(data.DataFileError, match=message):
        data.load_mnist("test", root=tmp_path, download=False)


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        data.load_mnist("val")


# ---------------------------------------------------------------------------------------------
# Download against a real HTTP server on 127.0.0.1


class Behaviour:
    """What the test server does for each mirror path, and what it was asked for."""

    MODES = ("ok", "404", "short", "drop", "chunked", "garbage", "stall", "trickle", "slow")

    def __init__(self):
        self.files = {}  # "/mirror/name" -> bytes
        self.modes = {}  # "/mirror/" -> one of MODES
        self.requests = []
        self.release = threading.Event()  # lets "stall" handlers finish at teardown


def make_handler(behaviour):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            behaviour.requests.append(self.path)
            mirror = self.path.rsplit("/", 1)[0] + "/"
            mode = behaviour.modes.get(mirror, "ok")
            body = behaviour.files.get(self.path)
            if mode == "404" or body is None:
                self.send_error(404)
                return
            if mode == "garbage":  # not an HTTP response at all
                self.wfile.write(b"hello\r\n\r\n")
                return
            self.send_response(200)
            if mode == "chunked":  # announce a 1000-byte chunk, send 10 bytes, close
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"3e8\r\n" + body[:10])
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "short":  # promise the whole body, send half, close cleanly
                self.wfile.write(body[: len(body) // 2])
            elif mode == "drop":  # send part of the body, then reset the connection
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                linger_zero = struct.pack("ii", 1, 0)  # close() then sends a TCP RST
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)
                self.connection.close()
            elif mode == "stall":  # headers, then silence until the client times out
                self.wfile.flush()
                behaviour.release.wait(10)
            elif mode in ("trickle", "slow"):  # 50 bytes/s, or 5 kB/s, until the client leaves
                step = 1 if mode == "trickle" else 100
                for start in range(0, len(body), step):
                    self.wfile.write(body[start : start + step])
                    self.wfile.flush()
                    if behaviour.release.wait(0.02):
                        return
            else:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # writing to a connection the client has given up on is expected here


@pytest.fixture
def server():
    behaviour = Behaviour()
    httpd = QuietServer(("127.0.0.1", 0), make_handler(behaviour))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    behaviour.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield behaviour
    finally:
        behaviour.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


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
    assert os.listdir(root) == [NAME]  # in particular no .part file
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
    with pytest.raises(data.MNISTNotFoundError) as err:
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
    with pytest.raises(data.MNISTNotFoundError, match="Connection refused"):
        fetch(tmp_path, [f"http://127.0.0.1:{port}/"])
    assert os.listdir(tmp_path) == []


def test_wrong_checksum_everywhere(server, tmp_path):
    mirrors = serve(server, "ok")
    server.files["/m0/" + NAME] = b"not the file"
    with pytest.raises(data.MNISTNotFoundError, match="checksum mismatch: got sha256 "):
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


def publish_test_split(server):
    """Serve a 3-image test split on /m0/; returns its checksums."""
    files = dict(zip(data.FILES["test"], (np.zeros((3, 28, 28)), [1, 2, 3]), strict=True))
    checksums = {}
    for name, array in files.items():
        server.files["/m0/" + name] = gzip.compress(idx_bytes(array), mtime=0)
        checksums[name] = hashlib.sha256(server.files["/m0/" + name]).hexdigest()
    return checksums


def test_load_mnist_downloads_what_is_missing_or_corrupt(server, tmp_path):
    checksums = publish_test_split(server)
    images, labels = data.FILES["test"]
    (tmp_path / images).write_bytes(b"corrupt")
    with pytest.warns(UserWarning, match=f"{images} was corrupt"):
        x, y = data.load_mnist(
            "test", root=tmp_path, mirrors=[server.url + "/m0/"], checksums=checksums, timeout=5
        )
    assert x.shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(y, [1, 2, 3])
    assert sorted(os.listdir(tmp_path)) == sorted([images, labels])


def test_load_mnist_names_every_missing_file_when_downloads_fail(server, tmp_path):
    checksums = publish_test_split(server)
    server.modes["/m0/"] = "404"
    with pytest.raises(data.MNISTNotFoundError) as err:
        data.load_mnist("test", root=tmp_path, mirrors=[server.url + "/m0/"], checksums=checksums)
    message = str(err.value)
    assert all(name in message.splitlines()[0] for name in data.FILES["test"])
    assert "HTTP Error 404" in message
    assert os.listdir(tmp_path) == []


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


def test_an_interrupted_download_leaves_nothing(server, tmp_path, monkeypatch):
    def terminate(self, n):
        raise Terminated

    monkeypatch.setattr(download._Pace, "update", terminate)
    with pytest.raises(Terminated):
        fetch(tmp_path, serve(server, "ok"))
    assert os.listdir(tmp_path) == []


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_leftovers_of_killed_downloads_are_removed_on_the_next_run(tmp_path):
    write_split(tmp_path, "test")
    images = data.FILES["test"][0]
    dead = tmp_path / f".{images}.{dead_pid()}.1a2b3c4d.tmp"  # atomic_write's, process gone
    alive = tmp_path / f".{images}.1.1a2b3c4d.tmp"  # pid 1 runs: maybe still downloading
    old_part = tmp_path / f".{images}.x7_k2p9q.part"  # lenet before atomic_write, 2 hours old
    new_part = tmp_path / f".{images}.r4nd0m00.part"  # ... and one written a minute ago
    for leftover in (dead, alive, old_part, new_part):
        leftover.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old_part, (two_hours_ago, two_hours_ago))
    data.load_mnist("test", root=tmp_path, download=False, checksums=NO_CHECKSUMS)
    assert not dead.exists() and not old_part.exists()
    assert alive.exists() and new_part.exists()


# ---------------------------------------------------------------------------------------------
# Data errors say which file is wrong, what is wrong with it and what to do (issue 12, item 6)

BAD_IMAGE_FILES = {
    "empty": (lambda good: b"", "the file is empty (0 bytes)"),
    "truncated": (lambda good: good[: len(good) // 2], "not a readable gzip file: it is cut short"),
    "random": (lambda good: np.random.default_rng(1).bytes(3000), "not a readable gzip file ("),
    "html": (
        lambda good: b"<!DOCTYPE html>\n<html><body>403 Forbidden</body></html>",
        "an HTML page (a web server's answer), not data",
    ),
}


@pytest.mark.parametrize("case", BAD_IMAGE_FILES)
def test_a_bad_file_that_cannot_be_replaced_is_the_headline(server, tmp_path, case):
    write_split(tmp_path, "train")
    checksums = checksums_of(tmp_path, "train")  # as if these were the published files
    make_bad, reason = BAD_IMAGE_FILES[case]
    (tmp_path / IMAGES).write_bytes(make_bad((tmp_path / IMAGES).read_bytes()))
    server.modes["/m0/"] = "404"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the cause is in the error, not in a warning above it
        with pytest.raises(data.DataFileError) as err:
            data.load_mnist("train", tmp_path, mirrors=[server.url + "/m0/"], checksums=checksums)
    message = str(err.value)
    headline = message.splitlines()[0]
    assert headline.startswith(f"{tmp_path / IMAGES}: {reason}")
    assert "Delete it to download it again when a mirror can be reached" in headline
    assert f"  {server.url}/m0/{IMAGES}: HTTPError: HTTP Error 404" in message
    assert "not found" not in message
    assert sorted(os.listdir(tmp_path)) == sorted([IMAGES, LABELS])  # left for the user


@pytest.mark.parametrize("case", BAD_IMAGE_FILES)
def test_a_bad_file_without_download(tmp_path, case):
    write_split(tmp_path, "train")
    checksums = checksums_of(tmp_path, "train")
    make_bad, reason = BAD_IMAGE_FILES[case]
    (tmp_path / IMAGES).write_bytes(make_bad((tmp_path / IMAGES).read_bytes()))
    with pytest.raises(data.DataFileError) as err:
        data.load_mnist("train", tmp_path, download=False, checksums=checksums)
    assert str(err.value).startswith(f"{tmp_path / IMAGES}: {reason}")
    assert "Delete it and load with download=True" in str(err.value)
    assert err.value.path == tmp_path / IMAGES and err.value.reason.startswith(reason)


def test_a_file_of_another_split_is_named(tmp_path):
    write_split(tmp_path, "train")
    write_split(tmp_path, "test", seed=1)
    checksums = {**checksums_of(tmp_path, "train"), **checksums_of(tmp_path, "test")}
    test_images = data.FILES["test"][0]
    (tmp_path / IMAGES).write_bytes((tmp_path / test_images).read_bytes())
    with pytest.raises(data.DataFileError, match=f"it is a copy of {test_images}, not {IMAGES}"):
        data.load_mnist("train", tmp_path, download=False, checksums=checksums)


def swap(folder, a, b):
    (folder / a).rename(folder / "swapping")
    (folder / b).rename(folder / a)
    (folder / "swapping").rename(folder / b)


def test_swapped_files_are_one_message(server, tmp_path):
    write_split(tmp_path, "train")
    checksums = checksums_of(tmp_path, "train")
    swap(tmp_path, IMAGES, LABELS)
    with pytest.raises(data.SwappedFilesError) as err:
        data.load_mnist("train", tmp_path, mirrors=[server.url + "/m0/"], checksums=checksums)
    assert str(err.value) == (
        f"{tmp_path / IMAGES}: holds the labels, and {LABELS} holds the images: the two files "
        "are swapped. Swap their names back, or delete both to download them again"
    )
    assert err.value.other == tmp_path / LABELS
    assert server.requests == []  # a rename fixes it: nothing is downloaded


def test_swapped_raw_files(tmp_path):
    write_split(tmp_path, "train", gz=False)
    swap(tmp_path, IMAGES.removesuffix(".gz"), LABELS.removesuffix(".gz"))
    with pytest.raises(data.SwappedFilesError, match="the two files are swapped. Swap their names"):
        data.load_mnist("train", tmp_path, download=False)


def test_a_file_downloaded_before_a_failure_is_not_called_missing(server, tmp_path):
    checksums = publish_test_split(server)
    images, labels = data.FILES["test"]
    del server.files["/m0/" + labels]  # the mirror answers 404 for the labels only
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_mnist("test", tmp_path, mirrors=[server.url + "/m0/"], checksums=checksums)
    lines = str(err.value).splitlines()
    assert lines[0] == f"MNIST files not found in {tmp_path}: {labels}"
    assert lines[1] == f"Downloaded {images} into {tmp_path}."
    assert err.value.missing == (labels,) and err.value.downloaded == (images,)
    assert os.listdir(tmp_path) == [images]


def test_the_caller_words_where_files_are_looked_for(tmp_path, monkeypatch):
    monkeypatch.delenv("LENET_DATA_DIR", raising=False)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_mnist("test", root=tmp_path, download=False)
    assert "lenet looks for MNIST in the `root` argument if given" in str(err.value)
    cli = err.value.explain(root_name="--data-dir")
    assert "lenet looks for MNIST in --data-dir if given, else in $LENET_DATA_DIR (not set)" in cli
    assert "`root`" not in cli
    assert err.value.path == tmp_path and err.value.missing == tuple(data.FILES["test"])


def test_a_second_dataset_is_one_description(tmp_path, monkeypatch):
    # Fashion-MNIST's files have MNIST's names: its own folder keeps the two apart.
    fashion = data.IDXDataset(
        name="Fashion-MNIST",
        files=data.MNIST.files,
        sha256={},
        mirrors=("http://127.0.0.1:9/",),
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        folder="fashion-mnist",
    )
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path))
    (tmp_path / "fashion-mnist").mkdir()
    _, labels = write_split(tmp_path / "fashion-mnist", "test")
    x, y = fashion.load("test", download=False)
    assert x.shape == (12, 1, 28, 28) and y.tolist() == labels.tolist()
    with pytest.raises(data.DataNotFoundError) as err:
        fashion.load("train", download=False)
    assert str(err.value).startswith(f"Fashion-MNIST files not found in {tmp_path}/fashion-mnist:")
    assert f"else in $LENET_DATA_DIR/fashion-mnist (LENET_DATA_DIR {tmp_path})" in str(err.value)


def test_a_data_folder_that_is_a_file(tmp_path, monkeypatch):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a folder")
    for download_ in (True, False):
        with pytest.raises(data.DataFolderError) as err:
            data.load_mnist("train", root=notes, download=download_)
        assert err.value.explain(root_name="--data-dir") == (
            f"{notes}: the data folder is a file. Point --data-dir at a folder "
            "(it is created if missing)"
        )
    monkeypatch.setenv("LENET_DATA_DIR", str(notes))
    with pytest.raises(data.DataFolderError, match=r"Point \$LENET_DATA_DIR at a folder"):
        data.load_mnist("train")


def test_a_data_folder_inside_a_file(server, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a folder")
    with pytest.raises(data.DataFolderError) as err:
        data.load_mnist("test", root=notes / "mnist", mirrors=[server.url + "/m0/"])
    message = err.value.explain(root_name="--data-dir")
    assert message.startswith(f"{notes / 'mnist'}: cannot download into this folder (")
    assert f"{notes} is a file, not a folder" in message and "Errno" not in message
    assert "Point --data-dir at a folder you can write to" in message
    assert server.requests == []


def test_no_examples_to_split():
    message = r"train_val_split: expected images of shape \(N, \.\.\.\) with N > 0, got \(0, 1, 28"
    with pytest.raises(ValueError, match=message):
        data.train_val_split(np.zeros((0, 1, 28, 28)), np.zeros(0))


# ---------------------------------------------------------------------------------------------
# Splits and mini-batches


def test_train_val_split_takes_the_last_examples():
    x, y = np.arange(10)[:, None], np.arange(10)
    (xt, yt), (xv, yv) = data.train_val_split(x, y, n_val=3)
    np.testing.assert_array_equal(yt, np.arange(7))
    np.testing.assert_array_equal(yv, [7, 8, 9])
    np.testing.assert_array_equal(xv[:, 0], yv)


@pytest.mark.parametrize("bad", [-1, 10, 2.5])
def test_train_val_split_bad_size(bad):
    with pytest.raises(ValueError, match=rf"n_val must be an integer in \[0, 10\), got {bad}"):
        data.train_val_split(np.zeros((10, 1)), np.zeros(10), n_val=bad)


def test_minibatches_cover_everything_once_and_keep_the_last_partial_batch():
    x, y = np.arange(10)[:, None], np.arange(10)
    batches = list(data.iterate_minibatches(x, y, 4, rng=0))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10))
    for bx, by in batches:
        np.testing.assert_array_equal(bx[:, 0], by)  # images stay with their labels


def test_minibatch_order_depends_only_on_the_seed():
    x, y = np.arange(50)[:, None], np.arange(50)

    def order(seed):
        return np.concatenate([b for _, b in data.iterate_minibatches(x, y, 8, rng=seed)])

    np.testing.assert_array_equal(order(3), order(np.random.default_rng(3)))
    assert not np.array_equal(order(3), order(4))
    unshuffled = data.iterate_minibatches(x, y, 8, shuffle=False)
    np.testing.assert_array_equal(np.concatenate([b for _, b in unshuffled]), y)


def test_minibatches_leave_the_global_random_state_alone():
    # The legacy global state is read here on purpose, to show that shuffling never touches it.
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    list(data.iterate_minibatches(np.zeros((10, 1)), np.zeros(10), 3))
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_bad_batch_size_is_reported_at_the_call(bad):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {bad!r}"):
        data.iterate_minibatches(np.zeros((4, 1)), np.zeros(4), bad)


def test_images_and_labels_must_match():
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        data.iterate_minibatches(np.zeros((4, 1)), np.zeros(3), 2)


# ---------------------------------------------------------------------------------------------
# The real data, where LENET_DATA_DIR points at it (CI)

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
