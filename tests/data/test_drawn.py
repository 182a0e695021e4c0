"""The drawn test set: digits drawn by a script, seeded, balanced, on the pad's canvas."""

import numpy as np
import pytest

from lenet.data import drawing, drawn


def test_the_set_is_seeded_balanced_and_ink_only():
    canvases, labels = drawn.drawn_digits(40, seed=3)
    assert canvases.shape == (40, drawn.CANVAS, drawn.CANVAS) and canvases.dtype == np.float32
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [4] * 10
    assert set(np.unique(canvases)) == {0.0, 1.0}  # the pad's ink: on or off
    assert all(c.any() for c in canvases)
    again, same_labels = drawn.drawn_digits(40, seed=3)
    np.testing.assert_array_equal(again, canvases)
    np.testing.assert_array_equal(same_labels, labels)
    other, _ = drawn.drawn_digits(40, seed=4)
    assert not np.array_equal(other, canvases)
    _, eleven = drawn.drawn_digits(11, seed=0)
    assert np.bincount(eleven).tolist() == [2] + [1] * 9  # the rest from 0 up


def test_drawings_vary_in_pen_size_slant_and_place():
    canvases, labels = drawn.drawn_digits(100, seed=5)
    rows = canvases.any(axis=2)
    heights = rows.shape[1] - rows[:, ::-1].argmax(axis=1) - rows.argmax(axis=1)
    assert heights.min() < 140 and heights.max() > 220  # small and large
    widths = drawing.stroke_width(canvases)
    assert widths.min() < 13 and widths.max() > 25  # thin and thick pens
    slants = drawing.slant(canvases[labels == 1])
    assert slants.min() < -0.1 and slants.max() > 0.25  # 1s leaning left and right
    centres = np.array([drawing.center_of_mass(c) for c in canvases])
    assert np.ptp(centres, axis=0).min() > 60  # placed all over the canvas


def test_every_digit_has_shapes_inside_the_unit_box():
    assert sorted(drawn.SHAPES) == list(range(10))
    for digit, shapes in drawn.SHAPES.items():
        for strokes in shapes:
            points = np.concatenate(strokes)
            assert points.min() >= -0.01 and points.max() <= 1.01, digit


def test_bad_size_is_refused():
    with pytest.raises(ValueError, match="n"):
        drawn.drawn_digits(0)
