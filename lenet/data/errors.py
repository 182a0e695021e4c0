"""What can be wrong with a dataset's files, as exceptions that carry their parts.

Every error has ``path`` (the file or folder at fault) and ``reason`` (what is wrong with it, a
phrase), and ``explain(root_name=...)`` writes the whole message; ``str(err)`` is
``err.explain()``. The messages speak of "the `root` argument" by default; a caller with its own
name for that setting (the command line's ``--data-dir``) passes it as ``root_name``:

    except DataError as err:
        print(f"error: {err.explain(root_name='--data-dir')}", file=sys.stderr)
"""

import os
from pathlib import Path

__all__ = [
    "DataError",
    "DataFileError",
    "SwappedFilesError",
    "DataNotFoundError",
    "DataFolderError",
]

ROOT_NAME = "the `root` argument"


class DataError(Exception):
    """Something is wrong with a dataset's files or folder.

    path: the file or folder at fault; reason: what is wrong with it; fix: what to do (may say
    "{root_name}", replaced by explain's root_name); details: further lines (one per mirror tried).
    """

    def __init__(self, path, reason, fix="", details=()):
        self.path = Path(path)
        self.reason = reason
        self.fix = fix
        self.details = tuple(details)
        super().__init__(self.explain())

    def explain(self, root_name=ROOT_NAME):
        """The message: "<path>: <reason>. <fix>", then the details, one per indented line."""
        headline = f"{self.path}: {self.reason}"
        if self.fix:
            headline += ". " + self.fix.replace("{root_name}", root_name)
        return "\n".join([headline, *[f"  {line}" for line in self.details]])

    def __str__(self):
        return self.explain()


class DataFileError(DataError, ValueError):
    """A data file is corrupt, truncated, unreadable, or not what its name says."""


class SwappedFilesError(DataFileError):
    """The image file holds the labels and the label file the images (other: the label file)."""

    def __init__(self, path, other, fix="", details=()):
        self.other = Path(other)
        reason = (
            f"holds the labels, and {self.other.name} holds the images: the two files are swapped"
        )
        super().__init__(path, reason, fix, details)


class DataFolderError(DataError, OSError):
    """The data folder is not a folder, or files cannot be written into it."""


class DataNotFoundError(DataError, FileNotFoundError):
    """Data files are missing and could not be downloaded.

    path: the folder searched; missing: the names not found there; failures: one line per
    mirror tried for missing[0] ("<url>: <what went wrong>"); downloaded: names fetched before
    that one failed; dataset: the dataset's name ("MNIST"), None for a single file; wanted:
    every file of the dataset, for placing them by hand; mirrors: where they can be downloaded
    from; folder: the dataset's subfolder of $LENET_DATA_DIR; fallback: the folder used when
    neither root nor $LENET_DATA_DIR is given.
    """

    def __init__(
        self,
        path,
        missing,
        *,
        failures=(),
        downloaded=(),
        dataset=None,
        wanted=None,
        mirrors=(),
        folder="",
        fallback=None,
    ):
        self.missing = tuple(missing)
        self.failures = tuple(failures)
        self.downloaded = tuple(downloaded)
        self.dataset = dataset
        self.wanted = tuple(wanted) if wanted is not None else self.missing
        self.mirrors = tuple(mirrors)
        self.folder = folder
        self.fallback = fallback
        super().__init__(path, f"{self._files} not found: {', '.join(self.missing)}")

    @property
    def _files(self):
        return f"{self.dataset} files" if self.dataset else "Files"

    def explain(self, root_name=ROOT_NAME):
        lines = [f"{self._files} not found in {self.path}: {', '.join(self.missing)}"]
        if self.downloaded:
            lines.append(f"Downloaded {', '.join(self.downloaded)} into {self.path}.")
        if self.failures:
            lines.append(f"Downloading {self.missing[0]} failed:")
            lines += [f"  {failure}" for failure in self.failures]
        env = os.environ.get("LENET_DATA_DIR")
        what = self.dataset or "data files"
        env_dir = "$LENET_DATA_DIR" + (f"/{self.folder}" if self.folder else "")
        env_is = ("LENET_DATA_DIR " if self.folder else "") + (env if env else "not set")
        lines.append(
            f"lenet looks for {what} in {root_name} if given, else in {env_dir} ({env_is})"
            + (f", else in {self.fallback}." if self.fallback else ".")
        )
        source = f" from {self.mirrors[0]} (or another mirror)" if self.mirrors else ""
        lines += [
            f"To place the files by hand, download{source}:",
            *[f"  {name}" for name in self.wanted],
            f"into {self.path}, or into any folder and set LENET_DATA_DIR to it.",
        ]
        return "\n".join(lines)
