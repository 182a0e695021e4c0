"""Training: the loop (fit, evaluate, History), one run from settings, checkpoints, timing.

    loop        fit, evaluate, History, early stopping, the divergence guard
    experiment  one run from plain names and numbers (Settings -> run -> Result)
    checkpoint  .npz checkpoints: save, load (never pickle)
    bench       timing lenet against PyTorch

May import: lenet.utils, lenet.nn, lenet.data, lenet.paper1998, lenet.interop.
"""

from lenet.training.loop import (
    History,
    TrainingDiverged,
    confusion_matrix,
    copy_weights,
    epoch_summary,
    evaluate,
    fit,
    restore_weights,
    stop_requested,
)

__all__ = [
    "History",
    "TrainingDiverged",
    "confusion_matrix",
    "copy_weights",
    "epoch_summary",
    "evaluate",
    "fit",
    "restore_weights",
    "stop_requested",
]
