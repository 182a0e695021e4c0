"""lenet agrees with PyTorch (CPU, float64) in forward and backward, and in optimizer steps.

Skipped when torch is not installed; CI installs torch==2.13.0 so that these run.
"""

import numpy as np
import pytest

import lenet

torch = pytest.importorskip("torch")
F = torch.nn.functional
TOL = 1e-9


def rng(seed=0):
    return np.random.default_rng(seed)


def run_both(layer, torch_fn, x, torch_params=()):
    """Forward and backward through a lenet layer and a torch function of the same input.

    Returns (lenet y, torch y, lenet dx, torch dx, torch parameter tensors).
    """
    y = layer.forward(x)
    dout = rng(99).standard_normal(y.shape)
    dx = layer.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch_fn(xt, *torch_params)
    yt.backward(torch.tensor(dout))
    return y, yt.detach().numpy(), dx, xt.grad.numpy()


def assert_close(a, b):
    np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL)


@pytest.mark.parametrize(
    ("n", "c", "h", "w", "o", "k", "s", "p"),
    [(2, 3, 8, 7, 4, 3, 1, 1), (3, 2, 9, 9, 5, 3, 2, 2), (2, 1, 28, 28, 6, 5, 1, 2)],
)
def test_conv2d(n, c, h, w, o, k, s, p):
    layer = lenet.Conv2d(c, o, k, stride=s, padding=p, dtype=np.float64, rng=1)
    layer.params["b"][:] = rng(2).standard_normal(o)
    Wt = torch.tensor(layer.params["W"], requires_grad=True)
    bt = torch.tensor(layer.params["b"], requires_grad=True)
    x = rng(3).standard_normal((n, c, h, w))
    y, yt, dx, dxt = run_both(layer, lambda xt: F.conv2d(xt, Wt, bt, stride=s, padding=p), x)
    assert_close(y, yt)
    assert_close(dx, dxt)
    assert_close(layer.grads["W"], Wt.grad.numpy())
    assert_close(layer.grads["b"], bt.grad.numpy())


@pytest.mark.parametrize(("s", "p"), [(1, 2), (2, 1), (3, 0)])
def test_conv2d_in_blocks_of_one_output_row(monkeypatch, s, p):
    """Conv2d's column blocks (one per output row here) change nothing but speed."""
    monkeypatch.setattr(lenet.nn.im2col, "COLUMN_BLOCK_BYTES", 1)
    layer = lenet.Conv2d(3, 4, 3, stride=s, padding=p, dtype=np.float64, rng=1)
    layer.params["b"][:] = rng(2).standard_normal(4)
    Wt = torch.tensor(layer.params["W"], requires_grad=True)
    bt = torch.tensor(layer.params["b"], requires_grad=True)
    x = rng(3).standard_normal((2, 3, 9, 8))
    y, yt, dx, dxt = run_both(layer, lambda xt: F.conv2d(xt, Wt, bt, stride=s, padding=p), x)
    blocks = lenet.nn.im2col.rows_per_block(lenet.nn.im2col.pad(x, p).shape, 3, s, x.itemsize)
    assert blocks == 1 < y.shape[2]  # one block per output row, several rows
    assert_close(y, yt)
    assert_close(dx, dxt)
    assert_close(layer.grads["W"], Wt.grad.numpy())
    assert_close(layer.grads["b"], bt.grad.numpy())


@pytest.mark.parametrize(("k", "s", "p"), [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)])
def test_maxpool2d(k, s, p):
    x = rng(4).standard_normal((2, 3, 7, 6))
    y, yt, dx, dxt = run_both(
        lenet.MaxPool2d(k, stride=s, padding=p),
        lambda xt: F.max_pool2d(xt, k, stride=s, padding=p),
        x,
    )
    assert_close(y, yt)
    assert_close(dx, dxt)


@pytest.mark.parametrize(("shape", "p"), [((2, 3, 8, 6), 0), ((2, 3, 8, 6), 1), ((3, 2, 4, 4), 0)])
def test_maxpool2d_tiling_windows(shape, p):
    """Windows that tile the (padded) input: backward writes each cell once, no sums."""
    x = rng(6).standard_normal(shape)
    x[0, 0, :2, :2] = 0.0  # a tie
    y, yt, dx, dxt = run_both(
        lenet.MaxPool2d(2, padding=p), lambda xt: F.max_pool2d(xt, 2, padding=p), x
    )
    assert_close(y, yt)
    assert_close(dx, dxt)


