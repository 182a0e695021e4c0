"""Drawing preprocessing: a stroke on a canvas becomes a centred, MNIST-style 28 x 28 digit."""

import numpy as np
import pytest

from lenet.data import drawing


def canvas_with_stroke(size=280, rows=(30, 150), cols=(200, 230), rgba=False):
    """A canvas with one thick vertical stroke far from the centre."""
    pixels = np.zeros((size, size))
    pixels[rows[0] : rows[1], cols[0] : cols[1]] = 255
    if rgba:
        out = np.zeros((size, size, 4), dtype=np.uint8)
        out[..., 3] = pixels
        return out
    return pixels


@pytest.mark.parametrize("rgba", [False, True])
def test_stroke_becomes_a_centred_20_pixel_digit(rgba):
    digit = drawing.to_mnist(canvas_with_stroke(rgba=rgba))
    assert digit.shape == (28, 28)
    assert digit.dtype == np.float32
    assert digit.min() == 0.0 and digit.max() == 1.0
    cy, cx = drawing.center_of_mass(digit)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    rows = np.flatnonzero(digit.any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20  # the longer side of the ink fills the 20-pixel box
    cols = np.flatnonzero(digit.any(axis=0))
    assert cols[-1] - cols[0] + 1 <= 7  # aspect ratio kept: 120 x 30 ink -> 20 x 5 (+ blur)


def test_position_on_the_canvas_does_not_matter():
    a = drawing.to_mnist(canvas_with_stroke(rows=(10, 130), cols=(10, 40)))
    b = drawing.to_mnist(canvas_with_stroke(rows=(140, 260), cols=(230, 260)))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_empty_drawing_gives_zeros():
    assert not drawing.to_mnist(np.zeros((280, 280))).any()


def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 4\), got \(3, 4, 3\)"):
        drawing.to_mnist(np.zeros((3, 4, 3)))


def test_resize_area_keeps_the_mean_and_constants():
    rng = np.random.default_rng(0)
    image = rng.random((37, 23))
    small = drawing.resize_area(image, (20, 12))
    assert small.shape == (20, 12)
    assert small.mean() == pytest.approx(image.mean(), rel=0.05)
    np.testing.assert_allclose(drawing.resize_area(np.ones((50, 30)), (20, 12)), 1.0)


def test_resize_by_whole_factor_averages_blocks():
    image = np.arange(16.0).reshape(4, 4)
    expected = image.reshape(2, 2, 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(drawing.resize_area(image, (2, 2)), expected)
