"""Settings read from the environment, and where lenet's folders are, in one place.

LENET_QUICK=1 (or true, yes, on) makes notebooks (and anything else that trains for long) use
small subsets and few epochs, so that the whole series runs in CI in minutes; 0, false, no, off
or unset means full runs, and any other value is refused. QUICK is read when it is asked for,
so that a mistyped value stops only what uses it. LENET_CHECKPOINT_DIR is where the
notebooks save and look for their models (default: checkpoints/ of the student edition they run
in, else of this checkout, git-ignored; the test command points it at a temporary folder, so
that tests never replace your models).
"""

import importlib.resources
import os
from pathlib import Path

__all__ = [  # and QUICK, read when asked for (see __getattr__)
    "quick_mode",
    "CHECKPOINT_DIR",
    "checkpoint_dir",
    "STUDENT_MARKER",
    "notebooks_dir",
]

QUICK_VALUES = {
    **dict.fromkeys(("1", "true", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "no", "off", ""), False),
}

# `python -m lenet student` writes this file into the student edition's folder, so that the
# notebooks run there keep their models in that folder, not in the checkout lenet came from.
STUDENT_MARKER = ".lenet-student"


def quick_mode():
    """LENET_QUICK as a bool (see QUICK_VALUES, any case); ValueError for any other value."""
    value = os.environ.get("LENET_QUICK", "")
    try:
        return QUICK_VALUES[value.strip().lower()]
    except KeyError:
        raise ValueError(
            f"LENET_QUICK must be 1, true, yes or on (quick mode) or 0, false, no, off or empty "
            f"(full runs), got {value!r}"
        ) from None


def __getattr__(name):
    if name == "QUICK":  # read at each `from lenet.utils.config import QUICK`
        return quick_mode()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def checkpoint_dir():
    """$LENET_CHECKPOINT_DIR, else checkpoints/ of the student edition the working directory
    is in (the nearest folder, this one or above, holding STUDENT_MARKER), else checkpoints/
    of a source checkout, else ./checkpoints."""
    if os.environ.get("LENET_CHECKPOINT_DIR"):
        return Path(os.environ["LENET_CHECKPOINT_DIR"]).expanduser()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / STUDENT_MARKER).is_file():
            return folder / "checkpoints"
    checkout = Path(__file__).resolve().parents[2]  # lenet/utils/config.py
    if (checkout / "pyproject.toml").is_file():
        return checkout / "checkpoints"
    return Path("checkpoints").resolve()


CHECKPOINT_DIR = checkpoint_dir()


def notebooks_dir():
    """The notebook series: notebooks/ of a source checkout, else the copy installed with lenet
    (the wheel ships it as package data, lenet/notebooks)."""
    checkout = Path(__file__).resolve().parents[2]  # lenet/utils/config.py
    if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir():
        return checkout / "notebooks"
    return Path(str(importlib.resources.files("lenet") / "notebooks"))
