"""Weight initialisation from a seeded np.random.Generator.

He (Kaiming) for ReLU-family layers keeps the activations' variance constant through a ReLU;
Glorot (Xavier) suits tanh. Sigmoid's slope at 0 is 1/4 where tanh's is 1, so Glorot and Bengio
(2010) scale the same range by 4 for sigmoid layers ("glorot_sigmoid"); without it the gradient
shrinks about 4x per sigmoid layer, and a sigmoid LeNet-5 sits near 10% accuracy for thousands of
SGD steps.
"""

import numpy as np

__all__ = ["initial_weights", "INITS"]

INITS = ("he", "glorot", "glorot_sigmoid")


def initial_weights(shape, fan_in, fan_out, init, rng, dtype):
    """Random weights of the given shape.

    he:     normal with std sqrt(2 / fan_in)
    glorot: uniform on [-a, a] with a = sqrt(6 / (fan_in + fan_out))
    glorot_sigmoid: uniform on [-4a, 4a]
    """
    if init == "he":
        w = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    elif init in ("glorot", "glorot_sigmoid"):
        limit = np.sqrt(6.0 / (fan_in + fan_out)) * (4 if init == "glorot_sigmoid" else 1)
        w = rng.uniform(-limit, limit, size=shape)
    else:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return w.astype(dtype)
