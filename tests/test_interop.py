"""lenet <-> PyTorch: exact round trips, equal predictions, clear errors."""

import importlib
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
    return {k: v for k, v in layer.constructor_args().items() if k not in ("init", "input_grad")}


@pytest.mark.parametrize(("make", "size"), MODELS.values(), ids=MODELS.keys())
def test_round_trip_is_exact(make, size):
    model = make()
    module = interop.to_torch(model)
    torch_dtype = {np.float32: torch.float32, np.float64: torch.float64}[model.dtype.type]
    assert all(p.dtype == torch_dtype for p in module.parameters())
    back = interop.from_torch(module)
    assert [type(a) for a in back.layers] == [type(b) for b in model.layers]
    for a, b in zip(model.layers, back.layers, strict=True):
        assert architecture(a) == architecture(b)
        assert a.params.keys() == b.params.keys()
        for key in a.params:
            assert a.params[key].dtype == b.params[key].dtype
            assert np.array_equal(a.params[key], b.params[key])


def test_linear_weight_is_transposed_and_copied():
    model = lenet.LeNet5(rng=0)
    module = interop.to_torch(model)
    W = model.layers[7].params["W"]  # Linear(400, 120): (in, out)
    assert W.shape == (400, 120) and module[7].weight.shape == (120, 400)
    assert np.array_equal(module[7].weight.detach().numpy(), W.T)
    assert np.array_equal(module[0].weight.detach().numpy(), model.layers[0].params["W"])
    with torch.no_grad():  # the copies share no memory, either way
        module[7].weight.zero_()
    assert W.any()
    back = interop.from_torch(module)
    back.layers[0].params["W"][...] = 0
    assert module[0].weight.detach().abs().sum() > 0


def test_to_torch_leaves_torch_random_state_alone():
    torch.manual_seed(0)
    state = torch.random.get_rng_state()
    interop.to_torch(lenet.LeNet5(rng=0))
    assert torch.equal(state, torch.random.get_rng_state())


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
    module = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding="same"),
        nn.ReLU(),
        nn.Conv2d(2, 3, (3, 3), stride=(2, 2), padding="valid"),
        nn.Flatten(),
        nn.Linear(3 * 13 * 13, 4),
    )
    model = interop.from_torch(module)
    assert (model.layers[0].padding, model.layers[2].stride, model.layers[2].padding) == (1, 2, 0)
    x = np.random.default_rng(1).random((2, 1, 28, 28), dtype=np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-5, atol=1e-5)
    wide = interop.from_torch(module, dtype=np.float64)
    assert wide.dtype == np.float64
    np.testing.assert_allclose(wide.forward(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (nn.Sequential(nn.BatchNorm2d(3)), r"module 0 \(BatchNorm2d\) has no lenet counterpart"),
        (
            nn.Sequential(nn.ReLU(), nn.Conv2d(1, 2, 3, dilation=2)),
            r"module 1 \(Conv2d\) has dilation=\(2, 2\), which lenet does not support",
        ),
        (nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)), r"module 0 \(Conv2d\) has groups=2"),
        (nn.Sequential(nn.Conv2d(1, 2, (3, 5))), r"non-square kernel_size=\(3, 5\)"),
        (nn.Sequential(nn.Conv2d(1, 2, 3, stride=(1, 2))), r"non-square stride=\(1, 2\)"),
        (nn.Sequential(nn.Conv2d(1, 2, 4, padding="same")), "padding='same' with an even"),
        (nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")), "'reflect'"),
        (nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), "ceil_mode=True"),
        (nn.Sequential(nn.MaxPool2d(3, dilation=2)), r"MaxPool2d\) has dilation=2"),
        (nn.Sequential(nn.AvgPool2d(2, count_include_pad=False)), "count_include_pad=False"),
        (nn.Sequential(nn.AvgPool2d(2, divisor_override=3)), "divisor_override=3"),
        (nn.Sequential(nn.Flatten(0)), "start_dim=0"),
        (nn.Sequential(nn.Dropout()), r"module 0 \(Dropout\) has no lenet counterpart"),
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


def test_pool_padding_beyond_half_the_window_is_refused_as_by_torch():
    for pool in (lenet.AvgPool2d, lenet.MaxPool2d):
        with pytest.raises(ValueError, match="padding must be at most half the window size"):
            pool(2, padding=2)
        with pytest.raises(RuntimeError, match="pad should be at most half"):
            getattr(nn, pool.__name__)(2, padding=2)(torch.zeros(1, 1, 4, 4))


def test_wrong_containers():
    with pytest.raises(TypeError, match="takes a torch.nn.Sequential, got Linear"):
        interop.from_torch(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="takes a lenet Sequential .*, got ReLU"):
        interop.to_torch(lenet.ReLU())


def test_mapping_table():
    rows = interop.layer_map()
    assert [row[0] for row in rows] == list(interop.LAYER_MAP)
    layer_classes = {
        name
        for name in lenet.nn.__all__
        if isinstance(getattr(lenet.nn, name), type)
        and issubclass(getattr(lenet.nn, name), lenet.Layer)
    }
    assert {row[0] for row in rows} == layer_classes - {"Layer", "Elementwise"}
    assert all(hasattr(nn, theirs.removeprefix("nn.")) for _, theirs, _ in rows)
    assert "transposed" in interop.LAYER_MAP["Linear"][1]


def test_clear_message_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` meets when missing
    importlib.reload(interop)  # the module itself imports without torch
    for convert, arg in ((interop.to_torch, lenet.LeNet5(rng=0)), (interop.from_torch, None)):
        with pytest.raises(ImportError, match=r'needs PyTorch.*pip install -e "\.\[torch\]"'):
            convert(arg)
