"""Training runs on a background thread, one at a time: what the panel's buttons set going.

The panel (lenet.teaching.panel) only draws and listens; this module owns the thread, the stop
request, Kernel -> Interrupt and the state of every run, so code and tests drive it without a
browser:

    trainer = BackgroundTrainer(data, on_update=lambda trial, final: print(trial.state))
    trainer.start(experiment.Settings(epochs=2))  # returns at once; the run trains meanwhile
    trainer.stop()                                # ends it before its next step
    result = trainer.wait()                       # its lenet.training.experiment.Result

numpy's matrix products release the GIL, so the kernel stays free while a run trains. The
listener hears about a run at most every `update_seconds` (each update is a message to the
browser) and once more when it is over.
"""

import copy
import dataclasses
import math
import signal
import threading
import time
import weakref

import numpy as np
from IPython import get_ipython

from lenet.training import experiment

__all__ = [
    "UPDATE_SECONDS",
    "POINTS_PER_EPOCH",
    "ROW_IMAGES",
    "SMOOTH_IMAGES",
    "BUSY",
    "run_label",
    "Trial",
    "BackgroundTrainer",
    "watch_interrupts",
]

UPDATE_SECONDS = 0.5  # while a run trains, the listener hears of it at most this often
POINTS_PER_EPOCH = 25  # the live curves: up to 25 points per epoch,
ROW_IMAGES = 256  # each the mean over at least this many training images (less noise)
SMOOTH_IMAGES = 512  # a collapse is judged on training accuracy averaged over this many images
BUSY = "A run is training already: wait for it, or click Stop first."


def run_label(settings):
    """A run's name on the curves: its learning rate and batch size."""
    return f"lr {settings.learning_rate:.3g}, batch {settings.batch_size}"


