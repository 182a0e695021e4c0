"""Sliding-window helpers shared by Conv2d and the pools: the one place that knows strides.

A window of size K moved with stride S over a padded image of size H + 2P lands at
H' = (H + 2P - K) // S + 1 positions along each axis. The window offset (i, j) inside the
K x K window picks, for every position at once, the strided slice

    xp[:, :, i : i + S*H' : S, j : j + S*W' : S]      shape (N, C, H', W')

so every helper here loops over the K x K offsets only, each step one vectorised numpy call
(im2col does all offsets in one call, from a sliding-window view of the same slices).

Memory layout: arrays these helpers create have the logical shape (N, C, H, W) but store the
batch axis last in memory (C, H, W, N). A strided slice then still moves over runs of N
contiguous numbers, the matrix products of a convolution read and write contiguous blocks,
and the layers that follow (ReLU, pooling) keep that layout for free.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "output_size",
    "output_shape",
    "offsets",
    "window_slice",
    "window_slices",
    "batch_last",
    "pad",
    "unpad",
    "im2col",
    "rows_per_block",
    "column_blocks",
    "ColumnBuffer",
    "convolve",
    "weight_gradient",
    "input_gradient",
    "col2im",
    "window_sum",
    "window_sum_adjoint",
]


# convolve builds the column matrix in blocks of output rows of about this many bytes, and
# multiplies each block while it is still in the core's cache. Chosen with
# `python benchmarks/batch_size.py --column-block-bytes 131072 524288 2097152`.
COLUMN_BLOCK_BYTES = 2**19


def output_size(size, kernel_size, stride, padding=0):
    """Number of window positions along one axis: (size + 2P - K) // S + 1."""
    return (size + 2 * padding - kernel_size) // stride + 1


def output_shape(padded_shape, kernel_size, stride):
    """(H', W') of the windows over a padded (N, C, Hp, Wp) array."""
    return tuple(output_size(size, kernel_size, stride) for size in padded_shape[2:])


def offsets(kernel_size):
    """Every offset (i, j) inside a K x K window, in row-major order."""
    return [(i, j) for i in range(kernel_size) for j in range(kernel_size)]


def window_slice(i, j, stride, h_out, w_out):
    """Index of offset (i, j) of every window: selects (N, C, H', W') from (N, C, Hp, Wp)."""
    return (
        slice(None),
        slice(None),
        slice(i, i + stride * h_out, stride),
        slice(j, j + stride * w_out, stride),
    )


def window_slices(kernel_size, stride, out_shape):
    """window_slice of every offset of a K x K window, in row-major order."""
    return [window_slice(i, j, stride, *out_shape) for i, j in offsets(kernel_size)]


def batch_last(shape, dtype, fill=0):
    """An array of logical shape (N, C, H, W), stored as (C, H, W, N), filled with fill.

    fill=None leaves it uninitialised (for an array about to be overwritten everywhere).
    """
    n, c, h, w = shape
    if fill is None:
        return np.empty((c, h, w, n), dtype=dtype).transpose(3, 0, 1, 2)
    return np.full((c, h, w, n), fill, dtype=dtype).transpose(3, 0, 1, 2)


