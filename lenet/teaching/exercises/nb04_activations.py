"""Notebook 4's exercises: the backward passes of ReLU (4.1) and the sigmoid (4.2)."""

import numpy as np

from lenet.nn import ReLU, Sigmoid
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.teaching.exercises.common import layer_backward
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]

X = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0], [1.5, 0.0, -1.0, 2.0, -3.0]])


def relu_backward(x, dout):
    return layer_backward(ReLU(), x, dout)


def sigmoid(x):
    return Sigmoid().forward(x)


def sigmoid_backward(x, dout):
    return layer_backward(Sigmoid(), x, dout)


EXERCISES = (
    Exercise(
        number="4.1",
        function="relu_backward",
        task="return dL/dx of the ReLU for the upstream gradient dout (shaped like x)",
        reference=relu_backward,
        cases=(
            Case(
                "a 2 x 5 batch with zeros", {"x": X, "dout": as_generator(41).normal(size=(2, 5))}
            ),
            Case(
                "images (N, C, H, W)",
                {
                    "x": as_generator(42).normal(size=(2, 3, 4, 5)).round(1),
                    "dout": as_generator(43).normal(size=(2, 3, 4, 5)),
                },
            ),
        ),
        mistakes=(
            Mistake(
                wrong=lambda x, d: (x > 0).astype(float),
                hint="multiply by the upstream gradient dout: dL/dx = dout * relu'(x)",
            ),
            Mistake(
                wrong=lambda x, d: np.maximum(x, 0),
                hint="that is the forward pass, relu(x); the backward pass returns the upstream "
                "gradient dout where x > 0, and 0 elsewhere",
            ),
            Mistake(
                wrong=lambda x, d: d * (x >= 0),
                hint="at x = 0 the derivative is taken as 0 (x > 0, not x >= 0), as lenet "
                "and PyTorch do",
            ),
            Mistake(
                wrong=lambda x, d: np.maximum(d, 0),
                hint="the mask comes from x (where x > 0), not from dout",
            ),
            Mistake(
                wrong=lambda x, d: np.maximum(x, 0) * d,
                hint="relu'(x) is 1 or 0, not relu(x): use (x > 0)",
            ),
        ),
        outputs=("dx",),
    ),
    Exercise(
        number="4.2",
        function="sigmoid_backward",
        task="return dL/dx of the sigmoid for the upstream gradient dout (shaped like x)",
        reference=sigmoid_backward,
        cases=(
            Case("a 2 x 5 batch", {"x": X, "dout": as_generator(44).normal(size=(2, 5))}),
            Case(
                "large |x|",
                {"x": np.array([[-30.0, 30.0, -700.0, 5.0]]), "dout": np.ones((1, 4))},
            ),
        ),
        mistakes=(
            Mistake(
                wrong=lambda x, d: d * x * (1 - x),
                hint="s (1 - s) uses the sigmoid's output s = sigmoid(x), not x itself",
            ),
            Mistake(
                wrong=lambda x, d: sigmoid(x) * (1 - sigmoid(x)),
                hint="multiply by the upstream gradient dout: dL/dx = dout * s (1 - s)",
            ),
            Mistake(wrong=lambda x, d: d * sigmoid(x), hint="the derivative is s (1 - s), not s"),
            Mistake(
                wrong=lambda x, d: d * (1 - np.tanh(x) ** 2),
                hint="that is tanh's derivative; sigmoid's is s (1 - s)",
            ),
        ),
        outputs=("dx",),
    ),
)
