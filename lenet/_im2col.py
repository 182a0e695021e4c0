"""Sliding-window helpers shared by Conv2d and the pools: the one place that knows strides.

A window of size K moved with stride S over a padded image of size H + 2P lands at
H' = (H + 2P - K) // S + 1 positions along each axis.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["output_size", "pad", "windows", "im2col", "col2im", "scatter_windows"]


def output_size(size, kernel_size, stride, padding):
    """Number of window positions along one axis: (size + 2P - K) // S + 1."""
    return (size + 2 * padding - kernel_size) // stride + 1


def pad(x, padding, value=0.0):
    """Pad the two spatial axes of x: (N, C, H, W) -> (N, C, H + 2P, W + 2P)."""
    if padding == 0:
        return x
    p = padding
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=value)


def windows(xp, kernel_size, stride):
    """A read-only view of every K x K window of a padded image.

    xp: (N, C, Hp, Wp) -> (N, C, H', W', K, K); no data is copied.
    """
    view = sliding_window_view(xp, (kernel_size, kernel_size), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


def im2col(xp, kernel_size, stride):
    """Unroll every window into a row: (N, C, Hp, Wp) -> (N * H' * W', C * K * K).

    Rows run over (n, h', w'), columns over (c, i, j): the layout of W.reshape(O, C * K * K),
    so that a convolution becomes one matrix product.
    """
    n, c = xp.shape[:2]
    view = windows(xp, kernel_size, stride)  # (N, C, H', W', K, K)
    h_out, w_out = view.shape[2:4]
    return view.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c * kernel_size**2)


def scatter_windows(dwin, padded_shape, stride):
    """Add window-shaped gradients back onto the padded image they were read from.

    dwin: (N, C, H', W', K, K) -> (N, C, Hp, Wp). Overlapping windows (S < K) add up.
    Loops over the K x K kernel offsets only; each step is one strided, vectorised add.
    """
    n, c, h_out, w_out, k, _ = dwin.shape
    dxp = np.zeros(padded_shape, dtype=dwin.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride] += dwin[
                :, :, :, :, i, j
            ]
    return dxp


def col2im(dcols, padded_shape, kernel_size, stride):
    """The adjoint of im2col: (N * H' * W', C * K * K) -> (N, C, Hp, Wp), overlaps summed."""
    n, c, hp, wp = padded_shape
    h_out = (hp - kernel_size) // stride + 1
    w_out = (wp - kernel_size) // stride + 1
    dwin = dcols.reshape(n, h_out, w_out, c, kernel_size, kernel_size).transpose(0, 3, 1, 2, 4, 5)
    return scatter_windows(dwin, padded_shape, stride)
