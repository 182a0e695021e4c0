"""Layers: float64 gradient checks, loop-based reference forwards, and input validation."""

import warnings

import numpy as np
import pytest

import lenet
from lenet.nn import gradcheck

F64 = np.float64
TOL = 1e-6


def rng(seed=0):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------------------------
# Reference implementations: plain loops, written for clarity, not speed.


def conv_reference(x, W, b, stride, padding):
    n, c, h, w = x.shape
    o, _, k, _ = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    y = np.zeros((n, o, h_out, w_out))
    for ni in range(n):
        for oi in range(o):
            for i in range(h_out):
                for j in range(w_out):
                    patch = xp[ni, :, i * stride : i * stride + k, j * stride : j * stride + k]
                    y[ni, oi, i, j] = np.sum(patch * W[oi]) + b[oi]
    return y


def pool_reference(x, k, stride, padding, reduce, pad_value):
    n, c, h, w = x.shape
    xp = np.pad(
        x,
        ((0, 0), (0, 0), (padding, padding), (padding, padding)),
        constant_values=pad_value,
    )
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    y = np.zeros((n, c, h_out, w_out))
    for ni in range(n):
        for ci in range(c):
            for i in range(h_out):
                for j in range(w_out):
                    window = xp[ni, ci, i * stride : i * stride + k, j * stride : j * stride + k]
                    y[ni, ci, i, j] = reduce(window)
    return y


CONV_CASES = [
    # (N, C, H, W, O, K, stride, padding)
    (1, 1, 5, 5, 1, 3, 1, 0),
    (2, 3, 7, 6, 4, 3, 1, 1),
    (3, 2, 8, 7, 3, 3, 2, 1),
    (2, 2, 6, 9, 2, 5, 1, 2),
    (2, 3, 9, 8, 2, 4, 2, 2),
    (2, 1, 5, 5, 3, 5, 1, 0),
]

POOL_CASES = [
    # (N, C, H, W, K, stride, padding)
    (2, 3, 6, 6, 2, 2, 0),
    (2, 2, 7, 5, 3, 2, 1),  # overlapping, padded, non-square
    (3, 2, 6, 8, 3, 1, 0),  # heavily overlapping
    (1, 2, 5, 5, 2, 1, 1),
    (2, 1, 9, 7, 4, 3, 2),
]


# ----------------------------------------------------------------------------------------------
# Forward against the loop references.


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_forward_matches_loops(case):
    n, c, h, w, o, k, s, p = case
    layer = lenet.Conv2d(c, o, k, stride=s, padding=p, dtype=F64, rng=1)
    layer.params["b"][:] = rng(2).standard_normal(o)
    x = rng(3).standard_normal((n, c, h, w))
    expected = conv_reference(x, layer.params["W"], layer.params["b"], s, p)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", POOL_CASES)
def test_maxpool_forward_matches_loops(case):
    n, c, h, w, k, s, p = case
    x = rng(4).standard_normal((n, c, h, w))
    y = lenet.MaxPool2d(k, stride=s, padding=p).forward(x)
    np.testing.assert_array_equal(y, pool_reference(x, k, s, p, np.max, -np.inf))


@pytest.mark.parametrize("case", POOL_CASES)
def test_avgpool_forward_matches_loops(case):
    n, c, h, w, k, s, p = case
    x = rng(5).standard_normal((n, c, h, w))
    y = lenet.AvgPool2d(k, stride=s, padding=p).forward(x)
    np.testing.assert_allclose(y, pool_reference(x, k, s, p, np.mean, 0.0), rtol=1e-12)


def test_linear_forward_is_x_at_W_plus_b():
    layer = lenet.Linear(4, 3, dtype=F64, rng=0)
    layer.params["b"][:] = [1.0, -2.0, 0.5]
    x = rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(layer.forward(x), x @ layer.params["W"] + layer.params["b"])


def test_activation_forwards_match_their_formulas():
    x = np.linspace(-5, 5, 41).reshape(1, 41)
    np.testing.assert_allclose(lenet.ReLU().forward(x), np.maximum(x, 0))
    np.testing.assert_allclose(lenet.LeakyReLU(0.1).forward(x), np.where(x > 0, x, 0.1 * x))
    np.testing.assert_allclose(lenet.Tanh().forward(x), np.tanh(x))
    np.testing.assert_allclose(lenet.Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-12)


