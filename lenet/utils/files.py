"""Writing files safely: a file appears complete or not at all, readable as the umask allows.

    with atomic_write(path) as f:     # f: a binary file object on a hidden temporary file
        f.write(data)                 # renamed to path only when the block ends without error

The temporary file lies in the target's folder (so the rename is atomic) and is named
``.<name>.<pid>.<random>.tmp``, the name cut short when the whole would pass the file system's
255-byte limit (a legal 244-character target name must still be writable). It is removed on
any error, Ctrl-C included; the command line turns SIGTERM into the same clean exit. A
temporary file left by a process that was killed outright (SIGKILL, power loss) is removed by
the next atomic_write to the same target.

POSIX only (folder_lock uses flock).
"""

import contextlib
import fcntl
import glob
import os
import secrets
from pathlib import Path

__all__ = [
    "atomic_write",
    "remove_stale_temporaries",
    "check_writable",
    "move_aside",
    "folder_lock",
]

NAME_MAX = 255  # bytes in one file name (Linux, macOS)
# ".<name>.<pid>.<8 hex digits>.tmp" around the name: 1 + 1 + 7 (pid_max 4194304) + 1 + 8 + 4
_TEMPORARY_PREFIX_MAX = NAME_MAX - 22


def _temporary_stem(target):
    """target's name, cut to fit a temporary name within NAME_MAX bytes."""
    name = target.name
    while len(os.fsencode(name)) > _TEMPORARY_PREFIX_MAX:
        name = name[:-1]
    return name


def _temporary_name(target):
    stem = _temporary_stem(target)
    return target.parent / f".{stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to someone else
        return True
    return True


def remove_stale_temporaries(target):
    """Delete temporary files of atomic_write(target) whose writing process no longer runs."""
    target = Path(target)
    stem = _temporary_stem(target)
    for leftover in target.parent.glob(f".{glob.escape(stem)}.*.tmp"):
        pid = leftover.name[len(stem) + 2 :].split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


@contextlib.contextmanager
def atomic_write(path):
    """Yield a binary file; on success it replaces path, on any error it is deleted.

    The file gets the permissions the user's umask gives any new file (not mkstemp's 0600).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    temporary = _temporary_name(target)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def check_writable(path):
    """Raise OSError naming path and the reason when a file cannot be written there.

    Creates the missing parent folders and writes (then deletes) a temporary file beside the
    target, so that a bad output path is found before a long computation, not after it.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {target}: it is an existing folder")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"cannot write {target}: {parent} is a file, not a folder")
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        probe = _temporary_name(target)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        probe.unlink()
    except OSError as err:
        raise OSError(f"cannot write {target}: {err.strerror or err}") from err


def move_aside(path):
    """Rename an existing file at path to the first free name stem.1.ext, stem.2.ext, ...

    Returns the new name, or None when there was no file at path.
    """
    path = Path(path)
    if not path.exists():
        return None
    n = 1
    while (previous := path.with_name(f"{path.stem}.{n}{path.suffix}")).exists():
        n += 1
    path.rename(previous)
    return previous


@contextlib.contextmanager
def folder_lock(folder):
    """Hold an exclusive lock on an existing folder while the block runs; others wait for it.

    The lock is taken on the folder itself (flock), so no lock file is left behind; it is
    released when the block ends, however it ends, or when the process dies.
    """
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
