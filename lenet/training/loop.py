"""Training: fit a model with mini-batch gradient descent, evaluate it, and keep a History.

history = fit(model, SGD(model, lr=0.05, momentum=0.9), (x_train, y_train), epochs=8,
              val_data=(x_val, y_val), schedule=ExponentialDecay(0.9), rng=0)
loss, accuracy, predictions = evaluate(model, x_test, y_test)
"""

import dataclasses
import math
import sys
import time

import numpy as np
from IPython.display import display
from tqdm.auto import tqdm
from tqdm.notebook import tqdm as notebook_tqdm

from lenet.data import iterate_minibatches
from lenet.nn.losses import SoftmaxCrossEntropy
from lenet.utils.checks import image_label_pair, positive_int
from lenet.utils.rng import as_generator

__all__ = [
    "History",
    "TrainingDiverged",
    "fit",
    "stop_requested",
    "epoch_summary",
    "evaluate",
    "confusion_matrix",
]

MONITORS = ("val_loss", "val_acc", "train_loss", "train_acc")


class TrainingDiverged(RuntimeError):
    """The loss became inf or nan: the learning rate is usually too large.

    fit sets .history to the History of the epochs that finished before it diverged.
    """

    history = None


@dataclasses.dataclass
class History:
    """What happened in each epoch: lists with one entry per epoch (epochs count from 1).

    val_loss and val_acc hold nan when fit had no validation data. After early stopping,
    stopped_epoch is the last epoch trained and restored_epoch the epoch whose weights the
    model was given back (the last one that improved the monitored metric by min_delta);
    both stay None when training ran all its epochs.
    """

    epoch: list = dataclasses.field(default_factory=list)
    train_loss: list = dataclasses.field(default_factory=list)
    train_acc: list = dataclasses.field(default_factory=list)
    val_loss: list = dataclasses.field(default_factory=list)
    val_acc: list = dataclasses.field(default_factory=list)
    lr: list = dataclasses.field(default_factory=list)
    seconds: list = dataclasses.field(default_factory=list)
    stopped_epoch: int | None = None
    restored_epoch: int | None = None

    def __len__(self):
        return len(self.epoch)

    def as_dict(self):
        """The fields as a plain dict of lists (and the two early-stopping epochs)."""
        return dataclasses.asdict(self)

    def best_epoch(self, monitor="val_loss"):
        """The epoch with the lowest loss or highest accuracy in monitor (first if tied).

        None when no epoch has a finite value (e.g. val_loss without validation data).
        """
        _check_monitor(monitor)
        values = np.asarray(getattr(self, monitor), dtype=float)
        finite = np.flatnonzero(np.isfinite(values))
        if finite.size == 0:
            return None
        sign = -1 if monitor.endswith("acc") else 1
        return self.epoch[finite[np.argmin(sign * values[finite])]]


def _check_monitor(monitor):
    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {MONITORS}, got {monitor!r}")


def _snapshot(model, into=None):
    """Copies of every parameter, written into the arrays of an earlier snapshot when given."""
    if into is None:
        return [{k: v.copy() for k, v in layer.params.items()} for layer in model.layers]
    for layer, saved in zip(model.layers, into, strict=True):
        for k, v in layer.params.items():
            np.copyto(saved[k], v)
    return into


def _restore(model, snapshot):
    """Write a snapshot back into the parameter arrays (in place, so optimizers keep them)."""
    for layer, saved in zip(model.layers, snapshot, strict=True):
        for k, v in saved.items():
            np.copyto(layer.params[k], v)


def _all_finite(model):
    return all(np.isfinite(p).all() for layer in model.layers for p in layer.params.values())


def _diverged(model, last_finite, what, epoch, step, lr):
    _restore(model, last_finite)
    return TrainingDiverged(
        f"training diverged: {what} in epoch {epoch}, step {step} at learning rate {lr:g}. "
        "Try a smaller learning rate (e.g. 10x lower). "
        "The model keeps the weights of its last finite step."
    )


