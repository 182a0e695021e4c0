"""Interactive panels for JupyterLab: a training panel with sliders, and a drawing pad.

They only draw and listen: training is lenet.training.experiment.run, and a drawn digit becomes an
MNIST image with lenet.data.drawing.to_mnist; notebooks and tests can call both directly.

The panel trains on a background thread (numpy's matrix products release the GIL), so the
kernel stays free while a run trains: the progress bar and the curves move within each epoch
(redrawn at most every UPDATE_SECONDS, so the browser is not flooded), Stop ends the run before
its next step, Kernel -> Interrupt stops it too, and a drawing pad keeps drawing. Only one run
trains at a time: Train is disabled while one runs.

Where no kernel runs (an HTML export, a notebook viewer, the static site), a displayed panel
shows a picture of its runs so far and one line saying what it does, and a pad one line.
"""

import base64
import copy
import dataclasses
import html
import io
import math
import signal
import threading
import time

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas
from IPython import get_ipython
from matplotlib.figure import Figure

from lenet.data.drawing import stroke_segment, to_mnist
from lenet.nn.losses import softmax
from lenet.teaching.viz import plot_probabilities, plot_runs
from lenet.training import experiment
from lenet.utils.config import QUICK

__all__ = ["TrainingPanel", "DrawingPad"]

BATCH_SIZES = (16, 32, 64, 128, 256, 512)
RUNS_SHOWN = 4  # the curves overlay this many most recent runs
UPDATE_SECONDS = 0.5  # while a run trains, the view is redrawn at most this often
POINTS_PER_EPOCH = 25  # the live curves: up to 25 points per epoch,
ROW_IMAGES = 256  # each the mean over at least this many training images (less noise)
SMOOTH_IMAGES = 512  # a collapse is judged on training accuracy averaged over this many images

# Thick, dark slider tracks, large handles, readouts that fit "0.000126", a row that wraps:
# readable on a projector and usable by mouse at 150% zoom on a laptop.
STYLE = """<style>
.lenet-panel {
  --jp-widgets-slider-track-thickness: 10px;
  --jp-widgets-slider-handle-size: 24px;
}
.lenet-panel .noUi-connects { background: #8c8c8c !important; }
.lenet-panel .noUi-connect { background: #1a56b0 !important; }
.lenet-panel .noUi-handle { border: 3px solid #1a56b0 !important; }
.lenet-panel .widget-readout { min-width: 5.5em; font-weight: bold; }
.lenet-panel .widget-label, .lenet-panel .widget-readout { font-size: 15px; }
.lenet-panel .widget-button { font-size: 15px; }
</style>"""


def _png(fig, dpi=100):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _warning(text):
    return f"<span style='color:#c00'>⚠ {html.escape(text)}</span>"


def _static_html(line, png=None, alt=""):
    """The stand-in for a widget where no kernel runs: one line, and a picture if any."""
    text = f'<p class="lenet-static">{html.escape(line)}</p>'
    if png:
        source = base64.b64encode(png).decode("ascii")
        text += f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{source}">'
    return text


# ------------------------------------------------------------------- Kernel -> Interrupt

_ACTIVE = set()  # the stop events of the runs training now (any panel)
_ACTIVE_LOCK = threading.Lock()
_HOOKED_SHELLS = []


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


def _watch_interrupts():
    """Let Kernel -> Interrupt stop background runs, whether a cell runs or the kernel is idle.

    The interrupt is a SIGINT. While a cell executes, ipykernel turns it into a
    KeyboardInterrupt in that cell: a post_run_cell hook sees it and stops the runs. While the
    kernel is idle, ipykernel ignores SIGINT: it restores `kernel.saved_sigint_handler` after
    every message it handles, so our handler goes there. Outside a kernel, nothing changes.
    Must run on the main thread, while the kernel handles a message (a click or a cell).
    """
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None or threading.current_thread() is not threading.main_thread():
        return
    if shell not in _HOOKED_SHELLS:
        shell.events.register("post_run_cell", _after_cell)
        _HOOKED_SHELLS.append(shell)
    saved = getattr(kernel, "saved_sigint_handler", None)
    if saved is not None and not getattr(saved, "lenet_stops_training", False):
        kernel.saved_sigint_handler = _interrupt_handler(saved)


# ------------------------------------------------------------------- the training panel


