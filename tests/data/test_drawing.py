"""Drawing preprocessing: a stroke on a canvas becomes a centred, MNIST-style 28 x 28 digit."""

import numpy as np
import pytest

from lenet import data
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
    assert abs(cy - drawing.CENTRE) <= 0.5 and abs(cx - drawing.CENTRE) <= 0.5
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


def test_stroke_segment_paints_a_thick_line():
    raster = np.zeros((50, 50))
    drawing.stroke_segment(raster, (10, 10), (40, 10), radius=3)
    assert raster[10, 10:41].all() and raster[13, 25] == 1 and raster[14, 25] == 0
    assert not raster[20:].any()
    edge = np.zeros((50, 50))
    drawing.stroke_segment(edge, (-5, 48), (60, 48), radius=4)  # partly off the raster
    assert edge[44:].all() and not edge[:44].any()
    drawing.stroke_segment(edge, (-30, -30), (-20, -20), radius=4)  # wholly off: nothing
    assert not edge[:44].any()


def bar(width, length=200, size=280, shear=0.0):
    """A vertical bar of ink, width x length pixels, its top moved right by shear per row."""
    rows, cols = np.indices((size, size))
    middle = size / 2 + shear * (size / 2 - rows)
    across = (cols >= middle - width / 2) & (cols < middle + width / 2)
    return (across & (abs(rows - size / 2) < length / 2)).astype(float)


def test_stroke_width_and_slant_measure_what_they_say():
    widths = drawing.stroke_width(np.stack([bar(4), bar(10)]))
    np.testing.assert_allclose(widths, [4, 10], rtol=0.06)  # a batch: one width per image
    assert drawing.stroke_width(np.zeros((28, 28))) == 0
    assert abs(drawing.slant(bar(8))) < 1e-9
    assert drawing.slant(bar(8, shear=0.25)) == pytest.approx(0.25, abs=0.01)
    assert drawing.slant(bar(8, shear=-0.2)) == pytest.approx(-0.2, abs=0.01)


def test_thickness_brings_thin_and_thick_pens_to_mnists_stroke():
    thin, thick = bar(6, length=150), bar(40, length=220)
    every = ("box", "antialias", "center")
    before = [drawing.stroke_width(drawing.to_mnist(b, steps=every)) for b in (thin, thick)]
    after = [drawing.stroke_width(drawing.to_mnist(b)) for b in (thin, thick)]
    assert before[0] < 1.0 and before[1] > 3.0  # without the step: far from MNIST's 1.96
    np.testing.assert_allclose(after, drawing.MNIST_STROKE_WIDTH, rtol=0.15)


def test_deskew_sets_mnists_slant_and_centre_is_mnists():
    leaning = bar(20, shear=0.4)
    plain = drawing.to_mnist(leaning, steps=("box", "antialias", "center"))
    upright = drawing.to_mnist(leaning, steps=(*drawing.PAD_STEPS, "deskew"))
    assert drawing.slant(plain) > 0.3
    assert drawing.slant(upright) == pytest.approx(drawing.MNIST_SLANT, abs=0.05)
    cy, cx = drawing.center_of_mass(upright)
    assert abs(cy - drawing.CENTRE) <= 0.5 and abs(cx - drawing.CENTRE) <= 0.5


def test_without_the_box_the_whole_drawing_is_scaled():
    small = np.zeros((280, 280))
    small[20:60, 30:40] = 1  # a small stroke near a corner
    squashed = drawing.to_mnist(small, steps=())
    rows = np.flatnonzero(squashed.any(axis=1))
    assert rows[0] == 2 and rows[-1] - rows[0] + 1 == 4  # 40 of 280 pixels: 4 of 28
    boxed = drawing.to_mnist(small, steps=("box",))
    assert set(np.unique(boxed)) <= {0.0, 1.0}  # no anti-aliasing: ink or not


def test_unknown_steps_are_refused():
    with pytest.raises(ValueError, match=r"steps must be among .*got \['blur'\]"):
        drawing.to_mnist(np.ones((5, 5)), steps=("box", "blur"))


def test_mnist_constants_are_mnists_medians():
    """MNIST_STROKE_WIDTH and MNIST_SLANT are what drawing.measure_mnist prints."""
    try:
        images = data.load_mnist("train", download=False)[0][:, 0]
    except data.DataNotFoundError:
        pytest.skip("the MNIST training files are not here (LENET_DATA_DIR)")
    assert np.median(drawing.stroke_width(images)) == pytest.approx(
        drawing.MNIST_STROKE_WIDTH, abs=0.005
    )
    assert np.median(drawing.slant(images)) == pytest.approx(drawing.MNIST_SLANT, abs=0.005)
    rows, cols = np.indices((28, 28))
    mass = images.sum(axis=(1, 2))
    mean_row = ((images * rows).sum(axis=(1, 2)) / mass).mean()
    mean_col = ((images * cols).sum(axis=(1, 2)) / mass).mean()
    assert mean_row == pytest.approx(drawing.CENTRE, abs=0.05)
    assert mean_col == pytest.approx(drawing.CENTRE, abs=0.05)
