"""Plots and the interactive panels, driven from Python (the browser test drives them for real).

The panel trains on a background thread. The tests hold that thread at a known step through
the panel's clock (called between steps) and wait on events, never on the machine's speed.
"""

import os
import signal
import threading
import time

import matplotlib
import matplotlib.figure

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from synthetic import tiny_data  # noqa: E402

import lenet  # noqa: E402
from lenet import paper1998, training  # noqa: E402
from lenet.data import drawing  # noqa: E402
from lenet.teaching import viz, widgets  # noqa: E402
from lenet.training import experiment  # noqa: E402

WAIT = 120  # seconds: generous timeouts for a busy machine; a passing test never waits them out


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


def history_of(val_acc, train_acc=None):
    n = len(val_acc)
    return training.History(
        epoch=list(range(1, n + 1)),
        train_loss=[1.0] * n,
        train_acc=list(train_acc or val_acc),
        val_loss=[1.0] * n,
        val_acc=list(val_acc),
        lr=[0.1] * n,
        seconds=[1.0] * n,
    )


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


def make_result(history, **kwargs):
    fields = {"test_accuracy": 0.9, "test_predictions": None, "seconds": 1.0}
    fields.update(kwargs)
    return experiment.Result(experiment.Settings(), None, history, **fields)


def test_verdict_names_best_and_last_epoch_and_a_collapse():
    words = make_result(history_of([0.64, 0.3, 0.1])).verdict()
    assert "accuracy 10.0% after epoch 3, best 64.0% after epoch 1" in words
    assert "collapsed" in words and "64%" in words and "smaller" in words
    assert "collapsed" not in make_result(history_of([0.9, 0.95])).verdict()
    assert "best" not in make_result(history_of([0.9, 0.95])).verdict()
    within = make_result(history_of([0.1])).verdict(within_epochs=[0.2, 0.64, 0.3])
    assert "collapsed" in within and "reached 64%" in within  # inside the only epoch
    assert "near chance" in make_result(history_of([0.11, 0.1])).verdict()
    stopped = make_result(history_of([0.9]), stopped=True, test_accuracy=None).verdict()
    assert stopped.startswith("Stopped after 1 finished epoch.")


class Gate:
    """A panel clock that holds the training thread at its n-th call until released."""

    def __init__(self, hold_at=3, on_hold=None):
        self.calls, self.hold_at, self.on_hold = 0, hold_at, on_hold
        self.held, self.release = threading.Event(), threading.Event()

    def __call__(self):
        self.calls += 1
        if self.calls == self.hold_at:
            self.held.set()
            if self.on_hold is not None:
                self.on_hold()
            assert self.release.wait(WAIT), "the test never released the training thread"
        return float(self.calls)


def bigger_data():
    (x, y), val, test = tiny_data()
    return (np.concatenate([x] * 4), np.concatenate([y] * 4)), val, test  # 16 steps of 64


def test_panel_trains_in_the_background_and_refuses_a_second_run():
    gate = Gate(hold_at=3)
    panel = widgets.TrainingPanel(data=bigger_data(), clock=gate, update_seconds=1e9)
    assert not panel.lr.continuous_update and not panel.epochs.continuous_update
    assert list(panel.batch_size.options) == [16, 32, 64, 128, 256, 512]
    panel.lr.value, panel.batch_size.value, panel.epochs.value = 0.02, 32, 2
    assert panel.last_result is None and not panel.runs  # moving sliders trains nothing
    assert panel.progress_text.value == "next run: lr 0.02, batch 32, 2 epochs"
    panel.button.click()  # returns at once: the run trains on another thread
    assert gate.held.wait(WAIT)
    assert panel.running and panel.button.disabled and not panel.stop_button.disabled
    line = panel.result.value
    assert "Training lr 0.02, batch 32: epoch 1 of 2, step" in line  # progress within epoch 1
    assert 0 < panel.progress.value < 0.5
    panel.button.click()  # a second Train while one runs: refused, with a message
    assert "training already" in panel.result.value
    with pytest.raises(RuntimeError, match="training already"):
        panel.train()
    assert len(panel.runs) == 1
    gate.release.set()
    result = panel.wait(WAIT)
    assert result is panel.last_result and len(result.history) == 2 and not result.stopped
    assert "test accuracy" in panel.result.value and "lr 0.02, batch 32" in panel.result.value
    assert "s per epoch" in panel.result.value and "after epoch 2" in panel.result.value
    assert panel.progress.value == 1 and panel.progress.bar_style == "success"
    assert not panel.button.disabled and panel.stop_button.disabled and not panel.running
    assert bytes(panel.curves.value).startswith(b"\x89PNG")
    run = panel.runs[-1]
    assert run.steps[-1][0] == 2.0 and len(run.steps) == 2 * 4  # a point per 256 images
    assert np.all(np.diff([0] + [row[0] for row in run.steps]) > 0)


