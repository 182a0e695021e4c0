"""Digits drawn by a script the way a person draws on the pad: a test set MNIST never saw.

Each digit is a few pen strokes (polylines) in a unit box, in one of a few common shapes per
digit (a 1 with or without a flag, a 4 open or closed, a 7 with or without a bar, ...). Every
drawing gets its own slant, rotation, width, size, position on the canvas, wobble and pen
radius, and is rendered segment by segment with lenet.data.drawing.stroke_segment, exactly as
the drawing pad renders a mouse stroke. The set is built in code from a seed (nothing is
downloaded) and is only ever used for testing: no training path reads it.

    canvases, labels = drawn_digits(500, seed=2024)   # (N, 280, 280) ink in {0, 1}, (N,)
"""

import numpy as np

from lenet.data.drawing import stroke_segment
from lenet.utils.checks import positive_int
from lenet.utils.rng import as_generator

__all__ = ["CANVAS", "SHAPES", "strokes_of", "render", "drawn_digits"]

CANVAS = 280  # the drawing pad's canvas, pixels
PEN_RADII = (5.0, 16.0)  # pen radii drawn from this range (the pad's own pen: 11)
HEIGHTS = (110.0, 250.0)  # digit heights on the canvas, pixels
SLANTS = (-0.35, 0.45)  # shear: x moves by slant * (height above the middle); > 0 leans right
WARP = 0.3  # how much a hand bends a shape: the spread of the quadratic warp's coefficients
WOBBLE = 0.02  # how far a stroke wanders off its path, as a fraction of the digit's height


