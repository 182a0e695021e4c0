"""Checkpoints: .npz with the architecture, atomic writes, no pickle, clear errors."""

import io
import json
import math
import multiprocessing
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from bombs import write_zip_with_zeros

import lenet
import lenet.paper1998.layers
from lenet.training import checkpoint


def batch(dtype=np.float32):
    return np.random.default_rng(0).random((4, 1, 28, 28)).astype(dtype)


@pytest.mark.parametrize(
    "make",
    [
        lambda: lenet.LeNet5(rng=1),
        lambda: lenet.LeNet5("sigmoid", "avg", rng=2),
        lambda: lenet.LeNet5("leaky_relu", "max", dtype=np.float64, rng=3),
    ],
    ids=["relu-max", "sigmoid-avg", "float64"],
)
def test_round_trip_gives_identical_outputs(tmp_path, make):
    model = make()
    path = tmp_path / "model.npz"
    lenet.save(model, path)
    loaded = lenet.load(path)
    assert [repr(layer) for layer in loaded.layers] == [repr(layer) for layer in model.layers]
    x = batch(model.dtype)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    assert loaded.dtype == model.dtype
    assert loaded.layers[0].input_grad is False  # LeNet5 skips the image gradient, still


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    lenet.save(lenet.LeNet5(rng=0), path)
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        lenet.save(lenet.LeNet5(rng=1), path)
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    assert path.read_bytes() == before  # the old checkpoint is untouched