@dataclasses.dataclass
class Run:
    """One run of a TrainingPanel, as its curves show it.

    steps: rows (epochs done, loss, accuracy), each the mean over the training steps since the
    previous row (up to POINTS_PER_EPOCH rows per epoch, each over at least ROW_IMAGES images
    or the rest of the epoch); number: the panel's count of runs (it picks the colour);
    history: a copy of the History of
    the finished epochs; result: the experiment.Result once the run is over (None while
    it trains, or when it failed: then error holds the exception).
    """

    settings: experiment.Settings
    number: int = 0
    steps: list = dataclasses.field(default_factory=list)
    history: object = None
    result: experiment.Result | None = None
    error: Exception | None = None
    where: tuple = (1, 0, 1)  # (epoch, step, steps in the epoch) of the last row

    @property
    def label(self):
        return f"lr {self.settings.learning_rate:.3g}, batch {self.settings.batch_size}"

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


class TrainingPanel:
    """Sliders for learning rate, batch size and epochs; Train and Stop; live curves.

    Moving a slider does nothing until Train is clicked. Train starts a run on a background
    thread and returns at once; while it trains, the progress bar and the curves (training
    loss and accuracy within the epochs, validation after each epoch, the last RUNS_SHOWN runs
    overlaid and labelled with learning rate and batch size) update at most every
    `update_seconds`; the line above them never runs ahead of the picture. Stop (or Kernel ->
    Interrupt) ends the run before its next step, keeping the finished epochs and the model as
    it is. The result line gives the test accuracy, the last and the best epoch, and says in
    words when a run collapsed or diverged. With pad=a DrawingPad, the pad reads with each new
    network once its run is over (unless it diverged).

    In code and tests: `panel.train()` trains with the sliders' values and returns the
    lenet.training.experiment.Result when the run is over (the same thread and code as a click);
    `panel.train(wait=False)` is exactly what the Train button does; panel.stop() is Stop;
    panel.wait() waits for the run in progress. The parts are attributes: lr, batch_size,
    epochs (sliders), button (Train), stop_button, progress, result (the line, HTML), curves
    (an Image), widget (the whole panel); runs holds the Runs drawn, last_result the last
    Result. Every run uses `settings` (the defaults of `python -m lenet train`) with the
    sliders' learning rate, batch size and epochs. clock: a time source (tests pass a fake).
    """

    def __init__(
        self,
        n_train=None,
        data=None,
        seed=0,
        settings=None,
        pad=None,
        update_seconds=UPDATE_SECONDS,
        clock=time.monotonic,
    ):
        self.settings = dataclasses.replace(
            settings or experiment.Settings(),
            n_train=n_train if n_train is not None else (2000 if QUICK else None),
            seed=seed,
        )
        self.data = data
        self.pad = pad
        self.update_seconds = update_seconds
        self._clock = clock
        slider = {
            "continuous_update": False,
            "style": {"description_width": "initial"},
            "layout": widgets.Layout(width="auto", flex="1 1 340px", min_width="300px"),
        }
        self.lr = widgets.FloatLogSlider(
            value=0.05,
            base=10,
            min=-4,
            max=0.5,
            step=0.1,
            description="learning rate",
            readout_format=".3g",
            **slider,
        )
        self.batch_size = widgets.SelectionSlider(
            options=BATCH_SIZES, value=64, description="batch size", **slider
        )
        self.epochs = widgets.IntSlider(
            value=1 if QUICK else 3, min=1, max=10, description="epochs", **slider
        )
        self.button = widgets.Button(
            description="Train", button_style="primary", icon="play", tooltip="Train a new network"
        )
        self.stop_button = widgets.Button(
            description="Stop", button_style="danger", icon="stop", disabled=True
        )
        self.progress = widgets.FloatProgress(
            value=0, min=0, max=1, layout=widgets.Layout(flex="1 1 200px", min_width="150px")
        )
        self.progress_text = widgets.Label("")
        self.result = widgets.HTML("Choose the settings, then click <b>Train</b>.")
        self.curves = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.legend = widgets.HTML("")  # the runs on the picture, in words
        self.runs = []
        self.last_result = None
        self.updates = 0  # how often the view was redrawn (tests check the rate)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self._stop = threading.Event()
        self._error = None
        self.button.on_click(lambda _: self.train(wait=False))
        self.stop_button.on_click(lambda _: self.stop())
        for slider in (self.lr, self.batch_size, self.epochs):
            slider.observe(self._next_run, "value")
        row = widgets.Layout(display="flex", flex_flow="row wrap", align_items="center")
        self.widget = widgets.VBox(
            [
                widgets.HTML(STYLE),
                widgets.Box([self.lr, self.batch_size, self.epochs], layout=row),
                widgets.Box(
                    [self.button, self.stop_button, self.progress, self.progress_text], layout=row
                ),
                self.result,
                self.curves,
                self.legend,
            ]
        )
        self.widget.add_class("lenet-panel")
        for part, name in ((self.result, "result"), (self.legend, "legend")):
            part.add_class(f"lenet-{name}")
        self.progress_text.add_class("lenet-progress")
        self._draw()
        self._next_run()

    # -- what the buttons do

    def _next_run(self, change=None):
        """Between runs, say what Train will do: the kernel has the sliders' values."""
        if not self.running:
            self.progress_text.value = (
                f"next run: lr {self.lr.value:.3g}, batch {self.batch_size.value}, "
                f"{self.epochs.value} epoch{'s' if self.epochs.value != 1 else ''}"
            )

    @property
    def running(self):
        """True while a run trains."""
        return not self._done.is_set()

    def train(self, wait=True):
        """Train a new network with the sliders' values (on the background thread).

        wait=True (for code, tests and CI): return the run's experiment.Result when it is
        over, raising what the run raised (e.g. no MNIST files); Kernel -> Interrupt stops the
        run, then raises KeyboardInterrupt. wait=False (the Train button): return None at once.
        A second run while one trains is refused: RuntimeError with wait=True, a message in the
        panel with wait=False.
        """
        with self._lock:
            if self.running:
                message = "A run is training already: wait for it, or click Stop first."
                if wait:
                    raise RuntimeError(message)
                self.result.value = _warning(message) + "<br>" + self.result.value
                return None
            settings = dataclasses.replace(
                self.settings,
                lr=self.lr.value,
                batch_size=self.batch_size.value,
                epochs=self.epochs.value,
            )
            run = Run(settings, number=self.runs[-1].number + 1 if self.runs else 0)
            self.runs = [*self.runs, run][-RUNS_SHOWN:]
            self._stop, self._done, self._error = threading.Event(), threading.Event(), None
            with _ACTIVE_LOCK:
                _ACTIVE.add(self._stop)
            self.button.disabled, self.stop_button.disabled = True, False
            self.progress.bar_style, self.progress.max, self.progress.value = "info", 1, 0
            self.progress_text.value = f"epoch 1 of {settings.epochs}"
            self.result.value = f"Training {run.label} for {settings.epochs} epoch(s)…"
            worker = threading.Thread(
                target=self._work, args=(run, self._stop, self._done), daemon=True
            )
        _watch_interrupts()
        worker.start()
        return self.wait() if wait else None

    def stop(self):
        """End the run in progress before its next step (what Stop does); nothing if none."""
        if self.running:
            self._stop.set()
            self.stop_button.disabled = True
            self.progress_text.value = "stopping…"

    def wait(self, timeout=None):
        """Wait for the run in progress to end; its Result (None if none ran yet).

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

    def _work(self, run, stop, done):
        drawn = [-math.inf, 0.0]  # when the last redraw ended (clock), how long it took (s)
        block = [0, 0.0, 0.0]  # steps, summed loss, summed accuracy since the last row

        def redraw_if_due():
            # At most one redraw per update_seconds, and never more than a third of the time.
            if self._clock() - drawn[0] >= max(self.update_seconds, 2 * drawn[1]):
                start = time.perf_counter()
                self._show(run)
                drawn[:] = [self._clock(), time.perf_counter() - start]

        def on_step(epoch, step, steps, loss, accuracy):
            block[0] += 1
            block[1] += loss
            block[2] += accuracy
            if step % run.steps_per_row(steps) and step != steps:
                return
            run.steps.append((epoch - 1 + step / steps, block[1] / block[0], block[2] / block[0]))
            run.where = (epoch, step, steps)
            block[:] = [0, 0.0, 0.0]
            redraw_if_due()

        def after_epoch(history):
            run.history = copy.deepcopy(history)
            redraw_if_due()

        try:
            result = experiment.run(
                run.settings, self.data, callback=after_epoch, stop=stop, on_step=on_step
            )
            run.result = result
            if result.history is not None:
                run.history = copy.deepcopy(result.history)
            self.last_result = result
            if self.pad is not None and result.diverged is None:
                self.pad.use_model(result.model, f"the panel's network ({run.label})")
        except Exception as err:  # e.g. MNIST missing: say so in the panel; wait() raises it
            run.error = self._error = err
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(stop)
            try:
                self._show(run, final=True)
            finally:
                self.button.disabled, self.stop_button.disabled = False, True
                done.set()

    def _show(self, run, final=False):
        """Redraw the curves, then the progress and the line that describe them."""
        self._draw()
        epochs = run.settings.epochs
        epoch, step, steps = run.where
        finished = len(run.history) if run.history is not None else 0
        self.progress.value = (epoch - 1 + step / steps) / epochs if run.steps else 0
        if final:
            result = run.result
            if result is None or result.diverged:
                self.progress.bar_style = "danger"
            else:
                self.progress.bar_style = "warning" if result.stopped else "success"
            self.progress_text.value = f"{finished} of {epochs} epoch(s) finished"
            self.result.value = self._final_words(run)
        else:
            self.progress_text.value = f"epoch {epoch} of {epochs}, step {step} of {steps}"
            _, loss, accuracy = run.steps[-1] if run.steps else (0, math.nan, math.nan)
            line = (
                f"Training {run.label}: epoch {epoch} of {epochs}, step {step} of {steps}; "
                f"recent training loss {loss:.3f}, accuracy {accuracy:.0%}"
            )
            if finished and not np.isnan(run.history.val_acc[-1]):
                line += (
                    f"; validation accuracy after epoch {finished}: {run.history.val_acc[-1]:.1%}"
                )
            self.result.value = html.escape(line) + "…"
        self.updates += 1

    def _final_words(self, run):
        if run.error is not None:
            return _warning(f"{type(run.error).__name__}: {run.error}")
        result = run.result
        verdict = html.escape(result.verdict(within_epochs=run.smoothed_accuracy()))
        if result.diverged:
            return _warning(f"{run.label}: diverged.") + f" {verdict}"
        if result.stopped:
            text = (
                f"<b>Stopped</b> ({run.label}). {verdict} The network is as its last step left it."
            )
        elif result.test_accuracy is None:
            text = f"Done ({run.label}). {verdict}"
        else:
            text = (
                f"<b>test accuracy {result.test_accuracy:.2%}</b> — "
                f"{result.seconds_per_epoch:.1f} s per epoch ({run.label}). {verdict}"
            )
        if self.pad is not None:
            text += " The drawing pad now reads with this network."
        return text

    def _draw(self):
        """The picture of the runs, and the list of the runs it shows."""
        self.curves.value = self._picture()
        self.legend.value = (
            "On the plot, oldest first: "
            + "; ".join(f"<b>{html.escape(run.label)}</b> ({run.state})" for run in self.runs)
            if self.runs
            else ""
        )

    def _picture(self):
        """The curves of the runs shown, as PNG bytes (drawn without pyplot: any thread)."""
        fig = Figure(figsize=(9.6, 3.6))
        epochs = self.runs[-1].settings.epochs if self.runs else self.epochs.value
        plot_runs([run.curves() for run in self.runs], epochs=epochs, fig=fig)
        return _png(fig)

    # -- where no kernel runs

    def _static_line(self):
        line = (
            "Training panel: sliders for the learning rate, batch size and epochs, Train and "
            "Stop, live curves; it works in JupyterLab with a running kernel."
        )
        done = [run for run in self.runs if run.result is not None]
        if done:
            last = done[-1]
            words = last.result.verdict(within_epochs=last.smoothed_accuracy())
            line += f" Last run ({last.label}): {words}"
        return line

    def _repr_mimebundle_(self, **kwargs):
        """The live panel, with a picture of its runs and one line for static views."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        line, png = self._static_line(), self._picture()
        bundle["text/plain"] = line
        bundle["text/html"] = _static_html(line, png, alt="loss and accuracy of the runs")
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle


