"""The training panel for JupyterLab: sliders, Train and Stop, live curves. It draws and listens.

Training is lenet.teaching.training_run.BackgroundTrainer (the thread, Stop, Kernel ->
Interrupt, the state of every run), which runs lenet.training.experiment.run; code and tests
can call both without a browser. While a run trains, the progress bar and the curves move
within each epoch, Stop ends the run before its next step, Kernel -> Interrupt stops it too,
and a drawing pad keeps drawing. Train is disabled while a run trains.

Where no kernel runs (an HTML export, a notebook viewer, the static site), a displayed panel
shows a picture of its runs so far and one line saying what it does.
"""

import base64
import dataclasses
import html
import math
import time

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from lenet.teaching.training_run import BUSY, UPDATE_SECONDS, BackgroundTrainer, run_label
from lenet.teaching.viz import plot_runs, png_bytes, static_html
from lenet.training import experiment
from lenet.utils.config import QUICK
from lenet.utils.i18n import translate

__all__ = ["TrainingPanel", "BATCH_SIZES", "RUNS_SHOWN"]

BATCH_SIZES = (16, 32, 64, 128, 256, 512)
RUNS_SHOWN = 4  # the curves overlay this many most recent runs

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


def _warning(text):
    return f"<span style='color:#c00'>⚠ {html.escape(text)}</span>"


