"""Layers: each one a forward pass that caches what it needs and a backward pass that uses it.

The contract every layer follows:

    layer.params      dict name -> array ({} for layers without parameters)
    layer.grads       dict with the same keys, filled by backward()
    y  = layer.forward(x)
    dx = layer.backward(dy)    # dL/dx; never changes dy, never updates weights
    layer.clear_cache()        # drop what forward kept for backward

A first layer built with input_grad=False (Conv2d) returns None from backward: nothing needs
the gradient of an input image. Images are (N, C, H, W); feature vectors are (N, D).

Every layer class defined in lenet registers itself in LAYER_TYPES under its class name, so
that a checkpoint can rebuild it from its name and constructor_args().
"""

import copy
import inspect
import threading

import numpy as np

from lenet.nn import im2col
from lenet.nn.initialization import initial_weights
from lenet.utils.checks import non_negative_int, positive_int
from lenet.utils.rng import as_generator

__all__ = [
    "LAYER_TYPES",
    "check_images",
    "Layer",
    "Linear",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "Flatten",
]


LAYER_TYPES = {}  # class name -> class, for every public layer class of lenet

# Conv2d builds its column matrix in blocks of output rows of about this many bytes, each
# block multiplied while it is still in the core's cache (measured: 512 KB is fastest here).
COLUMN_BLOCK_BYTES = 2**19


class Layer:
    """Base class: parameter dicts, the forward cache and the checks every layer shares."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("lenet.") and not cls.__name__.startswith("_"):
            LAYER_TYPES[cls.__name__] = cls

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.curvature = {}  # filled by backward_curvature(), same keys as params
        self._cache = None

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

        Sequential.forward_backward runs the chunks of a large batch on several threads, each
        through siblings of the layers; the grads of the chunks are summed afterwards.
        """
        twin = copy.copy(self)
        twin.grads, twin.curvature, twin._cache = {}, {}, None
        return twin

    def clear_cache(self):
        """Drop what forward kept for backward (backward then needs a new forward)."""
        self._cache = None

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

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(): "
                "run forward(x) first, backward uses what forward cached"
            )
        return self._cache

    def _check_dout(self, dout, expected_shape):
        dout = np.asarray(dout)
        if dout.shape != expected_shape:
            raise ValueError(
                f"{type(self).__name__}.backward expected dout of shape {expected_shape} "
                f"(the shape forward returned), got {dout.shape}"
            )
        return dout


