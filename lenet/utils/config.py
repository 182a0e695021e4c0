"""Settings read from the environment, in one place.

LENET_QUICK=1 makes notebooks (and anything else that trains for long) use small subsets and
few epochs, so that the whole series runs in CI in minutes. LENET_CHECKPOINT_DIR is where the
notebooks save and look for their models (default: checkpoints/ of the student edition they run
in, else of this checkout, git-ignored; the test command points it at a temporary folder, so
that tests never replace your models).
"""

import os
from pathlib import Path

__all__ = ["QUICK", "quick_mode", "CHECKPOINT_DIR", "checkpoint_dir", "STUDENT_MARKER"]

# `python -m lenet student` writes this file into the student edition's folder, so that the
# notebooks run there keep their models in that folder, not in the checkout lenet came from.
STUDENT_MARKER = ".lenet-student"


def quick_mode():
    """True when LENET_QUICK is set to anything but '', '0', 'false' or 'no'."""
    return os.environ.get("LENET_QUICK", "").strip().lower() not in ("", "0", "false", "no")


QUICK = quick_mode()


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
