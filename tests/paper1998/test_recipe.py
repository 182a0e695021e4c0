"""The 1998 paper's recipe: MAP loss, the curvature pass, SDLM, distortions, the model."""

import re
import subprocess
import sys

import numpy as np
import pytest

from lenet import paper1998
from lenet.data.distortions import Distorter, affine_warp
from lenet.nn import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Tanh
from lenet.nn.gradcheck import check_loss, relative_error
from lenet.nn.models import Sequential
from lenet.nn.optim import Optimizer
from lenet.paper1998.loss import MAPLoss
from lenet.paper1998.recipe import EtaSchedule, paper_optimizer
from lenet.paper1998.sdlm import SDLM, curvature_pass


def jacobian(f, x, eps=1e-6):
    """d f(x).ravel() / d x.ravel() by central differences: (outputs, inputs). x changes in
    place one coordinate at a time and is restored."""
    columns = []
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f().ravel().copy()
        flat[i] = old - eps
        minus = f().ravel().copy()
        flat[i] = old
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1)


def expected_curvature(layer, x, d2out):
    """The Gauss-Newton diagonal passed back: sum_i (dy_i/dv)^2 d2out_i for the input and
    every parameter v, from numeric Jacobians."""
    expected = {}
    J = jacobian(lambda: layer.forward(x), x)
    expected["x"] = ((J**2).T @ d2out.ravel()).reshape(x.shape)
    for name, p in layer.params.items():
        J = jacobian(lambda: layer.forward(x), p)
        expected[name] = ((J**2).T @ d2out.ravel()).reshape(p.shape)
    return expected


