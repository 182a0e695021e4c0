"""Edge inputs: a batch of 0 samples, and arrays that hold no real numbers (issue 29)."""

import datetime
import re

import numpy as np
import pytest

import lenet
from lenet import interop

# (layer, shape of one sample's input, shape of one sample's output)
LAYERS = {
    "Linear": (lambda: lenet.Linear(5, 3, rng=0), (5,), (3,)),
    "Conv2d": (lambda: lenet.Conv2d(2, 4, 3, padding=1, rng=0), (2, 6, 6), (4, 6, 6)),
    "Conv2d stride 2": (lambda: lenet.Conv2d(2, 4, 3, stride=2, rng=0), (2, 7, 7), (4, 3, 3)),
    "MaxPool2d": (lambda: lenet.MaxPool2d(2), (3, 4, 4), (3, 2, 2)),
    "MaxPool2d overlapping": (lambda: lenet.MaxPool2d(3, 2, 1), (3, 5, 5), (3, 3, 3)),
    "AvgPool2d": (lambda: lenet.AvgPool2d(2), (3, 4, 4), (3, 2, 2)),
    "ReLU": (lenet.ReLU, (3, 4), (3, 4)),
    "LeakyReLU": (lenet.LeakyReLU, (3, 4), (3, 4)),
    "Tanh": (lenet.Tanh, (3, 4), (3, 4)),
    "Sigmoid": (lenet.Sigmoid, (3, 4), (3, 4)),
    "Flatten": (lenet.Flatten, (2, 3, 4), (24,)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_takes_a_batch_of_zero(name):
    make, sample, out_sample = LAYERS[name]
    layer = make()
    y = layer.forward(np.zeros((0, *sample), dtype=np.float32))
    assert y.shape == (0, *out_sample) and y.dtype == np.float32
    dx = layer.backward(np.zeros((0, *out_sample), dtype=np.float32))
    assert dx.shape == (0, *sample)
    for key, p in layer.params.items():  # nothing to learn from no samples: zero gradients
        assert layer.grads[key].shape == p.shape and not layer.grads[key].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lenet5_takes_a_batch_of_zero_as_pytorch_does(dtype):
    model = lenet.LeNet5(dtype=dtype, rng=0)
    logits = model.forward(np.zeros((0, 1, 28, 28), dtype=dtype))
    assert logits.shape == (0, 10) and logits.dtype == dtype
    assert model.backward(np.zeros((0, 10), dtype=dtype)) is None  # the first conv skips dx
    assert all(
        layer.grads[k].shape == p.shape and not layer.grads[k].any()
        for layer in model.layers
        for k, p in layer.params.items()
    )
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        expected = interop.to_torch(model)(
            torch.zeros((0, 1, 28, 28), dtype=getattr(torch, dtype.__name__))
        )
    assert tuple(expected.shape) == logits.shape


NOT_REAL_NUMBERS = {
    "text": np.full((2, 3), "a"),
    "bytes": np.full((2, 3), b"a"),
    "datetime": np.full((2, 3), np.datetime64("2026-01-01")),
    "timedelta": np.full((2, 3), np.timedelta64(1, "s")),
    "structured": np.zeros((2, 3), dtype=[("a", "f4"), ("b", "i4")]),
    "object": np.array([[1.0, None, datetime.date.today()]] * 2, dtype=object),
    "complex": np.ones((2, 3), dtype=complex),
}


@pytest.mark.parametrize("kind", NOT_REAL_NUMBERS)
@pytest.mark.parametrize("name", LAYERS)
def test_arrays_without_real_numbers_are_one_type_error_naming_the_dtype(name, kind):
    make, sample, _ = LAYERS[name]
    x = np.broadcast_to(NOT_REAL_NUMBERS[kind].reshape(-1)[:1], (2, *sample))
    with pytest.raises(
        TypeError, match=rf"expects an array of real numbers .*got dtype {re.escape(str(x.dtype))}$"
    ):
        make().forward(x)


def test_integer_and_bool_inputs_are_still_numbers():
    assert lenet.ReLU().forward(np.array([[-1, 2]])).dtype == np.float64
    assert lenet.Linear(2, 1, rng=0).forward(np.array([[True, False]])).shape == (1, 1)


def test_a_model_given_a_scalar_says_what_it_expects():
    with pytest.raises(ValueError, match=r"expects images of shape \(N, C, H, W\)"):
        lenet.LeNet5(rng=0).forward(np.float32(1))