def test_stop_mid_run_ends_it_within_a_second_keeping_the_finished_epochs():
    gate = Gate(hold_at=8)  # clock calls: 2 for the first row, 1 per row, 1 per epoch: epoch 2
    panel = widgets.TrainingPanel(data=bigger_data(), clock=gate, update_seconds=1e9)
    panel.epochs.value = 5
    panel.train(wait=False)
    assert gate.held.wait(WAIT)
    finished = panel.runs[-1].history  # the finished first epoch, as the curves hold it
    assert finished is not None and len(finished) == 1
    panel.stop_button.click()
    start = time.monotonic()
    gate.release.set()
    result = panel.wait(WAIT)
    assert time.monotonic() - start < 1.0
    assert result.stopped and len(result.history) == 1 and result.test_accuracy is None
    assert panel.progress.bar_style == "warning" and 0.2 < panel.progress.value < 0.4
    assert "Stopped" in panel.result.value and "after 1 finished epoch" in panel.result.value
    steps = panel.runs[-1].steps
    assert 1 < steps[-1][0] < 2  # the curves keep the part of epoch 2 that trained
    # The model is as the last step left it: not epoch 1's weights, and it still reads digits.
    assert np.isfinite(result.model.forward(bigger_data()[2][0][:4])).all()
    # Train again: two runs overlaid on the curves.
    panel.lr.value, panel.epochs.value = 0.01, 2
    second = panel.train()
    assert len(second.history) == 2 and len(panel.runs) == 2
    assert [run.label for run in panel.runs] == ["lr 0.05, batch 64", "lr 0.01, batch 64"]
    assert "<b>lr 0.05, batch 64</b> (stopped after 1 epoch)" in panel.legend.value
    assert "<b>lr 0.01, batch 64</b> (test accuracy" in panel.legend.value


def test_panel_at_batch_256_runs_its_chunks_on_two_cores_from_its_thread(monkeypatch):
    """A big batch splits into chunks on the cores, from the panel's training thread too."""
    monkeypatch.setattr(lenet.nn.cores, "core_count", lambda: 2)
    calls = []
    run_on_cores = lenet.nn.cores.run_on_cores

    def spy(task, shares):
        calls.append((threading.current_thread().name, len(shares)))
        return run_on_cores(task, shares)

    monkeypatch.setattr(lenet.nn.cores, "run_on_cores", spy)
    panel = widgets.TrainingPanel(data=bigger_data(), update_seconds=1e9)
    panel.lr.value, panel.batch_size.value, panel.epochs.value = 0.02, 256, 2
    result = panel.train()
    assert len(result.history) == 2 and not result.stopped
    assert np.isfinite(result.history.train_loss).all()
    assert "test accuracy" in panel.result.value and not panel.running
    assert calls and all(shares == 2 for _, shares in calls)  # 2 chunks of 128, one per core
    assert all(name != threading.main_thread().name for name, _ in calls)


def test_redraws_are_throttled_by_the_clock():
    frozen = widgets.TrainingPanel(data=tiny_data(), clock=lambda: 0.0)
    frozen.epochs.value = 3
    frozen.train()
    assert frozen.updates == 2  # the first row, then only the final picture: time stood still

    ticks = iter(range(0, 10**6, 10))  # 10 s between calls: every chance to redraw is taken
    eager = widgets.TrainingPanel(data=tiny_data(), clock=lambda: next(ticks))
    eager.epochs.value = 3
    eager.train()
    rows = len(eager.runs[-1].steps)
    assert rows == 3 and eager.updates == rows + 3 + 1  # each row, each epoch, the end


