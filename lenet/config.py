"""Settings read from the environment, in one place.

LENET_QUICK=1 makes notebooks (and anything else that trains for long) use small subsets and
few epochs, so that the whole series runs in CI in minutes.
"""

import os

__all__ = ["QUICK", "quick_mode"]


def quick_mode():
    """True when LENET_QUICK is set to anything but '', '0', 'false' or 'no'."""
    return os.environ.get("LENET_QUICK", "").strip().lower() not in ("", "0", "false", "no")


QUICK = quick_mode()
