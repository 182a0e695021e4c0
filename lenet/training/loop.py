"""Training: fit a model with mini-batch gradient descent, evaluate it, and keep a History.

history = fit(model, SGD(model, lr=0.05, momentum=0.9), (x_train, y_train), epochs=8,
              val_data=(x_val, y_val), schedule=ExponentialDecay(0.9), rng=0)
loss, accuracy, predictions = evaluate(model, x_test, y_test)

The 1998 paper's recipe is this same fit with its optimizer, loss and schedule
(lenet.paper1998.recipe). The progress bar is whatever the caller hands in: tqdm.auto's by
default (a notebook bar in Jupyter, text in a terminal), none with progress=None.
"""

import dataclasses
import math
import sys
import time

import numpy as np
from tqdm.auto import tqdm

from lenet.data import iterate_minibatches
from lenet.nn.losses import SoftmaxCrossEntropy
from lenet.nn.optim import SGD
from lenet.utils.checks import image_label_pair, non_negative_int, positive_int
from lenet.utils.i18n import translate
from lenet.utils.rng import as_generator

__all__ = [
    "History",
    "TrainingDiverged",
    "fit",
    "stop_requested",
    "epoch_summary",
    "evaluate",
    "confusion_matrix",
    "copy_weights",
    "restore_weights",
]

MONITORS = ("val_loss", "val_acc", "train_loss", "train_acc")


class TrainingDiverged(RuntimeError):
    """The loss or the weights became inf or nan; the message names the likely cause.

    fit sets .history to the History of the epochs that finished before it diverged, and gives
    the model back the weights of its last finite step.
    """

    history = None


@dataclasses.dataclass
class History:
    """What happened in each epoch: lists with one entry per epoch (epochs count from 1).

    train_loss and train_acc are means over the epoch's steps (on the images it trained on,
    distorted ones included); val_loss and val_acc are measured after the epoch, nan when fit
    had no validation data. lr is the learning rate of the epoch's steps after any warm-up.
    After early stopping, stopped_epoch is the last epoch trained and restored_epoch the epoch
    whose weights the model was given back (the last one that improved the monitored metric by
    min_delta); both stay None when training ran all its epochs.
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

    def append(self, epoch, train, val, lr, seconds):
        """Record one epoch: train and val are (loss, accuracy) pairs."""
        self.epoch.append(epoch)
        self.train_loss.append(train[0])
        self.train_acc.append(train[1])
        self.val_loss.append(val[0])
        self.val_acc.append(val[1])
        self.lr.append(lr)
        self.seconds.append(seconds)


def _check_monitor(monitor):
    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {MONITORS}, got {monitor!r}")


def copy_weights(model, into=None):
    """Copies of every layer's parameters, [{name: array}] per layer; written into the arrays
    of an earlier copy (into) when given, so that a copy taken every step allocates nothing."""
    if into is None:
        return [{k: v.copy() for k, v in layer.params.items()} for layer in model.layers]
    for layer, saved in zip(model.layers, into, strict=True):
        for k, v in layer.params.items():
            np.copyto(saved[k], v)
    return into


def restore_weights(model, saved):
    """Write a copy_weights copy back into the parameter arrays, in place: an optimizer holds
    references to those arrays, so they must stay the same objects."""
    for layer, arrays in zip(model.layers, saved, strict=True):
        for k, v in arrays.items():
            np.copyto(layer.params[k], v)


def _all_finite(model):
    return all(np.isfinite(p).all() for layer in model.layers for p in layer.params.values())


def _weight_and_gradient_norms(model):
    """(|w|, |g|): the Euclidean norms of all parameters and of their gradients."""
    layers = [layer for layer in model.layers if layer.params]

    def norm(arrays):
        return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))

    weights = norm(p for layer in layers for p in layer.params.values())
    return weights, norm(layer.grads[k] for layer in layers for k in layer.params)


def _decay_grows_the_weights(run, batch):
    """True when SGD's weight decay is what drives the weights out of range.

    The decay step alone multiplies a weight by 1 - lr x weight_decay; with momentum m that
    motion is unstable once lr x weight_decay reaches 2 (1 + m). It is the cause when, in the
    first step of training, the decay term weight_decay x |w| also outweighed the gradient |g|
    (later both grow together, so only the start tells them apart).
    """
    optimizer = run.optimizer
    if not (isinstance(optimizer, SGD) and optimizer.weight_decay):
        return False
    if run.epoch_lr * optimizer.weight_decay < 2 * (1 + optimizer.momentum):
        return False
    if run.start_norms is None:  # diverged in the first step: the weights are the initial ones
        with np.errstate(all="ignore"):
            run.model.forward_backward(*batch, run.loss_fn)
        run.start_norms = _weight_and_gradient_norms(run.model)
    weights, grads = run.start_norms
    return optimizer.weight_decay * weights >= grads


def _diverged(run, what, where, batch):
    """Restore the last finite weights -> a TrainingDiverged naming what to change."""
    model, optimizer = run.model, run.optimizer
    restore_weights(model, run.last_finite)
    if _decay_grows_the_weights(run, batch):
        lr, decay = run.epoch_lr, optimizer.weight_decay
        limit = 2 * (1 + optimizer.momentum)
        advice = (
            f"The weight decay {decay:g} is what grows the weights: each decay step "
            f"overshoots zero (learning rate x decay = {lr * decay:g}, stable below {limit:g}). "
            f"Try a weight decay below {limit / lr:.3g} (e.g. 1e-3)."
        )
    else:
        advice = "Try a smaller learning rate (e.g. 10x lower)."
    epoch, step = where
    return TrainingDiverged(
        f"training diverged: {what} in epoch {epoch}, step {step} at learning rate "
        f"{optimizer.lr:g}. {advice}"
    )


class _Warmup:
    """The learning rate of each step: rising linearly over the first `steps` steps of
    training, from lr / steps to lr, then lr (steps=0: lr from the first step)."""

    def __init__(self, steps):
        self.steps, self.done = steps, 0

    def rate(self, lr):
        self.done += 1
        return lr * min(1.0, self.done / self.steps) if self.steps else lr


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


def _bar(progress, total, desc):
    """A bar from the caller's tqdm-like factory; with progress=None a disabled tqdm."""
    if progress is None or progress is False:
        return tqdm(total=total, desc=desc, disable=True)
    return progress(total=total, desc=desc, leave=False)


