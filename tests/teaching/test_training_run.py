"""The training-run controller, driven from Python with no widget and no browser.

A BackgroundTrainer trains on a background thread. The tests hold that thread at a known step
through the trainer's clock (called between steps) and wait on events, never on the machine's
speed.
"""

import os
import signal
import threading
import time

import numpy as np
import pytest
from background import WAIT, Gate, bigger_data
from synthetic import tiny_data

import lenet
from lenet import training
from lenet.teaching.training_run import BUSY, BackgroundTrainer, Trial, watch_interrupts
from lenet.training import experiment


class Heard:
    """A listener that keeps what the trainer told it: (trial state, rows, final)."""

    def __init__(self):
        self.calls = []

    def __call__(self, trial, final):
        self.calls.append((trial.state, len(trial.steps), final))


def until(predicate, what):
    """Poll a state (not a clock) until it holds, or fail naming it."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_start_progress_and_a_second_start_refused():
    gate, heard = Gate(hold_at=3), Heard()
    trainer = BackgroundTrainer(bigger_data(), heard, update_seconds=1e9, clock=gate)
    assert not trainer.running and trainer.last_result is None and trainer.wait() is None
    trial = trainer.start(experiment.Settings(lr=0.02, batch_size=32, epochs=2))
    assert isinstance(trial, Trial) and trainer.trials == [trial]
    assert gate.held.wait(WAIT)  # returned at once; the thread is mid-run
    assert trainer.running and not trainer.stopping and trial.state == "training"
    assert trial.label == "lr 0.02, batch 32"
    assert heard.calls == [("training", 1, False)]  # the first row, then held by the clock
    epoch, step, steps = trial.where
    assert (epoch, steps) == (1, 32) and 0 < step < steps  # progress within epoch 1
    with pytest.raises(RuntimeError, match="training already"):
        trainer.start(experiment.Settings())
    assert len(trainer.trials) == 1
    gate.release.set()
    result = trainer.wait(WAIT)
    assert result is trainer.last_result is trial.result and not result.stopped
    assert len(result.history) == 2 and 0 <= result.test_accuracy <= 1
    assert trial.state == f"test accuracy {result.test_accuracy:.1%}"
    assert heard.calls[-1] == (trial.state, 2 * 4, True)  # told once more at the end
    assert trial.steps[-1][0] == 2.0 and len(trial.steps) == 2 * 4  # a row per 256 images
    assert np.all(np.diff([0] + [row[0] for row in trial.steps]) > 0)
    assert len(trial.history) == 2 and trial.history is not result.history  # a copy
    assert not trainer.running and BUSY.startswith("A run is training already")


def test_stop_keeps_the_finished_epochs_then_a_second_run_trains():
    gate = Gate(hold_at=8)  # clock calls: 2 for the first row, 1 per row, 1 per epoch: epoch 2
    trainer = BackgroundTrainer(bigger_data(), update_seconds=1e9, clock=gate)
    assert trainer.stop() is False  # nothing to stop
    trial = trainer.start(experiment.Settings(epochs=5))
    assert gate.held.wait(WAIT)
    assert trial.history is not None and len(trial.history) == 1  # the finished first epoch
    assert trainer.stop() is True and trainer.stopping
    gate.release.set()
    result = trainer.wait(WAIT)
    assert result.stopped and len(result.history) == 1 and result.test_accuracy is None
    assert trial.state == "stopped after 1 epoch" and trial.steps[-1][0] == 1.5
    assert trial.where == (2, 8, 16)  # held at step 8 of epoch 2, stopped before the next row
    # The model is as the last step left it, and it still reads digits.
    assert np.isfinite(result.model.forward(bigger_data()[2][0][:4])).all()
    second = trainer.start(experiment.Settings(lr=0.01, epochs=2))
    assert trainer.wait(WAIT) is second.result and len(second.result.history) == 2
    assert [t.number for t in trainer.trials] == [0, 1] and not trainer.stopping


def test_a_failed_run_is_told_raised_and_followed_by_a_good_one():
    (x, y), val, test = tiny_data()
    heard = Heard()
    trainer = BackgroundTrainer(((x[:0], y[:0]), val, test), heard)  # no training images
    trial = trainer.start(experiment.Settings(epochs=1))
    with pytest.raises(ValueError, match="train_data"):
        trainer.wait(WAIT)  # the error of the training thread, raised where one waits
    assert isinstance(trial.error, ValueError) and trial.result is None
    assert trial.state == "failed" and heard.calls[-1] == ("failed", 0, True)
    assert not trainer.running and trainer.last_result is None
    trainer.data = tiny_data()
    trainer.start(experiment.Settings(epochs=1))
    assert trainer.wait(WAIT).test_accuracy is not None  # the error does not stick


def test_the_trainer_keeps_the_last_runs():
    trainer = BackgroundTrainer(tiny_data(), keep=2)
    for lr in (0.01, 0.02, 0.03):
        trainer.start(experiment.Settings(lr=lr, epochs=1))
        trainer.wait(WAIT)
    assert [t.label for t in trainer.trials] == ["lr 0.02, batch 64", "lr 0.03, batch 64"]
    assert [t.number for t in trainer.trials] == [1, 2]  # colours stay with their runs


def test_updates_are_throttled_by_the_clock():
    frozen = BackgroundTrainer(tiny_data(), clock=lambda: 0.0)
    frozen.start(experiment.Settings(epochs=3))
    frozen.wait(WAIT)
    assert frozen.updates == 2  # the first row, then only the final update: time stood still

    ticks = iter(range(0, 10**6, 10))  # 10 s between calls: every chance to update is taken
    eager = BackgroundTrainer(tiny_data(), clock=lambda: next(ticks))
    trial = eager.start(experiment.Settings(epochs=3))
    eager.wait(WAIT)
    rows = len(trial.steps)
    assert rows == 3 and eager.updates == rows + 3 + 1  # each row, each epoch, the end


def test_interrupt_while_waiting_stops_the_run_then_raises():
    def interrupt():  # in the training thread, mid-run: the main thread waits in wait()
        os.kill(os.getpid(), signal.SIGINT)  # what Kernel -> Interrupt sends
        until(lambda: trainer.stopping, "the interrupted wait to ask the run to stop")

    gate = Gate(hold_at=3, on_hold=interrupt)
    gate.release.set()
    trainer = BackgroundTrainer(bigger_data(), update_seconds=1e9, clock=gate)
    trainer.start(experiment.Settings(epochs=3))
    with pytest.raises(KeyboardInterrupt):
        trainer.wait(WAIT)
    assert not trainer.running and trainer.last_result.stopped
    assert len(trainer.last_result.history) == 0


class Shell:
    """What watch_interrupts uses of IPython's shell: its kernel and its events."""

    def __init__(self, saved_sigint_handler):
        self.kernel = type("Kernel", (), {"saved_sigint_handler": saved_sigint_handler})()
        self.registered = []
        self.events = type(
            "Events", (), {"register": lambda _, *hook: self.registered.append(hook)}
        )()