# ------------------------------------------------------------------- the drawing pad


class DrawingPad:
    """Draw a digit with the mouse; see the 28 x 28 input and the class probabilities.

    model: any lenet model mapping (N, 1, 28, 28) to logits (N, 10), modern or classic;
    use_model() (or a TrainingPanel given pad=this pad) changes it. Strokes are kept in a
    numpy raster at the canvas's resolution as well as drawn on the canvas; the network reads
    the raster, and whenever a new view of the canvas appears (a page reload, the notebook
    opened again) the canvas is drawn again from the raster, so what you see is what it reads.
    The prediction updates when a stroke ends.
    """

    def __init__(self, model, size=280, pen_radius=11):
        self.model = model
        self.pen_radius = pen_radius
        self.raster = np.zeros((size, size))
        self._last = None
        self._lock = threading.Lock()  # the panel's thread may hand over a model mid-stroke
        self.canvas = Canvas(
            width=size,
            height=size,
            layout=widgets.Layout(width=f"{size}px", height=f"{size}px", border="3px solid #444"),
        )
        self.clear_button = widgets.Button(description="Clear", icon="eraser")
        self.prediction = widgets.HTML("Draw a digit in the box.")
        self.reading_with = widgets.HTML("")
        self.chart = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        self.chart.add_class("lenet-chart")
        self.prediction.add_class("lenet-prediction")
        self.reading_with.add_class("lenet-reading-with")
        self.canvas.on_mouse_down(self.pen_down)
        self.canvas.on_mouse_move(self.pen_move)
        self.canvas.on_mouse_up(self.pen_up)
        self.canvas.on_mouse_out(self.pen_up)
        self.canvas.on_client_ready(self.redraw)
        self.clear_button.on_click(lambda _: self.clear())
        self.redraw()
        self.widget = widgets.HBox(
            [
                widgets.VBox([self.canvas, self.clear_button]),
                widgets.VBox([self.prediction, self.chart, self.reading_with]),
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        line = (
            "Drawing pad: draw a digit with the mouse and see what the network reads and its "
            "probabilities; it works in JupyterLab with a running kernel."
        )
        bundle["text/plain"] = line
        bundle["text/html"] = _static_html(line)
        return bundle

    def redraw(self):
        """Draw the canvas from the raster: white paper, the ink the network reads in black.

        Runs for every new view of the canvas (ipycanvas's client_ready): a page reload
        starts with a blank canvas in the browser while the raster keeps the strokes.
        """
        manager = getattr(self.canvas, "_canvas_manager", None)
        if manager is not None and hasattr(manager, "_current_canvas"):
            # A new page's canvas manager has no current canvas: name it again, or every
            # drawing command (new strokes too) would go nowhere.
            manager._current_canvas = None
        size = self.raster.shape[0]
        with hold_canvas():
            self.canvas.line_width = 2 * self.pen_radius
            self.canvas.line_cap = "round"
            self.canvas.line_join = "round"
            self.canvas.stroke_style = "black"
            self.canvas.fill_style = "white"
            self.canvas.fill_rect(0, 0, size, size)
            if self.raster.any():
                ink = np.zeros((size, size, 4), dtype=np.uint8)
                ink[..., 3] = np.round(self.raster * 255)
                self.canvas.put_image_data(ink, 0, 0)

    def pen_down(self, x, y):
        self._last = (x, y)
        self.pen_move(x, y)

    def pen_move(self, x, y):
        if self._last is None:
            return
        stroke_segment(self.raster, self._last, (x, y), self.pen_radius)
        self.canvas.stroke_line(*self._last, x, y)
        self._last = (x, y)

    def pen_up(self, x=None, y=None):
        if self._last is not None:
            self._last = None
            self.predict()

    def clear(self):
        self.raster[:] = 0
        self.redraw()
        self.prediction.value = "Draw a digit in the box."
        self.chart.layout.display = "none"

    def use_model(self, model, name=None):
        """Read with another network from now on (and read the drawing again)."""
        with self._lock:
            self.model = model
        if name:
            self.reading_with.value = f"Reading with {html.escape(name)}."
        self.predict()

    def predict(self):
        """Class probabilities (10,) of the drawing, shown beside it; None if it is empty."""
        with self._lock:
            digit = to_mnist(self.raster)
            if not digit.any():
                return None
            model = self.model
            logits = model.forward(digit[None, None].astype(model.dtype))
            probs = softmax(logits.astype(np.float64))[0]
            best = int(probs.argmax())
            fig = Figure(figsize=(6.2, 2.7))
            plot_probabilities(probs, digit, fig=fig)
            self.chart.value = _png(fig, dpi=90)  # beside a 280-pixel canvas on a laptop
            self.chart.layout.display = ""
            self.prediction.value = f"<b>Prediction: {best}</b> ({probs[best]:.0%} sure)"
        return probs
