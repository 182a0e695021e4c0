"""One experiment from plain names and numbers: build a model and its optimizer, train, test.

    result = run(Settings(lr=0.05, batch_size=64, epochs=3), data=mnist_splits())
    result.test_accuracy, result.history, result.model

The command line (`python -m lenet train`), the training panel (lenet.teaching.panel), notebooks
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
    "build_loss",
    "chance_cause",
    "mnist_splits",
    "run",
]

MODELS = ("lenet5", "report", "lenet1998")
# What epochs, batch_size and warmup are when left at None: a model's own recipe, else the first
# entry. Batches of WARMUP_FROM images or more start with WARMUP steps of a rising learning rate:
# without them batch 512 collapses to chance at seed 0, while 16 to 64 train well without and the
# default run keeps its result (`python -m lenet train --batch-size B --epochs 2 [--warmup 0]`
# for B = 16 to 512, and `python -m lenet train [--warmup 30]`; README, Results). The 1998 recipe
# is the paper's, without.
WARMUP = 30
WARMUP_FROM = 128
MODEL_DEFAULTS = {
    "lenet5": {"epochs": 10, "batch_size": 64, "warmup": WARMUP},
    "lenet1998": {
        "epochs": paper1998.PAPER_RESULTS["passes"],
        "batch_size": paper1998.BATCH_SIZE,
        "warmup": 0,
    },
}
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")
POOLS = ("max", "avg")
OPTIMIZERS = ("sgd", "adam")
DEFAULT_LR = {"sgd": 0.05, "adam": 0.001}
DEFAULT_MOMENTUM = 0.9
# Fewer steps than this leave a fresh LeNet-5 near chance even at a good learning rate, so a run
# that short is not the learning rate's fault (`python -m lenet train --epochs 1 --limit 320`,
# 5 steps of 64, and `--limit 640`, 10 steps, with and without --warmup 0; README, Results).
FEW_STEPS = 10


@dataclasses.dataclass
class Settings:
    """Everything that defines a training run; the defaults are `python -m lenet train`'s.

    model: "lenet5" (LeNet5(activation, pool)), "report" (the seed report's network:
    LeNet5("sigmoid", "avg") with every weight and bias drawn from N(0, 1), as the report did)
    or "lenet1998" (paper1998.LeNet1998 with the paper's recipe: SDLM on the MAP loss and its eta
    schedule, so activation, pool, optimizer, lr, momentum, weight_decay and lr_decay do not
    apply).
    lr: None picks DEFAULT_LR[optimizer]. momentum: SGD only (None: DEFAULT_MOMENTUM; Adam
    refuses one rather than ignore it). lr_decay: the learning
    rate is multiplied by it after every epoch (1 = constant). epochs and batch_size: None
    picks the model's recipe (MODEL_DEFAULTS: 20 passes of 16 for lenet1998, else 10 epochs
    of 64). distort: train on randomly distorted digits (lenet.data.distortions). limit: train on
    the first `limit` training images only (None: all). patience: early stopping on the validation
    accuracy (the training accuracy when there is no validation data); None trains all epochs.
    warmup: the first `warmup` steps raise the learning rate linearly to lr (None: the model's
    recipe: WARMUP steps for batches of WARMUP_FROM or more, else none; none for lenet1998).
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
    limit: int | None = None
    patience: int | None = None
    warmup: int | None = None
    seed: int = 0
    distort: bool = False

    def __post_init__(self):
        recipe = MODEL_DEFAULTS.get(self.model, MODEL_DEFAULTS["lenet5"])
        if self.epochs is None:
            self.epochs = recipe["epochs"]
        if self.batch_size is None:
            self.batch_size = recipe["batch_size"]
        if self.warmup is None:
            self.warmup = recipe["warmup"] if self.batch_size >= WARMUP_FROM else 0
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
        if self.limit is not None:
            positive_int("limit", self.limit)
        if self.patience is not None:
            positive_int("patience", self.patience)
        non_negative_int("warmup", self.warmup)
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
    train_images: how many images it trained on;
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
    train_images: int | None = None

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
                f"It stayed near chance (10%): {chance_cause(self.settings, self.train_images)}"
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
    """SGD (with momentum and weight decay) or Adam, at settings.learning_rate; for lenet1998
    the paper's SDLM on its MAP loss (lenet.paper1998.recipe)."""
    if settings.model == "lenet1998":
        return paper1998.paper_optimizer(model, settings.batch_size)
    if settings.optimizer == "sgd":
        return optim.SGD(
            model,
            lr=settings.learning_rate,
            momentum=DEFAULT_MOMENTUM if settings.momentum is None else settings.momentum,
            weight_decay=settings.weight_decay,
        )
    return optim.Adam(model, lr=settings.learning_rate, weight_decay=settings.weight_decay)