def test_maxpool2d_ties_route_like_torch():
    x = np.zeros((2, 2, 6, 6))
    x[0, 0, :2, :2] = [[1.0, 1.0], [1.0, 0.0]]
    y, yt, dx, dxt = run_both(
        lenet.MaxPool2d(3, stride=1), lambda xt: F.max_pool2d(xt, 3, stride=1), x
    )
    assert_close(y, yt)
    assert_close(dx, dxt)


@pytest.mark.parametrize(("k", "s", "p"), [(2, 2, 0), (3, 2, 1), (3, 1, 1), (4, 2, 2)])
def test_avgpool2d(k, s, p):
    x = rng(5).standard_normal((2, 3, 7, 6))
    y, yt, dx, dxt = run_both(
        lenet.AvgPool2d(k, stride=s, padding=p),
        lambda xt: F.avg_pool2d(xt, k, stride=s, padding=p, count_include_pad=True),
        x,
    )
    assert_close(y, yt)
    assert_close(dx, dxt)


def test_linear():
    layer = lenet.Linear(7, 5, dtype=np.float64, rng=6)
    layer.params["b"][:] = rng(7).standard_normal(5)
    Wt = torch.tensor(layer.params["W"].T.copy(), requires_grad=True)  # torch stores (out, in)
    bt = torch.tensor(layer.params["b"], requires_grad=True)
    x = rng(8).standard_normal((4, 7))
    y, yt, dx, dxt = run_both(layer, lambda xt: F.linear(xt, Wt, bt), x)
    assert_close(y, yt)
    assert_close(dx, dxt)
    assert_close(layer.grads["W"], Wt.grad.numpy().T)
    assert_close(layer.grads["b"], bt.grad.numpy())


@pytest.mark.parametrize(
    ("layer", "torch_fn"),
    [
        (lenet.ReLU(), F.relu),
        (lenet.LeakyReLU(0.1), lambda t: F.leaky_relu(t, 0.1)),
        (lenet.Tanh(), torch.tanh),
        (lenet.Sigmoid(), torch.sigmoid),
        (lenet.Flatten(), lambda t: torch.flatten(t, 1)),
    ],
    ids=lambda v: repr(v) if isinstance(v, lenet.Layer) else "",
)
def test_activations(layer, torch_fn):
    x = rng(9).standard_normal((3, 2, 4, 5)) * 4
    y, yt, dx, dxt = run_both(layer, torch_fn, x)
    assert_close(y, yt)
    assert_close(dx, dxt)


def test_softmax_cross_entropy():
    logits = rng(10).standard_normal((8, 10)) * 5
    logits[0, 3] = 1e4  # stable even far outside exp's range
    labels = rng(11).integers(0, 10, 8)
    loss = lenet.SoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    dlogits = loss.backward()
    zt = torch.tensor(logits, requires_grad=True)
    lt = F.cross_entropy(zt, torch.tensor(labels))
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=TOL, abs=TOL)
    assert_close(dlogits, zt.grad.numpy())


def test_mse():
    y, t = rng(12).standard_normal((5, 3)), rng(13).standard_normal((5, 3))
    loss = lenet.MSELoss()
    value = loss.forward(y, t)
    yt = torch.tensor(y, requires_grad=True)
    lt = F.mse_loss(yt, torch.tensor(t))
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=TOL)
    assert_close(loss.backward(), yt.grad.numpy())


def optimizer_steps(make_lenet, make_torch, steps=3):
    """Run the same steps (fixed gradients per step) with lenet and torch.optim."""
    layer = lenet.Linear(4, 3, dtype=np.float64, rng=14)
    Wt = torch.tensor(layer.params["W"].copy(), requires_grad=True)
    bt = torch.tensor(layer.params["b"].copy(), requires_grad=True)
    opt, opt_t = make_lenet(layer), make_torch([Wt, bt])
    for step in range(steps):
        gW, gb = rng(20 + step).standard_normal((4, 3)), rng(30 + step).standard_normal(3)
        layer.grads = {"W": gW, "b": gb}
        opt.step()
        Wt.grad, bt.grad = torch.tensor(gW), torch.tensor(gb)
        opt_t.step()
    assert_close(layer.params["W"], Wt.detach().numpy())
    assert_close(layer.params["b"], bt.detach().numpy())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
        {"lr": 0.1},
    ],
)
def test_sgd_matches_torch(kwargs):
    optimizer_steps(lambda m: lenet.SGD(m, **kwargs), lambda p: torch.optim.SGD(p, **kwargs))


@pytest.mark.parametrize("kwargs", [{"lr": 0.01}, {"lr": 0.003, "weight_decay": 1e-2}])
def test_adam_matches_torch(kwargs):
    optimizer_steps(lambda m: lenet.Adam(m, **kwargs), lambda p: torch.optim.Adam(p, **kwargs))
