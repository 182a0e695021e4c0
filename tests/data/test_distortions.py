"""Random affine distortions (lenet.data.distortions): exact warps, seeded draws, bounded values."""

import numpy as np
import pytest

from lenet.data.distortions import Distorter, affine_warp


def digits(n=6, dtype=np.float32, seed=0):
    """n random images (n, 1, 28, 28) in [0, 1] with a blank border, like MNIST's."""
    x = np.zeros((n, 1, 28, 28), dtype=dtype)
    x[:, :, 4:24, 4:24] = np.random.default_rng(seed).random((n, 1, 20, 20))
    return x


def identity(n):
    return np.eye(2)[None].repeat(n, 0), np.zeros((n, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_and_dtype_are_kept(dtype):
    x = digits(dtype=dtype)
    out = Distorter()(x, rng=0)
    assert out.shape == x.shape and out.dtype == dtype


def test_the_same_seed_gives_the_same_distortions():
    x = digits()
    distort = Distorter()
    np.testing.assert_array_equal(distort(x, rng=3), distort(x, rng=np.random.default_rng(3)))
    assert not np.allclose(distort(x, rng=3), distort(x, rng=4))
    assert not np.allclose(distort(x, rng=3), x)


def test_zero_strength_is_the_identity():
    x = digits()
    np.testing.assert_allclose(Distorter(0, 0, 0, 0)(x, rng=0), x, atol=1e-6)
    np.testing.assert_allclose(affine_warp(x, *identity(len(x))), x, atol=1e-6)


def test_values_stay_in_the_images_range():
    x = digits(50)
    out = Distorter(translate=3, scale=0.3, squeeze=0.3, shear=0.5)(x, rng=1)
    assert out.min() >= 0 and out.max() <= 1 + 1e-6
    assert abs(out.sum() - x.sum()) < 0.5 * x.sum()  # the digits stay mostly in the field


def test_a_whole_pixel_shift_moves_every_pixel():
    x = digits(2)
    matrices, offsets = identity(2)
    offsets[:] = [1, -2]  # one column right, two rows up
    out = affine_warp(x, matrices, offsets)
    np.testing.assert_allclose(out[:, :, :-2, 1:], x[:, :, 2:, :-1], atol=1e-6)
    assert not out[:, :, -2:].any() and not out[:, :, :, 0].any()  # the background fills in


def test_a_quarter_turn_is_np_rot90():
    x = digits(3, dtype=np.float64)
    quarter = np.array([[0.0, -1.0], [1.0, 0.0]])[None].repeat(3, 0)
    out = affine_warp(x, quarter, np.zeros((3, 2)))
    np.testing.assert_allclose(out, np.rot90(x, -1, axes=(2, 3)), atol=1e-6)


def test_half_a_pixel_shift_averages_neighbours():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    matrices, offsets = identity(1)
    offsets[:] = [0.5, 0]
    out = affine_warp(x, matrices, offsets)[0, 0]
    expected = np.zeros((5, 5))
    expected[2, 2:4] = 0.5  # bilinear: the pixel's value split between two columns
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_samples_lie_in_the_stated_ranges():
    distort = Distorter(translate=2, scale=0.1, squeeze=0.2, shear=0.3)
    matrices, offsets = distort.sample(10_000, rng=0)
    assert np.abs(offsets).max() <= 2
    # A = (1 + s) diag(q, 1/q) [[1, k], [0, 1]]: det A = (1 + s)^2, and A[1, 0] is always 0.
    det = np.linalg.det(matrices)
    assert 0.9**2 - 1e-9 <= det.min() and det.max() <= 1.1**2 + 1e-9
    assert not matrices[:, 1, 0].any()
    shear = matrices[:, 0, 1] / matrices[:, 0, 0]
    assert np.abs(shear).max() <= 0.3 and np.abs(shear).max() > 0.29


def test_chunks_do_not_change_the_result():
    x = digits(7)
    np.testing.assert_array_equal(Distorter(chunk=3)(x, rng=5), Distorter()(x, rng=5))


def test_an_empty_batch():
    out = Distorter()(np.zeros((0, 1, 28, 28), np.float32), rng=0)
    assert out.shape == (0, 1, 28, 28)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 1}, "scale and squeeze must be < 1"),
        ({"squeeze": 1.5}, "scale and squeeze must be < 1"),
        ({"translate": -1}, "translate must be a finite number >= 0, got -1"),
        ({"chunk": 0}, "chunk must be a positive integer, got 0"),
    ],
)
def test_bad_ranges_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Distorter(**kwargs)


def test_affine_warp_checks_its_shapes():
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\), got \(28, 28\)"):
        affine_warp(np.zeros((28, 28)), *identity(1))
    with pytest.raises(ValueError, match=r"expected matrices of shape \(2, 2, 2\)"):
        affine_warp(np.zeros((2, 1, 28, 28)), *identity(3))