@dataclasses.dataclass
class Trial:
    """One run of a BackgroundTrainer, as the panel's curves show it.

    steps: rows (epochs done, loss, accuracy), each the mean over the training steps since the
    previous row (up to POINTS_PER_EPOCH rows per epoch, each over at least ROW_IMAGES images
    or the rest of the epoch); number: the trainer's count of runs (it picks the colour);
    history: a copy of the History of the finished epochs; result: the experiment.Result once
    the run is over (None while it trains, or when it failed: then error holds the exception);
    where: (epoch, step, steps in the epoch) of the last row.
    """

    settings: experiment.Settings
    number: int = 0
    steps: list = dataclasses.field(default_factory=list)
    history: object = None
    result: experiment.Result | None = None
    error: Exception | None = None
    where: tuple = (1, 0, 1)

    @property
    def label(self):
        return run_label(self.settings)

    @property
    def state(self):
        """How the run stands, in a few words."""
        result = self.result
        if self.error is not None:
            return "failed"
        if result is None:
            return "training"
        if result.diverged:
            return "diverged"
        if result.stopped:
            done = len(result.history) if result.history else 0
            return f"stopped after {done} epoch{'s' if done != 1 else ''}"
        if result.test_accuracy is None:
            return "done"
        return f"test accuracy {result.test_accuracy:.1%}"

    def curves(self):
        """What lenet.teaching.viz.plot_runs draws for this run."""
        return {
            "label": self.label,
            "color": f"C{self.number % 10}",
            "steps": list(self.steps),
            "history": self.history,
        }

    def steps_per_row(self, steps):
        """How many training steps one row of `steps` averages, in an epoch of `steps`."""
        return max(1, steps // POINTS_PER_EPOCH, math.ceil(ROW_IMAGES / self.settings.batch_size))

    def smoothed_accuracy(self):
        """The training accuracy of `steps`, averaged over about SMOOTH_IMAGES images."""
        accuracy = np.array([row[2] for row in self.steps], dtype=float)
        if accuracy.size == 0:
            return accuracy
        per_row = self.steps_per_row(self.where[2]) * self.settings.batch_size
        window = min(accuracy.size, math.ceil(SMOOTH_IMAGES / per_row))
        return np.convolve(accuracy, np.ones(window) / window, mode="valid")


@dataclasses.dataclass
class _RowSums:
    """The training steps since a Trial's last row: how many, their summed loss and accuracy."""

    steps: int = 0
    loss: float = 0.0
    accuracy: float = 0.0

    def add(self, loss, accuracy):
        self.steps += 1
        self.loss += loss
        self.accuracy += accuracy

    def take(self):
        """(mean loss, mean accuracy) of the steps summed, then start again from none."""
        means = self.loss / self.steps, self.accuracy / self.steps
        self.steps, self.loss, self.accuracy = 0, 0.0, 0.0
        return means


@dataclasses.dataclass
class _Pace:
    """When the listener last heard of the run (clock time at its end) and how long it took."""

    last: float = -math.inf
    seconds: float = 0.0


class BackgroundTrainer:
    """Runs lenet.training.experiment.run on a background thread, one run at a time.

    data: (train, val, test) pairs for experiment.run (None: MNIST). on_update(trial, final):
    the listener, called from the training thread at most every `update_seconds` while a run
    trains (final=False) and once when it is over (final=True: trial.result or trial.error is
    set; the trainer still counts as running until that call returns). trials: the last `keep`
    runs, oldest first; last_result: the Result of the last run that ended without an error;
    updates: how often the listener was called. clock: a time source (tests pass a fake).
    """

    def __init__(
        self,
        data=None,
        on_update=None,
        update_seconds=UPDATE_SECONDS,
        clock=time.monotonic,
        keep=4,
    ):
        self.data = data
        self.on_update = on_update
        self.update_seconds = update_seconds
        self.clock = clock
        self.keep = keep
        self.trials = []
        self.last_result = None
        self.updates = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._error = None

    @property
    def running(self):
        """True while a run trains (until its listener has heard that it is over)."""
        return not self._done.is_set()

    @property
    def stopping(self):
        """True once the run in progress was asked to stop (Stop, or Kernel -> Interrupt)."""
        return self.running and self._stop.is_set()

    def start(self, settings):
        """Start a run with settings on a background thread; its Trial, at once.

        Raises RuntimeError while another run trains (one run at a time). Kernel -> Interrupt
        stops the run from now on (see watch_interrupts).
        """
        with self._lock:
            if self.running:
                raise RuntimeError(BUSY)
            trial = Trial(settings, number=self.trials[-1].number + 1 if self.trials else 0)
            self.trials = [*self.trials, trial][-self.keep :]
            self._stop, self._done, self._error = threading.Event(), threading.Event(), None
            with _ACTIVE_LOCK:
                _ACTIVE.add(self._stop)
            worker = threading.Thread(
                target=self._work, args=(trial, self._stop, self._done), daemon=True
            )
        watch_interrupts()
        worker.start()
        return trial

    def stop(self):
        """Ask the run in progress to end before its next step; False if none trains."""
        if not self.running:
            return False
        self._stop.set()
        return True

    def wait(self, timeout=None):
        """Wait for the run in progress to end; its Result (the last one if none trains).

        Raises what the run raised, TimeoutError after `timeout` seconds, and on Kernel ->
        Interrupt (KeyboardInterrupt) stops the run, waits for it to end, then raises.
        """
        done = self._done
        try:
            finished = done.wait(timeout)
        except KeyboardInterrupt:
            self.stop()
            done.wait(10)
            raise
        if not finished:
            raise TimeoutError(f"the run did not end within {timeout} s")
        if self._error is not None:
            raise self._error
        return self.last_result

    # -- the background thread

    def _tell(self, trial, final=False):
        if self.on_update is not None:
            self.on_update(trial, final)
        self.updates += 1

    def _work(self, trial, stop, done):
        sums, pace = _RowSums(), _Pace()

        def tell_if_due():
            # At most one update per update_seconds, and never more than a third of the time.
            if self.clock() - pace.last >= max(self.update_seconds, 2 * pace.seconds):
                start = time.perf_counter()
                self._tell(trial)
                pace.last, pace.seconds = self.clock(), time.perf_counter() - start

        def on_step(epoch, step, steps, loss, accuracy):
            sums.add(loss, accuracy)
            if step % trial.steps_per_row(steps) and step != steps:
                return
            trial.steps.append((epoch - 1 + step / steps, *sums.take()))
            trial.where = (epoch, step, steps)
            tell_if_due()

        def after_epoch(history):
            trial.history = copy.deepcopy(history)
            tell_if_due()

        try:
            result = experiment.run(
                trial.settings, self.data, callback=after_epoch, stop=stop, on_step=on_step
            )
            if result.history is not None:
                trial.history = copy.deepcopy(result.history)
            trial.result = self.last_result = result
        except Exception as err:  # e.g. MNIST missing: the listener says so; wait() raises it
            trial.error = self._error = err
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(stop)
            try:
                self._tell(trial, final=True)
            finally:
                done.set()


# ------------------------------------------------------------------- Kernel -> Interrupt

_ACTIVE = set()  # the stop requests of the runs training now (any trainer)
_ACTIVE_LOCK = threading.Lock()
_HOOKED_SHELLS = weakref.WeakSet()


def _stop_all():
    with _ACTIVE_LOCK:
        active = list(_ACTIVE)
    for stop in active:
        stop.set()
    return bool(active)


def _interrupt_handler(previous):
    """A SIGINT handler for idle times: stop the runs in progress, else act as `previous`."""

    def handler(signum, frame):
        if _stop_all():
            return
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            raise KeyboardInterrupt

    handler.lenet_stops_training = True
    return handler


def _after_cell(result):
    if isinstance(result.error_in_exec, KeyboardInterrupt):
        _stop_all()  # an interrupted cell: stop the background runs too


def watch_interrupts(shell=None):
    """Let Kernel -> Interrupt stop background runs, whether a cell runs or the kernel is idle.

    shell: the IPython shell (default: the running one; outside a kernel nothing changes).
    The interrupt is a SIGINT. While a cell executes, ipykernel turns it into a
    KeyboardInterrupt in that cell: a post_run_cell hook sees it and stops the runs. While the
    kernel is idle, ipykernel ignores SIGINT: it restores `kernel.saved_sigint_handler` after
    every message it handles, so our handler goes there. BackgroundTrainer.start calls this;
    it must run on the main thread, while the kernel handles a message (a click or a cell).
    """
    shell = get_ipython() if shell is None else shell
    kernel = getattr(shell, "kernel", None)
    if kernel is None or threading.current_thread() is not threading.main_thread():
        return
    if shell not in _HOOKED_SHELLS:
        shell.events.register("post_run_cell", _after_cell)
        _HOOKED_SHELLS.add(shell)
    saved = getattr(kernel, "saved_sigint_handler", None)
    if saved is not None and not getattr(saved, "lenet_stops_training", False):
        kernel.saved_sigint_handler = _interrupt_handler(saved)
