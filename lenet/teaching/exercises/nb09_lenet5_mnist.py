"""Notebook 9's exercises: one epoch of mini-batch training (9.1) and the accuracy (9.2).

9.1 is a loop over a model, a loss and an optimizer: its check runs it on a small float64
linear classifier (a fresh one for every call, so the learner's loop, the reference and each
typical mistake start from the same weights) and compares the batch losses and the weights
after the epoch.
"""

import numpy as np

from lenet.data import iterate_minibatches
from lenet.nn import SGD, Linear, Sequential, SoftmaxCrossEntropy
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]


def train_epoch(model, loss_fn, optimizer, x, y, batch_size, rng):
    losses = []
    for xb, yb in iterate_minibatches(x, y, batch_size, rng=rng):
        losses.append(loss_fn.forward(model.forward(xb), yb))
        model.backward(loss_fn.backward())
        optimizer.step()
    return np.array(losses)


def run_epoch(loop):
    """loop, a train_epoch, as a function of arrays: (batch losses, W after, b after)."""

    def run(W, b, x, y, lr, batch_size, seed):
        layer = Linear(*W.shape, dtype=np.float64)
        layer.params["W"][...], layer.params["b"][...] = W, b
        model = Sequential(layer)
        losses = loop(
            model, SoftmaxCrossEntropy(), SGD(model, lr=lr, momentum=0.5), x, y, batch_size,
            as_generator(seed),
        )  # fmt: skip
        losses = np.asarray(losses, dtype=np.float64) if isinstance(losses, list) else losses
        return losses, layer.params["W"].copy(), layer.params["b"].copy()

    return run


def _loop(model, loss_fn, optimizer, x, y, batch_size, order, last=True, step_first=False,
          step=True):  # fmt: skip
    """The epoch over a given order, with the usual slips switchable."""
    losses = []
    stop = len(x) if last else len(x) - batch_size + 1
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        losses.append(loss_fn.forward(model.forward(x[idx]), y[idx]))
        if step_first:
            optimizer.step()
        model.backward(loss_fn.backward())
        if step and not step_first:
            optimizer.step()
    return np.array(losses)


def epoch_cases():
    cases = []
    for label, n, d, k, batch, seed in [
        ("10 examples in batches of 4 (the last has 2)", 10, 3, 4, 4, 91),
        ("one batch of 8", 8, 5, 3, 8, 92),
        ("7 examples in batches of 3", 7, 2, 3, 3, 93),
    ]:
        r = as_generator(seed)
        cases.append(
            Case(
                label,
                {
                    "W": r.normal(size=(d, k)),
                    "b": r.normal(size=k),
                    "x": r.normal(size=(n, d)),
                    "y": r.integers(0, k, n),
                    "lr": 0.5,
                    "batch_size": batch,
                    "seed": seed,
                },
            )  # fmt: skip
        )
    return tuple(cases)


def _epoch_variant(shuffle=True, **slips):
    """A train_epoch with the usual slips switchable (see _loop); shuffle=False keeps x's order."""

    def epoch(model, loss_fn, optimizer, x, y, batch_size, rng):
        order = as_generator(rng).permutation(len(x)) if shuffle else np.arange(len(x))
        return _loop(model, loss_fn, optimizer, x, y, batch_size, order, **slips)

    return epoch


TRAIN_EPOCH = Exercise(
    number="9.1",
    function="train_epoch",
    task="train for one epoch in shuffled mini-batches; return the batch losses as an array",
    reference=train_epoch,
    cases=epoch_cases(),
    mistakes=(
        Mistake(
            wrong=_epoch_variant(shuffle=False),
            hint="shuffle first: the batches take the examples in the order "
            "rng.permutation(len(x)) (iterate_minibatches(x, y, batch_size, rng=rng) does it)",
        ),
        Mistake(
            wrong=_epoch_variant(last=False),
            hint="keep the last, smaller batch: every example is used once per epoch",
        ),
        Mistake(
            wrong=_epoch_variant(step_first=True),
            hint="the order of a step is forward, loss, model.backward(loss_fn.backward()), "
            "and only then optimizer.step(): the step needs this batch's gradients",
            error="has no gradient",
        ),
        Mistake(
            wrong=_epoch_variant(step=False),
            hint="call optimizer.step() after each backward pass: without it the weights "
            "never change",
        ),
    ),
    outputs=("batch losses", "W after the epoch", "b after the epoch"),
    prepare=run_epoch,
)


def accuracy(logits, labels):
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def accuracy_cases():
    r = as_generator(94)
    logits = r.normal(size=(6, 4))
    ties = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    return (
        Case("6 examples, 4 classes", {"logits": logits, "labels": np.array([0, 1, 2, 3, 1, 0])}),
        Case(
            "ties: the first largest score is the answer",
            {"logits": ties, "labels": np.array([0, 2, 0, 0])},
        ),  # fmt: skip
        Case(
            "10 examples, 3 classes",
            {"logits": r.normal(size=(10, 3)), "labels": r.integers(0, 3, 10)},
        ),  # fmt: skip
    )


ACCURACY = Exercise(
    number="9.2",
    function="accuracy",
    task="return the share (a float in [0, 1]) of rows whose largest logit is the label",
    reference=accuracy,
    cases=accuracy_cases(),
    mistakes=(
        Mistake(
            wrong=lambda z, t: float(np.mean(np.argmax(z, axis=1) == t) * 100),
            hint="a share between 0 and 1, not a percentage",
        ),
        Mistake(
            wrong=lambda z, t: int(np.sum(np.argmax(z, axis=1) == t)),
            hint="the share of correct answers: divide the count by the number of examples",
        ),
        Mistake(
            wrong=lambda z, t: float(np.mean(np.argmax(z[:, ::-1], axis=1) == z.shape[1] - 1 - t)),
            hint="with tied scores the answer is the first largest one, as np.argmax gives it",
        ),
    ),
    outputs=("accuracy",),
)

EXERCISES = (TRAIN_EPOCH, ACCURACY)
