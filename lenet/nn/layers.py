"""The Layer contract: the base class every layer subclasses, and the input checks they share.

    layer.params      dict name -> array ({} for layers without parameters)
    layer.grads       dict with the same keys, filled by backward()
    y  = layer.forward(x)
    dx = layer.backward(dy)    # dL/dx; never changes dy, never updates weights
    layer.clear_cache()        # drop what forward kept for backward

A first layer built with input_grad=False (Conv2d) returns None from backward: nothing needs
the gradient of an input image. Images are (N, C, H, W); feature vectors are (N, D).
The layers themselves: lenet.nn.linear (Linear, Flatten), lenet.nn.conv (Conv2d),
lenet.nn.pooling (MaxPool2d, AvgPool2d), lenet.nn.activations (ReLU, LeakyReLU, Tanh, Sigmoid).

A checkpoint rebuilds a layer from its class name and constructor_args(): the classes it knows
are listed in lenet.training.checkpoint.LAYER_TYPES.
"""

import copy
import inspect

import numpy as np

__all__ = ["Cached", "Layer", "as_float", "check_images", "check_window_fits"]


class Cached:
    """What forward keeps for backward, shared by layers and losses.

    forward stores it in self._cache; backward reads it with self._cached(), which says what
    went wrong when forward has not run; clear_cache() drops it.
    """

    def __init__(self):
        self._cache = None

    def clear_cache(self):
        """Drop what forward kept for backward (backward then needs a new forward)."""
        self._cache = None

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(): "
                "run forward first, backward uses what forward cached"
            )
        return self._cache


class Layer(Cached):
    """Base class: parameter dicts, the forward cache and the checks every layer shares."""

    def __init__(self):
        super().__init__()
        self.params = {}
        self.grads = {}
        self.curvature = {}  # filled by backward_curvature(), same keys as params

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def backward_curvature(self, d2out):
        """The second-derivative pass of SDLM (lenet.paper1998.sdlm), after forward.

        d2out: the diagonal curvature d2E/dy2 at each output. Returns the input's diagonal
        curvature sum_i (dy_i/dx_k)^2 d2out_i and sets layer.curvature[name] to
        sum over the batch and outputs of (dy_i/dw_k)^2 d2out_i: the Gauss-Newton diagonal,
        passed back layer by layer with the off-diagonal terms dropped (the paper's App. C).
        """
        raise NotImplementedError(f"{type(self).__name__} has no second-derivative pass")

    def constructor_args(self):
        """The constructor arguments that rebuild this layer (used by checkpoints)."""
        return {}

    @classmethod
    def parameter_shapes(cls, **constructor_args):
        """name -> shape of each parameter the layer built with these arguments would have.

        Computed without allocating anything (checkpoints check a file against it first).
        """
        return {}

    def sibling(self):
        """A copy sharing this layer's parameter arrays, with its own forward cache and grads.

        Sequential runs the chunks of a large batch on several threads, each chunk through
        siblings of the layers; the grads of the chunks are summed afterwards.
        """
        twin = copy.copy(self)
        twin.grads, twin.curvature, twin._cache = {}, {}, None
        return twin

    def parameter_count(self):
        """Number of trainable numbers in this layer."""
        return sum(p.size for p in self.params.values())

    def __repr__(self):
        """The constructor call, leaving out arguments at their defaults."""
        defaults = {}
        for cls in reversed(type(self).__mro__[:-1]):  # subclasses override their bases
            for name, p in inspect.signature(cls.__init__).parameters.items():
                if p.default is not p.empty:
                    defaults[name] = p.default
        args = [
            f"{k}={'[...]' if isinstance(v, list) else repr(v)}"
            for k, v in self.constructor_args().items()
            if k not in defaults or defaults[k] != v
        ]
        return f"{type(self).__name__}({', '.join(args)})"

    def _check_dout(self, dout, expected_shape):
        dout = np.asarray(dout)
        if dout.shape != expected_shape:
            raise ValueError(
                f"{type(self).__name__}.backward expected dout of shape {expected_shape} "
                f"(the shape forward returned), got {dout.shape}"
            )
        return dout


def as_float(layer, x):
    """x as a float array; integer and boolean arrays become float64 (never truncated).

    Anything else (text, dates, structured records, Python objects, complex numbers) is a
    TypeError naming the dtype: a layer computes with real numbers only.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(
            f"{type(layer).__name__} expects an array of real numbers (float, integer or bool), "
            f"got dtype {x.dtype}"
        )
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def check_images(layer, x, channels=None):
    """x must be (N, C, H, W), with C == channels when given; returned as a float array."""
    x = as_float(layer, x)
    if x.ndim != 4:
        raise ValueError(
            f"{type(layer).__name__} expects images of shape (N, C, H, W), "
            f"got an array of shape {x.shape} ({x.ndim} dimensions)"
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{type(layer).__name__} expects {channels} input channels, "
            f"got {x.shape[1]} (input shape {x.shape})"
        )
    return x


def check_window_fits(layer, x, kernel_size, padding):
    """A K x K window must fit in the padded (N, C, H, W) input."""
    h, w = x.shape[2] + 2 * padding, x.shape[3] + 2 * padding
    if kernel_size > h or kernel_size > w:
        raise ValueError(
            f"{type(layer).__name__}: window {kernel_size}x{kernel_size} is larger than the "
            f"padded input {h}x{w} (input shape {x.shape}, padding {padding})"
        )
