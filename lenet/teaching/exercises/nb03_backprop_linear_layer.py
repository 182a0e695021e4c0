"""Notebook 3's exercises: the linear layer's backward pass (3.1), a numerical gradient (3.2),
and the linear layer as a class that follows the Layer contract (3.3)."""

import numpy as np

from lenet.nn import Layer, Linear, numerical_gradient
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.teaching.exercises.common import normal_args
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]

DB_AXIS = "db sums dout over the batch, axis 0 (b is added to every row): shape (out,)"


def linear_backward(x, W, dout):
    layer = Linear(*W.shape, dtype=np.float64)
    layer.params["W"][...] = W
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.grads["W"], layer.grads["b"]


def cubes(x):
    """sum(x^3)"""
    return float(np.sum(x**3))


def wiggle(x):
    """sum(sin(3x)) + x[0]^2"""
    return float(np.sum(np.sin(3 * x)) + x.flat[0] ** 2)


def central_differences(f, x, eps=1e-6):
    return numerical_gradient(f, x.copy(), eps)


def forward_differences(f, x, eps):
    x = x.copy()
    grad = np.zeros(x.shape)
    base = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - base) / eps
        x[i] = old
    return grad


LINEAR_CASES = (
    Case("square W (3 in, 3 out)", normal_args(31, x=(4, 3), W=(3, 3), dout=(4, 3))),
    Case("3 in, 2 out", normal_args(32, x=(5, 3), W=(3, 2), dout=(5, 2))),
    Case("one example", normal_args(33, x=(1, 4), W=(4, 3), dout=(1, 3))),
)

_FUNCTIONS = (
    Exercise(
        number="3.1",
        function="linear_backward",
        task="return (dx, dW, db) of y = x @ W + b for the upstream dout",
        reference=linear_backward,
        cases=LINEAR_CASES,
        mistakes=(
            Mistake(
                wrong=lambda x, W, d: (d @ W, x.T @ d, d.sum(0)),
                hint="dx = dout @ W.T: W must be transposed to map (N, out) back to (N, in)",
            ),
            Mistake(
                wrong=lambda x, W, d: (d @ W.T, d.T @ x, d.sum(0)),
                hint="dW = x.T @ dout, shape (in, out) like W; you have its transpose",
            ),
            Mistake(
                wrong=lambda x, W, d: (d @ W.T, x.T @ d, d.mean(0)),
                hint="db sums dout over the batch (b is added to every row); you averaged",
            ),
            Mistake(
                wrong=lambda x, W, d: (d @ W.T, x.T @ d / len(x), d.sum(0) / len(x)),
                hint="no division by N here: dout already carries the loss's 1/N",
            ),
            Mistake(
                wrong=lambda x, W, d: (d @ W.T, x.T @ d, d),
                hint="db must be summed over the batch axis: dout.sum(axis=0), shape (out,)",
            ),
            Mistake(wrong=lambda x, W, d: (d @ W.T, x.T @ d, d.sum(1)), hint=DB_AXIS),
            Mistake(wrong=lambda x, W, d: (d @ W.T, x.T @ d, d.sum()), hint=DB_AXIS),
        ),
        outputs=("dx", "dW", "db"),
    ),
    Exercise(
        number="3.2",
        function="numerical_gradient",
        task="return df/dx by central differences (f(x + eps) - f(x - eps)) / (2 eps), per element",
        reference=central_differences,
        cases=(
            Case(
                "a vector, eps = 1e-3", {"f": cubes, "x": np.array([0.5, -1.0, 2.0]), "eps": 1e-3}
            ),
            Case(
                "a 2 x 3 matrix",
                {"f": wiggle, "x": as_generator(34).normal(size=(2, 3)), "eps": 1e-4},
            ),
        ),
        mistakes=(
            Mistake(
                wrong=forward_differences,
                hint="that is the one-sided difference (f(x + eps) - f(x)) / eps: use the "
                "central one, (f(x + eps) - f(x - eps)) / (2 eps), far more accurate",
            ),
            Mistake(
                wrong=lambda f, x, eps: 2 * central_differences(f, x, eps),
                hint="divide by 2 eps: the two points lie 2 eps apart",
            ),
            Mistake(
                wrong=lambda f, x, eps: -central_differences(f, x, eps),
                hint="wrong sign: f(x + eps) comes first in the difference",
            ),
        ),
        outputs=("the gradient",),
    ),
)


class LinearLayer(Layer):
    """lenet's answer to 3.3: y = x @ W + b as a layer, W: (D, M), b: (M,)."""

    def __init__(self, W, b):
        super().__init__()
        self.params = {"W": W, "b": b}

    def forward(self, x):
        self._cache = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = linear_backward(
            self._cached(), self.params["W"], dout
        )
        return dx


def run_layer(layer_class):
    """A layer class as a function of arrays: (y, dx, dW, db) of one forward and backward."""

    def run(W, b, x, dout):
        layer = layer_class(W.copy(), b.copy())
        y = layer.forward(x)
        dx = layer.backward(dout)
        return y, dx, layer.grads["W"], layer.grads["b"]

    return run


class _NoGrads(LinearLayer):
    def backward(self, dout):
        return dout @ self.params["W"].T


class _NoBias(LinearLayer):
    def forward(self, x):
        return super().forward(x) - self.params["b"]


class _TransposedDW(LinearLayer):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = dout.T @ self._cached()
        return dx


class _AllSummedDB(LinearLayer):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = dout.sum()
        return dx


LAYER_CASES = (
    Case("4 examples, 3 in, 2 out", normal_args(34, W=(3, 2), b=2, x=(4, 3), dout=(4, 2))),
    Case("one example, 5 in, 3 out", normal_args(35, W=(5, 3), b=3, x=(1, 5), dout=(1, 3))),
    Case("square W (4 in, 4 out)", normal_args(36, W=(4, 4), b=4, x=(6, 4), dout=(6, 4))),
)

LINEAR_LAYER = Exercise(
    number="3.3",
    function="LinearLayer",
    task="fill in forward (keep x for backward) and backward (return dx, set self.grads)",
    reference=LinearLayer,
    cases=LAYER_CASES,
    mistakes=(
        Mistake(
            wrong=_NoGrads,
            hint='backward must also store the parameters\' gradients: self.grads["W"] = '
            'x.T @ dout and self.grads["b"] = dout.sum(axis=0), with x kept by forward',
            error="'W'",
        ),
        Mistake(wrong=_NoBias, hint="forward adds the bias b to every row: x @ W + b"),
        Mistake(
            wrong=_TransposedDW,
            hint="dW has the shape of W, (D, M): x.T @ dout, not dout.T @ x",
        ),
        Mistake(wrong=_AllSummedDB, hint=DB_AXIS),
    ),
    outputs=("y", "dx", "dW", "db"),
    prepare=run_layer,
)

EXERCISES = (*_FUNCTIONS, LINEAR_LAYER)
