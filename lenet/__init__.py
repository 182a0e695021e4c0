"""lenet: a numpy CNN you can read, check and train."""

from lenet import nn
from lenet.nn import *  # noqa: F403  (the names are nn.__all__, listed once there)
from lenet.paper1998.loss import MAPLoss
from lenet.training.checkpoint import load, save
from lenet.utils import i18n

# A Chinese notebook runs the English code cells: what they print and plot is translated.
if i18n.LANGUAGE != "en":
    from lenet.teaching import plotlang

    i18n.install()
    plotlang.install()

__version__ = "0.1.0"

# Everything lenet.nn exports, and the few names from later packages a learner meets first.
__all__ = [*nn.__all__, "MAPLoss", "load", "save"]