def test_interrupt_while_waiting_stops_the_run_then_raises():
    def interrupt():  # in the training thread, mid-run: the main thread waits in train()
        os.kill(os.getpid(), signal.SIGINT)  # what Kernel -> Interrupt sends
        assert panel._stop.wait(WAIT)  # the interrupted wait asks the run to stop

    gate = Gate(hold_at=3, on_hold=interrupt)
    gate.release.set()
    panel = widgets.TrainingPanel(data=bigger_data(), clock=gate, update_seconds=1e9)
    panel.epochs.value = 3
    with pytest.raises(KeyboardInterrupt):
        panel.train()
    assert not panel.running and panel.last_result.stopped
    assert len(panel.last_result.history) == 0


def test_interrupt_handler_stops_background_runs_when_the_kernel_is_idle(monkeypatch):
    class Kernel:
        saved_sigint_handler = signal.SIG_IGN  # what ipykernel restores between messages

    class Events:
        registered = []

        def register(self, name, callback):
            self.registered.append((name, callback))

    class Shell:
        kernel, events = Kernel(), Events()

    shell = Shell()
    monkeypatch.setattr(widgets, "get_ipython", lambda: shell)
    monkeypatch.setattr(widgets, "_HOOKED_SHELLS", [])
    widgets._watch_interrupts()
    widgets._watch_interrupts()  # once is enough
    handler = shell.kernel.saved_sigint_handler
    assert handler.lenet_stops_training and len(shell.events.registered) == 1
    stop = threading.Event()
    monkeypatch.setattr(widgets, "_ACTIVE", {stop})
    handler(signal.SIGINT, None)
    assert stop.is_set()  # an interrupt while idle stops the run
    monkeypatch.setattr(widgets, "_ACTIVE", set())
    assert handler(signal.SIGINT, None) is None  # no run: ignored, as ipykernel does
    with pytest.raises(KeyboardInterrupt):
        widgets._interrupt_handler(signal.default_int_handler)(signal.SIGINT, None)
    # An interrupted cell stops background runs too.
    other = threading.Event()
    monkeypatch.setattr(widgets, "_ACTIVE", {other})
    name, after_cell = shell.events.registered[0]
    assert name == "post_run_cell"

    class CellResult:
        error_in_exec = KeyboardInterrupt()

    after_cell(CellResult())
    assert other.is_set()


def test_fit_stops_between_steps_and_reports_every_step():
    (x, y), val, _ = bigger_data()
    model = lenet.LeNet5(rng=0)
    stop, seen = threading.Event(), []

    def on_step(epoch, step, steps, loss, accuracy):
        seen.append((epoch, step, steps))
        assert np.isfinite(loss) and 0 <= accuracy <= 1
        if (epoch, step) == (2, 5):
            stop.set()

    history = training.fit(
        model, lenet.SGD(model, lr=0.05), (x, y), 3, val_data=val, rng=0, progress=False,
        stop=stop, on_step=on_step,
    )  # fmt: skip
    assert len(history) == 1  # the finished epoch only
    assert seen[:16] == [(1, s, 16) for s in range(1, 17)] and seen[-1] == (2, 5, 16)
    assert training.fit(model, lenet.SGD(model, lr=0.05), (x, y), 2, stop=lambda: True).epoch == []


def test_panel_shows_divergence_not_a_traceback():
    panel = widgets.TrainingPanel(data=tiny_data())
    panel.lr.max = 4  # beyond the slider's range, to be sure that it diverges
    panel.lr.value = 1e4
    panel.button.click()
    result = panel.wait(WAIT)
    assert "diverged" in panel.result.value and "smaller learning rate" in panel.result.value
    assert result.test_accuracy is None and not panel.button.disabled
    assert panel.progress.bar_style == "danger"


