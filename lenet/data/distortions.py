"""Random planar affine distortions of digit images, as in the 1998 paper (Section III.C).

The paper enlarged MNIST's training set with distorted copies of each image: "horizontal and
vertical translations, scaling, squeezing (simultaneous horizontal compression and vertical
elongation, or the reverse), and horizontal shearing". Here each distortion is one 2 x 2 matrix
and one offset per image, drawn from a seeded Generator, and all images of a batch are warped
at once by bilinear interpolation (no Python loop over images or pixels).

    distort = Distorter()                      # the default ranges below
    x_new = distort(x, rng)                    # (N, C, H, W) -> same shape, fresh distortions
    x_same = affine_warp(x, np.eye(2)[None].repeat(len(x), 0), np.zeros((len(x), 2)))

Coordinates are (x, y) = (column, row), measured from the image centre; a pixel of the output
at p takes the input's value at A^-1 (p - t): A maps the digit, t moves it. Outside the image
the background is 0 (white, as in lenet's [0, 1] images).
"""

import numpy as np

from lenet.utils.checks import non_negative_number, positive_int
from lenet.utils.rng import as_generator

__all__ = ["affine_warp", "Distorter"]


def affine_warp(images, matrices, offsets):
    """Warp each image by its own affine map: images (N, C, H, W), matrices (N, 2, 2),
    offsets (N, 2) in pixels (dx, dy). Returns (N, C, H, W) in the images' dtype."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {images.shape}")
    n, c, h, w = images.shape
    matrices = np.asarray(matrices, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.float64)
    if matrices.shape != (n, 2, 2) or offsets.shape != (n, 2):
        raise ValueError(
            f"expected matrices of shape {(n, 2, 2)} and offsets of shape {(n, 2)} for "
            f"{n} images, got {matrices.shape} and {offsets.shape}"
        )
    inverse = np.linalg.inv(matrices).astype(np.float32)  # (N, 2, 2)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (cols - cx)[None] - offsets[:, 0, None, None].astype(np.float32)  # (N, H, W): p - t
    v = (rows - cy)[None] - offsets[:, 1, None, None].astype(np.float32)
    sx = inverse[:, 0, 0, None, None] * u + inverse[:, 0, 1, None, None] * v + cx
    sy = inverse[:, 1, 0, None, None] * u + inverse[:, 1, 1, None, None] * v + cy
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = (sx - x0)[:, None], (sy - y0)[:, None]  # (N, 1, H, W): broadcast over channels
    # The four neighbours come from a copy padded with two rings of zeros: the top-left one is
    # clipped to [-2, size], so every neighbour off the image lands on the rings (background).
    wp = w + 4
    padded = np.zeros((n, c, h + 4, wp), dtype=np.float32)
    padded[:, :, 2:-2, 2:-2] = images
    flat = padded.reshape(n, c, -1)
    corner = (np.clip(y0, -2, h) + 2).astype(np.intp) * wp + (np.clip(x0, -2, w) + 2).astype(
        np.intp
    )
    corner = np.broadcast_to(corner.reshape(n, 1, h * w), (n, c, h * w))

    def gather(shift):
        return np.take_along_axis(flat, corner + shift, axis=2).reshape(n, c, h, w)

    out = (gather(0) * (1 - fx) + gather(1) * fx) * (1 - fy)
    out += (gather(wp) * (1 - fx) + gather(wp + 1) * fx) * fy
    return out.astype(images.dtype) if np.issubdtype(images.dtype, np.floating) else out


class Distorter:
    """Random affine distortions: a callable (images, rng) -> distorted images.

    Each image independently gets, uniformly at random:
      translate  horizontal and vertical shift in [-translate, translate] pixels
      scale      both axes times 1 + s, s in [-scale, scale]
      squeeze    horizontal times q and vertical divided by q, q = 1 + e, e in [-squeeze, squeeze]
      shear      horizontal shear x += k y, k in [-shear, shear]
    A = scale * squeeze * shear. The paper gives the kinds of distortion, not their ranges;
    the defaults keep a 20 x 20 MNIST digit inside its 28 x 28 field. All ranges 0 is the
    identity. chunk bounds the memory: images are warped that many at a time.
    """

    def __init__(self, translate=2.0, scale=0.15, squeeze=0.15, shear=0.3, chunk=4096):
        self.translate = non_negative_number("translate", translate)
        self.scale = non_negative_number("scale", scale)
        self.squeeze = non_negative_number("squeeze", squeeze)
        self.shear = non_negative_number("shear", shear)
        if self.scale >= 1 or self.squeeze >= 1:
            raise ValueError(
                f"scale and squeeze must be < 1 (a factor 1 +- them), got {scale}, {squeeze}"
            )
        self.chunk = positive_int("chunk", chunk)

    def __repr__(self):
        return (
            f"Distorter(translate={self.translate:g}, scale={self.scale:g}, "
            f"squeeze={self.squeeze:g}, shear={self.shear:g})"
        )

    def sample(self, n, rng=None):
        """n random (matrices (n, 2, 2), offsets (n, 2)) from rng (Generator or seed)."""
        rng = as_generator(rng)
        s = 1 + rng.uniform(-self.scale, self.scale, n)
        q = 1 + rng.uniform(-self.squeeze, self.squeeze, n)
        k = rng.uniform(-self.shear, self.shear, n)
        offsets = rng.uniform(-self.translate, self.translate, (n, 2))
        # scale * diag(q, 1/q) @ [[1, k], [0, 1]]
        matrices = np.zeros((n, 2, 2))
        matrices[:, 0, 0] = s * q
        matrices[:, 0, 1] = s * q * k
        matrices[:, 1, 1] = s / q
        return matrices, offsets

    def __call__(self, images, rng=None):
        """A freshly distorted copy of images (N, C, H, W)."""
        rng = as_generator(rng)
        images = np.asarray(images)
        matrices, offsets = self.sample(len(images), rng)
        parts = [
            affine_warp(images[i : i + self.chunk], matrices[i : i + self.chunk],
                        offsets[i : i + self.chunk])
            for i in range(0, len(images), self.chunk)
        ]  # fmt: skip
        return np.concatenate(parts) if parts else images.copy()