def _arc(cx, cy, rx, ry, start, end, n=24):
    """Points on an ellipse from angle start to end (degrees; 0 = right, 90 = down)."""
    angles = np.radians(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def _line(*points, n=12):
    """A polyline through points (x, y), each leg cut into n steps."""
    legs = [
        np.linspace(a, b, n, endpoint=False) for a, b in zip(points[:-1], points[1:], strict=True)
    ]
    return np.concatenate([*legs, np.array(points[-1:], dtype=float)])


def _join(*parts):
    """One stroke through the parts in turn (the pen stays down)."""
    return np.concatenate(parts)


# Each shape: strokes (arrays of (x, y) in a box 0..1 wide and 0..1 tall, y down), as people
# commonly write the digit. Pen order follows the usual hand movement.
SHAPES = {
    0: [[_arc(0.5, 0.5, 0.42, 0.5, -90, 270, 40)]],
    1: [
        [_line((0.5, 0.0), (0.5, 1.0))],
        [_line((0.15, 0.25), (0.55, 0.0), (0.55, 1.0))],
        [_line((0.2, 0.22), (0.55, 0.0), (0.55, 1.0)), _line((0.25, 1.0), (0.85, 1.0))],
    ],
    2: [
        [_join(_arc(0.5, 0.3, 0.4, 0.3, 200, 370), _line((0.88, 0.38), (0.08, 1), (0.95, 1)))],
        [_join(_arc(0.5, 0.28, 0.4, 0.28, 190, 400), _line((0.75, 0.5), (0.1, 1), (0.95, 0.97)))],
    ],
    3: [
        [_join(_arc(0.47, 0.26, 0.38, 0.26, 200, 450), _arc(0.47, 0.74, 0.43, 0.26, 270, 520))],
        [_line((0.1, 0.0), (0.9, 0.0), (0.4, 0.42)), _arc(0.45, 0.71, 0.45, 0.29, 270, 510)],
    ],
    4: [
        [_line((0.45, 0.0), (0.05, 0.65), (0.95, 0.65)), _line((0.72, 0.25), (0.72, 1.0))],
        [_line((0.7, 0.0), (0.0, 0.68), (1.0, 0.68)), _line((0.7, 0.0), (0.7, 1.0))],
        [_line((0.1, 0.0), (0.1, 0.55), (0.95, 0.55)), _line((0.8, 0.0), (0.8, 1.0))],
    ],
    5: [
        [_line((0.9, 0.0), (0.2, 0.0), (0.15, 0.45)), _arc(0.45, 0.7, 0.45, 0.3, 230, 480)],
        [_join(_line((0.25, 0.0), (0.15, 0.45)), _arc(0.45, 0.7, 0.45, 0.3, 230, 480)),
         _line((0.25, 0.0), (0.9, 0.0))],
    ],
    6: [
        [_join(_arc(0.95, 0.62, 0.9, 0.62, 250, 180), _arc(0.5, 0.72, 0.45, 0.28, 180, 540))],
        [_join(_line((0.75, 0.0), (0.15, 0.6)), _arc(0.5, 0.72, 0.4, 0.28, 200, 560))],
    ],
    7: [
        [_line((0.0, 0.0), (1.0, 0.0), (0.35, 1.0))],
        [_line((0.0, 0.05), (1.0, 0.0), (0.45, 1.0)), _line((0.3, 0.5), (0.95, 0.5))],
        [_line((0.0, 0.15), (0.1, 0.0), (1.0, 0.0), (0.5, 0.55), (0.4, 1.0))],
    ],
    8: [
        [_arc(0.5, 0.25, 0.32, 0.25, 0, 360, 30), _arc(0.5, 0.73, 0.42, 0.27, -90, 270, 30)],
        [_join(_arc(0.5, 0.25, 0.35, 0.25, 10, 270), _arc(0.5, 0.74, 0.42, 0.26, 270, 630),
               _arc(0.5, 0.25, 0.35, 0.25, 270, 370))],
    ],
    9: [
        [_join(_arc(0.5, 0.3, 0.42, 0.3, -10, 350), _line((0.92, 0.25), (0.85, 1.0)))],
        [_join(_arc(0.45, 0.28, 0.4, 0.28, 0, 360), _line((0.85, 0.28), (0.45, 1.0)))],
    ],
}  # fmt: skip


def strokes_of(digit, rng):
    """The strokes of one drawing of digit on the canvas: a list of (K, 2) arrays (x, y).

    rng: a np.random.Generator (or an int seed). One of SHAPES[digit], then bent, slanted,
    rotated, stretched, sized, placed and wobbled at random.
    """
    rng = as_generator(rng)
    shapes = SHAPES[digit]
    strokes = shapes[rng.integers(len(shapes))]
    height = rng.uniform(*HEIGHTS)
    width = height * rng.uniform(0.45, 0.85) * (0.35 if digit == 1 else 1.0)
    slant, turn = rng.uniform(*SLANTS), np.radians(rng.normal(0, 6))
    cos, sin = np.cos(turn), np.sin(turn)
    placed = []
    bend = rng.normal(0, WARP, (2, 3))
    for stroke in _warp(strokes, bend):
        x = (stroke[:, 0] - 0.5) * width
        y = (stroke[:, 1] - 0.5) * height
        x = x - slant * y  # y grows downwards: a positive slant leans the top to the right
        placed.append(np.stack([cos * x - sin * y, sin * x + cos * y], axis=1))
    points = np.concatenate(placed)
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 8.0  # the pen stays on the canvas
    room = np.maximum(CANVAS - 2 * margin - (high - low), 0)
    offset = margin - low + rng.uniform(0, 1, 2) * room
    wobble = height * WOBBLE
    return [
        stroke + offset + rng.normal(0, wobble, 2) + _drift(len(stroke), wobble, rng)
        for stroke in placed
    ]


def _warp(strokes, bend):
    """Strokes in the unit box bent smoothly: each coordinate moves by a quadratic in (x, y).

    bend: (2, 3) coefficients of (x - 1/2)(y - 1/2), (y - 1/2)^2 - 1/12, (x - 1/2)^2 - 1/12
    for the moves of x and of y.
    """
    bent = []
    for stroke in strokes:
        u, v = stroke[:, 0] - 0.5, stroke[:, 1] - 0.5
        terms = np.stack([u * v, v * v - 1 / 12, u * u - 1 / 12])  # (3, K)
        bent.append(stroke + (bend @ terms).T)
    return bent


def _drift(n, size, rng):
    """A slow random wander of n points (a hand is not a ruler): (n, 2)."""
    steps = rng.normal(0, size / 4, (n, 2))
    walk = np.cumsum(steps, axis=0)
    return walk - walk.mean(axis=0)


def render(strokes, radius, size=CANVAS):
    """Ink (size, size) in {0, 1}: each stroke painted segment by segment, as the pad does."""
    raster = np.zeros((size, size))
    for stroke in strokes:
        for start, end in zip(stroke[:-1], stroke[1:], strict=True):
            stroke_segment(raster, tuple(start), tuple(end), radius)
    return raster


def drawn_digits(n=500, seed=2024):
    """n drawings (n // 10 of each digit, then the rest from 0 up), shuffled.

    Returns (canvases (n, CANVAS, CANVAS) float32 ink in {0, 1}, labels (n,) int64). The
    same seed gives the same set. The pen radius of each drawing is drawn from PEN_RADII.
    """
    positive_int("n", n)
    rng = as_generator(seed)
    labels = rng.permutation(np.arange(n) % 10)
    canvases = np.zeros((n, CANVAS, CANVAS), dtype=np.float32)
    for i, digit in enumerate(labels):
        canvases[i] = render(strokes_of(int(digit), rng), rng.uniform(*PEN_RADII))
    return canvases, labels.astype(np.int64)
