"""Histories made by hand, for tests of what is drawn and said about a run."""

from lenet import training


def history_of(val_acc, train_acc=None):
    """A History of len(val_acc) epochs with these validation (and training) accuracies."""
    n = len(val_acc)
    return training.History(
        epoch=list(range(1, n + 1)),
        train_loss=[1.0] * n,
        train_acc=list(train_acc or val_acc),
        val_loss=[1.0] * n,
        val_acc=list(val_acc),
        lr=[0.1] * n,
        seconds=[1.0] * n,
    )