def _plural(n, word):
    return f"{n} {word}{'s' if n != 1 else ''}"


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
    network once its run is over (unless it diverged or failed).

    In code and tests: `panel.train()` trains with the sliders' values and returns the
    lenet.training.experiment.Result when the run is over (the same thread and code as a click);
    `panel.train(wait=False)` is exactly what the Train button does; panel.stop() is Stop;
    panel.wait() waits for the run in progress. The parts are attributes: lr, batch_size,
    epochs (sliders), button (Train), stop_button, progress, progress_text, result (the line,
    HTML), curves (an Image), legend, widget (the whole panel); trainer is the
    BackgroundTrainer (its trials are the runs drawn). Every run uses `settings` (the defaults
    of `python -m lenet train`) with the sliders' learning rate, batch size and epochs, on the
    first `limit` training images (default: 2,000 in quick mode, else all) and with `seed`.
    clock: a time source for the trainer (tests pass a fake).
    """

    def __init__(
        self,
        limit=None,
        data=None,
        seed=0,
        settings=None,
        pad=None,
        update_seconds=UPDATE_SECONDS,
        clock=time.monotonic,
    ):
        self.settings = dataclasses.replace(
            settings or experiment.Settings(),
            limit=limit if limit is not None else (2000 if QUICK else None),
            seed=seed,
        )
        self.pad = pad
        self.trainer = BackgroundTrainer(
            data, self._on_update, update_seconds=update_seconds, clock=clock, keep=RUNS_SHOWN
        )
        self._make_widgets()
        self.button.on_click(lambda _: self.train(wait=False))
        self.stop_button.on_click(lambda _: self.stop())
        for slider in (self.lr, self.batch_size, self.epochs):
            slider.observe(self._next_run, "value")
        self._draw()
        self._next_run()

    def _make_widgets(self):
        slider = {
            "continuous_update": False,
            "style": {"description_width": "initial"},
            "layout": widgets.Layout(width="auto", flex="1 1 340px", min_width="300px"),
        }
        self.lr = widgets.FloatLogSlider(
            value=0.05, base=10, min=-4, max=0.5, step=0.1, description=translate("learning rate"),
            readout_format=".3g", **slider,
        )  # fmt: skip
        self.batch_size = widgets.SelectionSlider(
            options=BATCH_SIZES, value=64, description=translate("batch size"), **slider
        )
        self.epochs = widgets.IntSlider(
            value=1 if QUICK else 3, min=1, max=10, description=translate("epochs"), **slider
        )
        self.button = widgets.Button(
            description=translate("Train"),
            button_style="primary",
            icon="play",
            tooltip=translate("Train a new network"),
        )
        self.stop_button = widgets.Button(
            description=translate("Stop"), button_style="danger", icon="stop", disabled=True
        )
        self.progress = widgets.FloatProgress(
            value=0, min=0, max=1, layout=widgets.Layout(flex="1 1 200px", min_width="150px")
        )
        self.progress_text = widgets.Label("")
        self.result = widgets.HTML(translate("Choose the settings, then click <b>Train</b>."))
        self.curves = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.legend = widgets.HTML("")  # the runs on the picture, in words
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
        self.result.add_class("lenet-result")
        self.legend.add_class("lenet-legend")
        self.progress_text.add_class("lenet-progress")

    # -- what the buttons do

    @property
    def running(self):
        """True while a run trains."""
        return self.trainer.running

    @property
    def last_result(self):
        """The Result of the last run that ended without an error (None before)."""
        return self.trainer.last_result

    def _next_run(self, change=None):
        """Between runs, say what Train will do: the kernel has the sliders' values."""
        if not self.running:
            self.progress_text.value = translate(
                f"next run: lr {self.lr.value:.3g}, batch {self.batch_size.value}, "
                + _plural(self.epochs.value, "epoch")
            )

    def train(self, wait=True):
        """Train a new network with the sliders' values (on the background thread).

        wait=True (for code, tests and CI): return the run's experiment.Result when it is
        over, raising what the run raised (e.g. no MNIST files); Kernel -> Interrupt stops the
        run, then raises KeyboardInterrupt. wait=False (the Train button): return None at once.
        A second run while one trains is refused: RuntimeError with wait=True, a message in the
        panel with wait=False.
        """
        settings = dataclasses.replace(
            self.settings,
            lr=self.lr.value,
            batch_size=self.batch_size.value,
            epochs=self.epochs.value,
        )
        if self.running:  # clicks and cells run on the kernel's one main thread: no race
            if wait:
                raise RuntimeError(BUSY)
            self.result.value = _warning(BUSY) + "<br>" + self.result.value
            return None
        # The view first: a short run may be over (and drawn) before start() returns.
        self.button.disabled, self.stop_button.disabled = True, False
        self.progress.bar_style, self.progress.value = "info", 0
        self.progress_text.value = translate(f"epoch 1 of {settings.epochs}")
        self.result.value = translate(
            f"Training {run_label(settings)} for {settings.epochs} epoch(s)…"
        )
        self.trainer.start(settings)
        return self.wait() if wait else None

    def stop(self):
        """End the run in progress before its next step (what Stop does); nothing if none."""
        if self.trainer.stop():
            self.stop_button.disabled = True
            self.progress_text.value = translate("stopping…")

    def wait(self, timeout=None):
        """Wait for the run in progress to end: BackgroundTrainer.wait."""
        return self.trainer.wait(timeout)

    # -- what the trainer tells (on its thread)

    def _on_update(self, trial, final):
        if not final:
            self._show(trial)
            return
        try:
            result = trial.result
            if self.pad is not None and result is not None and result.diverged is None:
                self.pad.use_model(result.model, f"the panel's network ({trial.label})")
            self._show(trial, final=True)
        finally:
            self.button.disabled, self.stop_button.disabled = False, True

    def _show(self, trial, final=False):
        """Redraw the curves, then the progress and the line that describe them."""
        self._draw()
        epochs = trial.settings.epochs
        epoch, step, steps = trial.where
        finished = len(trial.history) if trial.history is not None else 0
        self.progress.value = (epoch - 1 + step / steps) / epochs if trial.steps else 0
        if final:
            result = trial.result
            if result is None or result.diverged:
                self.progress.bar_style = "danger"
            else:
                self.progress.bar_style = "warning" if result.stopped else "success"
            self.progress_text.value = translate(f"{finished} of {epochs} epoch(s) finished")
            self.result.value = translate(self._final_words(trial))
            return
        self.progress_text.value = translate(f"epoch {epoch} of {epochs}, step {step} of {steps}")
        _, loss, accuracy = trial.steps[-1] if trial.steps else (0, math.nan, math.nan)
        line = (
            f"Training {trial.label}: epoch {epoch} of {epochs}, step {step} of {steps}; "
            f"recent training loss {loss:.3f}, accuracy {accuracy:.0%}"
        )
        if finished and not np.isnan(trial.history.val_acc[-1]):
            line += f"; validation accuracy after epoch {finished}: {trial.history.val_acc[-1]:.1%}"
        self.result.value = translate(html.escape(line) + "…")

    def _final_words(self, trial):
        if trial.error is not None:
            return _warning(f"{type(trial.error).__name__}: {trial.error}")
        result = trial.result
        verdict = html.escape(result.verdict(within_epochs=trial.smoothed_accuracy()))
        if result.diverged:
            return _warning(f"{trial.label}: diverged.") + f" {verdict}"
        if result.stopped:
            text = (
                f"<b>Stopped</b> ({trial.label}). {verdict} "
                "The network is as its last step left it."
            )
        elif result.test_accuracy is None:
            text = f"Done ({trial.label}). {verdict}"
        else:
            text = (
                f"<b>test accuracy {result.test_accuracy:.2%}</b> — "
                f"{result.seconds_per_epoch:.1f} s per epoch ({trial.label}). {verdict}"
            )
        if self.pad is not None:
            text += " The drawing pad now reads with this network."
        return text

    def _draw(self):
        """The picture of the runs, and the list of the runs it shows."""
        trials = self.trainer.trials
        self.curves.value = self._picture()
        self.legend.value = (
            "On the plot, oldest first: "
            + "; ".join(f"<b>{html.escape(t.label)}</b> ({t.state})" for t in trials)
            if trials
            else ""
        )

    def _picture(self):
        """The curves of the runs shown, as PNG bytes (drawn without pyplot: any thread)."""
        trials = self.trainer.trials
        fig = Figure(figsize=(9.6, 3.6))
        epochs = trials[-1].settings.epochs if trials else self.epochs.value
        plot_runs([trial.curves() for trial in trials], epochs=epochs, fig=fig)
        return png_bytes(fig)

    # -- where no kernel runs

    def _static_line(self):
        line = (
            "Training panel: sliders for the learning rate, batch size and epochs, Train and "
            "Stop, live curves; it works in JupyterLab with a running kernel."
        )
        done = [trial for trial in self.trainer.trials if trial.result is not None]
        if done:
            last = done[-1]
            words = last.result.verdict(within_epochs=last.smoothed_accuracy())
            line += f" Last run ({last.label}): {words}"
        return line

    def _repr_mimebundle_(self, **kwargs):
        """The live panel, with a picture of its runs and one line for static views."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        line, png = translate(self._static_line()), self._picture()
        bundle["text/plain"] = line
        bundle["text/html"] = static_html(line, png, alt="loss and accuracy of the runs")
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle
