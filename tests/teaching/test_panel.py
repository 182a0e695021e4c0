"""The training panel, driven from Python: what it shows while its trainer runs (the browser
test drives it for real; tests/teaching/test_training_run.py tests the trainer on its own).

The tests hold the training thread at a known step through the clock (called between steps)
and wait on events, never on the machine's speed.
"""

import threading

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from background import WAIT, Gate, bigger_data, draw_a_one  # noqa: E402
from histories import history_of  # noqa: E402
from synthetic import tiny_data  # noqa: E402

import lenet  # noqa: E402
from lenet.teaching.pad import DrawingPad  # noqa: E402
from lenet.teaching.panel import TrainingPanel  # noqa: E402
from lenet.training import experiment  # noqa: E402


def make_result(history, **kwargs):
    fields = {"test_accuracy": 0.9, "test_predictions": None, "seconds": 1.0, "train_images": 256}
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


def test_panel_trains_in_the_background_and_refuses_a_second_run():
    gate = Gate(hold_at=3)
    panel = TrainingPanel(data=bigger_data(), clock=gate, update_seconds=1e9)
    assert not panel.lr.continuous_update and not panel.epochs.continuous_update
    assert list(panel.batch_size.options) == [16, 32, 64, 128, 256, 512]
    panel.lr.value, panel.batch_size.value, panel.epochs.value = 0.02, 32, 2
    assert panel.last_result is None and not panel.trainer.trials  # moving sliders trains nothing
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
    assert len(panel.trainer.trials) == 1
    gate.release.set()
    result = panel.wait(WAIT)
    assert result is panel.last_result and len(result.history) == 2 and not result.stopped
    assert "test accuracy" in panel.result.value and "lr 0.02, batch 32" in panel.result.value
    assert "s per epoch" in panel.result.value and "after epoch 2" in panel.result.value
    assert panel.progress.value == 1 and panel.progress.bar_style == "success"
    assert not panel.button.disabled and panel.stop_button.disabled and not panel.running
    assert bytes(panel.curves.value).startswith(b"\x89PNG")
    run = panel.trainer.trials[-1]
    assert run.steps[-1][0] == 2.0 and len(run.steps) == 2 * 4  # a point per 256 images
    assert np.all(np.diff([0] + [row[0] for row in run.steps]) > 0)


def test_stop_mid_run_ends_it_keeping_the_finished_epochs():
    gate = Gate(hold_at=8)  # clock calls: 2 for the first row, 1 per row, 1 per epoch: epoch 2
    panel = TrainingPanel(data=bigger_data(), clock=gate, update_seconds=1e9)
    panel.epochs.value = 5
    panel.train(wait=False)
    assert gate.held.wait(WAIT)
    finished = panel.trainer.trials[-1].history  # the finished first epoch, as the curves hold it
    assert finished is not None and len(finished) == 1
    panel.stop_button.click()
    assert panel.stop_button.disabled and panel.progress_text.value == "stopping…"
    gate.release.set()
    result = panel.wait(WAIT)
    assert panel.trainer.trials[-1].where == (2, 8, 16)  # held at step 8: no row after it
    assert result.stopped and len(result.history) == 1 and result.test_accuracy is None
    assert panel.progress.bar_style == "warning" and 0.2 < panel.progress.value < 0.4
    assert "Stopped" in panel.result.value and "after 1 finished epoch" in panel.result.value
    steps = panel.trainer.trials[-1].steps
    assert 1 < steps[-1][0] < 2  # the curves keep the part of epoch 2 that trained
    # The model is as the last step left it: not epoch 1's weights, and it still reads digits.
    assert np.isfinite(result.model.forward(bigger_data()[2][0][:4])).all()
    # Train again: two runs overlaid on the curves.
    panel.lr.value, panel.epochs.value = 0.01, 2
    second = panel.train()
    assert len(second.history) == 2 and len(panel.trainer.trials) == 2
    assert [run.label for run in panel.trainer.trials] == ["lr 0.05, batch 64", "lr 0.01, batch 64"]
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
    panel = TrainingPanel(data=bigger_data(), update_seconds=1e9)
    panel.lr.value, panel.batch_size.value, panel.epochs.value = 0.02, 256, 2
    result = panel.train()
    assert len(result.history) == 2 and not result.stopped
    assert np.isfinite(result.history.train_loss).all()
    assert "test accuracy" in panel.result.value and not panel.running
    assert calls and all(shares == 2 for _, shares in calls)  # 2 chunks of 128, one per core
    assert all(name != threading.main_thread().name for name, _ in calls)


def test_panel_shows_divergence_not_a_traceback():
    panel = TrainingPanel(data=tiny_data())
    panel.lr.max = 4  # beyond the slider's range, to be sure that it diverges
    panel.lr.value = 1e4
    panel.button.click()
    result = panel.wait(WAIT)
    assert "diverged" in panel.result.value and "smaller learning rate" in panel.result.value
    assert result.test_accuracy is None and not panel.button.disabled
    assert panel.progress.bar_style == "danger"


def test_panel_static_view_has_a_picture_and_one_line():
    panel = TrainingPanel(data=tiny_data())
    panel.train()
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # live in JupyterLab
    assert bundle["text/plain"].startswith("Training panel: sliders for the learning rate")
    assert "Last run (lr 0.05, batch 64)" in bundle["text/plain"]
    assert "VBox(" not in bundle["text/plain"]
    assert '<img alt="loss and accuracy' in bundle["text/html"]
    assert bundle["image/png"].startswith("iVBOR")  # base64 of a PNG
    pad_bundle = DrawingPad(lenet.LeNet5(rng=0))._repr_mimebundle_()
    assert pad_bundle["text/plain"].startswith("Drawing pad:")


def test_pad_follows_the_panels_last_network():
    pad = DrawingPad(lenet.LeNet5(rng=0))
    draw_a_one(pad)
    panel = TrainingPanel(data=tiny_data(), pad=pad)
    result = panel.train()
    assert pad.model is result.model
    assert "lr 0.05, batch 64" in pad.reading_with.value
    assert "pad now reads with this network" in panel.result.value


def test_training_panel_shows_other_errors_too():
    (x, y), val, test = tiny_data()
    panel = TrainingPanel(data=((x[:0], y[:0]), val, test))  # no training images
    with pytest.raises(ValueError, match="train_data"):
        panel.train()  # the error of the training thread, raised where train() waits
    assert "ValueError" in panel.result.value and "train_data" in panel.result.value
    assert not panel.button.disabled and not panel.running
    assert panel.progress.bar_style == "danger"