def rewrite(path, **changes):
    """Copy a checkpoint with some arrays replaced (None removes one)."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    for key, value in changes.items():
        key = key.replace("_", ".", 1) if key[0].isdigit() else key
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    np.savez(path, **arrays)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.npz"
    lenet.save(lenet.LeNet5(rng=0), path)
    return path


def test_missing_array(saved):
    rewrite(saved, **{"3_W": None})
    with pytest.raises(ValueError, match=r"array '3.W' for layer 3 .* is missing"):
        lenet.load(saved)


def test_wrong_shape(saved):
    rewrite(saved, **{"3_W": np.zeros((16, 6, 3, 3), np.float32)})
    with pytest.raises(
        ValueError, match=r"'3.W' has shape \(16, 6, 3, 3\).*expects \(16, 6, 5, 5\)"
    ):
        lenet.load(saved)


def test_unknown_layer_type(saved):
    architecture = [{"type": "Dropout", "args": {}}]
    rewrite(saved, architecture=np.array(json.dumps(architecture)))
    with pytest.raises(ValueError, match="layer 0 has unknown type 'Dropout'"):
        lenet.load(saved)


@pytest.mark.parametrize(
    ("architecture", "message"),
    [
        ("not json", "not a JSON list of {type, args} entries"),
        ('{"type": "Linear"}', "not a JSON list of {type, args} entries"),
        ('[{"args": {}}]', "not a JSON list of {type, args} entries"),
        ('[{"type": "Linear", "args": {"in_features": 3}}]', r"layer 0 cannot be built as Linear"),
    ],
)
def test_malformed_architecture(saved, architecture, message):
    rewrite(saved, architecture=np.array(architecture))
    with pytest.raises(ValueError, match=message):
        lenet.load(saved)


def test_another_architecture(saved):
    other = json.loads(str(np.load(saved)["architecture"]))[:3]
    rewrite(saved, architecture=np.array(json.dumps(other)))
    with pytest.raises(ValueError, match="belong to no layer"):
        lenet.load(saved)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a lenet checkpoint: it is not a zip"):
        lenet.load(path)
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ValueError, match="no 'architecture' array"):
        lenet.load(path)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        lenet.load(tmp_path / "missing.npz")


def test_pickled_objects_are_refused(saved):
    rewrite(saved, architecture=np.array([{"type": "Linear"}], dtype=object))
    with pytest.raises(ValueError, match="pickled Python objects, which lenet never loads"):
        lenet.load(saved)


def test_save_needs_npz_suffix(tmp_path):
    with pytest.raises(ValueError, match="checkpoints are .npz files, got 'model.pkl'"):
        lenet.save(lenet.LeNet5(rng=0), tmp_path / "model.pkl")


# --- damaged and foreign files: one message naming the file and the problem, never a traceback


@pytest.fixture
def good_bytes(tmp_path):
    path = tmp_path / "good.npz"
    lenet.save(lenet.LeNet5(rng=0), path)
    return path.read_bytes()


def _bad_crc(data):
    data = bytearray(data)
    data[len(data) // 2] ^= 0xFF  # inside an array's stored bytes
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda good: good[: len(good) // 2], "damaged or truncated"),
        (lambda good: b"", "the file is empty"),
        (_bad_crc, "damaged or truncated"),
        (lambda good: b"weights: 1 2 3\n", "not a zip"),
        (lambda good: b"\x80\x04\x95\x05\x00", "pickled Python objects"),
    ],
    ids=["truncated", "empty", "bad-crc", "text", "pickle"],
)
def test_damaged_files_get_one_clear_message(tmp_path, good_bytes, content, message):
    path = tmp_path / "model.npz"
    path.write_bytes(content(good_bytes))
    with pytest.raises(lenet.training.checkpoint.CheckpointError, match=message) as err:
        lenet.load(path)
    assert str(path) in str(err.value)
    assert "allow_pickle" not in str(err.value)


def test_npy_renamed_npz(tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(
        lenet.training.checkpoint.CheckpointError, match=r"single numpy array \(.npy\)"
    ):
        lenet.load(path)


def test_sizes_are_checked_before_anything_is_allocated(tmp_path):
    path = tmp_path / "huge.npz"
    architecture = [{"type": "Linear", "args": {"in_features": 10**6, "out_features": 10**6}}]
    np.savez(path, architecture=np.array(json.dumps(architecture)), **{"0.W": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"has shape \(2, 2\), layer 0 \(Linear\) expects"):
        lenet.load(path)


def test_files_get_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        lenet.save(lenet.LeNet5(rng=0), tmp_path / "model.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == 0o644


def test_keep_previous_never_replaces_a_model_silently(tmp_path):
    path = tmp_path / "model.npz"
    assert lenet.save(lenet.LeNet5(rng=0), path, keep_previous=True) is None
    first = path.read_bytes()
    assert lenet.save(lenet.LeNet5(rng=1), path, keep_previous=True) == tmp_path / "model.1.npz"
    assert lenet.save(lenet.LeNet5(rng=2), path, keep_previous=True) == tmp_path / "model.2.npz"
    assert (tmp_path / "model.1.npz").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.1.npz", "model.2.npz", "model.npz"]


def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path):
    path = tmp_path / "model.npz"
    dead = tmp_path / ".model.npz.999999999.abcd.tmp"  # no process has this pid
    alive = tmp_path / f".model.npz.{os.getppid()}.abcd.tmp"
    dead.write_bytes(b"half")
    alive.write_bytes(b"being written")
    lenet.save(lenet.LeNet5(rng=0), path)
    assert not dead.exists() and alive.exists()


# --- a checkpoint is checked before it is used (issue 29, item 3)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["before_issue29", "before_issue29_float64"])
def test_checkpoints_written_before_the_checks_still_load(name):
    # Written by lenet at commit a493286 (every layer type of lenet.nn and lenet.paper1998).
    expected = np.load(DATA / "before_issue29_expected.npz")
    model = lenet.load(DATA / f"{name}.npz")
    x, y = ("x64", "y64") if name.endswith("float64") else ("x", "y")
    np.testing.assert_array_equal(model.forward(expected[x]), expected[y])


def test_every_layer_class_can_be_saved():
    classes = {
        cls
        for module in (lenet.nn, lenet.paper1998.layers)
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, lenet.Layer)
        and cls.__name__ not in ("Layer", "Elementwise")  # the base classes
    }
    assert set(checkpoint.LAYER_TYPES.values()) == classes
    assert checkpoint.LAYER_TYPES == {c.__name__: c for c in checkpoint.LAYER_TYPES.values()}


def small_model(dtype=np.float32):
    return lenet.Sequential(lenet.Linear(3, 2, dtype=dtype, rng=0), lenet.ReLU())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_save_refuses_weights_that_are_not_finite(tmp_path, bad):
    model = small_model()
    model.layers[0].params["b"][1] = bad
    with pytest.raises(checkpoint.CheckpointError) as err:
        lenet.save(model, tmp_path / "model.npz")
    assert str(err.value) == (
        f"cannot save {tmp_path / 'model.npz'}: layer 0 (Linear), parameter 'b': 1 of its 2 "
        "values are NaN or inf (a diverged model; it would predict nothing)"
    )
    assert os.listdir(tmp_path) == []


def test_save_refuses_integer_weights(tmp_path):
    model = small_model()
    model.layers[0].params["W"] = np.ones((3, 2), dtype=np.int64)
    with pytest.raises(checkpoint.CheckpointError, match=r"layer 0 \(Linear\), parameter 'W': "):
        lenet.save(model, tmp_path / "model.npz")


BAD_WEIGHTS = {
    "nan": (np.full((3, 2), np.nan, np.float32), "6 of its 6 values are NaN or inf"),
    "inf": (np.array([[1, 2], [3, np.inf], [5, 6]], np.float32), "1 of its 6 values are NaN"),
    "int": (np.ones((3, 2), np.int64), r"its dtype is int64 \(<i8\), lenet weights are float32"),
    "bool": (np.ones((3, 2), bool), r"its dtype is bool \(\|b1\)"),
    "text": (np.full((3, 2), "w"), r"its dtype is <U1 \(<U1\)"),
    "datetime": (np.zeros((3, 2), "datetime64[s]"), r"its dtype is datetime64\[s\]"),
    "structured": (np.zeros((3, 2), [("a", "f4"), ("b", "f4")]), r"its dtype is \[\('a'"),
    "float16": (np.ones((3, 2), np.float16), "its dtype is float16"),
    "big-endian": (np.ones((3, 2), ">f4"), r"its dtype is >f4 \(>f4\)"),
}


@pytest.mark.parametrize("case", BAD_WEIGHTS)
def test_weights_that_are_not_finite_floats_are_refused(tmp_path, case):
    array, message = BAD_WEIGHTS[case]
    path = tmp_path / "model.npz"
    lenet.save(small_model(), path)
    rewrite(path, **{"0_W": array})
    with pytest.raises(checkpoint.CheckpointError, match=message) as err:
        lenet.load(path)
    assert str(err.value).startswith(f"{path}: array '0.W'")
    assert "\n" not in str(err.value)


def test_object_weights_are_refused_as_pickle(tmp_path):
    path = tmp_path / "model.npz"
    lenet.save(small_model(), path)
    rewrite(path, **{"0_W": np.array([[None, 1]] * 3, dtype=object)})
    with pytest.raises(checkpoint.CheckpointError, match="'0.W': it holds pickled Python objects"):
        lenet.load(path)


def npy_header(shape, dtype="<f4"):
    """The .npy header (format 1.0) of an array, without its body."""
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def write_archive(path, architecture, members):
    """An .npz of the architecture (a list, or a JSON text) and raw members {name: bytes}."""
    text = architecture if isinstance(architecture, str) else json.dumps(architecture)
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("architecture.npy", "w") as f:
            np.lib.format.write_array(f, np.array(text))
        for name, content in members.items():
            archive.writestr(name + ".npy", content)


@pytest.mark.parametrize(
    ("args", "stored", "message"),
    [
        ({"in_features": 10**6, "out_features": 10**6}, (10**6, 10**6), "says 4000000000000"),
        ({"in_features": 10**12, "out_features": 1}, (10**12, 1), "says 4000000000000"),
        ({"in_features": 10**12, "out_features": 1}, (2, 1), r"expects \(1000000000000, 1\)"),
        ({"in_features": 10**12, "out_features": 1}, None, "'0.W' for layer 0 .* is missing"),
    ],
    ids=["header-agrees", "header-agrees-tall", "header-small", "no-array"],
)
def test_a_declared_size_of_a_trillion_is_refused_unallocated(tmp_path, args, stored, message):
    path = tmp_path / "huge.npz"
    body = bytes(4 * math.prod(stored)) if stored and math.prod(stored) < 100 else bytes(64)
    members = {} if stored is None else {"0.W": npy_header(stored) + body}
    write_archive(path, [{"type": "Linear", "args": {**args, "bias": False}}], members)
    with pytest.raises(checkpoint.CheckpointError, match=message):
        lenet.load(path)


def test_the_parameter_bound(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    lenet.save(lenet.LeNet5(rng=0), path)
    monkeypatch.setattr(checkpoint, "MAX_PARAMETERS", 60_000)
    message = r"layer 9 \(Linear\) brings the parameters to \d\d,\d{3}, more than the 60,000"
    with pytest.raises(checkpoint.CheckpointError, match=message):
        lenet.load(path)


def test_the_layer_bound(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    lenet.save(lenet.LeNet5(rng=0), path)
    monkeypatch.setattr(checkpoint, "MAX_LAYERS", 6)  # LeNet5: 12 layers, 11 arrays
    with pytest.raises(checkpoint.CheckpointError, match="a list of at most 6 layers expected"):
        lenet.load(path)
    monkeypatch.setattr(checkpoint, "MAX_LAYERS", 5)
    with pytest.raises(checkpoint.CheckpointError, match="holds 11 arrays, more than the 10 of"):
        lenet.load(path)


def test_arrays_of_no_layer_are_named(tmp_path):
    path = tmp_path / "model.npz"
    lenet.save(small_model(), path)
    rewrite(path, **{"7_W": np.zeros(2, np.float32), "extra": np.zeros(1, np.float32)})
    with pytest.raises(checkpoint.CheckpointError, match=r"arrays \['7.W', 'extra'\] belong to no"):
        lenet.load(path)


def test_a_deeply_nested_architecture_is_refused(tmp_path):
    path = tmp_path / "deep.npz"
    deep = "[" * 100_000 + "]" * 100_000
    write_archive(path, f'[{{"type": "Linear", "args": {{"in_features": {deep}}}}}]', {})
    with pytest.raises(checkpoint.CheckpointError, match="nests 100003 levels deep, more than"):
        lenet.load(path)


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    path = tmp_path / "model.npz"
    lenet.save(small_model(), path)
    architecture = json.loads(str(np.load(path)["architecture"]))
    architecture[0]["args"]["in_features"] = '[[[[[[[[[[[[[[[[[["]'
    rewrite(path, architecture=np.array(json.dumps(architecture)))
    with pytest.raises(checkpoint.CheckpointError, match="layer 0 cannot be built as Linear"):
        lenet.load(path)


def test_an_overlong_architecture_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    lenet.save(small_model(), path)
    monkeypatch.setattr(checkpoint, "MAX_ARCHITECTURE_CHARS", 20)
    with pytest.raises(checkpoint.CheckpointError, match=r"characters long, more than the 20 a"):
        lenet.load(path)


def test_a_header_that_disagrees_with_the_archive_is_damage(tmp_path):
    path = tmp_path / "model.npz"
    write_archive(
        path,
        [{"type": "Linear", "args": {"in_features": 3, "out_features": 2, "bias": False}}],
        {"0.W": npy_header((3, 2)) + b"\0" * 8},
    )
    with pytest.raises(checkpoint.CheckpointError, match="is 8 bytes, its header .* says 24"):
        lenet.load(path)


BOMB = """
import sys
import lenet
from lenet.training.checkpoint import CheckpointError
try:
    lenet.load(sys.argv[1])
