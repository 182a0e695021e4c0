"""Checkpoints: a model's architecture and weights in one .npz file, loaded without pickle.

    save(model, "checkpoints/lenet5.npz")
    model = load("checkpoints/lenet5.npz")

The file holds every parameter array as "<layer index>.<name>" and the architecture (each
layer's class name and constructor arguments) as a JSON string in "architecture". Layers are
rebuilt from LAYER_TYPES, the layer classes listed below.

A file is a stranger until checked. load reads, in this order, and refuses with a
CheckpointError naming the file, the array or layer, and the reason:

1. the zip archive's directory, and the .npy header of each array in it (its dtype and shape,
   before its body is decompressed): float32 or float64 weights only, sizes that agree;
2. the architecture: JSON text of at most MAX_ARCHITECTURE_CHARS, nested at most MAX_NESTING
   deep, one {type, args} entry per layer of a known type;
3. each layer's parameter shapes, computed from its constructor arguments without allocating
   anything, against the stored headers, at most MAX_PARAMETERS in all;
4. only then the arrays' bodies: every value finite.

So a file can neither run code (no pickle), nor cost more memory than the weights it declares
(at most MAX_PARAMETERS of them), nor load weights that are NaN, inf, integers or text. save
refuses what load would refuse.
"""

import contextlib
import json
import math
import os
import re
import zipfile
from pathlib import Path

import numpy as np

