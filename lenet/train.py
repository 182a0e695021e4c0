"""Training: fit a model with mini-batch gradient descent, evaluate it, and keep a History.

history = fit(model, SGD(model, lr=0.05, momentum=0.9), (x_train, y_train), epochs=8,
              val_data=(x_val, y_val), schedule=ExponentialDecay(0.9), rng=0)
loss, accuracy, predictions = evaluate(model, x_test, y_test)
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from lenet.data import iterate_minibatches
from lenet.init import as_generator
from lenet.losses import SoftmaxCrossEntropy

__all__ = [
    "History",
    "TrainingDiverged",
    "fit",
    "epoch_summary",
    "evaluate",
    "confusion_matrix",
]

MONITORS = ("val_loss", "val_acc", "train_loss", "train_acc")


class TrainingDiverged(RuntimeError):
    """The loss became inf or nan: the learning rate is usually too large."""


@dataclass
class History:
    """What happened in each epoch: lists with one entry per epoch (epochs count from 1)."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)  # nan without validation data
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    best_epoch: int | None = None  # the epoch whose weights the model holds after early stopping
    stopped_early: bool = False

    def __len__(self):
        return len(self.epoch)

    def as_dict(self):
        return {k: list(v) if isinstance(v, list) else v for k, v in self.__dict__.items()}


def _check_data(name, data):
    images, labels = data
    if len(images) != len(labels):
        raise ValueError(f"{name}: {len(images)} images but {len(labels)} labels")
    if len(images) == 0:
        raise ValueError(f"{name} is empty")
    return images, labels


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _snapshot(model, into=None):
    """Copies of every parameter (into the arrays of an earlier snapshot when given)."""
    if into is None:
        return [{k: v.copy() for k, v in layer.params.items()} for layer in model.layers]
    for layer, saved in zip(model.layers, into, strict=True):
        for k, v in layer.params.items():
            np.copyto(saved[k], v)
    return into


def _restore(model, snapshot):
    for layer, saved in zip(model.layers, snapshot, strict=True):
        for k, v in saved.items():
            np.copyto(layer.params[k], v)


def fit(
    model,
    optimizer,
    train_data,
    epochs,
    batch_size=64,
    val_data=None,
    schedule=None,
    patience=None,
    min_delta=0.0,
    monitor="val_loss",
    rng=None,
    callback=None,
    progress=True,
):
    """Train model on train_data = (images, labels) for up to `epochs` epochs.

    Each epoch: lr = base lr x schedule(epoch), shuffled mini-batches, forward, loss, backward,
    optimizer step; then validation. Early stopping (patience epochs without an improvement of
    min_delta in `monitor`) ends training and restores the best epoch's weights.
    callback(history) runs after every epoch. A non-finite loss raises TrainingDiverged and
    leaves the model with the weights of the last finite step.
    """
    _positive_int("epochs", epochs)
    _positive_int("batch_size", batch_size)
    x_train, y_train = _check_data("train_data", train_data)
    if val_data is not None:
        val_data = _check_data("val_data", val_data)
    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {MONITORS}, got {monitor!r}")
    if monitor.startswith("val") and val_data is None and patience is not None:
        raise ValueError(f"monitor={monitor!r} needs val_data (or monitor a train_ metric)")
    if patience is not None:
        _positive_int("patience", patience)
    rng = as_generator(rng)
    loss_fn = SoftmaxCrossEntropy()
    base_lr = optimizer.lr
    history = History()
    higher_is_better = monitor.endswith("acc")
    best, best_weights, waited = None, None, 0
    last_finite = _snapshot(model)  # the weights of the last step whose loss was finite

    for epoch in range(epochs):
        optimizer.lr = base_lr * (schedule(epoch) if schedule else 1.0)
        start = time.perf_counter()
        total_loss, correct, seen = 0.0, 0, 0
        n_batches = math.ceil(len(x_train) / batch_size)
        batches = iterate_minibatches(x_train, y_train, batch_size, rng=rng)
        # Overflow warnings would only repeat what the divergence guard below reports.
        with (
            np.errstate(over="ignore", invalid="ignore"),
            tqdm(
                batches,
                total=n_batches,
                desc=f"epoch {epoch + 1}/{epochs}",
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            for step, (x, y) in enumerate(bar, start=1):
                logits = model.forward(x)
                loss = loss_fn.forward(logits, y)
                if not math.isfinite(loss):
                    _restore(model, last_finite)
                    optimizer.lr = base_lr
                    raise TrainingDiverged(
                        f"the loss became {loss} in epoch {epoch + 1}, step {step} at learning "
                        f"rate {optimizer.lr:g}: training diverged. Try a smaller learning rate "
                        "(e.g. 10x lower). The model keeps its last finite weights."
                    )
                _snapshot(model, into=last_finite)
                model.backward(loss_fn.backward())
                optimizer.step()
                total_loss += loss * len(y)
                correct += int((logits.argmax(axis=1) == y).sum())
                seen += len(y)
                if step % 20 == 0 or step == n_batches:
                    bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
        val_loss, val_acc = (
            evaluate(model, *val_data)[:2] if val_data is not None else (math.nan, math.nan)
        )
        history.epoch.append(epoch + 1)
        history.train_loss.append(total_loss / seen)
        history.train_acc.append(correct / seen)
        history.val_loss.append(val_loss)
        history.val_acc.append(val_acc)
        history.lr.append(optimizer.lr)
        history.seconds.append(time.perf_counter() - start)
        if progress:
            tqdm.write(epoch_summary(history))
        if callback is not None:
            callback(history)

        if patience is not None:
            value = getattr(history, monitor)[-1]
            improved = best is None or (
                value > best + min_delta if higher_is_better else value < best - min_delta
            )
            if improved:
                best, best_weights, waited = value, _snapshot(model), 0
                history.best_epoch = epoch + 1
            else:
                waited += 1
                if waited >= patience:
                    _restore(model, best_weights)
                    history.stopped_early = True
                    break
    optimizer.lr = base_lr
    return history


def epoch_summary(history):
    """One line about the last epoch of history: losses, accuracies, learning rate, seconds."""
    line = (
        f"epoch {history.epoch[-1]}: train loss {history.train_loss[-1]:.4f}, "
        f"accuracy {history.train_acc[-1]:.2%}"
    )
    if not math.isnan(history.val_loss[-1]):
        line += f"; validation loss {history.val_loss[-1]:.4f}, accuracy {history.val_acc[-1]:.2%}"
    return line + f"; lr {history.lr[-1]:.3g}; {history.seconds[-1]:.1f} s"


def evaluate(model, images, labels, batch_size=1000):
    """Mean loss, accuracy and predicted classes (N,) of model on (images, labels)."""
    images, labels = _check_data("evaluate", (images, labels))
    loss_fn = SoftmaxCrossEntropy()
    total, predictions = 0.0, []
    for start in range(0, len(images), batch_size):
        logits = model.forward(images[start : start + batch_size])
        y = labels[start : start + batch_size]
        total += loss_fn.forward(logits, y) * len(y)
        predictions.append(logits.argmax(axis=1))
    predictions = np.concatenate(predictions)
    return total / len(labels), float(np.mean(predictions == labels)), predictions


def confusion_matrix(labels, predictions, num_classes=10):
    """(num_classes, num_classes) counts: row = true class, column = predicted class."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} differ")
    flat = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)