def _say(progress, line):
    """Print line on stdout below the bar (through the bar class's write, which keeps the bar
    whole), flushed: a line per epoch even when stdout is a pipe or a file."""
    line = translate(line)  # in a Chinese notebook, Chinese (lenet.utils.i18n)
    write = getattr(progress, "write", None)
    if write is not None:
        write(line, file=sys.stdout)
    else:
        print(line)
    sys.stdout.flush()


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
            self.best_weights = copy_weights(model, into=self.best_weights)
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore(self, model, history):
        history.stopped_epoch = history.epoch[-1]
        if self.best_weights is not None:
            restore_weights(model, self.best_weights)
            history.restored_epoch = self.best_epoch


@dataclasses.dataclass
class _Run:
    """What the epochs of one fit call share: the model, its optimizer and loss, the data and
    the options; last_finite holds the weights before the latest step (the divergence guard)."""

    model: object
    optimizer: object
    loss_fn: object
    train_data: tuple
    batch_size: int
    rng: np.random.Generator
    transform: object
    stop: object
    progress: object
    on_step: object
    warmup: _Warmup
    last_finite: list
    val_data: tuple | None
    schedule: object
    stopper: object
    callback: object
    start_norms: tuple | None = None  # (|w|, |g|) at the first step, for _decay_grows_the_weights
    epoch_lr: float = 0.0  # the epoch's learning rate, which a warm-up is rising to

    def fit(self, epochs):
        """fit's epochs -> the History (see fit)."""
        optimizer = self.optimizer
        base_lr, history = optimizer.lr, History()
        try:
            for epoch in range(1, epochs + 1):
                if stop_requested(self.stop):
                    break
                factor = self.schedule(epoch - 1) if self.schedule is not None else 1.0
                optimizer.lr = base_lr * factor
                start = time.perf_counter()
                train = self.epoch(epoch, epochs)
                if train is None or self.record(history, epoch, train, start):
                    break
        except TrainingDiverged as err:
            err.history = history
            raise
        finally:
            optimizer.lr = base_lr
        return history

    def record(self, history, epoch, train, start):
        """Validate, record the epoch, report it; True when early stopping ends training."""
        val = (math.nan, math.nan)
        if self.val_data is not None:
            val = evaluate(self.model, *self.val_data, loss=self.loss_fn)[:2]
        history.append(epoch, train, val, self.optimizer.lr, time.perf_counter() - start)
        if self.progress is not None and self.progress is not False:
            _say(self.progress, epoch_summary(history))
        if self.callback is not None:
            self.callback(history)
        if self.stopper is not None and self.stopper.should_stop(self.model, history):
            self.stopper.restore(self.model, history)
            return True
        return False

    def epoch(self, epoch, epochs):
        """Train one epoch -> (mean loss, accuracy), or None when a stop request cut it short."""
        x, y = self.train_data
        steps = math.ceil(len(x) / self.batch_size)
        # Overflow warnings would only repeat what the divergence guard reports.
        with (
            _bar(self.progress, steps, translate(f"epoch {epoch}/{epochs}")) as bar,
            np.errstate(over="ignore", invalid="ignore"),
        ):
            x_epoch = x if self.transform is None else self.transform(x, self.rng)
            self.optimizer.start_epoch(x_epoch, y, self.rng)
            batches = iterate_minibatches(x_epoch, y, self.batch_size, rng=self.rng)
            batches = _Stoppable(batches, self.stop)
            result = self._steps(batches, bar, epoch)
        return None if batches.cut else result

    def _steps(self, batches, bar, epoch):
        """One step per (x, y) batch -> (mean loss, accuracy) over the epoch.

        Before each step the weights are copied into last_finite (a small fraction of a step's
        time); a non-finite loss, or non-finite weights at the end, restores that copy and
        raises TrainingDiverged. on_step(epoch, step, steps, loss, accuracy) runs after every
        step.
        """
        model, optimizer = self.model, self.optimizer
        lr = self.epoch_lr = optimizer.lr
        total_loss, correct, seen, step, batch = 0.0, 0, 0, 0, None
        try:
            for step, batch in enumerate(batches, start=1):
                xb, yb = batch
                optimizer.lr = self.warmup.rate(lr)
                loss, logits = model.forward_backward(xb, yb, self.loss_fn)  # weights unchanged
                if not math.isfinite(loss):
                    raise _diverged(self, f"the loss became {loss}", (epoch, step), batch)
                if self.start_norms is None:
                    self.start_norms = _weight_and_gradient_norms(model)
                copy_weights(model, into=self.last_finite)
                optimizer.step()
                batch_correct = _correct(logits, yb)
                total_loss += loss * len(yb)
                correct += batch_correct
                seen += len(yb)
                bar.update()
                if self.on_step is not None:
                    self.on_step(epoch, step, bar.total, loss, batch_correct / len(yb))
                if step % 20 == 0 or step == bar.total:
                    bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
            if not _all_finite(model):
                raise _diverged(self, "the weights became non-finite", (epoch, step), batch)
        finally:
            optimizer.lr = lr
        return total_loss / seen, correct / seen