def test_sigmoid_does_not_overflow():
    x = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    with np.errstate(over="raise"):
        y = lenet.Sigmoid().forward(x)
    np.testing.assert_allclose(y, [[0.0, 0.0, 0.5, 1.0, 1.0]])


def test_flatten_round_trip():
    x = rng().standard_normal((2, 3, 4, 5))
    layer = lenet.Flatten()
    assert layer.forward(x).shape == (2, 60)
    np.testing.assert_array_equal(layer.backward(layer.forward(x)), x)


# ----------------------------------------------------------------------------------------------
# Gradient checks (float64, random upstream gradient, relative error < 1e-6).


def assert_gradients_ok(layer, x):
    errors = gradcheck.check_layer(layer, x)
    assert errors, "check_layer returned no errors to check"
    for name, err in errors.items():
        assert err < TOL, f"{layer!r}: gradient of {name} has relative error {err:.2e}"
    return errors


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_gradients(case):
    n, c, h, w, o, k, s, p = case
    layer = lenet.Conv2d(c, o, k, stride=s, padding=p, dtype=F64, rng=6)
    layer.params["b"][:] = rng(7).standard_normal(o)
    errors = assert_gradients_ok(layer, rng(8).standard_normal((n, c, h, w)))
    assert set(errors) == {"x", "W", "b"}


def test_conv_without_bias_has_only_W():
    layer = lenet.Conv2d(2, 3, 3, bias=False, dtype=F64, rng=0)
    errors = assert_gradients_ok(layer, rng().standard_normal((2, 2, 5, 5)))
    assert set(errors) == {"x", "W"}


def test_first_conv_can_skip_its_input_gradient():
    layer = lenet.Conv2d(1, 2, 3, input_grad=False, dtype=F64, rng=0)
    x = rng().standard_normal((2, 1, 6, 6))
    layer.forward(x)
    assert layer.backward(np.ones((2, 2, 4, 4))) is None
    assert set(assert_gradients_ok(layer, x)) == {"W", "b"}


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("pool", [lenet.MaxPool2d, lenet.AvgPool2d])
def test_pool_gradients(pool, case):
    n, c, h, w, k, s, p = case
    # Distinct values a good distance apart: no ties, so max is differentiable.
    x = rng(9).permutation(n * c * h * w).reshape(n, c, h, w) / 10.0
    assert_gradients_ok(pool(k, stride=s, padding=p), x)


@pytest.mark.parametrize(
    "layer",
    [lenet.ReLU(), lenet.LeakyReLU(0.2), lenet.Tanh(), lenet.Sigmoid(), lenet.Flatten()],
    ids=repr,
)
def test_activation_gradients(layer):
    x = rng(10).standard_normal((3, 2, 4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep clear of ReLU's kink at 0
    assert_gradients_ok(layer, x)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(bias):
    layer = lenet.Linear(6, 4, bias=bias, dtype=F64, rng=11)
    assert_gradients_ok(layer, rng(12).standard_normal((5, 6)))


def test_maxpool_ties_send_the_gradient_to_the_first_maximum_only():
    """All-zero windows (common after ReLU): one element per window gets the gradient.

    A numeric check cannot judge ties (max has a kink there: the central difference gives 1/2
    to every tied element), so this test states the rule directly, as PyTorch applies it.
    """
    layer = lenet.MaxPool2d(2)
    x = np.zeros((2, 3, 4, 6))
    dout = rng(13).standard_normal((2, 3, 2, 3))
    layer.forward(x)
    dx = layer.backward(dout)
    expected = np.zeros_like(x)
    expected[:, :, ::2, ::2] = dout  # the top-left element of each window is first
    np.testing.assert_array_equal(dx, expected)


def test_overlapping_maxpool_with_ties_adds_up_per_window():
    layer = lenet.MaxPool2d(3, stride=1)
    x = np.zeros((1, 1, 5, 5))
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1, 3, 3)))
    assert dx.sum() == 9  # nine windows, one unit of gradient each, never split or duplicated
    np.testing.assert_array_equal(dx[0, 0, :3, :3], np.ones((3, 3)))


