"""The 1998 LeNet-5: gradient checks, the paper's connection table, fixed RBF prototypes."""

import numpy as np
import pytest

import lenet
from lenet import paper1998
from lenet.nn.gradcheck import check_layer

F64 = np.float64


def rng(seed=0):
    return np.random.default_rng(seed)


def report_net(**kwargs):
    """The reference report's version of the 1998 net: Glorot weights on [0, 1] grey levels."""
    return paper1998.LeNet1998(init="glorot", input_range=None, **kwargs)


# Table I of LeCun et al. (1998), as printed: rows are the S2 maps 0-5, columns the C3 maps 0-15.
PAPER_TABLE_I = """
X . . . X X X . . X X X X . X X
X X . . . X X X . . X X X X . X
X X X . . . X X X . . X . X X X
. X X X . . X X X X . . X . X X
. . X X X . . X X X X . X X . X
. . . X X X . . X X X X . X X X
"""


def test_connection_table_is_the_papers_cell_for_cell():
    rows = [line.split() for line in PAPER_TABLE_I.strip().splitlines()]
    expected = np.array([[cell == "X" for cell in row] for row in rows])  # (6, 16)
    np.testing.assert_array_equal(paper1998.C3_TABLE, expected.T)
    counts = paper1998.C3_TABLE.sum(axis=1)
    assert counts.tolist() == [3] * 6 + [4] * 9 + [6]


def test_prototypes_are_distinct_7_by_12_bitmaps():
    bitmaps = paper1998.DIGIT_BITMAPS
    assert bitmaps.shape == (10, 12, 7)
    assert set(np.unique(bitmaps)) == {-1.0, 1.0}
    flat = bitmaps.reshape(10, -1)
    distances = ((flat[:, None] - flat[None]) ** 2).sum(axis=2)
    assert (distances[~np.eye(10, dtype=bool)] > 0).all()


def test_subsampling_gradients():
    layer = paper1998.Subsampling(3, dtype=F64, rng=0)
    layer.params["coef"][:] = rng(1).standard_normal(3)
    layer.params["bias"][:] = rng(2).standard_normal(3)
    errors = check_layer(layer, rng(3).standard_normal((2, 3, 6, 8)))
    assert set(errors) == {"x", "coef", "bias"} and max(errors.values()) < 1e-6


def test_subsampling_forward_is_scaled_window_sum():
    layer = paper1998.Subsampling(1, dtype=F64)
    layer.params["coef"][:] = 2.0
    layer.params["bias"][:] = 1.0
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    expected = 2 * x.reshape(2, 2, 2, 2).sum(axis=(1, 3)) + 1
    np.testing.assert_allclose(layer.forward(x)[0, 0], expected)


def test_masked_convolution_gradients_and_mask():
    layer = paper1998.MaskedConv2d(6, 16, 5, paper1998.C3_TABLE, dtype=F64, rng=4)
    W = layer.params["W"]
    assert (W[~paper1998.C3_TABLE] == 0).all() and (W[paper1998.C3_TABLE] != 0).all()
    errors = check_layer(layer, rng(5).standard_normal((2, 6, 7, 7)))
    assert max(errors.values()) < 1e-6
    assert (layer.grads["W"][~paper1998.C3_TABLE] == 0).all()
    assert layer.parameter_count() == 60 * 25 + 16  # 1,516 as in the paper


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda m: lenet.SGD(m, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda m: lenet.Adam(m, lr=0.01, weight_decay=1e-3),
    ],
    ids=["sgd", "adam"],
)
def test_masked_weights_stay_zero_through_training(make_opt):
    model = lenet.Sequential(
        paper1998.MaskedConv2d(6, 16, 5, paper1998.C3_TABLE, rng=0),
        lenet.Flatten(),
        lenet.Linear(16 * 4 * 4, 3, rng=1),
    )
    opt = make_opt(model)
    loss = lenet.SoftmaxCrossEntropy()
    x, y = rng(6).standard_normal((8, 6, 8, 8)), rng(7).integers(0, 3, 8)
    for _ in range(5):
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
    W = model.layers[0].params["W"]
    assert (W[~paper1998.C3_TABLE] == 0).all()