def build_schedule(settings):
    """The learning-rate schedule: the paper's eta per pass for lenet1998, else x lr_decay per
    epoch, or None for a constant rate."""
    if settings.model == "lenet1998":
        return paper1998.EtaSchedule()
    return optim.ExponentialDecay(settings.lr_decay) if settings.lr_decay != 1 else None


def build_loss(settings, optimizer):
    """The loss fit trains with: the paper's MAP loss (the one SDLM measures its curvature on)
    for lenet1998, else None (fit's default, softmax cross-entropy)."""
    return optimizer.loss if settings.model == "lenet1998" else None


def _count(n, noun):
    return f"{n:,} {noun}{'s' if n != 1 else ''}"


def chance_cause(settings, train_images):
    """Why a run on train_images images may have ended near chance, in words: a limit too small
    for any batch size, a batch larger than the data, too few steps, else the learning rate."""
    steps = settings.epochs * math.ceil(train_images / settings.batch_size)
    in_batches = f"in batches of {settings.batch_size} over {_count(settings.epochs, 'epoch')}"
    if settings.limit is not None and settings.limit * settings.epochs < FEW_STEPS:
        return (
            f"too few steps to learn from: a limit of {_count(settings.limit, 'training image')} "
            f"gives {_count(steps, 'step')} {in_batches}. Raise the limit (or train longer)."
        )
    if settings.batch_size > train_images:
        return (
            f"the batch size ({settings.batch_size}) is larger than the "
            f"{_count(train_images, 'training image')}, so every epoch is a single step: use a "
            "smaller batch size."
        )
    if steps < FEW_STEPS:
        return (
            f"too few steps to learn from: {_count(train_images, 'training image')} give "
            f"{_count(steps, 'step')} {in_batches}. Train on more images, for more epochs or in "
            "smaller batches."
        )
    return (
        "the learning rate is either too small to learn in this many steps, or so large that "
        "every ReLU died (or the loss blew up): try one 10x smaller or larger."
    )


@functools.lru_cache(maxsize=2)
def mnist_splits(n_val=5000, root=None):
    """((x_train, y_train), (x_val, y_val), (x_test, y_test)) of MNIST, loaded once.

    The validation images are the last n_val of the training file (0: none, an empty pair).
    """
    train_pair, val = train_val_split(*load_mnist("train", root=root), n_val=n_val)
    return train_pair, val, load_mnist("test", root=root)


def run(settings, data=None, callback=None, progress=None, model=None, stop=None, on_step=None):
    """Train a fresh model as settings say and test it; never raises on divergence.

    data: (train, val, test) pairs of (images, labels); val may be empty (no validation) and
    test None (no test). Default: mnist_splits(). callback(history) runs after every epoch.
    progress: fit's progress bar (a tqdm-like class, or None). model: the model to train, if
    built already by build_model(settings). stop, on_step: passed to loop.fit (a stop request
    ends the run between two steps; the Result then says stopped=True and skips the test).
    """
    (x_train, y_train), val, test = data if data is not None else mnist_splits()
    if settings.limit is not None:
        x_train, y_train = x_train[: settings.limit], y_train[: settings.limit]
    has_val = val is not None and len(val[0]) > 0
    model = build_model(settings) if model is None else model
    optimizer = build_optimizer(settings, model)
    finished = []  # the history as of the last finished epoch, kept if a later one diverges

    def after_epoch(history):
        finished[:] = [history]
        if callback is not None:
            callback(history)

    start = time.perf_counter()
    try:
        history = loop.fit(
            model,
            optimizer,
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
            loss=build_loss(settings, optimizer),
            stop=stop,
            on_step=on_step,
            transform=Distorter() if settings.distort else None,
            warmup=settings.warmup,
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
    return Result(
        settings, model, history, accuracy, predictions, seconds, diverged, stopped, len(x_train)
    )