def test_backward_does_not_change_dout():
    layers_and_inputs = [
        (lenet.Conv2d(2, 3, 3, padding=1, dtype=F64, rng=0), (2, 2, 5, 5)),
        (lenet.MaxPool2d(2), (2, 2, 4, 4)),
        (lenet.AvgPool2d(2), (2, 2, 4, 4)),
        (lenet.ReLU(), (3, 4)),
        (lenet.LeakyReLU(), (3, 4)),
        (lenet.Tanh(), (3, 4)),
        (lenet.Sigmoid(), (3, 4)),
        (lenet.Linear(4, 2, dtype=F64, rng=0), (3, 4)),
    ]
    for layer, shape in layers_and_inputs:
        y = layer.forward(rng().standard_normal(shape))
        dout = rng(1).standard_normal(y.shape)
        before = dout.copy()
        layer.backward(dout)
        np.testing.assert_array_equal(dout, before, err_msg=repr(layer))


def test_backward_never_updates_weights():
    layer = lenet.Conv2d(2, 3, 3, dtype=F64, rng=0)
    before = {k: v.copy() for k, v in layer.params.items()}
    layer.backward(np.ones_like(layer.forward(rng().standard_normal((2, 2, 5, 5)))))
    for k in before:
        np.testing.assert_array_equal(layer.params[k], before[k])


# ----------------------------------------------------------------------------------------------
# dtypes


def test_float32_by_default_and_forward_keeps_the_parameter_dtype():
    conv = lenet.Conv2d(1, 2, 3, rng=0)
    assert conv.params["W"].dtype == np.float32
    y = conv.forward(rng().standard_normal((1, 1, 5, 5)))  # float64 input
    assert y.dtype == np.float32
    assert conv.backward(np.ones_like(y)).dtype == np.float32


def test_float64_works_end_to_end():
    model = lenet.LeNet5(dtype=F64, rng=0)
    x = rng().random((2, 1, 28, 28))
    loss = lenet.SoftmaxCrossEntropy()
    loss.forward(model.forward(x), np.array([3, 7]))
    model.backward(loss.backward())
    for layer in model.layers:
        for name, g in layer.grads.items():
            assert g.dtype == F64, f"{layer!r} grad {name} is {g.dtype}"


def test_same_seed_same_weights():
    a = lenet.LeNet5(rng=42)
    b = lenet.LeNet5(rng=np.random.default_rng(42))
    c = lenet.LeNet5(rng=43)
    for la, lb, lc in zip(a.layers, b.layers, c.layers, strict=True):
        for k in la.params:
            np.testing.assert_array_equal(la.params[k], lb.params[k])
            if k == "W":
                assert not np.array_equal(la.params[k], lc.params[k])


def test_he_and_glorot_scales():
    big = 400
    he = lenet.Linear(big, big, init="he", dtype=F64, rng=0).params["W"]
    glorot = lenet.Linear(big, big, init="glorot", dtype=F64, rng=0).params["W"]
    assert he.std() == pytest.approx(np.sqrt(2 / big), rel=0.02)
    assert glorot.std() == pytest.approx(np.sqrt(2 / (2 * big)), rel=0.02)
    sigmoid = lenet.Linear(big, big, init="glorot_sigmoid", dtype=F64, rng=0).params["W"]
    assert sigmoid.std() == pytest.approx(4 * np.sqrt(2 / (2 * big)), rel=0.02)
    with pytest.raises(ValueError, match="init must be one of"):
        lenet.Linear(2, 2, init="zeros")


# ----------------------------------------------------------------------------------------------
# Bad input gets a clear error.


@pytest.mark.parametrize(
    ("make", "shape", "message"),
    [
        (lambda: lenet.Conv2d(3, 2, 3), (2, 3, 5), r"\(N, C, H, W\).*\(2, 3, 5\)"),
        (lambda: lenet.Conv2d(3, 2, 3), (2, 1, 5, 5), r"expects 3 input channels, got 1"),
        (lambda: lenet.Conv2d(1, 2, 5), (1, 1, 4, 6), r"window 5x5 is larger .* 4x6"),
        (lambda: lenet.Conv2d(1, 2, 5, padding=1), (1, 1, 2, 6), r"larger .* 4x8"),
        (lambda: lenet.MaxPool2d(3), (1, 1, 2, 2), r"window 3x3 is larger .* 2x2"),
        (lambda: lenet.AvgPool2d(2), (4, 4), r"\(N, C, H, W\)"),
        (lambda: lenet.Linear(4, 2), (3, 5), r"\(N, 4\), got \(3, 5\)"),
        (lambda: lenet.Linear(4, 2), (4,), r"\(N, 4\), got \(4,\)"),
    ],
)
def test_wrong_input_shapes_raise_value_error(make, shape, message):
    with pytest.raises(ValueError, match=message):
        make().forward(np.zeros(shape))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: lenet.Conv2d(1, 2, 0), "kernel_size must be a positive integer, got 0"),
        (lambda: lenet.Conv2d(1, 2, 3, stride=0), "stride must be a positive integer, got 0"),
        (lambda: lenet.Conv2d(1, 2, 3, padding=-1), "padding must be a non-negative integer"),
        (lambda: lenet.MaxPool2d(0), "kernel_size must be a positive integer, got 0"),
        (lambda: lenet.AvgPool2d(2, stride=0), "stride must be a positive integer, got 0"),
        (lambda: lenet.Linear(0, 3), "in_features must be a positive integer, got 0"),
        (lambda: lenet.Conv2d(1, 2, 2.5), "kernel_size must be a positive integer, got 2.5"),
    ],
)
def test_bad_hyperparameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "layer",
    [
        lenet.Conv2d(1, 1, 3),
        lenet.MaxPool2d(2),
        lenet.AvgPool2d(2),
        lenet.Linear(2, 2),
        lenet.ReLU(),
        lenet.Sigmoid(),
        lenet.Flatten(),
    ],
    ids=repr,
)
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        layer.backward(np.zeros((1, 1, 1, 1)))