def test_mask_table_shape_is_checked():
    with pytest.raises(ValueError, match=r"table must have shape .* \(16, 6\), got \(6, 16\)"):
        paper1998.MaskedConv2d(6, 16, 5, paper1998.C3_TABLE.T)


def test_scaled_tanh():
    layer = paper1998.ScaledTanh()
    assert layer.forward(np.array([[1.0]]))[0, 0] == pytest.approx(1.0, abs=2e-3)  # f(1) ~ 1
    assert check_layer(layer, rng(8).standard_normal((3, 5)))["x"] < 1e-6


def test_rbf_output_values_and_gradient():
    layer = paper1998.RBFOutput()
    x = rng(9).standard_normal((4, 84))
    w = paper1998.DIGIT_BITMAPS.reshape(10, 84)
    expected = -((x[:, None, :] - w[None]) ** 2).sum(axis=2)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-10)
    assert layer.params == {}  # the prototypes are fixed, never trained
    assert check_layer(layer, x)["x"] < 1e-6
    # a perfect prototype is the closest: its digit is the prediction
    assert layer.forward(w[[3]]).argmax() == 3


def test_pad_and_binarize():
    assert check_layer(paper1998.Pad(2), rng(10).standard_normal((2, 1, 3, 4)))["x"] < 1e-6
    x = np.array([[[[0.1, 0.2, 0.5]]]])
    np.testing.assert_array_equal(paper1998.Binarize(40 / 255).forward(x), [[[[0, 1, 1]]]])
    # a step function: zero gradient, analytic and numeric (no input sits at the threshold)
    assert check_layer(paper1998.Binarize(0.5), rng(14).random((2, 1, 3, 4)))["x"] == 0
    with pytest.raises(ValueError, match="threshold must lie in"):
        paper1998.Binarize(40)  # 0-255 units by mistake
    with pytest.raises(ValueError, match="padding"):
        paper1998.Pad(-1)


@pytest.mark.parametrize(
    ("binarize", "threshold"), [(False, None), (None, None), (True, 40 / 255), (0.5, 0.5)]
)
def test_binarize_option(binarize, threshold):
    first = report_net(binarize=binarize, rng=0).layers[0]
    if threshold is None:
        assert isinstance(first, paper1998.Pad)
    else:
        assert isinstance(first, paper1998.Binarize) and first.threshold == threshold


def test_one_builder_makes_the_papers_net_and_the_reports():
    paper = paper1998.LeNet1998(rng=0)
    assert [type(la).__name__ for la in paper.layers[:3]] == ["Pad", "InputRange", "Conv2d"]
    c1 = paper.layers[2].params["W"]
    assert np.abs(c1).max() <= 2.4 / np.sqrt(25)  # the paper's uniform +-2.4 / sqrt(fan-in)
    report = report_net(binarize=True, rng=0)
    assert [type(la).__name__ for la in report.layers[:3]] == ["Binarize", "Pad", "Conv2d"]
    assert paper.parameter_count() == report.parameter_count() == 60_000
    with pytest.raises(ValueError, match="init must be one of"):
        paper1998.LeNet1998(init="he")


def test_module_constants_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        paper1998.C3_TABLE[0, 5] = True
    with pytest.raises(ValueError, match="read-only"):
        paper1998.RBFOutput.prototypes[0, 0] = 0.0


@pytest.mark.parametrize("n", [1, 8])
def test_classic_lenet5_shapes_and_parameters(n):
    model = report_net(binarize=True, rng=0)
    assert model.forward(rng().random((n, 1, 28, 28), dtype=np.float32)).shape == (n, 10)
    assert report_net(rng=0).parameter_count() == 60_000  # as the paper counts


