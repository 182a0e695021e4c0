"""MNIST loading and download: small IDX files made here, a real HTTP server on 127.0.0.1."""

import gzip
import hashlib
import http.server
import os
import struct
import threading

import numpy as np
import pytest
from mnist_files import idx_bytes, write_split

from lenet import data

# ---------------------------------------------------------------------------------------------
# Small IDX files


@pytest.mark.parametrize("gz", [True, False])
def test_load_small_split(tmp_path, gz):
    images, labels = write_split(tmp_path, "test", gz=gz)
    x, y = data.load_mnist("test", root=tmp_path, download=False)
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (12,) and y.dtype == np.int64
    np.testing.assert_allclose(x[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_root_defaults_to_lenet_data_dir(tmp_path, monkeypatch):
    write_split(tmp_path, "train")
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    assert data.load_mnist("train", download=False)[0].shape == (12, 1, 28, 28)


def test_default_data_dir_is_the_checkout_data_folder(monkeypatch):
    monkeypatch.delenv("LENET_DATA_DIR", raising=False)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(data.__file__)))
    assert str(data.default_data_dir()) == os.path.join(repo, "data")


def corrupt(tmp_path, name, content, gz=True):
    (tmp_path / name).write_bytes(gzip.compress(content) if gz else content)


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (
            lambda p: corrupt(p, "train-images-idx3-ubyte.gz", b"<html>Not found</html>"),
            r"train-images-idx3-ubyte.gz: not an MNIST IDX file \(magic number",
        ),
        (
            lambda p: corrupt(
                p, "train-images-idx3-ubyte.gz", idx_bytes(np.zeros((12, 28, 28)))[:-100]
            ),
            r"train-images-idx3-ubyte.gz: file is truncated: 9324 bytes, .* needs 9424",
        ),
        (
            lambda p: corrupt(p, "train-images-idx3-ubyte.gz", b"\x00\x00", gz=False),
            r"train-images-idx3-ubyte.gz: not a readable gzip file",
        ),
        (
            lambda p: corrupt(p, "train-images-idx3-ubyte.gz", idx_bytes(np.zeros((12, 27, 28)))),
            r"expected images of 28x28, got shape \(12, 27, 28\)",
        ),
        (
            lambda p: corrupt(p, "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(11))),
            r"holds 12 images but .*train-labels-idx1-ubyte.gz holds 11 labels",
        ),
        (
            lambda p: corrupt(p, "train-labels-idx1-ubyte.gz", idx_bytes(np.full(12, 10))),
            r"labels must be digits 0-9, found 10",
        ),
    ],
    ids=["not-idx", "truncated", "not-gzip", "wrong-size", "count-mismatch", "bad-label"],
)
def test_bad_files_are_named_in_the_error(tmp_path, break_it, message):
    write_split(tmp_path, "train")
    break_it(tmp_path)
    with pytest.raises(data.MNISTError, match=message):
        data.load_mnist("train", root=tmp_path, download=False)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(data.MNISTNotFoundError) as err:
        data.load_mnist("test", root=tmp_path, download=False)
    message = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path) in message and "LENET_DATA_DIR" in message


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        data.load_mnist("val")


# ---------------------------------------------------------------------------------------------
# Download against a real HTTP server on 127.0.0.1


