"""Interactive panels for JupyterLab: a training panel with sliders, and a drawing pad.

They only draw and listen: training is lenet.experiment.run, and a drawn digit becomes an
MNIST image with lenet.drawing.to_mnist; notebooks and tests can call both directly.
While a panel trains, the kernel is busy and the widgets do not respond: runs are bounded by
the epochs and the number of training images.
"""

import dataclasses
import html

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import clear_output, display

from lenet import experiment
from lenet.config import QUICK
from lenet.drawing import stroke_segment, to_mnist
from lenet.losses import softmax
from lenet.viz import plot_history, plot_probabilities

__all__ = ["TrainingPanel", "DrawingPad"]

BATCH_SIZES = (16, 32, 64, 128, 256, 512)


class TrainingPanel:
    """Sliders for learning rate, batch size and epochs, a Train button, live curves.

    Moving a slider does nothing until Train is clicked. The curves are redrawn in one
    output area after every epoch; the result line shows test accuracy and seconds per
    epoch, or why training diverged. The parts are attributes, so code and tests can drive
    the panel without a browser: lr, batch_size, epochs (sliders), button, result (HTML),
    output (Output), widget (the whole panel); train() does what a click does, and
    last_result holds the last lenet.experiment.Result. Every run uses `settings` (the
    defaults of `python -m lenet train`) with the sliders' learning rate, batch size and
    epochs.
    """

    def __init__(self, n_train=None, data=None, seed=0, settings=None):
        self.settings = dataclasses.replace(
            settings or experiment.Settings(),
            n_train=n_train if n_train is not None else (2000 if QUICK else None),
            seed=seed,
        )
        self.data = data
        self.lr = widgets.FloatLogSlider(
            value=0.05,
            base=10,
            min=-4,
            max=0.5,
            step=0.1,
            description="learning rate",
            readout_format=".4f",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.batch_size = widgets.SelectionSlider(
            options=BATCH_SIZES,
            value=64,
            description="batch size",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.epochs = widgets.IntSlider(
            value=1 if QUICK else 3,
            min=1,
            max=10,
            description="epochs",
            continuous_update=False,
        )
        self.button = widgets.Button(description="Train", button_style="primary", icon="play")
        self.result = widgets.HTML("Choose the settings, then click <b>Train</b>.")
        self.output = widgets.Output()
        self.last_result = None
        self.button.on_click(lambda _: self.train())
        controls = widgets.HBox([self.lr, self.batch_size, self.epochs, self.button])
        self.widget = widgets.VBox([controls, self.result, self.output])

    def _ipython_display_(self):
        display(self.widget)

    def _settings(self):
        return f"learning rate {self.lr.value:.4g}, batch size {self.batch_size.value}"

    def _draw(self, history):
        done = len(history)
        self.result.value = (
            f"Training ({self._settings()}): epoch {done}/{self.epochs.value} done, "
            f"validation accuracy {history.val_acc[-1]:.2%}…"
        )
        with self.output:
            clear_output(wait=True)
            fig = plot_history(history)
            display(fig)
            plt.close(fig)

    def train(self):
        """Train with the current slider values (what the button does); returns the result."""
        self.button.disabled = True
        self.result.value = f"Training ({self._settings()}), {self.epochs.value} epoch(s)…"
        try:
            settings = dataclasses.replace(
                self.settings,
                lr=self.lr.value,
                batch_size=self.batch_size.value,
                epochs=self.epochs.value,
            )
            result = experiment.run(settings, self.data, callback=self._draw)
        except Exception as err:  # e.g. MNIST missing: say so in the panel, then raise
            self.result.value = _warning(f"{type(err).__name__}: {err}")
            raise
        finally:
            self.button.disabled = False
        if result.diverged:
            self.result.value = _warning(result.diverged)
        else:
            accuracy = result.test_accuracy
            self.result.value = (
                f"<b>test accuracy {accuracy:.2%}</b> — "
                f"{result.seconds_per_epoch:.1f} s per epoch ({self._settings()})"
            )
            if accuracy < 0.2:
                self.result.value += (
                    "<br>Near chance (10%): either the learning rate is too small to learn in "
                    "this many steps, or so large that every ReLU died."
                )
        self.last_result = result
        return result


def _warning(text):
    return f"<span style='color:#c00'>⚠ {html.escape(text)}</span>"


class DrawingPad:
    """Draw a digit with the mouse; see the 28 x 28 input and the class probabilities.

    model: any lenet model mapping (N, 1, 28, 28) to logits (N, 10), modern or classic.
    Strokes are kept in a numpy raster as well as drawn on the canvas, so the prediction
    needs no round trip to the browser; it updates when a stroke ends.
    """

    def __init__(self, model, size=280, pen_radius=11):
        from ipycanvas import Canvas

        self.model = model
        self.pen_radius = pen_radius
        self.raster = np.zeros((size, size))
        self._last = None
        self.canvas = Canvas(
            width=size,
            height=size,
            layout=widgets.Layout(width=f"{size}px", height=f"{size}px", border="2px solid #888"),
        )
        self.canvas.line_width = 2 * pen_radius
        self.canvas.line_cap = "round"
        self.clear_button = widgets.Button(description="Clear", icon="eraser")
        self.prediction = widgets.HTML("Draw a digit in the box.")
        self.output = widgets.Output()
        self.canvas.on_mouse_down(self.pen_down)
        self.canvas.on_mouse_move(self.pen_move)
        self.canvas.on_mouse_up(self.pen_up)
        self.canvas.on_mouse_out(self.pen_up)
        self.clear_button.on_click(lambda _: self.clear())
        self._paper()
        self.widget = widgets.HBox(
            [
                widgets.VBox([self.canvas, self.clear_button]),
                widgets.VBox([self.prediction, self.output]),
            ]
        )

    def _ipython_display_(self):
        display(self.widget)

    def _paper(self):
        size = self.raster.shape[0]
        self.canvas.fill_style = "white"
        self.canvas.fill_rect(0, 0, size, size)
        self.canvas.stroke_style = "black"

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
        self._paper()
        self.prediction.value = "Draw a digit in the box."
        self.output.clear_output()

    def predict(self):
        """Class probabilities (10,) of the drawing, shown beside it; None if it is empty."""
        digit = to_mnist(self.raster)
        if not digit.any():
            return None
        logits = self.model.forward(digit[None, None].astype(self.model.dtype))
        probs = softmax(logits.astype(np.float64))[0]
        best = int(probs.argmax())
        self.prediction.value = f"<b>Prediction: {best}</b> ({probs[best]:.0%} sure)"
        with self.output:
            clear_output(wait=True)
            fig = plot_probabilities(probs, digit)
            display(fig)
            plt.close(fig)
        return probs
