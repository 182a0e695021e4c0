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
    with pytest.raises(ValueError, match="not a readable .npz checkpoint"):
        lenet.load(path)
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ValueError, match="no 'architecture' array"):
        lenet.load(path)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        lenet.load(tmp_path / "missing.npz")


def test_pickled_objects_are_refused(saved):
    rewrite(saved, architecture=np.array([{"type": "Linear"}], dtype=object))
    with pytest.raises(ValueError, match="not a readable .npz checkpoint"):
        lenet.load(saved)


def test_save_needs_npz_suffix(tmp_path):
    with pytest.raises(ValueError, match="checkpoints are .npz files, got 'model.pkl'"):
        lenet.save(lenet.LeNet5(rng=0), tmp_path / "model.pkl")
