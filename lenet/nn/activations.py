"""Activations: functions applied to every element, each given with its derivative."""

import numpy as np

from lenet.nn.layers import Layer, as_float

__all__ = ["Elementwise", "ReLU", "LeakyReLU", "Tanh", "Sigmoid"]


class Elementwise(Layer):
    """An activation applied to every element; keeps the input's shape and dtype."""

    def forward(self, x):
        x = as_float(self, x)
        y, local_grad = self._apply(x)
        self._cache = local_grad
        return y

    def backward(self, dout):
        local_grad = self._cached()
        dout = self._check_dout(dout, local_grad.shape)
        return dout * local_grad

    def backward_curvature(self, d2out):
        # Gauss-Newton: f'(x)^2 d2out; the f''(x) dE/dy term is dropped (the paper's App. C)
        local_grad = self._cached()
        d2out = self._check_dout(d2out, local_grad.shape)
        return d2out * local_grad * local_grad

    def _apply(self, x):
        """Return (f(x), f'(x)); f'(x) is what backward multiplies dout by."""
        raise NotImplementedError


class ReLU(Elementwise):
    """max(0, x); derivative 1 where x > 0, else 0."""

    def _apply(self, x):
        positive = x > 0
        return np.maximum(x, 0), positive


class LeakyReLU(Elementwise):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def _apply(self, x):
        slope = np.where(x > 0, 1.0, self.negative_slope).astype(x.dtype)
        return x * slope, slope

    def constructor_args(self):
        return {"negative_slope": self.negative_slope}


class Tanh(Elementwise):
    """tanh(x); derivative 1 - tanh(x)^2."""

    def _apply(self, x):
        y = np.tanh(x)
        return y, 1 - y * y


class Sigmoid(Elementwise):
    """1 / (1 + exp(-x)), computed without overflow; derivative s (1 - s)."""

    def _apply(self, x):
        # exp(-|x|) never overflows; both branches give the same function.
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return y, y * (1 - y)
