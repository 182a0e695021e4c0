"""Turn a drawing into an MNIST-style digit: what the network expects to see.

MNIST digits were made like this: the ink's bounding box is scaled to fit a 20 x 20 box
(keeping its aspect ratio, with anti-aliasing), placed in a 28 x 28 field, and shifted so
that the centre of mass of the ink sits at the centre of the field.
"""

import numpy as np

__all__ = ["stroke_segment", "ink", "resize_area", "center_of_mass", "to_mnist"]

FIELD, BOX = 28, 20


def stroke_segment(raster, start, end, radius):
    """Paint a line with round ends from start to end, (x, y) points, onto raster (H, W)."""
    h, w = raster.shape
    rows, cols = np.ogrid[:h, :w]
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    # Distance from each pixel to the segment: project onto it, clamp to the two ends.
    t = 0.0 if length2 == 0 else np.clip(((cols - x0) * dx + (rows - y0) * dy) / length2, 0, 1)
    dist2 = (cols - (x0 + t * dx)) ** 2 + (rows - (y0 + t * dy)) ** 2
    raster[dist2 <= radius * radius] = 1.0


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


def _shift(image, dy, dx):
    """Move an (H, W) image by whole pixels, filling with zeros."""
    out = np.zeros_like(image)
    h, w = image.shape
    src = image[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def to_mnist(pixels, threshold=0.05):
    """A drawing -> (28, 28) float32 in [0, 1], centred and scaled the way MNIST digits are.

    pixels: see ink(). Pixels below threshold do not count as ink for the bounding box.
    An empty drawing gives an all-zero image.
    """
    strength = ink(pixels)
    rows = np.flatnonzero((strength > threshold).any(axis=1))
    cols = np.flatnonzero((strength > threshold).any(axis=0))
    field = np.zeros((FIELD, FIELD))
    if rows.size == 0:
        return field.astype(np.float32)
    crop = strength[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = BOX / max(crop.shape)
    h = max(1, round(crop.shape[0] * scale))
    w = max(1, round(crop.shape[1] * scale))
    top, left = (FIELD - h) // 2, (FIELD - w) // 2
    field[top : top + h, left : left + w] = resize_area(crop, (h, w))
    cy, cx = center_of_mass(field)
    centre = (FIELD - 1) / 2
    field = _shift(field, round(centre - cy), round(centre - cx))
    return np.clip(field / field.max(), 0, 1).astype(np.float32)
