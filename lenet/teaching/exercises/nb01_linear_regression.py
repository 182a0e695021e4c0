"""Notebook 1's exercises: the mean squared error (1.1) and its gradient (1.2)."""

import numpy as np

from lenet.nn import MSELoss
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.teaching.exercises.common import NO_N, loss_gradient
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]


def mse(pred, target):
    return MSELoss().forward(pred, target)


def mse_gradient(pred, target):
    return loss_gradient(MSELoss(), pred, target)


CASES = tuple(
    Case(
        label,
        {
            "pred": as_generator(seed).normal(size=shape),
            "target": as_generator(seed + 1).normal(size=shape),
        },
    )
    for label, shape, seed in [
        ("a vector of 5 predictions", (5,), 1),
        ("a column (N, 1)", (4, 1), 3),
        ("3 outputs per example", (4, 3), 5),
    ]
)

EXERCISES = (
    Exercise(
        number="1.1",
        function="mse",
        task="return the mean squared error of pred against target (a float)",
        reference=mse,
        cases=CASES,
        mistakes=(
            Mistake(
                wrong=lambda p, t: np.sum((p - t) ** 2),
                hint="you summed the squared errors: divide by their number (np.mean)",
            ),
            Mistake(
                wrong=lambda p, t: np.mean(p - t),
                hint="square each error before averaging, or + and - errors cancel",
            ),
            Mistake(
                wrong=lambda p, t: np.sqrt(np.mean((p - t) ** 2)),
                hint="that is the root of the mean squared error (RMSE): leave out the sqrt",
            ),
            Mistake(
                wrong=lambda p, t: np.mean((p - t) ** 2) / 2,
                hint="you halved the mean squared error: the 1/2 convention is not ours",
            ),
            Mistake(
                wrong=lambda p, t: np.mean(np.abs(p - t)),
                hint="that is the mean *absolute* error: square the errors instead",
            ),
        ),
        outputs=("the loss",),
    ),
    Exercise(
        number="1.2",
        function="mse_gradient",
        task="return dJ/dpred, the gradient of the mean squared error (shaped like pred)",
        reference=mse_gradient,
        cases=CASES,
        mistakes=(
            Mistake(wrong=lambda p, t: 2 * (p - t), hint=NO_N),
            Mistake(
                wrong=lambda p, t: (p - t) / p.size,
                hint="the derivative of e^2 is 2e: the factor 2 is missing",
            ),
            Mistake(
                wrong=lambda p, t: 2 * (t - p) / p.size,
                hint="wrong sign: the derivative of (pred - target)^2 with respect to pred "
                "is +2 (pred - target)",
            ),
            Mistake(
                wrong=lambda p, t: 2 * (p - t) / len(p),
                hint="you divided by the number of rows; the mean runs over every element, "
                "so divide by pred.size",
            ),
        ),
        outputs=("dJ/dpred",),
    ),
)