LAYERS = {
    "Linear": (lambda: Linear(5, 3, dtype=np.float64, rng=0), (4, 5)),
    "Conv2d": (lambda: Conv2d(2, 3, 3, stride=2, padding=1, dtype=np.float64, rng=0), (2, 2, 6, 6)),
    "MaskedConv2d": (
        lambda: paper1998.MaskedConv2d(6, 16, 3, paper1998.C3_TABLE, dtype=np.float64, rng=0),
        (2, 6, 4, 4),
    ),
    "Subsampling": (lambda: paper1998.Subsampling(3, dtype=np.float64), (2, 3, 5, 4)),
    "ScaledTanh": (paper1998.ScaledTanh, (3, 7)),
    "Tanh": (Tanh, (3, 7)),
    "ReLU": (ReLU, (3, 7)),
    "Pad": (lambda: paper1998.Pad(2), (2, 1, 3, 3)),
    "InputRange": (paper1998.InputRange, (2, 1, 3, 3)),
    "Flatten": (Flatten, (2, 3, 2, 2)),
    "MaxPool2d": (lambda: MaxPool2d(2), (2, 2, 4, 4)),
    "AvgPool2d": (lambda: AvgPool2d(3, stride=2, padding=1), (2, 2, 5, 5)),
    "RBFOutput": (paper1998.RBFOutput, (3, 84)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_curvature_pass_of_each_layer_matches_squared_numeric_jacobians(name):
    make, shape = LAYERS[name]
    layer = make()
    rng = np.random.default_rng(1)
    for key, p in layer.params.items():  # non-trivial values (Subsampling starts at 1/4)
        p[...] = rng.uniform(-1, 1, p.shape) * (
            layer.mask if key == "W" and name == "MaskedConv2d" else 1
        )
    x = rng.standard_normal(shape)
    d2out = rng.uniform(0.5, 2.0, layer.forward(x).shape)
    expected = expected_curvature(layer, x, d2out)
    layer.forward(x)
    d2x = layer.backward_curvature(d2out)
    assert relative_error(d2x, expected["x"]) < 1e-7
    assert set(layer.curvature) == set(layer.params)
    for p in layer.params:
        assert relative_error(layer.curvature[p], expected[p]) < 1e-7, p


# --- the MAP loss (Eq. 9) ---------------------------------------------------------------


def map_loss_by_definition(outputs, labels, j):
    """y_D + log(e^-j + sum e^-y_i), y = -outputs, straight from the formula (mean over N)."""
    y = -np.asarray(outputs, dtype=np.float64)
    n = len(labels)
    return float(np.mean(y[np.arange(n), labels] + np.log(np.exp(-j) + np.exp(-y).sum(axis=1))))


def test_map_loss_is_equation_9_and_its_gradient_checks():
    rng = np.random.default_rng(0)
    outputs = -rng.uniform(0, 5, (6, 10))  # -y, y >= 0 as RBF penalties are
    labels = rng.integers(0, 10, 6)
    for j in (0.1, 1.0, 7.0):
        loss = MAPLoss(j=j)
        assert loss.forward(outputs, labels) == pytest.approx(
            map_loss_by_definition(outputs, labels, j), rel=1e-12
        )
        assert check_loss(MAPLoss(j=j), outputs, labels) < 1e-7


def test_map_loss_does_not_overflow_for_large_or_tiny_penalties():
    outputs = np.array([[-1e4] * 10, [0.0] * 10, [800.0] * 10])  # y = 1e4, 0, -800
    labels = np.array([3, 3, 3])
    loss = MAPLoss(j=1.0)
    value = loss.forward(outputs, labels)
    assert np.isfinite(value) and np.isfinite(loss.backward()).all()
    # all penalties 1e4: E = 1e4 + log(e^-1 + 10 e^-1e4) = 1e4 - 1 (per pattern)
    assert loss.forward(outputs[:1], labels[:1]) == pytest.approx(1e4 - 1)


def test_map_loss_curvature_is_the_diagonal_of_the_numeric_hessian():
    rng = np.random.default_rng(1)
    outputs = -rng.uniform(0, 3, (2, 10))
    labels = np.array([4, 7])
    loss = MAPLoss(j=0.5)
    loss.forward(outputs, labels)
    curvature = loss.curvature()

    def gradient():
        loss.forward(outputs, labels)
        return loss.backward()

    hessian = jacobian(gradient, outputs)  # (20, 20)
    assert relative_error(curvature.ravel(), np.diag(hessian)) < 1e-7


def test_map_loss_rejects_bad_arguments():
    with pytest.raises(ValueError, match="j must be"):
        MAPLoss(j=0)
    with pytest.raises(ValueError, match="labels"):
        MAPLoss().forward(np.zeros((2, 10)), np.array([0.5, 1.0]))
    with pytest.raises(RuntimeError, match="before forward"):
        MAPLoss().backward()


# --- the curvature pass through a whole network -----------------------------------------


def test_rbf_curvature_with_gradient_is_the_exact_hessian_where_every_dout_is_negative():
    """For L = sum c_i z_i + 1/2 sum h_i z_i^2 with every dL/dz_i < 0, the RBF's curvature
    (Gauss-Newton term + its own 2 max(-dout, 0)) is d2L/dx2 exactly."""
    rbf = paper1998.RBFOutput()
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 84))
    h = rng.uniform(0.1, 1.0, (2, 10))
    z = rbf.forward(x)
    c = -h * z - rng.uniform(0.5, 1.0, (2, 10))  # makes dL/dz = c + h z < 0
    dout = c + h * z

    def gradient():
        z = rbf.forward(x)
        return rbf.backward(c + h * z)

    exact = np.diag(jacobian(gradient, x)).reshape(x.shape)
    rbf.forward(x)
    assert relative_error(rbf.backward_curvature(h, dout=dout), exact) < 1e-7


def test_curvature_pass_is_the_exact_gauss_newton_diagonal_on_a_one_path_network():
    """With a single hidden unit no off-diagonal term exists, so the layer-by-layer pass must
    equal the diagonal of J^T H J computed from the network's numeric Jacobian."""
    rng = np.random.default_rng(3)
    model = Sequential(
        Linear(4, 1, dtype=np.float64, rng=0),
        paper1998.ScaledTanh(),
        Linear(1, 10, dtype=np.float64, rng=1),
    )
    x = rng.standard_normal((5, 4))
    labels = rng.integers(0, 10, 5)
    loss = MAPLoss()
    curvature_pass(model, loss, x, labels)
    loss.forward(model.forward(x), labels)
    h = loss.curvature().ravel()  # the loss's diagonal curvature at the outputs
    for layer in model.layers:
        for name, p in layer.params.items():
            J = jacobian(lambda: model.forward(x), p)  # (5 * 10, p.size)
            gauss_newton = (J**2).T @ h
            assert relative_error(layer.curvature[name].ravel(), gauss_newton) < 1e-6, name


