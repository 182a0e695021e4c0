"""MNIST loading and download: small IDX files made here, a real HTTP server on 127.0.0.1."""

import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from mnist_files import idx_bytes, write_split

from lenet import data

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
    repo = Path(data.__file__).resolve().parent.parent
    assert data.default_data_dir() == repo / "data"


def test_default_data_dir_outside_a_checkout_is_the_user_cache(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages" / "lenet"  # no pyproject.toml next to it
    installed.mkdir(parents=True)
    monkeypatch.setattr(data, "__file__", str(installed / "data.py"))
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
            rf"{IMAGES}: not an MNIST IDX file \(magic number 1013478509, expected 2051",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros((2, 28, 28)), magic=0x0D03)),
            rf"{IMAGES}: not an MNIST IDX file \(magic number 3331",
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
            rf"{IMAGES}: not a readable gzip file",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros((12, 27, 28)))),
            r"of 28x28 images, got shape \(12, 27, 28\)",
        ),
        (
            lambda p: put(p, IMAGES, idx_bytes(np.zeros(12))),
            rf"{IMAGES}: expected an image file \(magic 2051\)",
        ),
        (
            lambda p: put(p, LABELS, idx_bytes(np.zeros(11))),
            rf"{IMAGES} holds 12 images but .*{LABELS} holds 11 labels",
        ),
        (
            lambda p: put(p, LABELS, idx_bytes(np.full(12, 10))),
            rf"{LABELS}: labels must be digits 0-9, found 10",
        ),
    ],
    ids=[
        "not-idx",
        "float-idx",
        "truncated",
        "truncated-raw",
        "truncated-header",
        "not-gzip",
        "broken-deflate",
        "cut-gzip",
        "wrong-size",
        "labels-as-images",
        "count-mismatch",
        "bad-label",
    ],
)
def test_bad_files_are_named_in_the_error(tmp_path, break_it, message):
    write_split(tmp_path, "train")
    break_it(tmp_path)
    with pytest.raises(data.MNISTError, match=message):
        data.load_mnist("train", root=tmp_path, download=False, checksums=NO_CHECKSUMS)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(data.MNISTNotFoundError) as err:
        data.load_mnist("test", root=tmp_path, download=False)
    message = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path) in message and "LENET_DATA_DIR" in message and "by hand" in message
    assert "Downloading them failed" not in message  # nothing was tried


def test_corrupt_cached_file_without_download_is_an_error(tmp_path):
    write_split(tmp_path, "test")  # valid IDX files, but not the published ones
    with pytest.raises(data.MNISTError, match=r"t10k-images-idx3-ubyte.gz is corrupt: its sha256"):
        data.load_mnist("test", root=tmp_path, download=False)


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        data.load_mnist("val")


# ---------------------------------------------------------------------------------------------
# Download against a real HTTP server on 127.0.0.1


class Behaviour:
    """What the test server does for each mirror path, and what it was asked for."""

    MODES = ("ok", "404", "short", "drop", "chunked", "garbage", "stall")

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


def serve(server, *modes):
    """Publish CONTENT on one mirror per mode; return the mirror URLs in order."""
    mirrors = []
    for i, mode in enumerate(modes):
        path = f"/m{i}/"
        server.files[path + NAME] = CONTENT
        server.modes[path] = mode
        mirrors.append(server.url + path)
    return mirrors


def fetch(root, mirrors, timeout=5):
    return data.fetch_file(NAME, root, mirrors=mirrors, checksums=CHECKSUMS, timeout=timeout)


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


def test_corrupt_cached_file_is_replaced(server, tmp_path):
    (tmp_path / NAME).write_bytes(b"half a file")
    with pytest.warns(UserWarning, match=f"{NAME} is corrupt"):
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
    with pytest.warns(UserWarning, match=f"{images} is corrupt"):
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
