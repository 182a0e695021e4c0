"""The explanatory diagrams draw what their captions say: counts of units, cells and labels."""

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

import lenet  # noqa: E402
from lenet.teaching import diagrams  # noqa: E402


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def patches(ax, kind):
    return [p for p in ax.patches if type(p) is kind]


def test_every_diagram_is_a_fresh_figure_not_kept_by_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for name in diagrams.__all__:
        fig = getattr(diagrams, name)()
        assert isinstance(fig, Figure), name
        assert fig.axes and all(ax.patches for ax in fig.axes), name
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
