"""IDX files: what read_idx returns, and every way a file can be wrong named in the error."""

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest
from bombs import write_gzip_of_zeros
from mnist_files import NO_CHECKSUMS, idx_bytes, write_split

from lenet import data
from lenet.data import MNIST

IMAGES, LABELS = MNIST.files["train"]


def test_read_idx_returns_the_stored_array(tmp_path):
    array = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    (tmp_path / "x-idx3-ubyte").write_bytes(idx_bytes(array))
    read = data.read_idx(tmp_path / "x-idx3-ubyte")
    assert read.dtype == np.uint8
    np.testing.assert_array_equal(read, array)


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


# ---------------------------------------------------------------------------------------------
# The header is checked before the body is read or decompressed (issue 29, item 3)

PEAK_MEMORY = """
import sys
from lenet.data import DataFileError, read_idx
try:
    read_idx(sys.argv[1])
except DataFileError as err:
    print(err)
# This process's own peak (kB): ru_maxrss would carry pytest's peak over fork and exec.
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""


def read_in_a_process(path):
    """read_idx(path) in a fresh process -> (its error message, its peak memory in MB)."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, str(path)], capture_output=True, text=True, timeout=120
    )
    message, peak = result.stdout.splitlines()
    return message, int(peak)


def test_a_small_gzip_declaring_2_gb_is_refused_in_little_memory(tmp_path):
    path = tmp_path / IMAGES
    n = 2**31 // (28 * 28)  # images of 28 x 28: 2 GB, as the header says
    write_gzip_of_zeros(path, struct.pack(">IIII", 2051, n, 28, 28), 2**31)  # the body: 2 GB
    assert path.stat().st_size < 5_000_000
    message, peak_mb = read_in_a_process(path)
    assert message == (
        f"{path}: its header declares ({n}, 28, 28): {n * 784:,} bytes, more than the "
        f"{data.idx.MAX_IDX_BYTES:,} an IDX file may hold here"
    )
    assert peak_mb < 600


def test_a_gzip_that_unpacks_to_more_than_its_header_says_stops_at_the_header(tmp_path):
    path = tmp_path / IMAGES
    write_gzip_of_zeros(path, struct.pack(">IIII", 2051, 12, 28, 28), 2**31)  # 2 GB after it
    message, peak_mb = read_in_a_process(path)
    assert (
        message
        == f"{path}: file is longer than its header says: the header (12, 28, 28) needs 9424"
    )
    assert peak_mb < 600


def test_the_size_bound_can_be_raised(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.arange(100) % 10))
    with pytest.raises(data.DataFileError, match="100 bytes, more than the 99 an IDX file"):
        data.read_idx(path, max_bytes=99)
    assert data.read_idx(path, max_bytes=100).shape == (100,)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            struct.pack(">I", 0x0803) + struct.pack(">I", 5),
            "truncated header (8 bytes, expected 16)",
        ),
        (struct.pack(">I", 0x0802) + bytes(12), "magic number 2050, expected 2051 for images"),
        (b"\x01\x00\x08\x03" + bytes(12), "magic number 16779267"),
        (b"\x00", "1 bytes is too short for an IDX header"),
    ],
    ids=["short-header", "two-dimensions", "not-zero", "one-byte"],
)
def test_a_malformed_header_inside_a_gzip_names_the_file(tmp_path, content, reason):
    path = tmp_path / IMAGES
    path.write_bytes(gzip.compress(content))
    with pytest.raises(data.DataFileError) as err:
        data.read_idx(path)
    assert str(err.value).startswith(f"{path}: ") and reason in str(err.value)
    assert err.value.path == path


def test_the_array_read_is_read_only(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.arange(10)))
    labels = data.read_idx(path)
    assert labels.dtype == np.uint8 and not labels.flags.writeable
