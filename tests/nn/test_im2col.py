"""Property tests of the sliding-window helpers: shapes, and each helper's adjoint.

For a linear map A and its adjoint A*, <A x, y> = <x, A* y> for every x and y: col2im must be
im2col's adjoint and window_sum_adjoint window_sum's, or every backward pass built on them is
wrong. hypothesis draws the sizes, strides and paddings.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lenet.nn import im2col


@st.composite
def windows(draw):
    """(padded image shape (N, C, Hp, Wp), window K, stride S) with at least one window."""
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    shape = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.integers(k, 9)),
        draw(st.integers(k, 9)),
    )
    return shape, k, s


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


@settings(max_examples=60, deadline=None)
@given(windows(), st.integers(0, 2**16))
def test_im2col_shape_and_adjoint(case, seed):
    shape, k, s = case
    n, c, hp, wp = shape
    h_out, w_out = im2col.output_shape(shape, k, s)
    assert (h_out, w_out) == ((hp - k) // s + 1, (wp - k) // s + 1)
    x = _random(shape, seed)
    cols = im2col.im2col(x, k, s)
    assert cols.shape == (c * k * k, h_out * w_out * n)
    y = _random(cols.shape, seed + 1)
    back = im2col.col2im(y, shape, k, s)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(cols * y), np.sum(x * back), rtol=1e-10)


@settings(max_examples=60, deadline=None)
@given(windows(), st.integers(1, 4), st.integers(0, 2**16))
def test_column_blocks_side_by_side_are_the_offsets_strided_slices(case, rows_per_block, seed):
    """Row (c, i, j) of the columns is offset (i, j)'s strided slice of channel c, (h', w', n)."""
    shape, k, s = case
    n, c = shape[:2]
    h_out, w_out = im2col.output_shape(shape, k, s)
    x = _random(shape, seed)
    expected = np.stack(
        [x[im2col.window_slice(i, j, s, h_out, w_out)] for i, j in im2col.offsets(k)], axis=2
    )  # (N, C, K*K, H', W')
    expected = expected.transpose(1, 2, 3, 4, 0).reshape(c * k * k, -1)
    np.testing.assert_array_equal(im2col.im2col(x, k, s), expected)
    buffer = np.empty(expected.size)
    blocks = [
        (rows, np.shares_memory(cols, buffer), cols.copy())  # each block overwrites the last
        for rows, cols in im2col.column_blocks(x, k, s, rows_per_block, out=buffer)
    ]
    assert [r.start for r, _, _ in blocks] == list(range(0, h_out, rows_per_block))
    assert all(shared for _, shared, _ in blocks)
    np.testing.assert_array_equal(np.concatenate([cols for _, _, cols in blocks], axis=1), expected)


@settings(max_examples=60, deadline=None)
@given(windows(), st.integers(0, 2**16))
def test_window_sum_and_its_adjoint(case, seed):
    shape, k, s = case
    x = _random(shape, seed)
    total = im2col.window_sum(x, k, s)
    assert total.shape == (*shape[:2], *im2col.output_shape(shape, k, s))
    # the sum of a window is the sum of its column in im2col
    per_window = im2col.im2col(x, k, s).reshape(shape[1], k * k, -1).sum(axis=1)
    expected = per_window.reshape(shape[1], *total.shape[2:], shape[0]).transpose(3, 0, 1, 2)
    np.testing.assert_allclose(total, expected, rtol=1e-10, atol=1e-12)
    y = _random(total.shape, seed + 1)
    back = im2col.window_sum_adjoint(y, shape, k, s)
    np.testing.assert_allclose(np.sum(total * y), np.sum(x * back), rtol=1e-10)


@given(st.integers(1, 30), st.integers(1, 7), st.integers(1, 4), st.integers(0, 3))
def test_output_size_counts_the_window_positions(size, k, s, p):
    if size + 2 * p < k:
        return
    positions = [start for start in range(0, size + 2 * p - k + 1) if start % s == 0]
    assert im2col.output_size(size, k, s, p) == len(positions)


@settings(max_examples=60, deadline=None)
@given(windows(), st.integers(1, 3), st.integers(0, 2**16))
def test_input_gradient_is_col2im_of_the_column_gradient(case, out_channels, seed):
    """The same numbers as col2im(W2d.T @ dy), also on the second call with the same buffer."""
    shape, k, s = case
    n, c = shape[:2]
    h_out, w_out = im2col.output_shape(shape, k, s)
    weights = _random((out_channels, c, k, k), seed)
    buffer = im2col.ColumnBuffer()
    for step in range(2):  # the buffer's shifted copies are reused on the second step
        dy = _random((out_channels, h_out * w_out * n), seed + 1 + step)
        expected = im2col.col2im(weights.reshape(out_channels, -1).T @ dy, shape, k, s)
        got = im2col.input_gradient(weights, dy, shape, s, buffer)
        assert got.shape == shape
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