# --- SDLM -------------------------------------------------------------------------------


def test_sdlm_step_is_eta_over_mu_plus_h_times_the_gradient():
    rng = np.random.default_rng(4)
    model = paper1998.LeNet1998(dtype=np.float64, rng=0)
    x, labels = rng.uniform(0, 1, (20, 1, 28, 28)), rng.integers(0, 10, 20)
    loss = MAPLoss()
    opt = SDLM(model, loss, lr=0.001, mu=0.02)
    opt.estimate_curvature(x, labels)
    assert all((h >= 0).all() for h in opt.hessian)
    before = [layer.params[name].copy() for layer, name in opt.parameters]
    loss.forward(model.forward(x[:4]), labels[:4])
    model.backward(loss.backward())
    opt.step()
    for (layer, name), h, old in zip(opt.parameters, opt.hessian, before, strict=True):
        expected = old - 0.001 / (0.02 + h) * layer.grads[name]
        np.testing.assert_allclose(layer.params[name], expected, rtol=1e-12, atol=1e-15)


def test_sdlm_estimates_the_mean_curvature_over_chunks():
    rng = np.random.default_rng(5)
    model = paper1998.LeNet1998(dtype=np.float64, rng=0)
    x, labels = rng.uniform(0, 1, (12, 1, 28, 28)), rng.integers(0, 10, 12)
    whole = [h.copy() for h in SDLM(model, MAPLoss()).estimate_curvature(x, labels)]
    chunked = SDLM(model, MAPLoss()).estimate_curvature(x, labels, batch_size=5)
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-300)


def test_sdlm_fits_a_toy_regression_better_than_its_first_loss():
    """A Linear + ScaledTanh + Linear net learns 3 classes of separable 2-D points."""
    rng = np.random.default_rng(6)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = rng.integers(0, 3, 300)
    x = centres[labels] + 0.3 * rng.standard_normal((300, 2))
    model = Sequential(
        Linear(2, 8, dtype=np.float64, rng=0),
        paper1998.ScaledTanh(),
        Linear(8, 3, dtype=np.float64, rng=1),
    )
    loss = MAPLoss()
    opt = SDLM(model, loss, lr=0.01 * 10, mu=0.02)
    first = loss.forward(model.forward(x), labels)
    for _ in range(5):
        opt.estimate_curvature(x[:100], labels[:100])
        for start in range(0, 300, 10):
            loss.forward(model.forward(x[start : start + 10]), labels[start : start + 10])
            model.backward(loss.backward())
            opt.step()
    last = loss.forward(model.forward(x), labels)
    accuracy = np.mean(model.forward(x).argmax(axis=1) == labels)
    assert last < first / 2 and accuracy > 0.95


def test_sdlm_needs_a_curvature_estimate_first():
    model = Sequential(Linear(2, 3, dtype=np.float64, rng=0))
    with pytest.raises(RuntimeError, match="estimate_curvature"):
        SDLM(model, MAPLoss()).step()
    with pytest.raises(ValueError, match="mu"):
        SDLM(model, MAPLoss(), mu=0)


def test_sdlm_is_an_optimizer_and_refuses_a_step_without_gradients():
    model = Sequential(Linear(2, 3, dtype=np.float64, rng=0))
    opt = SDLM(model, MAPLoss())
    assert isinstance(opt, Optimizer) and opt.parameters == [
        (model.layers[0], "W"),
        (model.layers[0], "b"),
    ]
    opt.estimate_curvature(np.ones((4, 2)), np.array([0, 1, 2, 0]))
    model.layers[0].grads.clear()
    with pytest.raises(RuntimeError, match=r"Linear has no gradient for 'W': call model.backward"):
        opt.step()


