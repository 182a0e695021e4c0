"""Sequential and LeNet5: shapes, the ln 10 start, and the overfitting sanity check."""

import os
import signal
import threading
import time

import numpy as np
import pytest
import threadpoolctl

import lenet


def synthetic_digits(n, seed=0):
    """n random 'images' in [0, 1] with random labels: (n, 1, 28, 28), (n,)."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


@pytest.mark.parametrize("n", [1, 64])
@pytest.mark.parametrize(("activation", "pool"), [("relu", "max"), ("sigmoid", "avg")])
def test_lenet5_output_shape(n, activation, pool):
    x, _ = synthetic_digits(n)
    logits = lenet.LeNet5(activation, pool, rng=0).forward(x)
    assert logits.shape == (n, 10)
    assert logits.dtype == np.float32


def test_lenet5_layer_shapes_and_parameter_count():
    model = lenet.LeNet5(rng=0)
    shapes = [shape for _, shape, _ in model.summary((1, 1, 28, 28))]
    assert shapes == [
        (1, 1, 28, 28),
        (1, 6, 28, 28),
        (1, 6, 28, 28),
        (1, 6, 14, 14),
        (1, 16, 10, 10),
        (1, 16, 10, 10),
        (1, 16, 5, 5),
        (1, 400),
        (1, 120),
        (1, 120),
        (1, 84),
        (1, 84),
        (1, 10),
    ]
    # 156 + 2,416 + 48,120 + 10,164 + 850
    assert model.parameter_count() == 61_706


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("activation", "pool"), [("relu", "max"), ("sigmoid", "avg")])
def test_initial_loss_is_close_to_ln_10(seed, activation, pool):
    x, y = synthetic_digits(128, seed)
    logits = lenet.LeNet5(activation, pool, rng=seed).forward(x * (x > 0.8))  # sparse, like ink
    assert lenet.SoftmaxCrossEntropy().forward(logits, y) == pytest.approx(np.log(10), abs=0.1)


@pytest.mark.parametrize(
    ("activation", "pool", "steps"),
    [
        ("relu", "max", 300),
        ("leaky_relu", "max", 300),
        ("tanh", "avg", 300),
        ("sigmoid", "avg", 1000),
    ],
)
def test_lenet5_overfits_64_samples(activation, pool, steps):
    """Catches the classic silent bugs: accuracy stuck at 10%, weights never updated.

    The sigmoid net learns more slowly, but learns: with plain Glorot weights (4x too small
    for sigmoid, see lenet.nn.initialization) it stays at 14% for all 1000 steps.
    """
    x, y = synthetic_digits(64, seed=1)
    model = lenet.LeNet5(activation, pool, rng=0)
    loss = lenet.SoftmaxCrossEntropy()
    opt = lenet.SGD(model, lr=0.05, momentum=0.9)
    for _ in range(steps):
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
    accuracy = np.mean(model.forward(x).argmax(axis=1) == y)
    assert accuracy == 1.0
    assert loss.forward(model.forward(x), y) < 0.05


def test_lenet5_full_model_gradient_check():
    """Backprop through every layer of the net at once, in float64."""
    model = lenet.LeNet5("tanh", "avg", dtype=np.float64, rng=0)
    model.layers[0].input_grad = True
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 1, 28, 28)), np.array([3, 8])
    loss = lenet.SoftmaxCrossEntropy()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    last = model.layers[-1]
    numeric = lenet.numerical_gradient(
        lambda _: loss.forward(model.forward(x), y), last.params["W"]
    )
    assert lenet.relative_error(last.grads["W"], numeric) < 1e-6
    first = model.layers[0]
    analytic_b = first.grads["b"].copy()
    numeric_b = lenet.numerical_gradient(
        lambda _: loss.forward(model.forward(x), y), first.params["b"]
    )
    assert lenet.relative_error(analytic_b, numeric_b) < 1e-6


def test_lenet5_rejects_unknown_options():
    with pytest.raises(ValueError, match="activation must be one of"):
        lenet.LeNet5(activation="gelu")
    with pytest.raises(ValueError, match="pool must be one of"):
        lenet.LeNet5(pool="min")


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="Sequential takes layers, got int"):
        lenet.Sequential(lenet.ReLU(), 3)


def test_sequential_backward_returns_the_input_gradient():
    model = lenet.Sequential(lenet.Linear(3, 4, dtype=np.float64, rng=0), lenet.Tanh())
    x = np.random.default_rng(0).standard_normal((2, 3))
    errors = lenet.check_layer(model.layers[0], x)
    assert errors["x"] < 1e-6
    model.forward(x)
    assert model.backward(np.ones((2, 4))).shape == (2, 3)


def _step_grads(model, x, y, chunk_size):
    loss = lenet.SoftmaxCrossEntropy()
    value, outputs = model.forward_backward(x, y, loss, chunk_size=chunk_size)
    grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in model.layers]
    return value, outputs, grads


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_forward_backward_in_chunks_gives_the_batch_gradients(dtype, rtol):
    """Chunks of 15, 16, 16 and 16 of a batch of 63 sum to the unchunked mean-loss gradient."""
    x, y = synthetic_digits(63, seed=2)
    model = lenet.LeNet5(dtype=dtype, rng=0)
    whole = _step_grads(model, x, y, chunk_size=64)
    chunked = _step_grads(model, x, y, chunk_size=16)
    loss = lenet.SoftmaxCrossEntropy()
    plain = loss.forward(model.forward(x), y)
    assert whole[0] == plain
    np.testing.assert_allclose(chunked[0], plain, rtol=rtol)
    np.testing.assert_allclose(chunked[1], whole[1], rtol=rtol, atol=rtol)
    assert chunked[1].shape == (63, 10)
    for a, b in zip(chunked[2], whole[2], strict=True):
        assert a.keys() == b.keys()
        for k in a:
            scale = np.abs(b[k]).max()
            np.testing.assert_allclose(a[k], b[k], rtol=0, atol=rtol * scale)


def test_forward_backward_weights_chunks_for_an_elementwise_mean_loss():
    """MSELoss averages over all elements: its chunks are weighted by their share too."""
    rng = np.random.default_rng(0)
    model = lenet.Sequential(
        lenet.Linear(5, 4, dtype=np.float64, rng=0),
        lenet.Tanh(),
        lenet.Linear(4, 3, dtype=np.float64, rng=1),
    )
    x, t = rng.standard_normal((11, 5)), rng.standard_normal((11, 3))
    loss = lenet.MSELoss()
    value, _ = model.forward_backward(x, t, loss, chunk_size=4)  # 2, 3, 3 and 3 samples
    chunked = [layer.grads["W"].copy() for layer in (model.layers[0], model.layers[2])]
    assert value == pytest.approx(loss.forward(model.forward(x), t), rel=1e-13)
    model.backward(loss.backward())
    for g, layer in zip(chunked, (model.layers[0], model.layers[2]), strict=True):
        np.testing.assert_allclose(g, layer.grads["W"], rtol=1e-12)


@pytest.mark.parametrize("chunk_size", [1, 4, 16, 128])
def test_chunk_bounds_cover_the_batch_in_near_equal_chunks(chunk_size):
    for n in range(1, 600):
        bounds = lenet.nn.models.chunk_bounds(n, chunk_size)
        sizes = np.diff(bounds)
        assert bounds[0] == 0 and bounds[-1] == n
        assert sizes.min() >= 1 and sizes.max() <= max(chunk_size, 1)
        assert sizes.max() - sizes.min() <= 1
        if n < chunk_size:
            assert len(sizes) == 1
        else:  # an even number, so that two cores get equal shares, unless 1 sample each
            assert len(sizes) >= min(n, 2) and (len(sizes) % 2 == 0 or len(sizes) == n)


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_forward_backward_on_several_cores_gives_the_one_core_gradients(monkeypatch, dtype, rtol):
    """Chunks run on 2 or 4 threads at once: the same loss, outputs and grads as on one."""
    x, y = synthetic_digits(96, seed=3)
    model = lenet.LeNet5(dtype=dtype, rng=0)
    results = {}
    for cores in (1, 2, 4):
        monkeypatch.setattr(lenet.nn.cores, "core_count", lambda cores=cores: cores)
        results[cores] = _step_grads(model, x, y, chunk_size=12)  # 8 chunks of 12
    one = results[1]
    for many in (results[2], results[4]):
        np.testing.assert_allclose(many[0], one[0], rtol=rtol)
        np.testing.assert_allclose(many[1], one[1], rtol=rtol, atol=rtol)
        for a, b in zip(many[2], one[2], strict=True):
            for k in a:
                np.testing.assert_allclose(a[k], b[k], rtol=0, atol=rtol * np.abs(b[k]).max())


def test_forward_backward_on_several_cores_raises_a_chunks_error_and_restores_blas(
    monkeypatch,
):
    """An error in a chunk on another thread reaches the caller; BLAS gets its threads back."""
    monkeypatch.setattr(lenet.nn.cores, "core_count", lambda: 2)

    class FailsOnItsThread(lenet.ReLU):
        def forward(self, x):
            if threading.current_thread() is not threading.main_thread():
                raise ValueError("bad chunk")
            return super().forward(x)

    model = lenet.Sequential(lenet.Flatten(), FailsOnItsThread(), lenet.Linear(4, 3, rng=0))
    x, y = np.ones((8, 1, 2, 2), np.float32), np.zeros(8, dtype=int)
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info()]
    with pytest.raises(ValueError, match="bad chunk"):
        model.forward_backward(x, y, lenet.SoftmaxCrossEntropy(), chunk_size=4)
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info()] == before


def test_a_sibling_shares_the_parameters_but_not_the_cache_or_grads():
    model = lenet.LeNet5(rng=0)
    twin = model.sibling()
    x, y = synthetic_digits(4, seed=0)
    loss = lenet.SoftmaxCrossEntropy()
    model.forward_backward(x, y, loss)
    for a, b in zip(model.layers, twin.layers, strict=True):
        assert a.params is b.params and type(a) is type(b)
        assert b.grads == {}
        with pytest.raises(RuntimeError, match="before forward"):
            b.backward(np.zeros(1))  # the twin's forward cache is empty
    twin.layers[0].params["W"] += 1.0  # the same arrays: a step on one is a step on both
    np.testing.assert_array_equal(model.layers[0].params["W"], twin.layers[0].params["W"])


def test_forward_backward_in_chunks_takes_layers_of_other_kinds(monkeypatch):
    """An object with forward and backward only (no params, no sibling) works in chunks too."""
    monkeypatch.setattr(lenet.nn.cores, "core_count", lambda: 2)

    class Double:
        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

    model = lenet.Sequential(lenet.Linear(3, 4, dtype=np.float64, rng=0), Double())
    x = np.random.default_rng(0).standard_normal((10, 3))
    y = np.arange(10) % 4
    loss = lenet.SoftmaxCrossEntropy()
    value, _ = model.forward_backward(x, y, loss, chunk_size=3)
    chunked = model.layers[0].grads["W"].copy()
    assert value == pytest.approx(loss.forward(model.forward(x), y), rel=1e-13)
    model.backward(loss.backward())
    np.testing.assert_allclose(chunked, model.layers[0].grads["W"], rtol=1e-12)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forward_backward_on_several_cores_works_in_a_forked_child(monkeypatch):
    """A child forked after a chunked step has none of the parent's threads: it makes its own."""
    monkeypatch.setattr(lenet.nn.cores, "core_count", lambda: 2)
    model = lenet.LeNet5(rng=0)
    x, y = synthetic_digits(16, seed=0)
    loss = lenet.SoftmaxCrossEntropy()
    model.forward_backward(x, y, loss, chunk_size=8)
    expected = model.layers[0].grads["W"].copy()
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 if the step gives the parent's gradients
        try:
            model.forward_backward(x, y, loss, chunk_size=8)
            os._exit(0 if np.array_equal(model.layers[0].grads["W"], expected) else 1)
        finally:
            os._exit(2)
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's chunked step hung")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(done[1]) == 0
