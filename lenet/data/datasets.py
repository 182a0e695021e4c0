"""A dataset of IDX files described in one object: its files, their sha256 sums, its mirrors.

    MNIST = IDXDataset(name="MNIST", files={"train": (images, labels), "test": (...)}, ...)
    images, labels = MNIST.load("train")   # float32 (N, 1, 28, 28) in [0, 1], int64 (N,)

A new dataset in the same format (Fashion-MNIST, KMNIST) is one more such object in a module of
its own (see mnist.py); finding, checking, downloading and reading the files are shared.
"""

import dataclasses
import warnings
from pathlib import Path

import numpy as np

from lenet.data.download import (
    DEADLINE,
    MIN_SPEED,
    TIMEOUT,
    check_data_folder,
    check_limits,
    default_data_dir,
    download_from_mirrors,
    fallback_data_dir,
    sha256_of,
)
from lenet.data.errors import DataFileError, DataFolderError, DataNotFoundError, SwappedFilesError
from lenet.data.idx import check_pair, read_idx
from lenet.utils.files import remove_stale_temporaries

__all__ = ["IDXDataset"]

NO_DOWNLOAD_FIX = "Delete it and load with download=True, or put the published file there"


@dataclasses.dataclass(frozen=True)
class IDXDataset:
    """An image classification dataset stored as IDX files, as MNIST is.

    name: used in messages ("MNIST"); files: split -> (image file, label file), the canonical
    gzipped names; sha256: file name -> the published sum; mirrors: base URLs, tried in turn;
    classes: the class names, label i meaning classes[i]; image_shape: (height, width);
    folder: the subfolder of the data folder that holds the files by default ("" for MNIST, at
    the top; another dataset needs its own, as Fashion-MNIST's files have MNIST's names).
    """

    name: str
    files: dict
    sha256: dict
    mirrors: tuple
    classes: tuple
    image_shape: tuple = (28, 28)
    folder: str = ""

    def load(
        self,
        split="train",
        root=None,
        download=True,
        mirrors=None,
        checksums=None,
        timeout=TIMEOUT,
        deadline=DEADLINE,
        min_speed=MIN_SPEED,
    ):
        """Images float32 (N, 1, H, W) scaled to [0, 1] and labels int64 (N,) of a split.

        root: the folder holding the files (default: default_data_dir() / self.folder).
        Each file is read as name.gz (checked against `checksums`, default self.sha256) or, if
        only that is present, as the un-gzipped file (checked by its header). Missing or corrupt
        .gz files are downloaded when `download` is true, from `mirrors` (default self.mirrors);
        timeout, deadline and min_speed limit each download (see lenet.data.download).
        Raises a DataError (lenet.data.errors) whose message names the file or folder at fault,
        what is wrong with it and what to do.
        """
        if split not in self.files:
            splits = " or ".join(repr(s) for s in self.files)
            raise ValueError(f"split must be {splits}, got {split!r}")
        where = "{root_name}" if root is not None else "$LENET_DATA_DIR"  # see DataError.explain
        root = Path(root) if root is not None else default_data_dir() / self.folder
        if root.exists() and not root.is_dir():
            fix = f"Point {where} at a folder (it is created if missing)"
            raise DataFolderError(root, "the data folder is a file", fix)
        checksums = self.sha256 if checksums is None else checksums
        mirrors = self.mirrors if mirrors is None else mirrors
        limits = check_limits(mirrors, timeout, deadline, min_speed)  # checked before any work
        found = _Found.search(root, self.files[split], checksums)
        if found.bad or found.missing:
            if not download:
                raise self._unavailable(found)
            self._fetch(found, where, checksums, mirrors, limits)
        return self._read(*(found.paths[name] for name in self.files[split]), download)

    def _unavailable(self, found):
        """The error for files that are bad or missing when nothing may be downloaded."""
        if found.bad:
            name, reason = next(iter(found.bad.items()))
            return DataFileError(found.root / name, reason, NO_DOWNLOAD_FIX)
        return self._not_found(found.root, found.missing)

    def _fetch(self, found, where, checksums, mirrors, limits):
        """Download the bad and the missing files of `found` (in place); raise if one fails."""
        root, bad = found.root, found.bad
        wanted = [name for name in found.names if name not in found.paths]
        try:
            check_data_folder(root, wanted[0], where)
        except DataFolderError as err:
            if not bad:
                raise
            name, reason = next(iter(bad.items()))  # the bad file is what to fix first
            fix = f"It cannot be downloaded again ({err.reason}): replace it by hand"
            raise DataFileError(root / name, reason, fix) from None
        downloaded = []
        for name in wanted:
            failures = download_from_mirrors(root / name, mirrors, checksums.get(name), **limits)
            if failures and name in bad:
                fix = (
                    "Delete it to download it again when a mirror can be reached, or put the "
                    "published file there by hand. Downloading it again failed:"
                )
                raise DataFileError(root / name, bad[name], fix, failures)
            if failures:
                still_missing = [n for n in wanted if n in found.missing and n not in downloaded]
                raise self._not_found(root, still_missing, failures, downloaded, mirrors)
            if name in bad:
                replaced = f"{root / name} was corrupt ({bad[name]}): replaced it with a download"
                warnings.warn(replaced + " that matches the published sha256", stacklevel=4)
            downloaded.append(name)
            found.paths[name] = root / name

    def _not_found(self, root, missing, failures=(), downloaded=(), mirrors=None):
        return DataNotFoundError(
            root,
            missing,
            failures=failures,
            downloaded=downloaded,
            dataset=self.name,
            wanted=[name for pair in self.files.values() for name in pair],
            mirrors=self.mirrors if mirrors is None else mirrors,
            folder=self.folder,
            fallback=fallback_data_dir() / self.folder,
        )

    def _read(self, image_path, label_path, download):
        fix = "Delete it to download it again" if download else NO_DOWNLOAD_FIX
        try:
            images, labels = read_idx(image_path), read_idx(label_path)
            check_pair(images, labels, image_path, label_path, self.image_shape, len(self.classes))
        except SwappedFilesError as err:
            raise SwappedFilesError(err.path, err.other, "Swap their names back") from None
        except DataFileError as err:
            raise DataFileError(err.path, err.reason, fix) from None
        x = images[:, None].astype(np.float32)
        x /= 255.0
        return x, labels.astype(np.int64)


