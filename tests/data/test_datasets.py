"""Datasets: loading a split, files missing, corrupt, swapped or of another split, and where
files are looked for; small IDX files made here, downloads from a server on 127.0.0.1."""

import os
import warnings

import numpy as np
import pytest
from mirror import publish_test_split
from mnist_files import NO_CHECKSUMS, checksums_of, write_split

from lenet import data
from lenet.data import MNIST

IMAGES, LABELS = MNIST.files["train"]


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


def test_root_defaults_to_lenet_data_dir(tmp_path, monkeypatch):
    write_split(tmp_path, "train", gz=False)
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    assert data.load_mnist("train", download=False)[0].shape == (12, 1, 28, 28)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(data.DataNotFoundError) as err:
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


def test_load_mnist_downloads_what_is_missing_or_corrupt(server, tmp_path):
    checksums = publish_test_split(server)
    images, labels = MNIST.files["test"]
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
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_mnist("test", root=tmp_path, mirrors=[server.url + "/m0/"], checksums=checksums)
    message = str(err.value)
    assert all(name in message.splitlines()[0] for name in MNIST.files["test"])
    assert "HTTP Error 404" in message
    assert os.listdir(tmp_path) == []


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
    test_images = MNIST.files["test"][0]
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
    images, labels = MNIST.files["test"]
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
    assert err.value.path == tmp_path and err.value.missing == tuple(MNIST.files["test"])


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