def test_panel_static_view_has_a_picture_and_one_line():
    panel = widgets.TrainingPanel(data=tiny_data())
    panel.train()
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # live in JupyterLab
    assert bundle["text/plain"].startswith("Training panel: sliders for the learning rate")
    assert "Last run (lr 0.05, batch 64)" in bundle["text/plain"]
    assert "VBox(" not in bundle["text/plain"]
    assert '<img alt="loss and accuracy' in bundle["text/html"]
    assert bundle["image/png"].startswith("iVBOR")  # base64 of a PNG
    pad_bundle = widgets.DrawingPad(lenet.LeNet5(rng=0))._repr_mimebundle_()
    assert pad_bundle["text/plain"].startswith("Drawing pad:")


@pytest.mark.parametrize(
    "make",
    [
        lambda: lenet.LeNet5(rng=0),
        lambda: paper1998.LeNet1998(init="glorot", input_range=None, binarize=True, rng=0),
    ],
    ids=["modern", "classic"],
)
def test_drawing_pad_predicts_from_strokes(make):
    pad = widgets.DrawingPad(make())
    draw_a_one(pad)
    assert "Prediction:" in pad.prediction.value
    assert bytes(pad.chart.value).startswith(b"\x89PNG") and pad.chart.layout.display == ""
    probs = pad.predict()
    assert probs.shape == (10,) and np.isclose(probs.sum(), 1)
    digit = drawing.to_mnist(pad.raster)
    assert digit.max() == 1.0
    pad.clear()
    assert not pad.raster.any() and pad.predict() is None and pad.chart.layout.display == "none"


def draw_a_one(pad):
    pad.pen_down(140, 40)
    for y in range(40, 240, 10):
        pad.pen_move(140, y)
    pad.pen_up()


def test_probability_chart_is_titled_as_probabilities():
    fig = viz.plot_probabilities(np.eye(10)[7] * 0.9 + 0.01, np.zeros((28, 28)))
    assert fig.axes[1].get_title() == "Probabilities: most likely 7 (91%)"
    assert "reads" in fig.axes[0].get_title()


def test_a_new_view_of_the_pad_is_drawn_again_from_the_raster(monkeypatch):
    from ipycanvas.canvas import COMMANDS

    pad = widgets.DrawingPad(lenet.LeNet5(rng=0))
    draw_a_one(pad)
    manager = pad.canvas._canvas_manager
    sent = []
    monkeypatch.setattr(manager, "_send_custom", lambda command, buffers=(): sent.append(command))
    # A page reload: the browser's new canvas is blank and its manager has no current canvas.
    pad.canvas._handle_frontend_event(None, {"event": "client_ready"}, [])
    commands = [c for batch in sent for c in (batch if isinstance(batch[0], list) else [batch])]
    names = [c[0] for c in commands]
    assert names[0] == COMMANDS["switchCanvas"]  # named again, so new strokes are drawn too
    assert COMMANDS["putImageData"] in names  # the old strokes, from the raster
    sent.clear()
    pad.pen_down(60, 60)
    pad.pen_move(80, 80)
    assert [c[0] for c in sent] == [COMMANDS["strokeLine"]] * 2


def test_pad_follows_the_panels_last_network():
    pad = widgets.DrawingPad(lenet.LeNet5(rng=0))
    draw_a_one(pad)
    panel = widgets.TrainingPanel(data=tiny_data(), pad=pad)
    result = panel.train()
    assert pad.model is result.model
    assert "lr 0.05, batch 64" in pad.reading_with.value
    assert "pad now reads with this network" in panel.result.value


def test_stroke_segment_paints_a_thick_line():
    raster = np.zeros((50, 50))
    drawing.stroke_segment(raster, (10, 10), (40, 10), radius=3)
    assert raster[10, 10:41].all() and raster[13, 25] == 1 and raster[14, 25] == 0
    assert not raster[20:].any()


def test_training_panel_shows_other_errors_too():
    (x, y), val, test = tiny_data()
    panel = widgets.TrainingPanel(data=((x[:0], y[:0]), val, test))  # no training images
    with pytest.raises(ValueError, match="train_data"):
        panel.train()  # the error of the training thread, raised where train() waits
    assert "ValueError" in panel.result.value and "train_data" in panel.result.value
    assert not panel.button.disabled and not panel.running
    assert panel.progress.bar_style == "danger"
