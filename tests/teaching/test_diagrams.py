"""The explanatory diagrams draw what their captions say: counts of units, cells and labels."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle  # noqa: E402

import lenet  # noqa: E402
from lenet.teaching import diagrams  # noqa: E402


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def patches(ax, kind):
    return [p for p in ax.patches if type(p) is kind]


def test_every_diagram_is_a_fresh_figure_not_kept_by_pyplot():
    import matplotlib.pyplot as plt

    x, y = house_prices()
    data = {  # the pictures drawn from data
        "loss_surface": (x, y),
        "loss_bowls": (np.column_stack([x, x**0.5]), y),
        "pooling_shift": (np.eye(8),),
    }
    before = plt.get_fignums()
    for name in diagrams.__all__:
        fig = getattr(diagrams, name)(*data.get(name, ()))
        assert isinstance(fig, Figure), name
        drawn = [ax.patches or ax.images or ax.collections for ax in fig.axes]
        assert fig.axes and all(drawn), name
    assert plt.get_fignums() == before


def test_neuron_has_inputs_weights_bias_sum_and_activation():
    fig = diagrams.neuron(n_inputs=4)
    labels = texts(fig)
    for i in range(1, 5):
        assert f"$x_{i}$" in labels and f"$w_{i}$" in labels
    assert "$b$" in labels and "$f$" in labels and r"$\Sigma$" in labels
    assert len(patches(fig.axes[0], Circle)) == 4 + 2  # inputs, the sum, the bias


def test_layered_network_draws_every_unit_and_every_weight_shape():
    sizes = (3, 5, 4, 2)
    fig = diagrams.layered_network(sizes)
    ax = fig.axes[0]
    assert len(patches(ax, Circle)) == sum(sizes)
    assert len(ax.lines) == 3 * 5 + 5 * 4 + 4 * 2  # every connection
    labels = texts(fig)
    assert "$W_1$: (3, 5)" in labels and "$W_3$: (4, 2)" in labels
    assert len(patches(diagrams.layered_network((2, 3, 1)).axes[0], Circle)) == 6


def test_sliding_window_shows_each_position_on_input_and_output_grids():
    fig = diagrams.sliding_window(size=5, kernel_size=3, positions=((0, 0), (1, 2)))
    assert len(fig.axes) == 2
    for ax in fig.axes:
        # 25 input cells, 9 output cells, the window and the output cell it makes
        assert len(patches(ax, Rectangle)) == 25 + 9 + 2
    assert "output 3×3" in texts(fig)
    assert [ax.get_title() for ax in fig.axes] == [
        "window at (0, 0) → $y_{00}$",
        "window at (1, 2) → $y_{12}$",
    ]


def test_stride_output_size_follows_the_formula():
    assert "output 3×3" in texts(diagrams.stride(size=7, kernel_size=3, step=2))
    fig = diagrams.stride(size=9, kernel_size=3, step=2)
    assert "output 4×4" in texts(fig)
    # 81 input cells, 16 output cells, 4 windows along the first row and their 4 output cells
    assert len(patches(fig.axes[0], Rectangle)) == 81 + 16 + 4 + 4


def test_padding_zero_versus_one():
    fig = diagrams.padding(size=5, kernel_size=3)
    no_pad, pad = fig.axes
    assert no_pad.get_title() == "padding 0: 5×5 → 3×3"
    assert pad.get_title() == "padding 1: 5×5 → 5×5"
    assert sum(t.get_text() == "0" for t in no_pad.texts) == 0
    assert sum(t.get_text() == "0" for t in pad.texts) == 7 * 7 - 5 * 5  # the ring of zeros


def test_convolution_over_channels_has_one_kernel_per_output_channel():
    fig = diagrams.convolution_over_channels(in_channels=3, out_channels=3, size=6, kernel_size=3)
    labels = texts(fig)
    assert "input x: (3, 6, 6)" in labels and "output y: (3, 4, 4)" in labels
    assert [f"kernel W[{o}]: (3, 3, 3)" in labels for o in range(4)] == [True] * 3 + [False]
    assert sum(label.startswith("channel ") for label in labels) == 3


def test_lenet5_architecture_shapes_are_the_models_shapes():
    fig = diagrams.lenet5_architecture()
    drawn = [t for t in texts(fig) if t.startswith("(") and t.endswith(")")]
    # the shape after every convolution, pool and linear layer of lenet.LeNet5(), per image
    model_shapes = []
    for name, shape, _ in lenet.LeNet5().summary((1, 1, 28, 28)):
        if not name.startswith(("ReLU", "Flatten")):
            per_image = shape[1:]
            model_shapes.append(
                f"({per_image[0]},)" if len(per_image) == 1 else str(tuple(per_image))
            )
    assert drawn == model_shapes
    assert "61,706" in fig.axes[0].get_title()
    assert lenet.LeNet5().parameter_count() == 61_706


def colored_arrows(ax, color):
    rgba = matplotlib.colors.to_rgba(color)
    return [p for p in patches(ax, FancyArrowPatch) if p.get_edgecolor() == rgba]


def test_computational_graph_has_a_backward_arrow_with_a_gradient_for_every_input():
    fig = diagrams.computational_graph()
    ax = fig.axes[0]
    assert len(colored_arrows(ax, "0.15")) == 6  # X, W, XW, b, Y, J: forward
    assert len(colored_arrows(ax, "C3")) == 5  # dY twice, db, dX, dW: backward
    labels = texts(fig)
    for gradient in (r"$dX = dY\,W^\top$", r"$dW = X^\top dY$", r"$db = \sum_n dY_{n,:}$"):
        assert any(label.startswith(gradient) for label in labels), gradient


def test_convolution_input_gradient_adds_the_terms_where_windows_overlap():
    fig = diagrams.convolution_input_gradient(size=5, kernel_size=3, positions=((0, 0), (0, 1)))
    labels = texts(fig)
    # column 0 is only in window (0, 0), columns 1-2 in both, column 3 only in (0, 1)
    assert "$dy_{00}W_{00}$" in labels and "$dy_{01}W_{02}$" in labels
    assert "$dy_{00}W_{01}$\n+ $dy_{01}W_{00}$" in labels
    assert sum("\n+ " in label for label in labels) == 3 * 2
    assert "input gradient dx: 5×5" in labels and "upstream gradient dy: 3×3" in labels


def house_prices(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(40, 200, size=n)
    return x, 3.0 * x + 50.0 + rng.normal(0, 25, size=n)


def test_loss_surface_marks_the_least_squares_fit_at_the_bottom():
    x, y = house_prices()
    fig = diagrams.loss_surface(x, y)
    contours = fig.axes[1]
    w, b = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    (star,) = contours.lines
    assert np.allclose(star.get_xydata(), [[w, b]])
    assert f"w = {w:.2f}, b = {b:.0f}" in contours.get_legend().get_texts()[0].get_text()
    # the marked point is lower than every point of a ring around it
    angles = np.linspace(0, 2 * np.pi, 12)
    ring = np.stack([w + 0.05 * np.cos(angles), b + 5 * np.sin(angles)])
    loss = np.mean((np.outer(x, ring[0]) + ring[1] - y[:, None]) ** 2, axis=0)
    assert loss.min() > np.mean((w * x + b - y) ** 2)


def test_loss_bowls_standardising_makes_the_bowl_round_and_descent_fast():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(40, 200, 200), rng.integers(1, 7, 200)])
    y = X @ np.array([3.0, 10.0]) + 40 + rng.normal(0, 10, 200)
    raw, standardised = diagrams.loss_bowls(X, y, steps=30).axes
    ratio = [
        float(ax.get_title().split("×")[1].split(";")[0].replace(",", ""))
        for ax in (raw, standardised)
    ]
    left = [int(ax.get_title().split("steps ")[1].split("%")[0]) for ax in (raw, standardised)]
    assert ratio[0] > 100 and ratio[1] < 2  # a long trough against a round bowl
    assert left[0] > 50 and left[1] <= 1  # the trough's flat direction crawls
    path = raw.lines[0].get_xydata()
    assert len(path) == 31 and np.allclose(path[0], 0)


def test_pooling_shift_measures_the_change_at_every_level():
    image = np.zeros((8, 8))
    image[2:6, 2] = 1.0  # a vertical bar, one pixel wide, in column 2
    fig = diagrams.pooling_shift(image, shift=(0, 1), levels=2)
    assert len(fig.axes) == 3 * 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["input (8×8)", "after 1 max pool (4×4)", "after 2 max pools (2×2)"]
    assert titles[3] == "shifted 1 pixel right"
    # the bar moves off itself completely in the input (200% of its ink changes: gone here, new
    # there); columns 2 and 3 share a pooling window, so the pooled maps do not change at all
    assert titles[6:] == [
        "difference: 200% changed",
        "difference: 0% changed",
        "difference: 0% changed",
    ]
    assert fig.axes[4].images[0].get_array().shape == (4, 4)