def _checked(epochs, batch_size, train_data, val_data, early_stopping, warmup, progress):
    """fit's arguments checked -> (train_data, val_data, an _EarlyStopping or None)."""
    patience, min_delta, monitor = early_stopping
    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    non_negative_int("warmup", warmup)
    if not (progress is None or progress is False or callable(progress)):
        raise TypeError(f"progress must be a tqdm-like class or None, got {progress!r}")
    train_data = image_label_pair("train_data", train_data)
    if val_data is not None:
        val_data = image_label_pair("val_data", val_data, like=train_data[0])
    _check_monitor(monitor)
    if not (math.isfinite(min_delta) and min_delta >= 0):
        raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
    if patience is None:
        return train_data, val_data, None
    positive_int("patience", patience)
    if monitor.startswith("val") and val_data is None:
        raise ValueError(f"monitor={monitor!r} needs val_data (or monitor a train_ metric)")
    return train_data, val_data, _EarlyStopping(monitor, patience, min_delta)


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
    progress=tqdm,
    loss=None,
    stop=None,
    on_step=None,
    transform=None,
    warmup=0,
):
    """Train model on train_data = (images (N, ...), labels (N,)) for up to `epochs` epochs.

    Each epoch: optimizer.lr = base lr x schedule(epoch) (epoch counted from 0, base lr the
    optimizer's lr at the start); the epoch's images (transform(images, rng) -> images if
    given, e.g. lenet.data.distortions.Distorter: freshly distorted digits every epoch);
    optimizer.start_epoch(images, labels, rng); shuffled mini-batches from rng (a Generator or
    an int seed): forward, loss (default SoftmaxCrossEntropy()), backward, optimizer step;
    then validation on val_data. warmup: the first `warmup` steps of training ramp the
    learning rate linearly up to the epoch's. Accuracy counts argmax(output) == label, for
    integer class labels.
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
    progress: a tqdm-like class, called as progress(total=, desc=, leave=False) for a bar per
    epoch, after which a line per epoch is printed; None: no bar and no lines.
    """
    train_data, val_data, stopper = _checked(
        epochs, batch_size, train_data, val_data, (patience, min_delta, monitor), warmup, progress
    )
    run = _Run(
        model=model,
        optimizer=optimizer,
        loss_fn=SoftmaxCrossEntropy() if loss is None else loss,
        train_data=train_data,
        batch_size=batch_size,
        rng=as_generator(rng),
        transform=transform,
        stop=stop,
        progress=progress,
        on_step=on_step,
        warmup=_Warmup(warmup),
        last_finite=copy_weights(model),
        val_data=val_data,
        schedule=schedule,
        stopper=stopper,
        callback=callback,
    )
    return run.fit(epochs)


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