except CheckpointError as err:
    print(err)
# This process's own peak (kB): ru_maxrss would carry pytest's peak over fork and exec.
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""


def test_a_2_mb_file_that_unpacks_to_2_gb_is_refused_in_little_memory(tmp_path):
    path = tmp_path / "bomb.npz"
    rows, cols = 2**15, 2**14  # float32: 2 GiB of zeros, about 2 MB deflated
    architecture = [{"type": "Linear", "args": {"in_features": rows, "out_features": cols}}]
    text = io.BytesIO()
    np.lib.format.write_array(text, np.array(json.dumps(architecture)))
    members = {
        "architecture.npy": text.getvalue(),
        "0.b.npy": npy_header((cols,)) + bytes(4 * cols),
    }
    write_zip_with_zeros(path, members, "0.W.npy", npy_header((rows, cols)), rows * cols * 4)
    assert path.stat().st_size < 3_000_000
    result = subprocess.run(
        [sys.executable, "-c", BOMB, str(path)], capture_output=True, text=True, timeout=120
    )
    message, peak_mb = result.stdout.splitlines()
    assert message.startswith(f"{path}: layer 0 (Linear) brings the parameters to 536,887,296")
    assert int(peak_mb) < 600


def test_the_command_line_prints_a_refusal_as_one_line(tmp_path):
    path = tmp_path / "model.npz"
    lenet.save(small_model(), path)
    rewrite(path, **{"0_W": np.full((3, 2), np.nan, np.float32)})
    result = subprocess.run(
        [sys.executable, "-m", "lenet", "evaluate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {path}: array '0.W' of layer 0 (Linear): 6 of its 6 values are NaN or inf "
        "(a diverged model; it would predict nothing)"
    ]


# --- saves to one path at once keep every file (issue 29, item 4)


def save_many(path, first, count, barrier):
    barrier.wait()
    for value in range(first, first + count):
        model = small_model()
        model.layers[0].params["W"][:] = value
        lenet.save(model, path, keep_previous=True)


def test_six_processes_saving_to_one_path_keep_every_file(tmp_path):
    path = tmp_path / "model.npz"
    fork = multiprocessing.get_context("fork")
    barrier = fork.Barrier(6)
    workers = [fork.Process(target=save_many, args=(path, 100 * i, 10, barrier)) for i in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0] * 6
    files = sorted(tmp_path.iterdir())
    assert len(files) == 60 and {p.name for p in files} == {
        "model.npz",
        *[f"model.{n}.npz" for n in range(1, 60)],
    }
    saved = sorted(int(lenet.load(p).layers[0].params["W"][0, 0]) for p in files)
    assert saved == [100 * i + k for i in range(6) for k in range(10)]


def test_a_244_character_name_is_a_legal_name(tmp_path):
    path = tmp_path / ("m" * 240 + ".npz")
    lenet.save(small_model(), path, keep_previous=True)
    assert lenet.save(small_model(), path, keep_previous=True) == tmp_path / ("m" * 240 + ".1.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        path.name.replace(".npz", ".1.npz"),
        path.name,
    ]
