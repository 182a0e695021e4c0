"""Datasets on disk and in mini-batches (being split into modules: see lenet/data/download.py)."""

from lenet.data.download import *  # noqa: F403
from lenet.data.download import __all__  # noqa: F401