class Behaviour:
    """What the test server does for each mirror path: serve, 404, truncate, drop."""

    def __init__(self):
        self.files = {}  # "/mirror/name" -> bytes
        self.modes = {}  # "/mirror/" -> "ok" | "404" | "short" | "drop"
        self.requests = []


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
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "short":  # promise the whole body, send half, close cleanly
                self.wfile.write(body[: len(body) // 2])
            elif mode == "drop":  # send part of the body, then reset the connection
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                self.connection.setsockopt(
                    __import__("socket").SOL_SOCKET,
                    __import__("socket").SO_LINGER,
                    struct.pack("ii", 1, 0),
                )
                self.connection.close()
            else:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def server():
    behaviour = Behaviour()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(behaviour))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    behaviour.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield behaviour
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


NAME = "t10k-labels-idx1-ubyte.gz"
CONTENT = gzip.compress(idx_bytes(np.arange(200) % 10))
CHECKSUMS = {NAME: hashlib.sha256(CONTENT).hexdigest()}


def serve(server, *modes):
    """Publish CONTENT on one mirror per mode; return the mirror URLs in order."""
    mirrors = []
    for i, mode in enumerate(modes):
        path = f"/m{i}/"
        server.files[path + NAME] = CONTENT
        server.modes[path] = mode
        mirrors.append(server.url + path)
    return mirrors


def fetch(server, root, mirrors):
    return data.fetch_file(NAME, root, mirrors=mirrors, checksums=CHECKSUMS, timeout=5)


def assert_holds_only_the_verified_file(root):
    assert os.listdir(root) == [NAME]
    assert (root / NAME).read_bytes() == CONTENT


def test_download_success(server, tmp_path):
    path = fetch(server, tmp_path, serve(server, "ok"))
    assert path == tmp_path / NAME
    assert_holds_only_the_verified_file(tmp_path)


@pytest.mark.parametrize("first", ["404", "short", "drop"])
def test_a_failing_mirror_falls_through_to_the_next(server, tmp_path, first):
    fetch(server, tmp_path, serve(server, first, "ok"))
    assert_holds_only_the_verified_file(tmp_path)
    assert server.requests == ["/m0/" + NAME, "/m1/" + NAME]


def test_wrong_checksum_is_never_kept(server, tmp_path):
    mirrors = serve(server, "ok", "ok")
    server.files["/m0/" + NAME] = CONTENT[:-1] + b"x"  # same length, other bytes
    fetch(server, tmp_path, mirrors)
    assert_holds_only_the_verified_file(tmp_path)


@pytest.mark.parametrize("mode", ["404", "short", "drop"])
def test_every_mirror_failing_leaves_nothing_and_explains(server, tmp_path, mode):
    with pytest.raises(data.MNISTNotFoundError) as err:
        fetch(server, tmp_path, serve(server, mode, mode))
    assert os.listdir(tmp_path) == []
    message = str(err.value)
    assert NAME in message and str(tmp_path) in message
    assert "/m0/" in message and "/m1/" in message  # each mirror's failure is listed
    assert "LENET_DATA_DIR" in message and "by hand" in message


def test_wrong_checksum_everywhere(server, tmp_path):
    mirrors = serve(server, "ok")
    server.files["/m0/" + NAME] = b"not the file"
    with pytest.raises(data.MNISTNotFoundError, match="checksum mismatch"):
        fetch(server, tmp_path, mirrors)
    assert os.listdir(tmp_path) == []


def test_corrupt_cached_file_is_replaced(server, tmp_path):
    (tmp_path / NAME).write_bytes(b"half a file")
    with pytest.warns(UserWarning, match=f"{NAME} is corrupt"):
        fetch(server, tmp_path, serve(server, "ok"))
    assert_holds_only_the_verified_file(tmp_path)


def test_verified_cached_file_is_not_downloaded_again(server, tmp_path):
    (tmp_path / NAME).write_bytes(CONTENT)
    fetch(server, tmp_path, serve(server, "ok"))
    assert server.requests == []


def test_load_mnist_downloads_what_is_missing(server, tmp_path):
    images, labels = idx_bytes(np.zeros((3, 28, 28))), idx_bytes([1, 2, 3])
    files = dict(zip(data.FILES["test"], (images, labels), strict=True))
    checksums = {}
    for name, content in files.items():
        server.files["/m0/" + name] = gzip.compress(content, mtime=0)
        checksums[name] = hashlib.sha256(server.files["/m0/" + name]).hexdigest()
    x, y = data.load_mnist(
        "test", root=tmp_path, mirrors=[server.url + "/m0/"], checksums=checksums, timeout=5
    )
    assert x.shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(y, [1, 2, 3])
    assert sorted(os.listdir(tmp_path)) == sorted(files)


# ---------------------------------------------------------------------------------------------
# Splits and mini-batches


def test_train_val_split_takes_the_last_examples():
    x, y = np.arange(10)[:, None], np.arange(10)
    (xt, yt), (xv, yv) = data.train_val_split(x, y, n_val=3)
    np.testing.assert_array_equal(yt, np.arange(7))
    np.testing.assert_array_equal(yv, [7, 8, 9])
    with pytest.raises(ValueError, match=r"n_val must lie in \[0, 10\), got 10"):
        data.train_val_split(x, y, n_val=10)


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


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        next(data.iterate_minibatches(np.zeros((4, 1)), np.zeros(4), bad))


def test_images_and_labels_must_match():
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        next(data.iterate_minibatches(np.zeros((4, 1)), np.zeros(3), 2))


# ---------------------------------------------------------------------------------------------
# The real data, where LENET_DATA_DIR points at it (CI)

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.skipif(not os.environ.get("LENET_DATA_DIR"), reason="LENET_DATA_DIR is not set")
@pytest.mark.parametrize(("split", "counts"), [("train", TRAIN_COUNTS), ("test", TEST_COUNTS)])
def test_real_mnist(split, counts):
    x, y = data.load_mnist(split)
    assert x.shape == (sum(counts), 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (sum(counts),) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y, minlength=10).tolist() == counts