def pad(x, padding, value=0.0):
    """Pad the two spatial axes of x: (N, C, H, W) -> (N, C, H + 2P, W + 2P)."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    p = padding
    xp = batch_last((n, c, h + 2 * p, w + 2 * p), x.dtype, fill=value)
    xp[:, :, p : p + h, p : p + w] = x
    return xp


def unpad(xp, padding):
    """The inverse of pad: (N, C, H + 2P, W + 2P) -> the (N, C, H, W) inside (a view)."""
    p = padding
    return xp[:, :, p : xp.shape[2] - p, p : xp.shape[3] - p]


def im2col(xp, kernel_size, stride, out=None):
    """Unroll every window into a column: (N, C, Hp, Wp) -> (C * K * K, H' * W' * N).

    Rows run over (c, i, j), the layout of W.reshape(O, C * K * K), so that a convolution
    becomes one matrix product W2d @ cols; columns run over (h', w', n). ``out``, when it has
    the right size and dtype, is reused instead of allocating a new array.
    """
    h_out = output_shape(xp.shape, kernel_size, stride)[0]
    return next(column_blocks(xp, kernel_size, stride, h_out, out))[1]


def rows_per_block(padded_shape, kernel_size, stride, itemsize):
    """Output rows whose columns take about COLUMN_BLOCK_BYTES (at least one, at most H')."""
    n, c = padded_shape[:2]
    h_out, w_out = output_shape(padded_shape, kernel_size, stride)
    row_bytes = c * kernel_size * kernel_size * w_out * n * itemsize
    return min(h_out, max(1, COLUMN_BLOCK_BYTES // max(1, row_bytes)))


def column_blocks(xp, kernel_size, stride, rows_per_block, out=None):
    """im2col in blocks of output rows: yields (rows, cols) for consecutive ranges of rows.

    cols (C * K * K, len(rows) * W' * N) holds the columns of the windows in those output rows;
    the blocks side by side are im2col(xp). Every block is written into the same array (``out``,
    a flat buffer of at least one block's numbers and xp's dtype, or one new array), so use each
    block before asking for the next: a caller that multiplies it right away finds it still in
    the core's cache, and the columns of a whole batch never sit in memory at once.
    """
    n, c = xp.shape[:2]
    k = kernel_size
    h_out, w_out = output_shape(xp.shape, k, stride)
    per_row = c * k * k * w_out * n
    size = per_row * min(rows_per_block, h_out)
    if out is None or out.size < size or out.dtype != xp.dtype:
        out = np.empty(size, dtype=xp.dtype)
    # cols[:, i, j] is the strided slice window_slice(i, j, ...) of every offset (i, j); a
    # read-only view of xp holds all K x K of them, so one copy fills a block: the same numbers
    # as a loop over the offsets, in one numpy call. It is the view sliding_window_view gives,
    # made with as_strided: sliding_window_view's checks of its arguments cost a small batch's
    # step a few per cent (README, How it is fast).
    n_stride, c_stride, h_stride, w_stride = xp.strides
    windows = as_strided(
        xp,
        shape=(c, k, k, h_out, w_out, n),  # (C, K, K, H', W', N), the order of cols
        strides=(c_stride, h_stride, w_stride, stride * h_stride, stride * w_stride, n_stride),
        writeable=False,
    )
    for h in range(0, h_out, rows_per_block):
        rows = range(h, min(h + rows_per_block, h_out))
        cols = out[: per_row * len(rows)].reshape(c, k, k, len(rows), w_out, n)
        np.copyto(cols, windows[:, :, :, rows.start : rows.stop])
        yield rows, cols.reshape(c * k * k, -1)


class ColumnBuffer:
    """The flat array a layer's column blocks are written into, reused from batch to batch.

    A fresh array every step would cost the operating system a page fault per page; each
    Conv2d (and each of its siblings, one per chunk of a large batch) keeps its own. ``source``
    is the padded input whose columns the array holds whole (one block), else None.
    """

    def __init__(self):
        self.array = None
        self.source = None
        self.shifted = None  # input_gradient's zero-padded copies of dy, kept between steps

    def get(self, size, dtype):
        """A flat array of at least `size` numbers of `dtype` (a new one when it had fewer)."""
        if self.array is None or self.array.size < size or self.array.dtype != dtype:
            self.array = np.empty(size, dtype=dtype)
        return self.array

    def zeros(self, shape, dtype):
        """The array `shifted` of this shape and dtype; zero where no caller ever writes."""
        if self.shifted is None or self.shifted.shape != shape or self.shifted.dtype != dtype:
            self.shifted = np.zeros(shape, dtype=dtype)
        return self.shifted


def _blocks(xp, kernel_size, stride, buffer):
    """column_blocks of xp in blocks of about COLUMN_BLOCK_BYTES, written into buffer."""
    rows = rows_per_block(xp.shape, kernel_size, stride, xp.dtype.itemsize)
    n, c = xp.shape[:2]
    h_out, w_out = output_shape(xp.shape, kernel_size, stride)
    size = c * kernel_size * kernel_size * w_out * n * rows
    out = None if buffer is None else buffer.get(size, xp.dtype)
    if buffer is not None:
        buffer.source = xp if rows == h_out else None
    return column_blocks(xp, kernel_size, stride, rows, out=out)


def convolve(xp, weights, stride, buffer=None):
    """weights.reshape(O, -1) @ im2col(xp): (O, H' * W' * N).

    xp: padded images (N, C, Hp, Wp) of weights' dtype; weights: (O, C, K, K). The columns are
    built and multiplied in blocks of output rows of about COLUMN_BLOCK_BYTES, each block
    while it is still in the core's cache. buffer: a ColumnBuffer to write the blocks into.
    """
    o, _, k = weights.shape[:3]
    n = xp.shape[0]
    h_out, w_out = output_shape(xp.shape, k, stride)
    y = np.empty((o, h_out * w_out * n), dtype=weights.dtype)
    for rows, cols in _blocks(xp, k, stride, buffer):
        outputs = slice(rows.start * w_out * n, rows.stop * w_out * n)
        np.matmul(weights.reshape(o, -1), cols, out=y[:, outputs])
    return y


def weight_gradient(xp, dy, kernel_size, stride, buffer=None, square=False):
    """dy @ im2col(xp).T: (O, C * K * K), from the columns rebuilt block by block.

    xp: the padded images convolve had; dy: (O, H' * W' * N), the gradient of its y. Rebuilding
    a block from xp (in the cache) costs less than reading stored columns of the whole batch
    back from memory; when buffer still holds all of xp's columns (one block), they are used as
    they are. square=True uses the columns squared (the curvature pass of lenet.paper1998.sdlm).
    """
    k = kernel_size
    if buffer is not None and buffer.source is xp:
        c = xp.shape[1]
        blocks = [(range(0), buffer.array[: c * k * k * dy.shape[1]].reshape(c * k * k, -1))]
    else:
        blocks = _blocks(xp, k, stride, buffer)
    total, start = None, 0
    for _, cols in blocks:
        stop = start + cols.shape[1]
        # dy @ cols.T as (cols @ dy.T).T: BLAS is much faster at this long-K shape this way
        part = (cols * cols if square else cols) @ dy[:, start:stop].T
        total = part if total is None else total + part
        start = stop
    return total.T


def input_gradient(weights, dy, padded_shape, stride, buffer=None):
    """col2im(weights.reshape(O, -1).T @ dy): the gradient of convolve's padded input.

    weights: (O, C, K, K); dy: (O, H' * W' * N), the gradient of convolve's y -> (N, C, Hp, Wp).
    The same sums in fewer, larger steps: dy is copied K times, copy j moved along the width to
    where window column j reads (shifted[o, j, h, S*w + j, n] = dy[o, h, w, n], zero elsewhere);
    one product with the weights as (C*K) x (O*K) gives every window row i at once,
    rows[c, i, h, w', n]; K strided sums put row i of each window in place. buffer: a
    ColumnBuffer that keeps the shifted copies (zero where nothing is copied) between steps.
    """
    o, c, k = weights.shape[:3]
    n = padded_shape[0]
    h_out, w_out = output_shape(padded_shape, k, stride)
    width = padded_shape[3]
    shape = (o, k, h_out, width, n)
    shifted = np.zeros(shape, dy.dtype) if buffer is None else buffer.zeros(shape, dy.dtype)
    dy = dy.reshape(o, h_out, w_out, n)
    span = stride * (w_out - 1) + 1
    for j in range(k):
        shifted[:, j, :, j : j + span : stride] = dy
    by_row = weights.transpose(1, 2, 0, 3).reshape(c * k, o * k)  # [(c, i), (o, j)]
    rows = (by_row @ shifted.reshape(o * k, -1)).reshape(c, k, h_out, width, n)
    dxp = batch_last(padded_shape, dy.dtype)
    stored = dxp.transpose(1, 2, 3, 0)  # (C, Hp, Wp, N), the order in memory
    for i in range(k):
        stored[:, i : i + stride * (h_out - 1) + 1 : stride] += rows[:, i]
    return dxp


def col2im(dcols, padded_shape, kernel_size, stride):
    """The adjoint of im2col: (C * K * K, H' * W' * N) -> (N, C, Hp, Wp), overlaps summed."""
    n, c = padded_shape[:2]
    k = kernel_size
    h_out, w_out = output_shape(padded_shape, k, stride)
    dcols = dcols.reshape(c, k, k, h_out, w_out, n)
    dxp = batch_last(padded_shape, dcols.dtype)
    for i, j in offsets(k):
        dxp[window_slice(i, j, stride, h_out, w_out)] += dcols[:, i, j].transpose(3, 0, 1, 2)
    return dxp


def window_sum(xp, kernel_size, stride):
    """Sum of every K x K window: (N, C, Hp, Wp) -> (N, C, H', W'), batch-last in memory."""
    slices = window_slices(kernel_size, stride, output_shape(xp.shape, kernel_size, stride))
    total = xp[slices[0]].copy(order="K")
    for sl in slices[1:]:
        total += xp[sl]
    return total


def window_sum_adjoint(dtotal, padded_shape, kernel_size, stride):
    """The adjoint of window_sum: each window's gradient added to all of its K x K cells.

    dtotal: (N, C, H', W') -> (N, C, Hp, Wp).
    """
    dxp = batch_last(padded_shape, dtotal.dtype)
    for sl in window_slices(kernel_size, stride, dtotal.shape[2:]):
        dxp[sl] += dtotal
    return dxp
