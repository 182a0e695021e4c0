"""Turn a drawing into an MNIST-style digit: what the network expects to see.

MNIST digits were made like this: the ink's bounding box is scaled to fit a 20 x 20 box
(keeping its aspect ratio, with anti-aliasing), placed in a 28 x 28 field, and shifted so
that the centre of mass of the ink sits at the centre of the field. to_mnist does each of
these steps (STEPS), and two more that bring a pad drawing closer to MNIST's digits: the
strokes are made as thick as MNIST's typical stroke, and (optionally) the slant is set to
MNIST's typical slant. stroke_width and slant measure both, on MNIST or on a drawing.
"""

import math

import numpy as np

from lenet.data import load_mnist

__all__ = [
    "STEPS",
    "PAD_STEPS",
    "MNIST_STROKE_WIDTH",
    "MNIST_SLANT",
    "CENTRE",
    "stroke_segment",
    "ink",
    "resize_area",
    "center_of_mass",
    "stroke_width",
    "slant",
    "measure_mnist",
    "to_mnist",
]

FIELD, BOX = 28, 20
CENTRE = 14.0  # where MNIST's centres of mass sit (row and column; their mean over the set)
# Medians over MNIST's 60,000 training digits of stroke_width and slant:
#   python -c "from lenet.data import drawing; drawing.measure_mnist()"
MNIST_STROKE_WIDTH = 1.96
MNIST_SLANT = 0.10
STEPS = ("box", "antialias", "center", "thickness", "deskew")
# The steps the pad uses: the best on the drawn test set (notebook 12 measures each).
PAD_STEPS = ("box", "antialias", "center", "thickness")


def stroke_segment(raster, start, end, radius):
    """Paint a line with round ends from start to end, (x, y) points, onto raster (H, W).

    A pixel (row, column) is inked when its distance to the segment is at most radius; only
    the pixels in the segment's bounding box (widened by radius) are looked at.
    """
    h, w = raster.shape
    (x0, y0), (x1, y1) = start, end
    top, bottom = (
        max(0, math.floor(min(y0, y1) - radius)),
        min(h, math.ceil(max(y0, y1) + radius) + 1),
    )
    left, right = (
        max(0, math.floor(min(x0, x1) - radius)),
        min(w, math.ceil(max(x0, x1) + radius) + 1),
    )
    if top >= bottom or left >= right:
        return
    rows, cols = np.ogrid[top:bottom, left:right]
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    # Distance from each pixel to the segment: project onto it, clamp to the two ends.
    t = 0.0 if length2 == 0 else np.clip(((cols - x0) * dx + (rows - y0) * dy) / length2, 0, 1)
    dist2 = (cols - (x0 + t * dx)) ** 2 + (rows - (y0 + t * dy)) ** 2
    raster[top:bottom, left:right][dist2 <= radius * radius] = 1.0


def ink(pixels):
    """Ink intensity in [0, 1] from a drawing.

    pixels: (H, W) grey levels where ink is bright, or (H, W, 4) RGBA where ink is opaque
    (a canvas with a transparent background), in [0, 255] or [0, 1].
    """
    pixels = np.asarray(pixels, dtype=np.float64)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[:, :, 3]
    elif pixels.ndim != 2:
        raise ValueError(f"expected a drawing of shape (H, W) or (H, W, 4), got {pixels.shape}")
    peak = pixels.max(initial=0.0)
    return pixels / (255.0 if peak > 1 else 1.0)


