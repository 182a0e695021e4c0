"""Plots and the interactive panels, driven from Python (the browser test drives them for real)."""

import matplotlib
import matplotlib.figure

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from synthetic import tiny_data  # noqa: E402

import lenet  # noqa: E402
from lenet import classic, drawing, train, viz, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def titles(fig):
    return [ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text() if fig._suptitle else ""]


def test_plot_history_is_labelled():
    history = train.History(
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
    history = train.History(
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
    cm = train.confusion_matrix(np.arange(10), np.arange(10))
    assert viz.plot_confusion_matrix(cm).axes[0].get_xlabel() == "predicted digit"
    fig = viz.plot_probabilities(np.full(10, 0.1), np.zeros((28, 28)))
    assert fig.axes[1].get_ylabel() == "probability"


def record_output_area(monkeypatch):
    """What the panel sends to its output area: ("clear", wait) and ("display", object)."""
    calls = []
    monkeypatch.setattr(widgets, "clear_output", lambda wait=False: calls.append(("clear", wait)))
    monkeypatch.setattr(widgets, "display", lambda obj: calls.append(("display", obj)))
    return calls


def test_training_panel_trains_when_clicked(monkeypatch):
    calls = record_output_area(monkeypatch)
    panel = widgets.TrainingPanel(data=tiny_data())
    assert not panel.lr.continuous_update and not panel.epochs.continuous_update
    assert list(panel.batch_size.options) == [16, 32, 64, 128, 256, 512]
    panel.lr.value = 0.02
    panel.batch_size.value = 32
    panel.epochs.value = 2
    assert panel.last_result is None and not calls  # moving sliders trains nothing
    lines = []
    panel.result.observe(lambda change: lines.append(change["new"]), "value")
    panel.button.click()
    assert any("epoch 1/2 done" in line for line in lines)  # progress while it trains
    assert "test accuracy" in panel.result.value and "batch size 32" in panel.result.value
    assert "s per epoch" in panel.result.value
    assert len(panel.last_result.history) == 2
    assert not panel.button.disabled
    # one output area, redrawn after each epoch: clear (waiting for the new figure), then draw
    assert [c[0] for c in calls] == ["clear", "display"] * 2 and calls[0] == ("clear", True)
    figure = calls[-1][1]
    assert isinstance(figure, matplotlib.figure.Figure)
    assert [ax.get_title() for ax in figure.axes] == ["Loss", "Accuracy"]
    assert len(figure.axes[0].lines[0].get_xdata()) == 2  # both epochs on the last curves


def test_training_panel_shows_divergence_not_a_traceback(monkeypatch):
    record_output_area(monkeypatch)
    panel = widgets.TrainingPanel(data=tiny_data())
    panel.lr.max = 4  # beyond the slider's range, to be sure that it diverges
    panel.lr.value = 1e4
    panel.button.click()
    assert "diverged" in panel.result.value and "smaller learning rate" in panel.result.value
    assert panel.last_result.test_accuracy is None and not panel.button.disabled


@pytest.mark.parametrize(
    "make",
    [lambda: lenet.LeNet5(rng=0), lambda: classic.ClassicLeNet5(binarize=True, rng=0)],
    ids=["modern", "classic"],
)
def test_drawing_pad_predicts_from_strokes(make):
    pytest.importorskip("ipycanvas")
    pad = widgets.DrawingPad(make())
    pad.pen_down(140, 40)
    for y in range(40, 240, 10):
        pad.pen_move(140, y)
    pad.pen_up()
    assert "Prediction:" in pad.prediction.value
    probs = pad.predict()
    assert probs.shape == (10,) and np.isclose(probs.sum(), 1)
    digit = drawing.to_mnist(pad.raster)
    assert digit.max() == 1.0
    pad.clear()
    assert not pad.raster.any() and pad.predict() is None


def test_stroke_segment_paints_a_thick_line():
    raster = np.zeros((50, 50))
    drawing.stroke_segment(raster, (10, 10), (40, 10), radius=3)
    assert raster[10, 10:41].all() and raster[13, 25] == 1 and raster[14, 25] == 0
    assert not raster[20:].any()


def test_training_panel_shows_other_errors_too():
    (x, y), val, test = tiny_data()
    panel = widgets.TrainingPanel(data=((x[:0], y[:0]), val, test))  # no training images
    with pytest.raises(ValueError, match="train_data"):
        panel.train()  # a click runs this too; ipywidgets logs what a click handler raises
    assert "ValueError" in panel.result.value and "train_data" in panel.result.value
    assert not panel.button.disabled