def test_start_epoch_estimates_the_curvature_on_a_sample_drawn_by_the_generator():
    rng = np.random.default_rng(7)
    model = paper1998.LeNet1998(dtype=np.float64, rng=0)
    x, labels = rng.uniform(0, 1, (40, 1, 28, 28)), rng.integers(0, 10, 40)
    opt = SDLM(model, MAPLoss(), curvature_samples=6)
    opt.start_epoch(x, labels, np.random.default_rng(3))
    sample = np.random.default_rng(3).choice(40, size=6, replace=False)
    expected = SDLM(model, MAPLoss()).estimate_curvature(x[sample], labels[sample])
    for a, b in zip(opt.hessian, expected, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_papers_eta_schedule():
    schedule = EtaSchedule()
    etas = [schedule.eta(e) for e in range(20)]
    assert etas[:12] == [0.0005] * 2 + [0.0002] * 3 + [0.0001] * 3 + [0.00005] * 4
    assert etas[12:] == [0.00001] * 8
    # fit's lr = base lr x factor: for batches of 16 exactly 16 x the pass's eta
    base = paper_optimizer(paper1998.LeNet1998(rng=0), 16).lr
    assert [base * schedule(e) for e in range(20)] == [16 * eta for eta in etas]
    with pytest.raises(ValueError, match="epoch must be >= 0, got -1"):
        schedule.eta(-1)


# --- the model ----------------------------------------------------------------------------


def test_lenet1998_input_levels_and_initialisation():
    model = paper1998.LeNet1998(dtype=np.float64, rng=0)
    assert model.parameter_count() == 60_000
    x = np.zeros((1, 1, 28, 28))
    x[0, 0, 10:18, 12:16] = 1.0
    padded = model.layers[1].forward(model.layers[0].forward(x))
    assert padded.shape == (1, 1, 32, 32)
    assert set(np.unique(padded)) == {-0.1, 1.175}  # background everywhere, border included
    c3 = model.layers[6]
    assert (c3.params["W"][~paper1998.C3_TABLE] == 0).all()
    for layer in model.layers:
        if layer.params:
            f = np.asarray(paper1998.fan_in(layer), dtype=float)
            limit = (2.4 / np.sqrt(f)).reshape(
                -1, *([1] * (layer.params["W" if "W" in layer.params else "coef"].ndim - 1))
            )
            key = "W" if "W" in layer.params else "coef"
            assert (np.abs(layer.params[key]) <= limit).all()
    # C3's maps read 3, 4 or 6 S2 maps: 75, 100, 150 inputs
    assert sorted(set(paper1998.fan_in(c3).tolist())) == [75, 100, 150]
    printed = paper1998.LeNet1998(init="printed", dtype=np.float64, rng=0)
    assert np.abs(printed.layers[10].params["W"]).max() <= 2.4 / 400


# --- distortions ----------------------------------------------------------------------------


def digits(n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, 28, 28), np.float32)
    x[:, :, 8:20, 10:18] = rng.uniform(0.2, 1.0, (n, 1, 12, 8))
    return x


def test_distortions_keep_shape_and_dtype_and_are_deterministic_per_seed():
    x = digits()
    distort = Distorter()
    a, b, c = distort(x, 1), distort(x, 1), distort(x, 2)
    assert a.shape == x.shape and a.dtype == x.dtype
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, x)
    assert a.min() >= 0 and a.max() <= 1


def test_zero_distortion_is_the_identity_exactly():
    x = digits()
    np.testing.assert_array_equal(Distorter(0, 0, 0, 0)(x, 3), x)
    eye = np.repeat(np.eye(2)[None], len(x), axis=0)
    np.testing.assert_array_equal(affine_warp(x, eye, np.zeros((len(x), 2))), x)


def test_integer_translation_moves_the_digit_and_fills_background():
    x = digits(2)
    eye = np.repeat(np.eye(2)[None], 2, axis=0)
    moved = affine_warp(x, eye, np.array([[3.0, -2.0], [3.0, -2.0]]))  # 3 right, 2 up
    np.testing.assert_array_equal(moved[:, :, :-2, 3:], x[:, :, 2:, :-3])
    assert (moved[:, :, :, :3] == 0).all() and (moved[:, :, -2:, :] == 0).all()