def _area_weights(n_in, n_out):
    """(n_out, n_in) matrix: row i averages the input pixels that output pixel i covers."""
    edges_in = np.arange(n_in + 1) * (n_out / n_in)  # input pixel edges, in output units
    lo = np.maximum(edges_in[:-1][None, :], np.arange(n_out)[:, None])
    hi = np.minimum(edges_in[1:][None, :], np.arange(n_out)[:, None] + 1)
    overlap = np.clip(hi - lo, 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_area(image, shape):
    """Resize (H, W) -> shape by averaging over areas (anti-aliased, no pixel is skipped)."""
    rows = _area_weights(image.shape[0], shape[0])
    cols = _area_weights(image.shape[1], shape[1])
    return rows @ image @ cols.T


def center_of_mass(image):
    """(row, column) of the intensity-weighted mean position of an (H, W) image."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / total, (cols * image).sum() / total


def stroke_width(images):
    """Mean stroke width in pixels of images (..., H, W): 2 x ink area / ink outline length.

    A stroke of width w and length L has area w L and an outline of about 2 L. The outline
    is the summed absolute step between neighbouring pixels (across rows and columns), so a
    grey, anti-aliased edge counts as much as a sharp one. An image without ink gives 0.
    """
    images = np.asarray(images, dtype=np.float64)
    edge = [(0, 0)] * (images.ndim - 2) + [(1, 1), (1, 1)]
    padded = np.pad(images, edge)
    outline = np.abs(np.diff(padded, axis=-1)).sum(axis=(-2, -1))
    outline += np.abs(np.diff(padded, axis=-2)).sum(axis=(-2, -1))
    return 2 * images.sum(axis=(-2, -1)) / np.maximum(outline, 1e-12)


def slant(images):
    """How far the ink leans right, images (..., H, W) -> (...,): columns per row upwards.

    The slope of the ink's principal direction against the vertical, from its second moments:
    -cov(column, row) / var(row). 0 is upright; 0.25 moves the top a quarter of the height
    to the right of the bottom.
    """
    images = np.asarray(images, dtype=np.float64)
    rows, cols = np.indices(images.shape[-2:])
    mass = np.maximum(images.sum(axis=(-2, -1)), 1e-12)

    def mean(values):
        return (images * values).sum(axis=(-2, -1)) / mass

    cy, cx = mean(rows), mean(cols)
    dy = rows - cy[..., None, None]
    dx = cols - cx[..., None, None]
    return -mean(dy * dx) / np.maximum(mean(dy * dy), 1e-12)


def measure_mnist():
    """Print the medians behind MNIST_STROKE_WIDTH and MNIST_SLANT (needs the MNIST files)."""
    images = load_mnist("train")[0][:, 0]
    print(
        f"stroke width {np.median(stroke_width(images)):.2f}, slant {np.median(slant(images)):.2f}"
    )


def _shift(image, dy, dx):
    """Move an (H, W) image by whole pixels, filling with zeros."""
    out = np.zeros_like(image)
    h, w = image.shape
    src = image[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def _disk_hits(binary, radius):
    """For each pixel, how many pixels of binary lie within radius of it ((H, W), by FFT)."""
    k = math.ceil(radius)
    dy, dx = np.ogrid[-k : k + 1, -k : k + 1]
    disk = (dy * dy + dx * dx <= radius * radius).astype(np.float64)
    shape = (binary.shape[0] + 2 * k, binary.shape[1] + 2 * k)
    counts = np.fft.irfft2(np.fft.rfft2(binary, shape) * np.fft.rfft2(disk, shape), shape)
    return counts[k : k + binary.shape[0], k : k + binary.shape[1]], disk.sum()


def _thicken(binary, radius):
    """Binary ink grown (radius > 0) or thinned (radius < 0) by |radius| pixels on each side."""
    if abs(radius) < 0.5:
        return binary
    counts, full = _disk_hits(binary, abs(radius))
    grown = counts > 0.5 if radius > 0 else counts > full - 0.5
    return grown.astype(np.float64)


def _deskew(strength, target):
    """Shear the rows of (H, W) ink so that its slant becomes target (widening the image)."""
    shear = slant(strength) - target
    rows = np.arange(strength.shape[0])
    cy, _ = center_of_mass(strength)
    shift = np.round(shear * (rows - cy)).astype(int)  # row r moves right by shift[r]
    pad = int(np.abs(shift).max())
    wide = np.pad(strength, ((0, 0), (pad, pad)))
    cols = np.arange(wide.shape[1])[None, :] - shift[:, None]  # where each new pixel comes from
    inside = (cols >= 0) & (cols < wide.shape[1])
    return np.where(inside, np.take_along_axis(wide, np.clip(cols, 0, wide.shape[1] - 1), 1), 0)


def _crop(strength, threshold):
    rows = np.flatnonzero((strength > threshold).any(axis=1))
    cols = np.flatnonzero((strength > threshold).any(axis=0))
    return strength[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _into_box(crop, antialias):
    """The crop scaled to fit BOX x BOX (aspect kept), in the middle of a FIELD x FIELD field."""
    scale = BOX / max(crop.shape)
    h = max(1, round(crop.shape[0] * scale))
    w = max(1, round(crop.shape[1] * scale))
    small = resize_area(crop, (h, w))
    if not antialias:
        small = (small >= 0.5).astype(np.float64)
    field = np.zeros((FIELD, FIELD))
    top, left = (FIELD - h) // 2, (FIELD - w) // 2
    field[top : top + h, left : left + w] = small
    return field, scale


def to_mnist(pixels, threshold=0.05, steps=PAD_STEPS):
    """A drawing -> (28, 28) float32 in [0, 1], centred and scaled the way MNIST digits are.

    pixels: see ink(). Pixels below threshold do not count as ink for the bounding box.
    steps: which of STEPS to take (default: PAD_STEPS, the best measured). "box": the ink's
    bounding box scaled to fit 20 x 20 (without it the whole drawing is scaled to 28 x 28);
    "antialias": grey edges from averaging (without it each pixel is ink or not); "center":
    the centre of mass moved to MNIST's CENTRE (without it the box sits in the middle);
    "thickness": strokes thickened or thinned to MNIST_STROKE_WIDTH (the ink is taken as
    strength > 0.5); "deskew": the slant set to MNIST_SLANT. An empty drawing gives zeros.
    """
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"steps must be among {STEPS}, got {sorted(unknown)}")
    strength = ink(pixels)
    if not (strength > threshold).any():
        return np.zeros((FIELD, FIELD), dtype=np.float32)
    if "box" not in steps:
        return np.clip(resize_area(strength, (FIELD, FIELD)) / strength.max(), 0, 1).astype(
            np.float32
        )
    crop = _crop(strength, threshold)
    if "deskew" in steps:
        crop = _crop(_deskew(crop, MNIST_SLANT), threshold)
    if "thickness" in steps:
        # Measured where MNIST measured it, in the 28 x 28 field; twice, as the box changes too.
        crop = (crop > 0.5).astype(np.float64)
        for _ in range(2):
            field, scale = _into_box(crop, antialias=True)
            change = (MNIST_STROKE_WIDTH - stroke_width(field)) / (2 * scale)
            change = max(change, -0.35 * stroke_width(crop))  # never thin a stroke away
            room = np.pad(crop, math.ceil(max(change, 0)) + 1)  # room to grow into
            crop = _crop(_thicken(room, change), 0.5)
    field, _ = _into_box(crop, "antialias" in steps)
    if "center" in steps:
        cy, cx = center_of_mass(field)
        field = _shift(field, round(CENTRE - cy), round(CENTRE - cx))
    return np.clip(field / field.max(), 0, 1).astype(np.float32)