def test_backward_with_wrong_dout_shape():
    layer = lenet.Conv2d(1, 2, 3)
    layer.forward(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"dout of shape \(2, 2, 3, 3\).*got \(2, 2, 3, 4\)"):
        layer.backward(np.zeros((2, 2, 3, 4)))


def test_gradcheck_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        gradcheck.check_layer(lenet.Linear(2, 2), np.zeros((1, 2)))


def test_gradcheck_catches_a_wrong_backward():
    class WrongReLU(lenet.ReLU):
        def backward(self, dout):
            return super().backward(dout) * 1.01

    x = rng().standard_normal((4, 5))
    assert gradcheck.check_layer(WrongReLU(), x)["x"] > 1e-3


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = gradcheck.numerical_gradient(lambda v: float(np.sum(v**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored


@pytest.mark.parametrize(
    "layer",
    [lenet.Sigmoid(), lenet.LeakyReLU(0.1), lenet.Tanh(), lenet.ReLU()],
    ids=lambda layer: type(layer).__name__,
)
def test_integer_input_is_computed_in_floating_point(layer):
    x = np.arange(-5, 6)
    expected = layer.forward(x.astype(np.float64))
    np.testing.assert_array_equal(layer.forward(x), expected)
    np.testing.assert_array_equal(
        layer.backward(np.ones(11, dtype=int)), layer.backward(np.ones(11))
    )


def test_integer_images_in_pooling():
    x = np.arange(2 * 1 * 4 * 4).reshape(2, 1, 4, 4)
    avg = lenet.AvgPool2d(2)
    np.testing.assert_allclose(avg.forward(x), avg.forward(x.astype(float)))
    assert avg.backward(np.ones((2, 1, 2, 2), dtype=int)).sum() == 8  # not a zero gradient
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in cast"
        y = lenet.MaxPool2d(2, padding=1).forward(x)
    assert np.isfinite(y).all() and y.max() == 31


def test_pool_padding_beyond_half_the_window_is_refused():
    with pytest.raises(ValueError, match="padding must be at most half the window size"):
        lenet.MaxPool2d(3, padding=5)


def test_conv2d_column_blocks_give_the_same_curvature(monkeypatch):
    """backward_curvature sums the column blocks' squares like backward sums their products."""
    x = rng(14).standard_normal((3, 2, 7, 7))
    d2out = rng(15).random((3, 4, 7, 7))
    results = []
    for block_bytes in (2**19, 1):
        monkeypatch.setattr(lenet.nn.im2col, "COLUMN_BLOCK_BYTES", block_bytes)
        layer = lenet.Conv2d(2, 4, 3, padding=1, dtype=F64, rng=0)
        layer.forward(x)
        d2x = layer.backward_curvature(d2out)
        rows = lenet.nn.im2col.rows_per_block((3, 2, 9, 9), 3, 1, x.itemsize)
        results.append((d2x, layer.curvature["W"], rows))
    (d2x, curv_w, rows), (d2x_rows, curv_w_rows, rows_1) = results
    assert (rows, rows_1) == (7, 1)  # all 7 output rows in one block, then one block per row
    np.testing.assert_allclose(d2x_rows, d2x, rtol=1e-12)
    np.testing.assert_allclose(curv_w_rows, curv_w, rtol=1e-12)
