"""The pictures of lenet.teaching.viz: labelled, on the axes a reader expects."""

import base64

import matplotlib
import matplotlib.figure

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from histories import history_of  # noqa: E402

import lenet  # noqa: E402
from lenet import training  # noqa: E402
from lenet.teaching import viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def titles(fig):
    return [ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text() if fig._suptitle else ""]


def test_plot_history_is_labelled():
    history = training.History(
        epoch=[1, 2],
        train_loss=[1.0, 0.5],
        train_acc=[0.5, 0.8],
        val_loss=[1.1, 0.6],
        val_acc=[0.4, 0.7],
        lr=[0.1, 0.1],
        seconds=[1.0, 1.0],
    )
    fig = viz.plot_history(history)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert titles(fig)[:2] == ["Loss", "Accuracy"]
    assert fig.axes[0].get_xlabel() == "epoch" and "accuracy" in fig.axes[1].get_ylabel()
    assert len(fig.axes[0].lines) == 2  # training and validation
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == [
        "training",
        "validation",
    ]


def test_plot_history_redraws_into_given_axes():
    history = training.History(
        epoch=[1], train_loss=[1.0], train_acc=[0.5], val_loss=[float("nan")],
        val_acc=[float("nan")], lr=[0.1], seconds=[1.0],
    )  # fmt: skip
    fig, axes = plt.subplots(1, 2)
    assert viz.plot_history(history, axes=axes) is fig
    assert viz.plot_history(history, axes=axes) is fig  # cleared, not drawn twice
    assert len(axes[0].lines) == 1  # no validation line without validation data


def test_digit_grid_marks_wrong_predictions():
    images = np.zeros((4, 1, 28, 28))
    fig = viz.show_digits(images, np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4]), columns=2)
    assert "0 (true 3)" in titles(fig)
    wrong = [ax for ax in fig.axes if ax.get_title() == "0 (true 3)"][0]
    right = [ax for ax in fig.axes if ax.get_title() == "1"][0]
    assert wrong.title.get_color() != right.title.get_color()
    fig = viz.show_digits(images, np.array([1, 2, 3, 4]), n=3, title="three")
    assert [t for t in titles(fig) if t] == ["1", "2", "3", "three"]


def test_model_pictures():
    model = lenet.LeNet5(rng=0)
    assert "kernel 5" in titles(viz.show_filters(model.layers[0]))
    fig = viz.show_feature_maps(model, np.zeros((1, 28, 28)), 0)
    assert any("(6, 28, 28)" in t for t in titles(fig))
    assert fig.axes[-1].get_ylabel() == "activation"  # one colour bar for all channels
    cm = training.confusion_matrix(np.arange(10), np.arange(10))
    assert viz.plot_confusion_matrix(cm).axes[0].get_xlabel() == "predicted digit"
    fig = viz.plot_probabilities(np.full(10, 0.1), np.zeros((28, 28)))
    assert fig.axes[1].get_ylabel() == "probability"


def test_plot_runs_overlays_labelled_runs_on_fixed_axes():
    runs = [
        {"label": "lr 0.05, batch 64", "steps": [(0.5, 1.5, 0.5), (1.0, 0.9, 0.7)],
         "history": history_of([0.8])},
        {"label": "lr 0.3, batch 16", "steps": [(0.25, 2.3, 0.1), (0.5, 2.3, 0.11)],
         "history": None},
    ]  # fmt: skip
    fig = viz.plot_runs(runs, epochs=3)
    loss_ax, acc_ax = fig.axes
    assert acc_ax.get_ylim() == (0, 100)  # a fixed 0-100% axis: noise stays small
    assert loss_ax.get_xlim() == (0, 3 * 1.02) and acc_ax.get_xlabel() == "epochs trained"
    assert all(float(t).is_integer() for t in acc_ax.get_xticks())  # whole-number epochs
    labels = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert labels == ["lr 0.05, batch 64", "lr 0.3, batch 16"]
    lines = acc_ax.get_lines()
    assert list(lines[0].get_xdata()) == [0.5, 1.0]  # progress within the first epoch
    widths = [line.get_linewidth() for line in lines if line.get_label() in labels]
    assert widths[-1] > widths[0]  # the latest run drawn strongest
    empty = viz.plot_runs([], epochs=2)
    assert empty.axes[1].get_ylim() == (0, 100) and empty.axes[1].get_xlim() == (0, 2 * 1.02)


def test_probability_chart_is_titled_as_probabilities():
    fig = viz.plot_probabilities(np.eye(10)[7] * 0.9 + 0.01, np.zeros((28, 28)))
    assert fig.axes[1].get_title() == "Probabilities: most likely 7 (91%)"
    assert "reads" in fig.axes[0].get_title()


def test_png_bytes_and_the_static_stand_in():
    fig = matplotlib.figure.Figure(figsize=(2, 1))
    fig.subplots().plot([0, 1], [1, 0])
    png = viz.png_bytes(fig, dpi=50)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert png.startswith(b"\x89PNG") and (width, height) == (100, 50)  # 2 x 1 inches at 50 dpi
    text = viz.static_html("a <panel>", png, alt="the curves")
    assert text.startswith('<p class="lenet-static">a &lt;panel&gt;</p>')
    assert (
        f'<img alt="the curves" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        in text
    )
    assert viz.static_html("one line") == '<p class="lenet-static">one line</p>'