def as_float(x):
    """x as an array; integer and boolean arrays become float64 (never silently truncated)."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def check_images(layer, x, channels=None):
    """x must be (N, C, H, W), with C == channels when given; returned as a float array."""
    x = as_float(x)
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


def _check_window_fits(layer, x, kernel_size, padding):
    h, w = x.shape[2] + 2 * padding, x.shape[3] + 2 * padding
    if kernel_size > h or kernel_size > w:
        raise ValueError(
            f"{type(layer).__name__}: window {kernel_size}x{kernel_size} is larger than the "
            f"padded input {h}x{w} (input shape {x.shape}, padding {padding})"
        )


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
        x = np.asarray(x)
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


class Conv2d(Layer):
    """2-D cross-correlation, as in every framework.

    x: (N, C, H, W), W: (O, C, K, K), b: (O,) -> y: (N, O, H', W'),
    H' = (H + 2P - K) // S + 1, zero padding P, stride S.

    With ``input_grad=False`` (a first layer) backward skips dL/dx, which nothing needs for
    an input image, and returns None.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        bias=True,
        init="he",
        input_grad=True,
        dtype=np.float32,
        rng=None,
    ):
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.stride = positive_int("stride", stride)
        self.padding = non_negative_int("padding", padding)
        self.bias = bool(bias)
        self.init = init
        self.input_grad = bool(input_grad)
        rng = as_generator(rng)
        k = self.kernel_size
        shapes = self.parameter_shapes(in_channels, out_channels, kernel_size, bias=bias)
        fan_in, fan_out = in_channels * k * k, out_channels * k * k
        self.params["W"] = initial_weights(shapes["W"], fan_in, fan_out, init, rng, dtype)
        if self.bias:
            self.params["b"] = np.zeros(shapes["b"], dtype=dtype)
        # im2col's buffer (C*K*K*H'*W'*N), reused from batch to batch, one per thread: siblings
        # share it, so that each thread of a chunked step has its own.
        self._columns = threading.local()

    @classmethod
    def parameter_shapes(cls, in_channels, out_channels, kernel_size, bias=True, **_):
        """W: (O, C, K, K), b: (O,)."""
        c = positive_int("in_channels", in_channels)
        o = positive_int("out_channels", out_channels)
        k = positive_int("kernel_size", kernel_size)
        return {"W": (o, c, k, k)} | ({"b": (o,)} if bias else {})

    def constructor_args(self):
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "bias": self.bias,
            "init": self.init,
            "input_grad": self.input_grad,
        }

    def effective_weight(self):
        """The weights the convolution applies: (O, C, K, K)."""
        return self.params["W"]

    def forward(self, x):
        x = check_images(self, x, self.in_channels)
        _check_window_fits(self, x, self.kernel_size, self.padding)
        W = self.effective_weight()
        xp = im2col.pad(x.astype(W.dtype, copy=False), self.padding)
        n = x.shape[0]
        k, s, o = self.kernel_size, self.stride, self.out_channels
        h_out, w_out = im2col.output_shape(xp.shape, k, s)
        # The matrix product reads each block of columns right after im2col wrote it, while it
        # is still in cache; the blocks fill this thread's column buffer one after another.
        row_bytes = self.in_channels * k * k * w_out * n * W.dtype.itemsize
        rows_per_block = max(1, COLUMN_BLOCK_BYTES // row_bytes)
        size = self.in_channels * k * k * h_out * w_out * n
        columns = getattr(self._columns, "buffer", None)
        if columns is None or columns.size != size or columns.dtype != W.dtype:
            columns = self._columns.buffer = np.empty(size, dtype=W.dtype)
        y = np.empty((o, h_out * w_out * n), dtype=W.dtype)  # (O, H'*W'*N)
        blocks = []
        for rows, cols in im2col.column_blocks(xp, k, s, rows_per_block, out=columns):
            outputs = slice(rows.start * w_out * n, rows.stop * w_out * n)
            np.matmul(W.reshape(o, -1), cols, out=y[:, outputs])
            blocks.append(cols)
        if self.bias:
            y += self.params["b"][:, None]
        self._cache = (blocks, xp.shape)
        return y.reshape(o, h_out, w_out, n).transpose(3, 0, 1, 2)

    def _weight_gradient(self, blocks, dy, square=False):
        """sum over the column blocks of cols @ dy.T (of cols * cols when square): (C*K*K, O)."""
        total, start = None, 0
        for cols in blocks:
            stop = start + cols.shape[1]
            part = (cols * cols if square else cols) @ dy[:, start:stop].T
            total = part if total is None else total + part
            start = stop
        return total

    def clear_cache(self):
        """Drop the forward cache and the column buffers."""
        self._cache, self._columns = None, threading.local()

    def backward(self, dout):
        blocks, padded_shape = self._cached()
        n, _, hp, wp = padded_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        expected = (n, self.out_channels, *im2col.output_shape(padded_shape, k, s))
        dout = self._check_dout(dout, expected)
        dy = dout.transpose(1, 2, 3, 0).reshape(self.out_channels, -1)  # (O, H'*W'*N)
        W = self.effective_weight()
        # (cols @ dy.T).T is dy @ cols.T; BLAS is much faster at this long-K shape this way round.
        self.grads["W"] = self._weight_gradient(blocks, dy).T.reshape(W.shape)
        if self.bias:
            self.grads["b"] = dy.sum(axis=1)
        if not self.input_grad:
            return None
        dcols = W.reshape(self.out_channels, -1).T @ dy  # (C*K*K, H'*W'*N)
        dxp = im2col.col2im(dcols, padded_shape, k, s)
        return dxp[:, :, p : hp - p, p : wp - p]

    def backward_curvature(self, d2out):
        """As backward, with cols, W and the upstream values squared (see Layer)."""
        blocks, padded_shape = self._cached()
        n, _, hp, wp = padded_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        expected = (n, self.out_channels, *im2col.output_shape(padded_shape, k, s))
        d2out = self._check_dout(d2out, expected)
        d2y = d2out.transpose(1, 2, 3, 0).reshape(self.out_channels, -1)
        W = self.effective_weight()
        self.curvature["W"] = self._weight_gradient(blocks, d2y, square=True).T.reshape(W.shape)
        if self.bias:
            self.curvature["b"] = d2y.sum(axis=1)
        if not self.input_grad:
            return None
        d2cols = (W * W).reshape(self.out_channels, -1).T @ d2y
        d2xp = im2col.col2im(d2cols, padded_shape, k, s)
        return d2xp[:, :, p : hp - p, p : wp - p]


class _Pool2d(Layer):
    """Shared set-up of the pooling layers: window K, stride S (default K), padding P."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else positive_int("stride", stride)
        self.padding = non_negative_int("padding", padding)
        if 2 * self.padding > self.kernel_size:
            raise ValueError(
                f"padding must be at most half the window size ({self.kernel_size // 2} for a "
                f"{self.kernel_size}x{self.kernel_size} window), got {self.padding}: "
                "a larger padding makes windows that hold nothing but padding"
            )

    def constructor_args(self):
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}

    def _pad(self, x, pad_value):
        """x: (N, C, H, W) -> padded (N, C, Hp, Wp) and the output size (H', W')."""
        x = check_images(self, x)
        _check_window_fits(self, x, self.kernel_size, self.padding)
        xp = im2col.pad(x, self.padding, pad_value)
        return xp, im2col.output_shape(xp.shape, self.kernel_size, self.stride)

    def _slices(self, out_size):
        """The strided slice of each window offset, in row-major order."""
        return im2col.window_slices(self.kernel_size, self.stride, out_size)

    def _unpad(self, dxp):
        p = self.padding
        return dxp[:, :, p : dxp.shape[2] - p, p : dxp.shape[3] - p]


class MaxPool2d(_Pool2d):
    """Maximum over each K x K window; pads with -inf.

    The gradient of a window goes to one maximum: the first in row-major order (as PyTorch
    does), never split over ties.
    """

    def forward(self, x):
        xp, out_size = self._pad(x, -np.inf)
        slices = self._slices(out_size)
        y = xp[slices[0]].copy(order="K")
        for sl in slices[1:]:
            np.maximum(y, xp[sl], out=y)
        self._cache = (xp, y)
        return y

    def backward(self, dout):
        xp, y = self._cached()
        dout = self._check_dout(dout, y.shape)
        k, s = self.kernel_size, self.stride
        # Windows that tile the padded input (stride K, sizes multiples of K) own every cell
        # once: each offset's slice of dxp is then written once, with no zero fill or sum.
        tiles = s == k and xp.shape[2] % k == 0 and xp.shape[3] % k == 0
        dxp = im2col.batch_last(xp.shape, xp.dtype, fill=None if tiles else 0)
        # each window's gradient, until its first max takes it; batch-last like xp and y
        remaining = im2col.batch_last(y.shape, xp.dtype, fill=None)
        remaining[...] = dout
        hit = im2col.batch_last(y.shape, bool, fill=None)
        slices = self._slices(y.shape[2:])
        for i, sl in enumerate(slices):
            np.equal(xp[sl], y, out=hit)
            if tiles:
                routed = dxp[sl]
                np.multiply(remaining, hit, out=routed)
            else:
                routed = remaining * hit
                dxp[sl] += routed
            if i < len(slices) - 1:
                remaining -= routed
        return self._unpad(dxp)

    def backward_curvature(self, d2out):
        # dy/dx is 1 at each window's routed maximum, else 0: squaring changes nothing
        return self.backward(d2out)


class AvgPool2d(_Pool2d):
    """Mean over each K x K window; zero padding counts in the mean (PyTorch's default)."""

    def forward(self, x):
        xp, _ = self._pad(x, 0.0)
        total = im2col.window_sum(xp, self.kernel_size, self.stride)
        self._cache = (xp.shape, xp.dtype, total.shape)
        return total / self.kernel_size**2

    def backward(self, dout):
        padded_shape, dtype, out_shape = self._cached()
        dout = self._check_dout(dout, out_shape)
        share = (dout / self.kernel_size**2).astype(dtype, copy=False)
        k, s = self.kernel_size, self.stride
        return self._unpad(im2col.window_sum_adjoint(share, padded_shape, k, s))

    def backward_curvature(self, d2out):
        # dy/dx = 1/K^2 inside each window: backward of d2out / K^2 gives d2out / K^4
        return self.backward(np.asarray(d2out) / self.kernel_size**2)


class _Elementwise(Layer):
    """An activation applied to every element; keeps the input's shape and dtype."""

    def forward(self, x):
        x = as_float(x)
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


class ReLU(_Elementwise):
    """max(0, x); derivative 1 where x > 0, else 0."""

    def _apply(self, x):
        positive = x > 0
        return np.maximum(x, 0), positive


class LeakyReLU(_Elementwise):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def constructor_args(self):
        return {"negative_slope": self.negative_slope}

    def _apply(self, x):
        slope = np.where(x > 0, 1.0, self.negative_slope).astype(x.dtype)
        return x * slope, slope


class Tanh(_Elementwise):
    """tanh(x); derivative 1 - tanh(x)^2."""

    def _apply(self, x):
        y = np.tanh(x)
        return y, 1 - y * y


class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)), computed without overflow; derivative s (1 - s)."""

    def _apply(self, x):
        # exp(-|x|) never overflows; both branches give the same function.
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return y, y * (1 - y)


class Flatten(Layer):
    """(N, C, H, W) -> (N, C * H * W), and back in backward."""

    def forward(self, x):
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"Flatten expects at least (N, D), got shape {x.shape}")
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        shape = self._cached()
        dout = self._check_dout(dout, (shape[0], int(np.prod(shape[1:]))))
        return dout.reshape(shape)

    def backward_curvature(self, d2out):
        return self.backward(d2out)
