"""One experiment from plain names and numbers: build a model and its optimizer, train, test.

    result = run(Settings(lr=0.05, batch_size=64, epochs=3), data=mnist_splits())
    result.test_accuracy, result.history, result.model

The command line (`python -m lenet train`), the training panel (lenet.teaching.widgets), notebooks
and the benchmarks all call this module, so a setting means the same everywhere. Nothing here
draws or prints (but fit's progress bar when asked).
"""

import dataclasses
import functools
import math
import time

import numpy as np

from lenet import paper1998
from lenet.data import load_mnist, train_val_split
from lenet.data.distortions import Distorter
from lenet.nn import optim
from lenet.nn.models import LeNet5
from lenet.training import loop
from lenet.utils.checks import non_negative_int, number_in, positive_int, positive_number
from lenet.utils.rng import as_generator

__all__ = [
    "MODELS",
    "ACTIVATIONS",
    "POOLS",
    "OPTIMIZERS",
    "DEFAULT_LR",
    "DEFAULT_MOMENTUM",
    "Settings",
    "Result",
    "build_model",
    "build_optimizer",
    "build_schedule",
    "mnist_splits",
    "run",
]

MODELS = ("lenet5", "report", "lenet1998")
# The 1998 paper's recipe (lenet.paper1998): its 20 passes, in mini-batches of 16 (see sdlm).
# What epochs and batch_size are when left at None: a model's own recipe, else the first entry.
MODEL_DEFAULTS = {
    "lenet5": {"epochs": 10, "batch_size": 64},
    "lenet1998": {"epochs": 20, "batch_size": 16},
}
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")
POOLS = ("max", "avg")
OPTIMIZERS = ("sgd", "adam")
DEFAULT_LR = {"sgd": 0.05, "adam": 0.001}
DEFAULT_MOMENTUM = 0.9