def test_shear_and_scale_act_about_the_centre():
    x = np.zeros((1, 1, 29, 29))
    x[0, 0, 14, 14] = 1.0  # the centre pixel of an odd-sized image
    for A in ([[1.2, 0.0], [0.0, 0.8]], [[1.0, 0.4], [0.0, 1.0]]):
        out = affine_warp(x, np.array([A]), np.zeros((1, 2)))
        assert out[0, 0, 14, 14] == pytest.approx(1.0)
    # horizontal shear x' = x + k y: a vertical bar tilts, its row sums are kept
    bar = np.zeros((1, 1, 29, 29))
    bar[0, 0, 4:25, 14] = 1.0
    sheared = affine_warp(bar, np.array([[[1.0, 0.5], [0.0, 1.0]]]), np.zeros((1, 2)))
    np.testing.assert_allclose(sheared[0, 0].sum(axis=1), bar[0, 0].sum(axis=1), atol=1e-6)
    assert sheared[0, 0, 4].argmax() < 14 < sheared[0, 0, 24].argmax()


def test_distortions_are_vectorised_over_the_batch():
    """Each image is warped by its own map, the same whatever the batch around it."""
    x = digits(5)
    distort = Distorter()
    matrices, offsets = distort.sample(5, 7)
    together = affine_warp(x, matrices, offsets)
    for i in range(5):
        alone = affine_warp(x[i : i + 1], matrices[i : i + 1], offsets[i : i + 1])
        np.testing.assert_allclose(together[i : i + 1], alone, rtol=1e-6)
    chunked = Distorter(chunk=2)(x, 7)
    np.testing.assert_allclose(chunked, distort(x, 7), rtol=1e-6)


def test_distorter_rejects_bad_ranges():
    with pytest.raises(ValueError, match="scale"):
        Distorter(scale=1.0)
    with pytest.raises(ValueError, match="translate"):
        Distorter(translate=-1)
    with pytest.raises(ValueError, match="matrices"):
        affine_warp(digits(2), np.zeros((3, 2, 2)), np.zeros((2, 2)))


# --- the command line ------------------------------------------------------------------------


def test_cli_trains_the_1998_net_with_the_papers_recipe_and_reports_its_test_error(tmp_path):
    from mnist_files import write_split

    folder = tmp_path / "mnist"
    folder.mkdir()
    write_split(folder, "train", n=600, seed=1, gz=False)
    write_split(folder, "test", n=100, seed=2, gz=False)
    model = tmp_path / "m.npz"
    args = ["--model", "lenet1998", "--epochs", "1", "--limit", "500", "--distort"]
    done = subprocess.run(
        [sys.executable, "-m", "lenet", "train", *args, "--data-dir", str(folder)]
        + ["--output", str(model)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "1998 LeNet-5" in lines[0] and "distortions" in lines[0] and "on 500 images" in lines[0]
    assert re.match(r"epoch 1: train loss \d+\.\d+, accuracy .*; lr 0\.008; ", lines[2])
    assert re.match(
        r"test accuracy: .* after 1 epoch, .*; test error \d+\.\d\d% \(the paper", lines[-1]
    )
    assert model.is_file()


def test_lenet1998_survives_a_checkpoint(tmp_path):
    import lenet

    model = paper1998.LeNet1998(rng=3)
    path = tmp_path / "m.npz"
    lenet.save(model, path)
    again = lenet.load(path)
    x = digits(3)
    np.testing.assert_array_equal(again.forward(x), model.forward(x))
    assert any(isinstance(layer, paper1998.InputRange) for layer in again.layers)


def test_map_loss_and_distortions_work_through_fit():
    from lenet import SGD
    from lenet.training import fit

    rng = np.random.default_rng(8)
    labels = rng.integers(0, 10, 64)
    x = digits(64, seed=8) * (1 + labels[:, None, None, None]) / 10  # a faint class signal
    model = paper1998.LeNet1998(dtype=np.float64, rng=0)
    loss = MAPLoss()
    first = loss.forward(model.forward(x), labels)
    history = fit(
        model,
        SGD(model, lr=1e-4),
        (x, labels),
        3,
        batch_size=16,
        rng=0,
        progress=False,
        loss=MAPLoss(),
        transform=Distorter(),
    )
    assert len(history) == 3 and np.isfinite(history.train_loss).all()
    assert loss.forward(model.forward(x), labels) < first
