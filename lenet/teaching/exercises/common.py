"""Helpers the exercises of several notebooks share: float64 layers, windows, one-hot labels,
random arguments."""

import numpy as np

from lenet.nn import Conv2d
from lenet.utils.rng import as_generator

__all__ = [
    "NO_N",
    "conv_layer",
    "layer_backward",
    "loss_gradient",
    "naive_softmax",
    "normal_args",
    "onehot",
    "pad_width",
    "windows",
]

NO_N = "forgot to divide by N: the loss is a *mean*, so its gradient carries 1/N"


def conv_layer(W, b, stride=1, padding=0):
    """A float64 lenet.Conv2d holding W: (O, C, K, K) and b: (O,) (no bias when b is None)."""
    out_c, in_c, k, _ = W.shape
    layer = Conv2d(in_c, out_c, k, stride, padding, bias=b is not None, dtype=np.float64)
    layer.params["W"][...] = W
    if b is not None:
        layer.params["b"][...] = b
    return layer


def layer_backward(layer, x, dout):
    """dL/dx of a layer at input x for the upstream gradient dout (a forward pass first)."""
    layer.forward(x)
    return layer.backward(dout)


def normal_args(rng, **shapes):
    """Arguments name -> a standard-normal float64 array of that shape, drawn from rng (a seed or
    a Generator) in the order given: normal_args(31, x=(4, 3), W=(3, 2)) -> {"x": ..., "W": ...}."""
    r = as_generator(rng)
    return {name: r.normal(size=shape) for name, shape in shapes.items()}


def loss_gradient(loss, pred, target):
    """dL/dpred of a loss at (pred, target), shaped like pred (a forward pass first)."""
    loss.forward(pred, target)
    return loss.backward()


def windows(shape, k, s):
    """(i, j, index) of every K x K window, stride S, of an (N, C, H, W) array, row-major."""
    h_out, w_out = (shape[2] - k) // s + 1, (shape[3] - k) // s + 1
    for i in range(h_out):
        for j in range(w_out):
            yield i, j, (slice(None), slice(None), slice(i * s, i * s + k), slice(j * s, j * s + k))


def pad_width(p):
    """np.pad's widths for P zeros on each side of an (N, C, H, W) array's H and W."""
    return ((0, 0), (0, 0), (p, p), (p, p))


def onehot(labels, k):
    """(N,) integer labels -> (N, K) rows of zeros with a 1 at each label."""
    return np.eye(k)[labels]


def naive_softmax(z):
    """Softmax of each row without subtracting the maximum first: exp(1000) overflows."""
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