def held_run():
    """A trainer held mid-run by its clock, and the gate that holds it."""
    gate = Gate(hold_at=3)
    trainer = BackgroundTrainer(bigger_data(), update_seconds=1e9, clock=gate)
    trainer.start(experiment.Settings(epochs=3))
    assert gate.held.wait(WAIT)
    return trainer, gate


def test_an_interrupt_while_the_kernel_is_idle_stops_the_runs():
    shell = Shell(signal.SIG_IGN)  # what ipykernel restores between messages
    watch_interrupts(shell)
    watch_interrupts(shell)  # once is enough
    handler = shell.kernel.saved_sigint_handler
    assert handler.lenet_stops_training and len(shell.registered) == 1
    assert handler(signal.SIGINT, None) is None  # no run: ignored, as ipykernel does
    trainer, gate = held_run()
    handler(signal.SIGINT, None)
    assert trainer.stopping  # an interrupt while idle stops the run
    gate.release.set()
    assert trainer.wait(WAIT).stopped
    default = Shell(signal.default_int_handler)
    watch_interrupts(default)
    with pytest.raises(KeyboardInterrupt):  # no run: the previous handler acts
        default.kernel.saved_sigint_handler(signal.SIGINT, None)


def test_an_interrupted_cell_stops_the_runs_too():
    shell = Shell(signal.SIG_IGN)
    watch_interrupts(shell)
    [(name, after_cell)] = shell.registered
    assert name == "post_run_cell"
    trainer, gate = held_run()
    after_cell(type("CellResult", (), {"error_in_exec": None})())
    assert not trainer.stopping  # a cell that ran well changes nothing
    after_cell(type("CellResult", (), {"error_in_exec": KeyboardInterrupt()})())
    assert trainer.stopping
    gate.release.set()
    assert trainer.wait(WAIT).stopped


def test_outside_a_kernel_nothing_is_hooked():
    shell = Shell(signal.SIG_IGN)
    shell.kernel = None
    watch_interrupts(shell)
    assert not shell.registered


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