def _train_epoch(model, optimizer, loss_fn, batches, last_finite, bar, epoch, on_step=None):
    """One step per (x, y) batch of the epoch -> (mean loss, accuracy) over the epoch.

    Before each step the weights are copied into last_finite (a small fraction of a step's
    time); a non-finite loss, or non-finite weights at the end, restores that copy and raises
    TrainingDiverged. on_step(epoch, step, steps, loss, accuracy) runs after every step.
    """
    total_loss, correct, seen, step = 0.0, 0, 0, 0
    for step, (xb, yb) in enumerate(batches, start=1):
        loss, logits = model.forward_backward(xb, yb, loss_fn)  # grads set, weights unchanged
        if not math.isfinite(loss):
            raise _diverged(
                model, last_finite, f"the loss became {loss}", epoch, step, optimizer.lr
            )
        _snapshot(model, into=last_finite)
        optimizer.step()
        batch_correct = _correct(logits, yb)
        total_loss += loss * len(yb)
        correct += batch_correct
        seen += len(yb)
        bar.update()
        if on_step is not None:
            on_step(epoch, step, bar.total, loss, batch_correct / len(yb))
        if step % 20 == 0 or step == bar.total:
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
    if not _all_finite(model):
        raise _diverged(
            model, last_finite, "the weights became non-finite", epoch, step, optimizer.lr
        )
    return total_loss / seen, correct / seen


def stop_requested(stop):
    """True when stop (None, a threading.Event or a callable) asks training to end."""
    if stop is None:
        return False
    return stop.is_set() if hasattr(stop, "is_set") else bool(stop())


class _Stoppable:
    """The batches of an epoch, ending early (cut=True) once a stop is requested.

    The first batch always comes, so an epoch that starts trains at least one step.
    """

    def __init__(self, batches, stop):
        self.batches, self.stop, self.cut = batches, stop, False

    def __iter__(self):
        for i, batch in enumerate(self.batches):
            if i and stop_requested(self.stop):
                self.cut = True
                return
            yield batch


