"""Checkpoints: a model's architecture and weights in one .npz file, loaded without pickle.

    save(model, "checkpoints/lenet5.npz")
    model = load("checkpoints/lenet5.npz")

The file holds every parameter array as "<layer index>.<name>" and the architecture (each
layer's class name and constructor arguments) as a JSON string in "architecture". Layers are
rebuilt from lenet.nn.layers.LAYER_TYPES, where every layer class of lenet registers itself. It is
read with allow_pickle=False, and every size is checked against the stored arrays before a
layer is built, so loading a file never runs code nor allocates what the file does not hold.
"""

import json
import os
import zipfile
from pathlib import Path

import numpy as np

import lenet.paper1998.layers  # noqa: F401  (registers the 1998 layers in LAYER_TYPES)
from lenet.nn.layers import LAYER_TYPES
from lenet.nn.models import Sequential
from lenet.utils.files import atomic_write, move_aside

__all__ = ["CheckpointError", "save", "load"]


class CheckpointError(ValueError):
    """A file that is not a readable lenet checkpoint; the message names the file and why."""


def save(model, path, keep_previous=False):
    """Write the model's architecture and weights to an .npz file, atomically.

    The file appears complete or not at all. An existing file at path is replaced, or with
    keep_previous renamed to the first free stem.1.npz, stem.2.npz, ... once the new file is
    fully written; returns that new name (None when nothing was kept).
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"checkpoints are .npz files, got {path.name!r}")
    arrays = {}
    architecture = []
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        if LAYER_TYPES.get(name) is not type(layer):
            raise ValueError(f"cannot save layer {i} of type {name}: no known way to rebuild it")
        architecture.append({"type": name, "args": layer.constructor_args()})
        for key, value in layer.params.items():
            arrays[f"{i}.{key}"] = value
    arrays["architecture"] = np.array(json.dumps(architecture))
    previous = None
    with atomic_write(path) as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())  # a full disk fails here, before the previous file is moved
        if keep_previous:
            previous = move_aside(path)
    return previous


def _not_a_checkpoint(path, reason):
    return CheckpointError(
        f"{path} is not a lenet checkpoint: {reason}. A checkpoint is the .npz file written by "
        "lenet.save or `python -m lenet train`; save or copy the model again."
    )


def _read_arrays(path):
    """Every array of the .npz file at path, or CheckpointError saying what is wrong."""
    if path.is_dir():
        raise CheckpointError(f"cannot load the checkpoint {path}: it is a folder")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as f:
        start = f.read(6)
    if not start:
        raise _not_a_checkpoint(path, "the file is empty")
    if start.startswith(b"\x93NUMPY"):
        raise _not_a_checkpoint(path, "it holds a single numpy array (.npy), not an .npz archive")
    if start.startswith(b"\x80"):
        raise _not_a_checkpoint(path, "it holds pickled Python objects, which lenet never loads")
    if not start.startswith(b"PK"):
        raise _not_a_checkpoint(path, f"it is not a zip (.npz) archive (it starts with {start!r})")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {key: f[key] for key in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as err:
        reason = str(err) or type(err).__name__
        if "allow_pickle" in reason or "pickled" in reason:
            reason = "an array in it holds pickled Python objects, which lenet never loads"
        raise _not_a_checkpoint(path, f"the archive is damaged or truncated ({reason})") from err


def _architecture(path, arrays):
    if "architecture" not in arrays:
        raise CheckpointError(f"{path} has no 'architecture' array: not a lenet checkpoint")
    try:
        return [
            (str(entry["type"]), dict(entry["args"]))
            for entry in json.loads(str(arrays.pop("architecture")))
        ]
    except (ValueError, TypeError, KeyError) as err:
        raise CheckpointError(
            f"{path}: the 'architecture' array is not a JSON list of {{type, args}} entries ({err})"
        ) from err


def _build(path, i, name, args, arrays):
    """Layer i of the architecture, with its stored parameters, shapes checked first."""
    cls = LAYER_TYPES.get(name)
    if cls is None:
        raise CheckpointError(f"{path}: layer {i} has unknown type {name!r}")
    stored = {k.split(".", 1)[1]: arrays.pop(k) for k in list(arrays) if k.startswith(f"{i}.")}
    try:
        expected = cls.parameter_shapes(**args)
    except (TypeError, ValueError) as err:
        raise CheckpointError(
            f"{path}: layer {i} cannot be built as {name}({args}): {err}"
        ) from err
    for key, shape in expected.items():
        if key not in stored:
            raise CheckpointError(f"{path}: array '{i}.{key}' for layer {i} ({name}) is missing")
        if stored[key].shape != shape:
            raise CheckpointError(
                f"{path}: array '{i}.{key}' has shape {stored[key].shape}, "
                f"layer {i} ({name}) expects {shape}"
            )
    if set(stored) != set(expected):
        extra = sorted(f"{i}.{k}" for k in set(stored) - set(expected))
        raise CheckpointError(f"{path}: arrays {extra} belong to no parameter of layer {i}")
    dtype = next(iter(stored.values())).dtype if stored else None
    try:
        layer = cls(**args, **({"dtype": dtype} if stored else {}))
    except (TypeError, ValueError) as err:
        raise CheckpointError(
            f"{path}: layer {i} cannot be built as {name}({args}): {err}"
        ) from err
    layer.params.update(stored)
    return layer


def load(path):
    """Rebuild a model saved by save(); a CheckpointError names the file and what is wrong."""
    path = Path(path)
    arrays = _read_arrays(path)
    architecture = _architecture(path, arrays)
    layers = [_build(path, i, name, args, arrays) for i, (name, args) in enumerate(architecture)]
    if arrays:
        raise CheckpointError(f"{path}: arrays {sorted(arrays)} belong to no layer")
    return Sequential(*layers)