from lenet.nn import (
    AvgPool2d,
    Conv2d,
    Flatten,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from lenet.paper1998.layers import (
    Binarize,
    InputRange,
    MaskedConv2d,
    Pad,
    RBFOutput,
    ScaledTanh,
    Subsampling,
)
from lenet.utils.checks import is_int
from lenet.utils.files import atomic_write, folder_lock, move_aside

__all__ = [
    "CheckpointError",
    "NN_LAYERS",
    "PAPER1998_LAYERS",
    "LAYER_TYPES",
    "MAX_PARAMETERS",
    "MAX_ARCHITECTURE_CHARS",
    "MAX_NESTING",
    "MAX_LAYERS",
    "save",
    "load",
]

# Every layer class a checkpoint can hold: a new layer is added to one of these tuples.
NN_LAYERS = (Linear, Conv2d, MaxPool2d, AvgPool2d, ReLU, LeakyReLU, Tanh, Sigmoid, Flatten)
PAPER1998_LAYERS = (Pad, Binarize, Subsampling, MaskedConv2d, ScaledTanh, RBFOutput, InputRange)
LAYER_TYPES = {cls.__name__: cls for cls in NN_LAYERS + PAPER1998_LAYERS}

# Bounds on what a file may declare, checked before anything is allocated. LeNet-5 has 61,706
# parameters and a 2 kB architecture: the bounds leave a thousand times that room.
MAX_PARAMETERS = 2**26  # 67 million: 256 MB as float32, 512 MB as float64
MAX_ARCHITECTURE_CHARS = 2**20
MAX_NESTING = 16  # LeNet-5's deepest: list > entry > args > connection table > row (5)
MAX_LAYERS = 10_000
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


class CheckpointError(ValueError):
    """A checkpoint that cannot be written or trusted; the message names the file and why."""


def save(model, path, keep_previous=False):
    """Write the model's architecture and weights to an .npz file, atomically.

    The file appears complete or not at all. An existing file at path is replaced, or with
    keep_previous renamed to the first free stem.1.npz, stem.2.npz, ... once the new file is
    fully written; returns that new name (None when nothing was kept). Saves to one path from
    several processes at once each keep their file (the folder is locked while names change).
    Refuses (CheckpointError) a layer lenet cannot rebuild and weights that are not finite
    float32 or float64 numbers, naming the layer and the parameter.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"checkpoints are .npz files, got {path.name!r}")
    arrays = {}
    architecture = []
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        if LAYER_TYPES.get(name) is not type(layer):
            raise CheckpointError(
                f"cannot save {path}: layer {i} of type {name} is not one lenet can rebuild "
                "(lenet.training.checkpoint.LAYER_TYPES)"
            )
        architecture.append({"type": name, "args": layer.constructor_args()})
        for key, value in layer.params.items():
            _check_weights(f"cannot save {path}: layer {i} ({name}), parameter {key!r}", value)
            arrays[f"{i}.{key}"] = value
    arrays["architecture"] = np.array(json.dumps(architecture))
    path.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(path.parent) if keep_previous else contextlib.nullcontext():
        with atomic_write(path) as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())  # a full disk fails here, before the previous file is moved
            return move_aside(path) if keep_previous else None


def _check_weights(where, value):
    """CheckpointError (where: reason) unless value is a finite float32 or float64 array."""
    value = np.asarray(value)
    if value.dtype not in FLOAT_DTYPES:
        raise CheckpointError(f"{where}: {_dtype_problem(value.dtype)}")
    if not np.isfinite(value).all():
        bad = int(np.count_nonzero(~np.isfinite(value)))
        raise CheckpointError(
            f"{where}: {bad} of its {value.size} values are NaN or inf (a diverged model; "
            "it would predict nothing)"
        )


def _dtype_problem(dtype):
    if dtype.hasobject:
        return "it holds pickled Python objects, which lenet never loads"
    return f"its dtype is {dtype} ({dtype.str}), lenet weights are float32 or float64"


def load(path):
    """Rebuild a model saved by save(); a CheckpointError names the file and what is wrong.

    Everything a file declares is checked before it is used (see the module docstring).
    """
    path = Path(path)
    _check_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            headers = _read_headers(path, archive)
            architecture = _architecture(path, archive, headers)
            layers = _check_layers(path, architecture, headers)
            weights = _read_weights(path, archive, headers, layers)
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as err:
        raise _damaged(path, err) from err
    except (RuntimeError, NotImplementedError) as err:  # encrypted, unknown compression
        raise _not_a_checkpoint(path, f"its zip archive cannot be read ({err})") from err
    return Sequential(*[_build(path, i, layer, weights) for i, layer in enumerate(layers)])


def _not_a_checkpoint(path, reason):
    return CheckpointError(
        f"{path} is not a lenet checkpoint: {reason}. A checkpoint is the .npz file written by "
        "lenet.save or `python -m lenet train`; save or copy the model again."
    )


def _damaged(path, err):
    reason = " ".join(str(err).split()) or type(err).__name__
    return _not_a_checkpoint(path, f"the archive is damaged or truncated ({reason})")


def _check_file(path):
    """FileNotFoundError or CheckpointError for what is plainly not an .npz archive."""
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


class _Header:
    """What an array's .npy header declares: shape, dtype, and where its body is."""

    def __init__(self, info, shape, dtype):
        self.info, self.shape, self.dtype = info, shape, dtype


def _read_headers(path, archive):
    """Array name -> _Header for each array of the archive, from its .npy header alone."""
    infos = archive.infolist()
    if len(infos) > 2 * MAX_LAYERS:
        raise _not_a_checkpoint(
            path,
            f"it holds {len(infos):,} arrays, more than the {2 * MAX_LAYERS:,} of the "
            f"{MAX_LAYERS:,} layers a checkpoint may hold",
        )
    headers = {}
    for info in infos:
        name = info.filename.removesuffix(".npy")
        if name == info.filename or name in headers:
            raise _not_a_checkpoint(path, f"{info.filename!r} in it is not one numpy array")
        with archive.open(info) as fp:
            try:
                version = np.lib.format.read_magic(fp)
                read = {
                    (1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0,
                }.get(version)
                if read is None:
                    raise ValueError(f"unsupported .npy format version {version}")
                shape, _, dtype = read(fp)
            except (ValueError, TypeError, SyntaxError) as err:
                raise _damaged(path, f"array {name!r}: {err}") from err
            body = fp.tell()
        if not all(is_int(n) and n >= 0 for n in shape):
            raise _damaged(path, f"array {name!r} declares the shape {shape}")
        if dtype.hasobject:
            raise _not_a_checkpoint(path, f"array {name!r}: {_dtype_problem(dtype)}")
        if name != "architecture" and dtype not in FLOAT_DTYPES:
            raise CheckpointError(f"{path}: array '{name}': {_dtype_problem(dtype)}")
        declared = math.prod(shape) * dtype.itemsize
        if declared + body != info.file_size:
            raise _damaged(
                path,
                f"array {name!r} is {info.file_size - body} bytes, its header "
                f"({dtype}, shape {shape}) says {declared}",
            )
        headers[name] = _Header(info, shape, dtype)
    return headers


def _read_array(archive, header):
    with archive.open(header.info) as fp:
        return np.lib.format.read_array(fp, allow_pickle=False)


def _architecture(path, archive, headers):
    """[(type name, args)] from the 'architecture' array, its size and nesting bounded."""
    header = headers.pop("architecture", None)
    if header is None:
        raise CheckpointError(f"{path} has no 'architecture' array: not a lenet checkpoint")
    if header.dtype.kind != "U" or header.shape != ():
        raise CheckpointError(
            f"{path}: the 'architecture' array is not one JSON text "
            f"(dtype {header.dtype}, shape {header.shape})"
        )
    if header.dtype.itemsize // 4 > MAX_ARCHITECTURE_CHARS:
        raise CheckpointError(
            f"{path}: the 'architecture' text is {header.dtype.itemsize // 4:,} characters long, "
            f"more than the {MAX_ARCHITECTURE_CHARS:,} a checkpoint may hold"
        )
    text = str(_read_array(archive, header))
    depth = _nesting(text)
    if depth > MAX_NESTING:
        raise CheckpointError(
            f"{path}: the 'architecture' text nests {depth} levels deep, "
            f"more than the {MAX_NESTING} a checkpoint may hold"
        )
    try:
        entries = json.loads(text)
        if not isinstance(entries, list) or len(entries) > MAX_LAYERS:
            raise TypeError(f"a list of at most {MAX_LAYERS} layers expected")
        return [(_layer_type(entry["type"]), dict(entry["args"])) for entry in entries]
    except (ValueError, TypeError, KeyError) as err:
        raise CheckpointError(
            f"{path}: the 'architecture' array is not a JSON list of {{type, args}} entries "
            f"({' '.join(str(err).split())})"
        ) from err


def _layer_type(name):
    if not isinstance(name, str):
        raise TypeError(f"a layer type is a class name, got {name!r}")
    return name


def _nesting(text):
    """How deep lists and objects nest in a JSON text, counted without parsing it."""
    outside_strings = _JSON_STRING.sub('""', text).encode()
    codes = np.frombuffer(outside_strings, dtype=np.uint8)
    opens = (codes == ord("[")) | (codes == ord("{"))
    closes = (codes == ord("]")) | (codes == ord("}"))
    return int(np.cumsum(opens.astype(np.int64) - closes).max(initial=0))


class _Layer:
    """A layer as the file declares it: class, constructor arguments, its arrays' names."""

    def __init__(self, cls, args, arrays, dtype):
        self.cls, self.args, self.arrays, self.dtype = cls, args, arrays, dtype


def _check_layers(path, architecture, headers):
    """The declared layers, every parameter shape checked against the stored headers.

    Nothing is allocated: shapes come from each class's parameter_shapes and from the headers.
    """
    layers, total = [], 0
    by_layer = {}  # "<layer index>" -> {parameter name: header}, for "<index>.<name>" arrays
    for key, header in headers.items():
        index, _, parameter = key.partition(".")
        by_layer.setdefault(index, {})[parameter] = header
    for i, (name, args) in enumerate(architecture):
        cls = LAYER_TYPES.get(name)
        if cls is None:
            raise CheckpointError(f"{path}: layer {i} has unknown type {name!r}")
        expected = _parameter_shapes(path, i, cls, args)
        stored = by_layer.pop(str(i), {})
        for key, shape in expected.items():
            if key not in stored:
                raise CheckpointError(
                    f"{path}: array '{i}.{key}' for layer {i} ({name}) is missing"
                )
            if stored[key].shape != shape:
                raise CheckpointError(
                    f"{path}: array '{i}.{key}' has shape {stored[key].shape}, "
                    f"layer {i} ({name}) expects {shape}"
                )
        if set(stored) != set(expected):
            extra = sorted(f"{i}.{k}" for k in set(stored) - set(expected))
            raise CheckpointError(f"{path}: arrays {extra} belong to no parameter of layer {i}")
        dtypes = {header.dtype for header in stored.values()}
        if len(dtypes) > 1:
            raise CheckpointError(
                f"{path}: the arrays of layer {i} ({name}) mix dtypes {sorted(map(str, dtypes))}"
            )
        total += sum(math.prod(shape) for shape in expected.values())
        if total > MAX_PARAMETERS:
            raise CheckpointError(
                f"{path}: layer {i} ({name}) brings the parameters to {total:,}, more than the "
                f"{MAX_PARAMETERS:,} a checkpoint may hold"
            )
        layers.append(_Layer(cls, args, stored, dtypes.pop() if dtypes else None))
    if by_layer:
        unclaimed = sorted(".".join(filter(None, (i, k))) for i in by_layer for k in by_layer[i])
        raise CheckpointError(f"{path}: arrays {unclaimed} belong to no layer")
    return layers


def _parameter_shapes(path, i, cls, args):
    """cls.parameter_shapes(**args), every size a non-negative int, or CheckpointError."""
    try:
        shapes = cls.parameter_shapes(**args)
        if not all(is_int(n) and n >= 0 for shape in shapes.values() for n in shape):
            raise ValueError(f"the sizes {shapes} are not all whole numbers")
    except (TypeError, ValueError, OverflowError) as err:
        raise CheckpointError(
            f"{path}: layer {i} cannot be built as {cls.__name__}({args}): {err}"
        ) from err
    return {key: tuple(int(n) for n in shape) for key, shape in shapes.items()}


def _read_weights(path, archive, headers, layers):
    """Layer index -> {name: array}: the bodies, read once every header has passed."""
    weights = {}
    for i, layer in enumerate(layers):
        weights[i] = {}
        for key, header in layer.arrays.items():
            array = _read_array(archive, header)
            where = f"{path}: array '{i}.{key}' of layer {i} ({layer.cls.__name__})"
            _check_weights(where, array)
            weights[i][key] = array
    return weights


def _build(path, i, layer, weights):
    """Layer i, built from its constructor arguments, holding the stored weights."""
    dtype = {"dtype": layer.dtype.type} if layer.dtype is not None else {}
    try:
        built = layer.cls(**layer.args, **dtype)
    except (TypeError, ValueError, OverflowError) as err:
        raise CheckpointError(
            f"{path}: layer {i} cannot be built as {layer.cls.__name__}({layer.args}): {err}"
        ) from err
    built.params.update(weights[i])
    return built
