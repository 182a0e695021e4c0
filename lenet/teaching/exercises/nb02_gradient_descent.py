"""Notebook 2's exercises: the path of gradient descent (2.1) and one step on the MSE (2.2)."""

import numpy as np

from lenet.nn import Linear, MSELoss
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.teaching.exercises.common import NO_N, normal_args

__all__ = ["EXERCISES"]


def bowl_gradient(x):
    """the gradient of (x - 3)^2 + 1"""
    return 2 * (x - 3)


def tilted_bowl_gradient(x):
    """the gradient of x1^2 + 10 x2^2"""
    return np.array([2.0, 20.0]) * x


def descend(grad, x0, lr, steps):
    path = [np.array(x0, dtype=np.float64)]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(path[-1]))
    return np.array(path)


def descend_in_place(grad, x0, lr, steps):
    """The path as a list of one array updated in place by x -= ...: every point is the last."""
    x = np.array(x0, dtype=np.float64)
    path = [x]
    for _ in range(steps):
        x -= lr * grad(x)
        path.append(x)
    return np.array(path)


def gd_step(W, b, X, y, lr):
    layer = Linear(*W.shape, dtype=np.float64)
    layer.params["W"][...], layer.params["b"][...] = W, b
    loss = MSELoss()
    loss.forward(layer.forward(X), y)
    layer.backward(loss.backward())
    return W - lr * layer.grads["W"], b - lr * layer.grads["b"]


def gd_step_scaled(W, b, X, y, lr, factor):
    """A step whose gradients are X.T err and sum(err) times factor (right: factor = 2 / N)."""
    err = X @ W + b - y  # (N, 1)
    return W - lr * factor * X.T @ err, b - lr * factor * err.sum(axis=0)


DESCEND_CASES = (
    Case("the parabola from x0 = 0", {"grad": bowl_gradient, "x0": 0.0, "lr": 0.1, "steps": 5}),
    Case(
        "a 2-D bowl from (1, 1)",
        {"grad": tilted_bowl_gradient, "x0": np.array([1.0, 1.0]), "lr": 0.04, "steps": 3},
    ),
)

GD_STEP_CASES = (
    Case(
        "4 examples, 3 features",
        {**normal_args(21, W=(3, 1), b=1, X=(4, 3), y=(4, 1)), "lr": 0.1},
    ),
    Case(
        "7 examples, 2 features",
        {**normal_args(22, W=(2, 1), b=1, X=(7, 2), y=(7, 1)), "lr": 0.05},
    ),
)

EXERCISES = (
    Exercise(
        number="2.1",
        function="descend",
        task="return the path [x0, x1, ..., x_steps] of x <- x - lr * grad(x)",
        reference=descend,
        cases=DESCEND_CASES,
        mistakes=(
            Mistake(
                wrong=lambda g, x0, lr, s: descend(lambda x: -g(x), x0, lr, s),
                hint="you walk uphill: step *against* the gradient, x - lr * grad(x)",
            ),
            Mistake(
                wrong=lambda g, x0, lr, s: descend(g, x0, lr, s)[1:],
                hint="the path should start with x0 itself: steps + 1 points in all",
            ),
            Mistake(
                wrong=lambda g, x0, lr, s: descend(g, x0, lr, s + 1),
                hint="one step too many: `steps` updates give steps + 1 points",
            ),
            Mistake(
                wrong=lambda g, x0, lr, s: descend(g, x0, 1.0, s),
                hint="the learning rate is missing: x - lr * grad(x)",
            ),
            Mistake(
                wrong=descend_in_place,
                hint="every point of your path is the same array, updated in place by "
                "`x -= ...`: append a copy, or write x = x - lr * grad(x)",
            ),
        ),
        outputs=("the path",),
    ),
    Exercise(
        number="2.2",
        function="gd_step",
        task="return (W_new, b_new) after one gradient-descent step on the mean squared error",
        reference=gd_step,
        cases=GD_STEP_CASES,
        mistakes=(
            Mistake(wrong=lambda W, b, X, y, lr: gd_step_scaled(W, b, X, y, lr, 2), hint=NO_N),
            Mistake(
                wrong=lambda W, b, X, y, lr: gd_step_scaled(W, b, X, y, lr, -2 / len(X)),
                hint="you step uphill: subtract lr * gradient",
            ),
            Mistake(
                wrong=lambda W, b, X, y, lr: gd_step_scaled(W, b, X, y, lr, 1 / len(X)),
                hint="the derivative of e^2 is 2e: the factor 2 is missing",
            ),
            Mistake(
                wrong=lambda W, b, X, y, lr: (
                    W - lr * 2 * X.T @ (X @ W + b - y) / len(X),
                    b - lr * 2 * np.mean(X @ W + b - y) / len(X),
                ),
                hint="db is the sum of 2 err / N over the batch; you divided by N twice",
            ),
        ),
        outputs=("W_new", "b_new"),
    ),
)