def test_classic_lenet5_save_load_round_trip(tmp_path):
    model = report_net(binarize=0.3, rng=1)
    lenet.save(model, tmp_path / "paper1998.npz")
    loaded = lenet.load(tmp_path / "paper1998.npz")
    x = rng().random((3, 1, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]


def test_classic_lenet5_overfits_32_samples():
    model = report_net(rng=0)
    x, y = rng(11).random((32, 1, 28, 28), dtype=np.float32), rng(12).integers(0, 10, 32)
    loss = lenet.SoftmaxCrossEntropy()
    opt = lenet.Adam(model, lr=3e-3)
    for _ in range(150):
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
    assert np.mean(model.forward(x).argmax(axis=1) == y) == 1.0


def test_whole_classic_net_gradient_check():
    model = report_net(dtype=F64, rng=2)
    x, y = rng(13).random((2, 1, 28, 28)), np.array([4, 9])
    loss = lenet.SoftmaxCrossEntropy()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    s2 = model.layers[3]
    analytic = s2.grads["coef"].copy()
    numeric = lenet.numerical_gradient(
        lambda _: loss.forward(model.forward(x), y), s2.params["coef"]
    )
    assert lenet.relative_error(analytic, numeric) < 1e-6


LAYERS_1998 = {
    "Pad": (lambda: paper1998.Pad(2), (1, 4, 4), (1, 8, 8)),
    "Binarize": (lambda: paper1998.Binarize(0.5), (1, 4, 4), (1, 4, 4)),
    "InputRange": (paper1998.InputRange, (1, 4, 4), (1, 4, 4)),
    "Subsampling": (lambda: paper1998.Subsampling(3, rng=0), (3, 6, 6), (3, 3, 3)),
    "MaskedConv2d": (
        lambda: paper1998.MaskedConv2d(6, 16, 5, paper1998.C3_TABLE, rng=0),
        (6, 14, 14),
        (16, 10, 10),
    ),
    "ScaledTanh": (paper1998.ScaledTanh, (5,), (5,)),
    "RBFOutput": (paper1998.RBFOutput, (84,), (10,)),
}


@pytest.mark.parametrize("name", LAYERS_1998)
def test_every_1998_layer_takes_a_batch_of_zero(name):
    make, sample, out_sample = LAYERS_1998[name]
    layer = make()
    y = layer.forward(np.zeros((0, *sample), dtype=np.float32))
    assert y.shape == (0, *out_sample)
    assert layer.backward(np.zeros((0, *out_sample), dtype=np.float32)).shape == (0, *sample)
    assert all(
        not layer.grads[k].any() and layer.grads[k].shape == p.shape
        for k, p in layer.params.items()
    )


@pytest.mark.parametrize("name", LAYERS_1998)
def test_1998_layers_refuse_text_with_one_type_error(name):
    make, sample, _ = LAYERS_1998[name]
    with pytest.raises(TypeError, match="real numbers .*got dtype <U1"):
        make().forward(np.full((2, *sample), "x"))


@pytest.mark.parametrize("make", [paper1998.LeNet1998, lambda: report_net(binarize=True)])
def test_the_1998_net_takes_a_batch_of_zero(make):
    model = make()
    assert model.forward(np.zeros((0, 1, 28, 28), dtype=np.float32)).shape == (0, 10)
    assert model.backward(np.zeros((0, 10), dtype=np.float32)) is None
    curvature = model.layers[-1].backward_curvature(np.zeros((0, 10)), dout=np.zeros((0, 10)))
    assert curvature.shape == (0, 84)


def test_curvature_pass_in_chunks_gives_the_whole_batchs_curvature(monkeypatch):
    """A batch of 256 runs in chunks on 2 cores: the same curvature as one chunk of 256."""
    monkeypatch.setattr(lenet.nn.cores, "core_count", lambda: 2)
    x, y = rng(20).random((256, 1, 28, 28)), rng(21).integers(0, 10, 256)
    model = paper1998.LeNet1998(dtype=F64, rng=0)
    loss = paper1998.MAPLoss()
    curvatures = []
    for chunk_size in (128, 1000):
        model.chunk_size = chunk_size
        loss.forward(model.forward(x), y)
        model.backward_curvature(loss.curvature(), dout=loss.backward())
        curvatures.append([dict(layer.curvature) for layer in model.layers if layer.params])
    for chunked, whole in zip(*curvatures, strict=True):
        assert chunked.keys() == whole.keys() and whole
        for k in whole:
            np.testing.assert_allclose(chunked[k], whole[k], rtol=1e-12)
