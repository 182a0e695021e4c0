"""The fully connected part of a network: Linear (y = x W + b) and Flatten (images to vectors)."""

import math

import numpy as np

from lenet.nn.initialization import initial_weights
from lenet.nn.layers import Layer, as_float
from lenet.utils.checks import positive_int
from lenet.utils.rng import as_generator

__all__ = ["Linear", "Flatten"]


class Linear(Layer):
    """y = x @ W + b with x: (N, in), W: (in, out), b: (out,) -> y: (N, out)."""

    def __init__(self, in_features, out_features, bias=True, init="he", dtype=np.float32, rng=None):
        super().__init__()
        self.in_features = positive_int("in_features", in_features)
        self.out_features = positive_int("out_features", out_features)
        self.bias = bool(bias)
        self.init = init
        rng = as_generator(rng)
        shapes = self.parameter_shapes(in_features, out_features, bias)
        self.params["W"] = initial_weights(shapes["W"], in_features, out_features, init, rng, dtype)
        if self.bias:
            self.params["b"] = np.zeros(shapes["b"], dtype=dtype)

    @classmethod
    def parameter_shapes(cls, in_features, out_features, bias=True, **_):
        """W: (in, out), b: (out,)."""
        n_in = positive_int("in_features", in_features)
        n_out = positive_int("out_features", out_features)
        return {"W": (n_in, n_out)} | ({"b": (n_out,)} if bias else {})

    def constructor_args(self):
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias,
            "init": self.init,
        }

    def forward(self, x):
        x = as_float(self, x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"Linear expects input of shape (N, {self.in_features}), got {x.shape}"
            )
        W = self.params["W"]
        x = x.astype(W.dtype, copy=False)
        self._cache = x
        y = x @ W
        if self.bias:
            y += self.params["b"]
        return y

    def backward(self, dout):
        x = self._cached()
        dout = self._check_dout(dout, (x.shape[0], self.out_features))
        self.grads["W"] = x.T @ dout
        if self.bias:
            self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T

    def backward_curvature(self, d2out):
        x = self._cached()
        d2out = self._check_dout(d2out, (x.shape[0], self.out_features))
        W = self.params["W"]
        self.curvature["W"] = (x * x).T @ d2out
        if self.bias:
            self.curvature["b"] = d2out.sum(axis=0)
        return d2out @ (W * W).T


class Flatten(Layer):
    """(N, C, H, W) -> (N, C * H * W), and back in backward."""

    def forward(self, x):
        x = as_float(self, x)
        if x.ndim < 2:
            raise ValueError(f"Flatten expects at least (N, D), got shape {x.shape}")
        self._cache = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # -1 is ambiguous when N = 0

    def backward(self, dout):
        shape = self._cached()
        dout = self._check_dout(dout, (shape[0], math.prod(shape[1:])))
        return dout.reshape(shape)

    def backward_curvature(self, d2out):
        return self.backward(d2out)
