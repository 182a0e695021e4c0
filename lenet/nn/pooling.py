"""Pooling: MaxPool2d and AvgPool2d, each a loop over the K x K offsets of a window."""

import numpy as np

from lenet.nn import im2col
from lenet.nn.layers import Layer, check_images, check_window_fits
from lenet.utils.checks import non_negative_int, positive_int

__all__ = ["MaxPool2d", "AvgPool2d"]


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
        check_window_fits(self, x, self.kernel_size, self.padding)
        xp = im2col.pad(x, self.padding, pad_value)
        return xp, im2col.output_shape(xp.shape, self.kernel_size, self.stride)

    def _slices(self, out_size):
        """The strided slice of each window offset, in row-major order."""
        return im2col.window_slices(self.kernel_size, self.stride, out_size)


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
        return im2col.unpad(dxp, self.padding)

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
        return im2col.unpad(im2col.window_sum_adjoint(share, padded_shape, k, s), self.padding)

    def backward_curvature(self, d2out):
        # dy/dx = 1/K^2 inside each window: backward of d2out / K^2 gives d2out / K^4
        return self.backward(np.asarray(d2out) / self.kernel_size**2)
