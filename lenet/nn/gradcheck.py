"""Numeric gradient checks by central differences, used by the tests and the notebooks.

For a layer y = f(x) and an upstream gradient dout, backward(dout) must return
dL/dx for L = sum(f(x) * dout). Numerically, for each coordinate i:

    dL/dx_i ~ sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2h)

Run checks in float64: float32 rounding swamps the differences.
"""

import numpy as np

from lenet.utils.rng import as_generator

__all__ = ["relative_error", "numerical_gradient", "check_layer", "check_loss"]


def relative_error(a, b):
    """max|a - b| / max(|a| + |b|): 0 for equal arrays, ~1 for unrelated ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    scale = np.max(np.abs(a) + np.abs(b), initial=0.0)
    return float(np.max(np.abs(a - b), initial=0.0) / max(scale, 1e-12))


def numerical_gradient(f, x, eps=1e-6):
    """df/dx of a scalar function f at x by central differences: (f(x+h) - f(x-h)) / 2h.

    x is changed in place one coordinate at a time and restored; f must read x afresh.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def _require_float64(name, array):
    if array.dtype != np.float64:
        raise ValueError(
            f"gradient checks need float64, got {name} of dtype {array.dtype}: "
            "build the layer with dtype=np.float64 and pass a float64 input"
        )


def check_layer(layer, x, eps=1e-6, rng=0):
    """Compare layer.backward with numeric gradients for a random upstream gradient.

    Returns {"x": error, "W": error, ...}: the relative error of dL/dx and of every parameter's
    gradient (dL/dx is left out when the layer does not compute it).
    """
    x = np.array(x, dtype=np.float64)
    for name, p in layer.params.items():
        _require_float64(name, p)
    rng = as_generator(rng)
    dout = rng.standard_normal(layer.forward(x).shape)
    dout_before = dout.copy()
    dx = layer.backward(dout)
    if not np.array_equal(dout, dout_before):
        raise AssertionError(f"{type(layer).__name__}.backward changed the dout it was given")
    analytic = dict(layer.grads)

    def objective(_):
        return float(np.sum(layer.forward(x) * dout))

    errors = {}
    if dx is not None:
        errors["x"] = relative_error(dx, numerical_gradient(objective, x, eps))
    for name, p in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(objective, p, eps))
    return errors


def check_loss(loss, outputs, targets, eps=1e-6):
    """Relative error of loss.backward() against the numeric gradient of loss.forward."""
    outputs = np.array(outputs, dtype=np.float64)
    loss.forward(outputs, targets)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda z: loss.forward(z, targets), outputs, eps)
    return relative_error(analytic, numeric)