class _NotebookBar(tqdm):
    """tqdm's notebook bar, shown with a display id. When it closes, its output becomes text:
    nothing once the epoch is complete (the epoch's summary line follows), else its last line.
    A saved or exported notebook then holds no stale "0%" bar and no widget that is gone.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, display=False, **kwargs)
        self._handle = display(self.container, display_id=True)

    def close(self):
        handle, self._handle = getattr(self, "_handle", None), None
        super().close()
        if handle is not None:
            text = "" if self.total and self.n >= self.total else str(self)
            handle.update({"text/plain": text}, raw=True)


def _progress_bar(total, desc, progress):
    if progress and issubclass(tqdm, notebook_tqdm):
        return _NotebookBar(total=total, desc=desc, leave=False)
    return tqdm(total=total, desc=desc, disable=not progress, leave=False)


class _EarlyStopping:
    """Stop after `patience` epochs without an improvement of min_delta; keep the best weights."""

    def __init__(self, monitor, patience, min_delta):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.sign = -1 if monitor.endswith("acc") else 1  # compare sign * value: lower is better
        self.best, self.best_epoch, self.best_weights, self.waited = math.inf, None, None, 0

    def should_stop(self, model, history):
        """Record the last epoch of history; True when training should stop."""
        value = self.sign * getattr(history, self.monitor)[-1]
        if value < self.best - self.min_delta:  # False for nan: not an improvement
            self.best, self.best_epoch, self.waited = value, history.epoch[-1], 0
            self.best_weights = _snapshot(model, into=self.best_weights)
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore(self, model, history):
        history.stopped_epoch = history.epoch[-1]
        if self.best_weights is not None:
            _restore(model, self.best_weights)
            history.restored_epoch = self.best_epoch


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
    loss=None,
    stop=None,
    on_step=None,
    transform=None,
):
    """Train model on train_data = (images (N, ...), labels (N,)) for up to `epochs` epochs.

    Each epoch: optimizer.lr = base lr x schedule(epoch) (epoch counted from 0, base lr the
    optimizer's lr at the start), shuffled mini-batches from rng (a Generator or an int seed),
    forward, loss (default SoftmaxCrossEntropy()), backward, optimizer step; then validation on
    val_data. Accuracy counts argmax(output) == label, for integer class labels.
    Early stopping (patience=None disables it): stop when `monitor` ("val_loss", "val_acc",
    "train_loss", "train_acc") has not improved by more than min_delta for `patience` epochs,
    and give the model back the weights of its best epoch (History.restored_epoch).
    callback(history) runs after every epoch. A non-finite loss raises TrainingDiverged (its
    .history holds the finished epochs) and leaves the model with the weights of its last
    finite step. The optimizer's lr is its base lr again when fit returns or raises.
    stop: a threading.Event (or a callable returning True) checked between steps; once set,
    fit returns before the next step with the finished epochs in its History and the model as
    it is. on_step(epoch, step, steps, loss, accuracy) runs after every step with the batch's
    loss and accuracy (throttle any drawing in it: it runs hundreds of times per epoch).
    transform(images, rng) -> images, if given, makes each epoch's training images from the
    originals (e.g. lenet.data.distortions.Distorter: freshly distorted digits every epoch).
    """
    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    x_train, y_train = image_label_pair("train_data", train_data)
    if val_data is not None:
        val_data = image_label_pair("val_data", val_data, like=x_train)
    _check_monitor(monitor)
    if not (math.isfinite(min_delta) and min_delta >= 0):
        raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
    stopper = None
    if patience is not None:
        positive_int("patience", patience)
        if monitor.startswith("val") and val_data is None:
            raise ValueError(f"monitor={monitor!r} needs val_data (or monitor a train_ metric)")
        stopper = _EarlyStopping(monitor, patience, min_delta)
    rng = as_generator(rng)
    loss_fn = SoftmaxCrossEntropy() if loss is None else loss
    base_lr = optimizer.lr
    history = History()
    last_finite = _snapshot(model)
    n_batches = math.ceil(len(x_train) / batch_size)
    try:
        for epoch in range(1, epochs + 1):
            if stop_requested(stop):
                break
            optimizer.lr = base_lr * (schedule(epoch - 1) if schedule is not None else 1.0)
            start = time.perf_counter()
            bar = _progress_bar(n_batches, f"epoch {epoch}/{epochs}", progress)
            # Overflow warnings would only repeat what the divergence guard reports.
            with bar, np.errstate(over="ignore", invalid="ignore"):
                x_epoch = x_train if transform is None else transform(x_train, rng)
                batches = _Stoppable(
                    iterate_minibatches(x_epoch, y_train, batch_size, rng=rng), stop
                )
                train_loss, train_acc = _train_epoch(
                    model, optimizer, loss_fn, batches, last_finite, bar, epoch, on_step
                )
            if batches.cut:
                break
            if val_data is not None:
                val_loss, val_acc = evaluate(model, *val_data, loss=loss_fn)[:2]
            else:
                val_loss, val_acc = math.nan, math.nan
            history.epoch.append(epoch)
            history.train_loss.append(train_loss)
            history.train_acc.append(train_acc)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            history.lr.append(optimizer.lr)
            history.seconds.append(time.perf_counter() - start)
            if progress:
                tqdm.write(epoch_summary(history), file=sys.stdout)
                sys.stdout.flush()  # a line per epoch even when stdout is a pipe or a file
            if callback is not None:
                callback(history)
            if stopper is not None and stopper.should_stop(model, history):
                stopper.restore(model, history)
                break
    except TrainingDiverged as err:
        err.history = history
        raise
    finally:
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


def evaluate(model, images, labels, batch_size=1000, loss=None):
    """Mean loss, accuracy and predicted classes (N,) of model on images (N, ...), labels (N,).

    loss defaults to SoftmaxCrossEntropy(). Runs forward in batches and then drops the layers'
    forward caches, so an evaluated model does not keep the large column buffers alive.
    """
    images, labels = image_label_pair("evaluate", (images, labels))
    positive_int("batch_size", batch_size)
    loss_fn = SoftmaxCrossEntropy() if loss is None else loss
    total, predictions = 0.0, []
    for start in range(0, len(images), batch_size):
        logits = model.forward(images[start : start + batch_size])
        y = labels[start : start + batch_size]
        total += loss_fn.forward(logits, y) * len(y)
        predictions.append(logits.argmax(axis=1))
    model.clear_cache()
    predictions = np.concatenate(predictions)
    return (
        total / len(labels),
        _correct(predictions, labels, scores=False) / len(labels),
        predictions,
    )


def _correct(outputs, labels, scores=True):
    """How many argmax(outputs) (or outputs, when not scores) equal the class labels (N,).

    nan when the labels are not class indices (e.g. MSELoss targets (N, K)): no accuracy then.
    """
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        return math.nan
    predicted = outputs.argmax(axis=1) if scores else outputs
    return int(np.count_nonzero(predicted == labels))


def confusion_matrix(labels, predictions, num_classes=10):
    """(num_classes, num_classes) int64 counts: row = true class, column = predicted class."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise ValueError(
            f"labels and predictions must have the same shape (N,), got {labels.shape} "
            f"and {predictions.shape}"
        )
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f"{name} must lie in [0, {num_classes}), got values from {values.min()} "
                f"to {values.max()}"
            )
    flat = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)
