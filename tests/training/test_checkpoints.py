"""Checkpoints: .npz with the architecture, atomic writes, no pickle, clear errors."""

import json
import os

import numpy as np
import pytest

import lenet


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
