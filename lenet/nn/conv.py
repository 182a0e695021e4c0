"""Conv2d: a convolution as one matrix product over the unrolled windows (lenet.nn.im2col)."""

import numpy as np

from lenet.nn import im2col
from lenet.nn.initialization import initial_weights
from lenet.nn.layers import Layer, check_images, check_window_fits
from lenet.utils.checks import non_negative_int, positive_int
from lenet.utils.rng import as_generator

__all__ = ["Conv2d"]


class Conv2d(Layer):
    """2-D cross-correlation, as in every framework.

    x: (N, C, H, W), W: (O, C, K, K), b: (O,) -> y: (N, O, H', W'),
    H' = (H + 2P - K) // S + 1, zero padding P, stride S.

    With ``input_grad=False`` (a first layer) backward skips dL/dx, which nothing needs for
    an input image, and returns None. backward reads the (padded) input again: an input
    changed in place between forward and backward gives the gradient of the changed one.
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
        self._columns = im2col.ColumnBuffer()

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
        check_window_fits(self, x, self.kernel_size, self.padding)
        W = self.effective_weight()
        xp = im2col.pad(x.astype(W.dtype, copy=False), self.padding)
        # every window of xp unrolled into a column: the convolution is one matrix product
        y = im2col.convolve(xp, W, self.stride, self._columns)  # (O, H'*W'*N)
        if self.bias:
            y += self.params["b"][:, None]
        self._cache = xp  # backward rebuilds the columns from it (see im2col.weight_gradient)
        h_out, w_out = im2col.output_shape(xp.shape, self.kernel_size, self.stride)
        return y.reshape(self.out_channels, h_out, w_out, len(x)).transpose(3, 0, 1, 2)

    def backward(self, dout):
        xp = self._cached()
        dy = self._output_rows(dout, xp.shape)  # (O, H'*W'*N)
        W = self.effective_weight()
        self.grads["W"] = self._weight_gradient(xp, dy).reshape(W.shape)
        if self.bias:
            self.grads["b"] = dy.sum(axis=1)
        if not self.input_grad:
            return None
        return self._input_gradient(W, dy, xp.shape)

    def backward_curvature(self, d2out):
        """As backward, with the columns, W and the upstream values squared (see Layer)."""
        xp = self._cached()
        d2y = self._output_rows(d2out, xp.shape)
        W = self.effective_weight()
        self.curvature["W"] = self._weight_gradient(xp, d2y, square=True).reshape(W.shape)
        if self.bias:
            self.curvature["b"] = d2y.sum(axis=1)
        if not self.input_grad:
            return None
        return self._input_gradient(W * W, d2y, xp.shape)

    def clear_cache(self):
        """Drop the forward cache (the padded input) and the column buffer."""
        self._cache, self._columns = None, im2col.ColumnBuffer()

    def sibling(self):
        """A sibling (see Layer) with a column buffer of its own."""
        twin = super().sibling()
        twin._columns = im2col.ColumnBuffer()
        return twin

    def _output_rows(self, dout, padded_shape):
        """dout (N, O, H', W'), its shape checked -> (O, H'*W'*N), the layout of y."""
        k, s = self.kernel_size, self.stride
        expected = (padded_shape[0], self.out_channels, *im2col.output_shape(padded_shape, k, s))
        dout = self._check_dout(dout, expected)
        return dout.transpose(1, 2, 3, 0).reshape(self.out_channels, -1)

    def _weight_gradient(self, xp, dy, square=False):
        """dy @ im2col(xp).T: (O, C*K*K), the columns rebuilt in this layer's buffer."""
        k, s = self.kernel_size, self.stride
        return im2col.weight_gradient(xp, dy, k, s, self._columns, square=square)

    def _input_gradient(self, W, dy, padded_shape):
        """col2im(W.T @ dy) (im2col.input_gradient), padding cut off: (N, C, H, W)."""
        dxp = im2col.input_gradient(W, dy, padded_shape, self.stride, self._columns)
        return im2col.unpad(dxp, self.padding)
