"""Models: Sequential stacks of layers, the LeNet-5 builder, and .npz checkpoints.

A checkpoint holds every parameter array and the architecture (each layer's type and
constructor arguments, as JSON), so ``load(path)`` rebuilds the model on its own.
It is read with ``allow_pickle=False``: loading a file never runs code.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from lenet import classic as C
from lenet import layers as L
from lenet.init import as_generator

__all__ = ["Sequential", "LeNet5", "save", "load", "LAYER_TYPES"]

LAYER_TYPES = {
    cls.__name__: cls
    for cls in (
        L.Linear,
        L.Conv2d,
        L.MaxPool2d,
        L.AvgPool2d,
        L.ReLU,
        L.LeakyReLU,
        L.Tanh,
        L.Sigmoid,
        L.Flatten,
        C.Pad,
        C.Binarize,
        C.Subsampling,
        C.MaskedConv2d,
        C.ScaledTanh,
        C.RBFOutput,
    )
}


class Sequential:
    """Layers applied in order: forward runs them first to last, backward last to first."""

    def __init__(self, *layers):
        for layer in layers:
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"Sequential takes layers, got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x):
        """x: the first layer's input -> the last layer's output (logits for a classifier)."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout):
        """dout: dL/d(output) -> dL/dx.

        A layer that skips its input gradient (Conv2d with input_grad=False) returns None;
        backward stops there, as the layers before it have no parameters to need one.
        """
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
            if dout is None:
                return None
        return dout

    def parameter_count(self):
        """Number of trainable numbers in all layers."""
        return sum(layer.parameter_count() for layer in self.layers)

    def summary(self, input_shape):
        """Each layer's output shape and parameter count for one input of input_shape.

        Returns a list of (layer repr, output shape, parameter count), first row the input.
        """
        x = np.zeros(input_shape, dtype=self.dtype)
        rows = [("input", x.shape, 0)]
        for layer in self.layers:
            x = layer.forward(x)
            rows.append((repr(layer), x.shape, sum(p.size for p in layer.params.values())))
        return rows

    @property
    def dtype(self):
        """The dtype of the parameters (float32 unless built with another)."""
        for layer in self.layers:
            for p in layer.params.values():
                return p.dtype
        return np.dtype(np.float32)

    def __repr__(self):
        inner = "".join(f"\n  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


_ACTIVATIONS = {"relu": L.ReLU, "leaky_relu": L.LeakyReLU, "tanh": L.Tanh, "sigmoid": L.Sigmoid}
_INIT_FOR = {"relu": "he", "leaky_relu": "he", "tanh": "glorot", "sigmoid": "glorot_sigmoid"}
_POOLS = {"max": L.MaxPool2d, "avg": L.AvgPool2d}


def LeNet5(activation="relu", pool="max", dtype=np.float32, rng=None):
    """LeNet-5 for 28 x 28 digits: (N, 1, 28, 28) -> logits (N, 10).

    conv 1->6 (5x5, pad 2) -> act -> pool 2 -> conv 6->16 (5x5) -> act -> pool 2 -> flatten
    -> 400->120 -> act -> 120->84 -> act -> 84->10.

    ``LeNet5()`` is the modern net (ReLU, max pooling, He init);
    ``LeNet5("sigmoid", "avg")`` is the seed report's (Glorot init, x4 for sigmoid layers, see
    lenet.init; tanh gets plain Glorot). The output layer gets Glorot
    init scaled by 0.1: a fresh classifier should be unsure, with logits near 0, so its loss
    starts near ln 10 = 2.303 (a classic sanity check).
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if pool not in _POOLS:
        raise ValueError(f"pool must be one of {sorted(_POOLS)}, got {pool!r}")
    rng = as_generator(rng)
    act, pool_cls = _ACTIVATIONS[activation], _POOLS[pool]
    init = _INIT_FOR[activation]
    kw = {"init": init, "dtype": dtype, "rng": rng}
    output = L.Linear(84, 10, init="glorot", dtype=dtype, rng=rng)
    output.params["W"] *= 0.1
    return Sequential(
        L.Conv2d(1, 6, 5, padding=2, input_grad=False, **kw),
        act(),
        pool_cls(2),
        L.Conv2d(6, 16, 5, **kw),
        act(),
        pool_cls(2),
        L.Flatten(),
        L.Linear(16 * 5 * 5, 120, **kw),
        act(),
        L.Linear(120, 84, **kw),
        act(),
        output,
    )


def save(model, path):
    """Write the model's architecture and weights to an .npz file, atomically.

    The file appears complete or not at all: it is written to a temporary file in the same
    folder, then renamed.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"checkpoints are .npz files, got {path.name!r}")
    arrays = {}
    architecture = []
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        if name not in LAYER_TYPES:
            raise ValueError(f"cannot save layer {i} of type {name}: no known way to rebuild it")
        architecture.append({"type": name, "args": layer.spec()})
        for key, value in layer.params.items():
            arrays[f"{i}.{key}"] = value
    arrays["architecture"] = np.array(json.dumps(architecture))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path):
    """Rebuild a model saved by save(); errors name what is missing or mismatched."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in f.files}
    except (ValueError, OSError) as err:
        raise ValueError(f"{path} is not a readable .npz checkpoint: {err}") from err
    if "architecture" not in arrays:
        raise ValueError(f"{path} has no 'architecture' array: not a lenet checkpoint")
    try:
        architecture = [
            (str(entry["type"]), dict(entry["args"]))
            for entry in json.loads(str(arrays.pop("architecture")))
        ]
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(
            f"{path}: the 'architecture' array is not a JSON list of {{type, args}} entries ({err})"
        ) from err
    layers = []
    for i, (name, args) in enumerate(architecture):
        cls = LAYER_TYPES.get(name)
        if cls is None:
            raise ValueError(f"{path}: layer {i} has unknown type {name!r}")
        keys = [k for k in arrays if k.startswith(f"{i}.")]
        dtype = arrays[keys[0]].dtype if keys else np.float32
        try:
            layer = cls(**args, **({"dtype": dtype} if keys else {}))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: layer {i} cannot be built as {name}({args}): {err}") from err
        for key, expected in layer.params.items():
            stored = arrays.pop(f"{i}.{key}", None)
            if stored is None:
                raise ValueError(f"{path}: array '{i}.{key}' for layer {i} ({layer!r}) is missing")
            if stored.shape != expected.shape:
                raise ValueError(
                    f"{path}: array '{i}.{key}' has shape {stored.shape}, "
                    f"layer {i} ({layer!r}) expects {expected.shape}"
                )
            layer.params[key] = stored
        layers.append(layer)
    if arrays:
        raise ValueError(f"{path}: arrays {sorted(arrays)} belong to no layer of the architecture")
    return Sequential(*layers)
