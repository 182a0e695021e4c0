"""lenet <-> PyTorch: exact round trips, equal predictions, clear errors."""

import sys

import numpy as np
import pytest

import lenet
from lenet import interop

torch = pytest.importorskip("torch")
nn = torch.nn


def every_layer(dtype):
    return lenet.Sequential(
        lenet.Conv2d(1, 4, 3, stride=2, padding=1, dtype=dtype, rng=0),
        lenet.LeakyReLU(0.2),
        lenet.MaxPool2d(3, stride=1, padding=1),
        lenet.Conv2d(4, 3, 3, bias=False, dtype=dtype, rng=1),
        lenet.Tanh(),
        lenet.AvgPool2d(2, padding=1),
        lenet.Flatten(),
        lenet.Linear(27, 8, dtype=dtype, rng=2),
        lenet.Sigmoid(),
        lenet.Linear(8, 5, bias=False, dtype=dtype, rng=3),
        lenet.ReLU(),
    )


MODELS = {  # name: (builder, input image size)
    "lenet5": (lambda: lenet.LeNet5(rng=0), 28),
    "lenet5-sigmoid-avg": (lambda: lenet.LeNet5("sigmoid", "avg", rng=1), 28),
    "lenet5-float64": (lambda: lenet.LeNet5(dtype=np.float64, rng=2), 28),
    "every-layer": (lambda: every_layer(np.float32), 12),
    "every-layer-float64": (lambda: every_layer(np.float64), 12),
}


def architecture(layer):
    """A layer's spec without what only affects training (initialisation, input gradient)."""
    return {k: v for k, v in layer.spec().items() if k not in ("init", "input_grad")}


@pytest.mark.parametrize(("make", "size"), MODELS.values(), ids=MODELS.keys())
def test_round_trip_is_exact(make, size):
    model = make()
    back = interop.from_torch(interop.to_torch(model))
    assert [type(a) for a in back.layers] == [type(b) for b in model.layers]
    for a, b in zip(model.layers, back.layers, strict=True):
        assert architecture(a) == architecture(b)
        assert a.params.keys() == b.params.keys()
        for key in a.params:
            assert a.params[key].dtype == b.params[key].dtype
            np.testing.assert_array_equal(a.params[key], b.params[key])


@pytest.mark.parametrize(("make", "size"), MODELS.values(), ids=MODELS.keys())
def test_same_outputs(make, size):
    model = make()
    x = np.random.default_rng(0).random((6, 1, size, size)).astype(model.dtype)
    with torch.no_grad():
        theirs = interop.to_torch(model)(torch.from_numpy(x)).numpy()
    ours = model.forward(x)
    tol = 1e-12 if model.dtype == np.float64 else 1e-5
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    np.testing.assert_array_equal(ours.argmax(axis=1), theirs.argmax(axis=1))


def test_from_a_fresh_torch_module():
    module = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 26 * 26, 3))
    model = interop.from_torch(module)
    x = np.random.default_rng(1).random((2, 1, 28, 28), dtype=np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-5, atol=1e-5)
    assert interop.from_torch(module, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (nn.Sequential(nn.BatchNorm2d(3)), r"module 0 \(BatchNorm2d\) has no lenet counterpart"),
        (
            nn.Sequential(nn.ReLU(), nn.Conv2d(1, 2, 3, dilation=2)),
            r"module 1 \(Conv2d\).*dilation",
        ),
        (nn.Sequential(nn.Conv2d(1, 2, (3, 5))), r"non-square kernel_size \(3, 5\)"),
        (nn.Sequential(nn.Conv2d(1, 2, 3, padding="same")), "padding 'same'"),
        (nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), "ceil_mode=True"),
        (nn.Sequential(nn.AvgPool2d(2, count_include_pad=False)), "count_include_pad=False"),
        (nn.Sequential(nn.Flatten(0)), "start_dim=0"),
    ],
)
def test_unsupported_modules_are_named(module, message):
    with pytest.raises(ValueError, match=message):
        interop.from_torch(module)


def test_lenet_layer_without_counterpart():
    class Scale(lenet.Layer):
        def forward(self, x):
            return 2 * x

    with pytest.raises(ValueError, match=r"layer 1 \(Scale\) has no PyTorch counterpart"):
        interop.to_torch(lenet.Sequential(lenet.ReLU(), Scale()))


def test_from_torch_needs_a_sequential():
    with pytest.raises(TypeError, match="takes a torch.nn.Sequential, got Linear"):
        interop.from_torch(nn.Linear(2, 2))


def test_clear_message_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pip install -e '.\[torch\]'"):
        interop.to_torch(lenet.LeNet5(rng=0))