@dataclasses.dataclass
class _Found:
    """What a data folder holds of a split's files (names: image file, label file).

    paths: name -> the file to read (name.gz, or the un-gzipped file); bad: name -> what is
    wrong with a .gz whose sha256 is not the published one; missing: names of absent files.
    """

    root: Path
    names: tuple
    paths: dict
    bad: dict
    missing: list

    @classmethod
    def search(cls, root, names, checksums):
        """Look for each file; raise SwappedFilesError for an image and label file swapped."""
        paths, wrong_sums, missing = {}, {}, []
        for name in names:
            remove_stale_temporaries(root / name)
            gz, raw = root / name, root / name.removesuffix(".gz")
            if gz.is_file():
                actual = sha256_of(gz) if checksums.get(name) else None
                if actual == checksums.get(name):
                    paths[name] = gz
                else:
                    wrong_sums[name] = actual
            elif raw.is_file():
                paths[name] = raw
            else:
                missing.append(name)
        images, labels = names
        holds = {name: _published_name(sha, checksums) for name, sha in wrong_sums.items()}
        if holds.get(images) == labels and holds.get(labels) == images:
            fix = "Swap their names back, or delete both to download them again"
            raise SwappedFilesError(root / images, root / labels, fix)
        kinds = dict(zip(names, ("images", "labels"), strict=True))
        bad = {
            name: _diagnose(root / name, kinds[name], holds[name], sha, checksums[name])
            for name, sha in wrong_sums.items()
        }
        return cls(root, tuple(names), paths, bad, missing)


def _published_name(sha256, checksums):
    """The name of the published file with this sha256, or None."""
    return next((name for name, sha in checksums.items() if sha == sha256), None)


def _diagnose(path, kind, holds, actual, expected):
    """What is wrong with a file whose sha256 is not the published one, as a phrase.

    kind: "images" or "labels"; holds: the name of the published file it is a copy of, or None.
    """
    try:
        array = read_idx(path)
    except DataFileError as err:
        return err.reason
    if holds is not None:
        return f"it is a copy of {holds}, not {path.name}"
    if kind == "images" and array.ndim == 1:
        return "it holds labels, not images"
    if kind == "labels" and array.ndim == 3:
        return "it holds images, not labels"
    return (
        f"an IDX file of shape {array.shape}, but not the published one "
        f"(its sha256 is {actual}, expected {expected})"
    )