@dataclasses.dataclass
class Settings:
    """Everything that defines a training run; the defaults are `python -m lenet train`'s.

    model: "lenet5" (LeNet5(activation, pool)) or "report" (the seed report's network:
    LeNet5("sigmoid", "avg") with every weight and bias drawn from N(0, 1), as the report did).
    lr: None picks DEFAULT_LR[optimizer]. momentum: SGD only (None: DEFAULT_MOMENTUM; Adam
    refuses one rather than ignore it). lr_decay: the learning
    rate is multiplied by it after every epoch (1 = constant). epochs and batch_size: None
    picks the model's recipe (MODEL_DEFAULTS: 20 passes of 16 for lenet1998, else 10 epochs
    of 64). distort: train on randomly distorted digits (lenet.data.distortions). n_train: train on
    the first n_train training images only (None: all). patience: early stopping on the validation
    accuracy (the training accuracy when there is no validation data); None trains all epochs.
    """

    model: str = "lenet5"
    activation: str = "relu"
    pool: str = "max"
    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float | None = None
    weight_decay: float = 1e-3
    lr_decay: float = 0.8
    epochs: int | None = None
    batch_size: int | None = None
    n_train: int | None = None
    patience: int | None = None
    seed: int = 0
    distort: bool = False

    def __post_init__(self):
        recipe = MODEL_DEFAULTS.get(self.model, MODEL_DEFAULTS["lenet5"])
        if self.epochs is None:
            self.epochs = recipe["epochs"]
        if self.batch_size is None:
            self.batch_size = recipe["batch_size"]
        for name, allowed in (
            ("model", MODELS),
            ("activation", ACTIVATIONS),
            ("pool", POOLS),
            ("optimizer", OPTIMIZERS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.lr is not None:
            positive_number("lr", self.lr)
        if self.momentum is not None:
            if self.optimizer != "sgd":
                raise ValueError(f"momentum applies to sgd only, not to {self.optimizer}")
            number_in("momentum", self.momentum, 0, 1, "in [0, 1)", high_inclusive=False)
        number_in("weight_decay", self.weight_decay, 0, math.inf, "a finite number >= 0")
        number_in("lr_decay", self.lr_decay, 0, 1, "a factor in (0, 1]", low_inclusive=False)
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        if self.n_train is not None:
            positive_int("n_train", self.n_train)
        if self.patience is not None:
            positive_int("patience", self.patience)
        non_negative_int("seed", self.seed)
        self.distort = bool(self.distort)

    @property
    def learning_rate(self):
        """lr, or the optimizer's default when lr is None."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]

    def describe(self):
        """One line: the network, optimizer, learning rate and batch size."""
        if self.model == "lenet1998":
            return (
                f"the 1998 LeNet-5 (MAP loss, SDLM, the paper's step schedule"
                f"{', distortions' if self.distort else ''}), batch {self.batch_size}, "
                f"{self.epochs} pass{'es' if self.epochs != 1 else ''}"
            )
        if self.model == "report":
            net = "the report's network"
        else:
            net = f"LeNet-5 ({self.activation}, {self.pool} pool)"
        return (
            f"{net}{', distorted digits' if self.distort else ''}, {self.optimizer} lr "
            f"{self.learning_rate:.3g}, batch {self.batch_size}, "
            f"up to {self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        )


@dataclasses.dataclass
class Result:
    """What a run gives back.

    history: the finished epochs (None if training diverged in its first epoch);
    test_accuracy and test_predictions (N,): None when the run diverged or had no test data;
    seconds: training time; diverged: None, or fit's message saying where and why;
    stopped: True when a stop request ended the run before its last epoch (then the model is
    as the last step left it, and it was not tested).
    """

    settings: Settings
    model: object
    history: loop.History | None
    test_accuracy: float | None
    test_predictions: np.ndarray | None
    seconds: float
    diverged: str | None = None
    stopped: bool = False
    test_errors: list | None = None  # lenet1998: the test error after every pass

    @property
    def seconds_per_epoch(self):
        """Mean training seconds per finished epoch (None when none finished)."""
        return float(np.mean(self.history.seconds)) if self.history else None

    def verdict(self, within_epochs=()):
        """Plain words on how the run went: last and best epoch, collapse, divergence, stop.

        Accuracy is the validation accuracy (the training accuracy without validation data).
        within_epochs: training accuracies measured during the epochs (oldest first), e.g. a
        live curve's points, so that a collapse inside an epoch is named too.
        """
        history, words = self.history, []
        if self.diverged:
            words.append(f"Diverged: {self.diverged}")
        if self.stopped:
            done = len(history) if history else 0
            words.append(f"Stopped after {done} finished epoch{'s' if done != 1 else ''}.")
        if not history:
            return " ".join(words)
        has_val = not np.isnan(history.val_acc).all()
        name, monitor = ("validation", "val_acc") if has_val else ("training", "train_acc")
        accuracy = getattr(history, monitor)
        best = history.best_epoch(monitor)
        last, peak = accuracy[-1], accuracy[history.epoch.index(best)]
        line = f"{name.capitalize()} accuracy {last:.1%} after epoch {history.epoch[-1]}"
        line += "." if best == history.epoch[-1] else f", best {peak:.1%} after epoch {best}."
        words.append(line)
        within = [a for a in within_epochs if np.isfinite(a)]
        high = max([peak, *within])
        if high - last >= 0.2:
            words.append(
                f"It collapsed: accuracy reached {high:.0%}, then fell to {last:.0%}. The "
                "learning rate is too large for this batch size; try one 3 to 10 times smaller."
            )
        elif high < 0.2 and not self.diverged:
            words.append(
                "It stayed near chance (10%): the learning rate is either too small to learn in "
                "this many steps, or so large that every ReLU died."
            )
        return " ".join(words)


def build_model(settings):
    """A freshly initialised model for settings (its seed gives the weights)."""
    if settings.model == "lenet1998":
        return paper1998.LeNet1998(rng=settings.seed)
    if settings.model == "report":
        model = LeNet5("sigmoid", "avg")
        rng = as_generator(settings.seed)
        for layer in model.layers:
            for p in layer.params.values():
                p[...] = rng.standard_normal(p.shape)
        return model
    return LeNet5(settings.activation, settings.pool, rng=settings.seed)


def build_optimizer(settings, model):
    """SGD (with momentum and weight decay) or Adam, at settings.learning_rate."""
    if settings.optimizer == "sgd":
        return optim.SGD(
            model,
            lr=settings.learning_rate,
            momentum=DEFAULT_MOMENTUM if settings.momentum is None else settings.momentum,
            weight_decay=settings.weight_decay,
        )
    return optim.Adam(model, lr=settings.learning_rate, weight_decay=settings.weight_decay)


def build_schedule(settings):
    """The learning-rate schedule: x lr_decay per epoch, or None for a constant rate."""
    return optim.ExponentialDecay(settings.lr_decay) if settings.lr_decay != 1 else None


@functools.lru_cache(maxsize=2)
def mnist_splits(n_val=5000, root=None):
    """((x_train, y_train), (x_val, y_val), (x_test, y_test)) of MNIST, loaded once.

    The validation images are the last n_val of the training file (0: none, an empty pair).
    """
    train_pair, val = train_val_split(*load_mnist("train", root=root), n_val=n_val)
    return train_pair, val, load_mnist("test", root=root)


def run(settings, data=None, callback=None, progress=False, model=None, stop=None, on_step=None):
    """Train a fresh model as settings say and test it; never raises on divergence.

    data: (train, val, test) pairs of (images, labels); val may be empty (no validation) and
    test None (no test). Default: mnist_splits(). callback(history) runs after every epoch.
    model: the model to train, if built already by build_model(settings).
    stop, on_step: passed to loop.fit (a stop request ends the run between two steps; the
    Result then says stopped=True and skips the test). The 1998 recipe takes stop, not on_step.
    """
    if settings.model == "lenet1998":
        if on_step is not None:
            raise ValueError(
                "on_step is not available for model='lenet1998' (its recipe is "
                "lenet.paper1998.train_1998, which reports after every pass)"
            )
        return _run_1998(settings, data, callback, model, stop)
    (x_train, y_train), val, test = data if data is not None else mnist_splits()
    if settings.n_train is not None:
        x_train, y_train = x_train[: settings.n_train], y_train[: settings.n_train]
    has_val = val is not None and len(val[0]) > 0
    model = build_model(settings) if model is None else model
    finished = []  # the history as of the last finished epoch, kept if a later one diverges

    def after_epoch(history):
        finished[:] = [history]
        if callback is not None:
            callback(history)

    start = time.perf_counter()
    try:
        history = loop.fit(
            model,
            build_optimizer(settings, model),
            (x_train, y_train),
            settings.epochs,
            batch_size=settings.batch_size,
            val_data=val if has_val else None,
            schedule=build_schedule(settings),
            patience=settings.patience,
            monitor="val_acc" if has_val else "train_acc",
            rng=settings.seed,
            callback=after_epoch,
            progress=progress,
            stop=stop,
            on_step=on_step,
            transform=Distorter() if settings.distort else None,
        )
        diverged = None
    except loop.TrainingDiverged as err:
        history, diverged = (finished[0] if finished else None), str(err)
    seconds = time.perf_counter() - start
    stopped = (
        diverged is None
        and loop.stop_requested(stop)
        and len(history) < settings.epochs
        and history.stopped_epoch is None
    )
    accuracy = predictions = None
    if diverged is None and not stopped and test is not None:
        _, accuracy, predictions = loop.evaluate(model, *test)
    return Result(settings, model, history, accuracy, predictions, seconds, diverged, stopped)


def _run_1998(settings, data, callback, model, stop):
    """run() for the 1998 LeNet-5: the paper's recipe (lenet.paper1998.train_1998) on the
    training images (validation images, if any, are not used), the test error after every
    pass. Its History: train_acc = 1 - the training error after the pass (on the first 10,000
    training images), lr = the pass's eta, and history.passes is the paper1998.Record1998 (the
    test error after every pass); callback(history) runs after every pass."""
    (x_train, y_train), _, test = data if data is not None else mnist_splits(n_val=0)
    if settings.n_train is not None:
        x_train, y_train = x_train[: settings.n_train], y_train[: settings.n_train]
    model = build_model(settings) if model is None else model
    history = loop.History()

    def after_pass(record):
        history.epoch.append(record.epoch[-1])
        history.train_loss.append(record.train_loss[-1])
        history.train_acc.append(1 - record.train_error[-1])
        history.val_loss.append(math.nan)
        history.val_acc.append(math.nan)
        history.lr.append(record.eta[-1])
        history.seconds.append(record.seconds[-1])
        history.passes = record  # the paper's numbers: test error per pass, eta, ...
        if callback is not None:
            callback(history)

    start = time.perf_counter()
    try:
        record = paper1998.train_1998(
            model,
            (x_train, y_train),
            test,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            distort=Distorter() if settings.distort else None,
            train_error_samples=10_000,
            rng=settings.seed,
            callback=after_pass,
            stop=stop,
        )
        diverged = None
    except loop.TrainingDiverged as err:
        record, diverged = None, str(err)
    seconds = time.perf_counter() - start
    stopped = record is not None and record.stopped
    accuracy = predictions = None
    if diverged is None and not stopped and test is not None:
        error, predictions = paper1998.error_rate(model, *test)
        accuracy = 1 - error
    return Result(
        settings,
        model,
        history if len(history) else None,
        accuracy,
        predictions,
        seconds,
        diverged,
        stopped,
        test_errors=None if record is None else record.test_error,
    )
