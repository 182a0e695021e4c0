"""The drawing pad for JupyterLab: draw a digit with the mouse, see what the network reads.

It draws and listens: a drawing becomes an MNIST digit with lenet.data.drawing.to_mnist and is
read by any lenet model; notebooks and tests call both directly. Where no kernel runs (an HTML
export, a notebook viewer, the static site), a displayed pad shows one line saying what it does.
"""

import html
import threading

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas
from matplotlib.figure import Figure

from lenet.data.drawing import stroke_segment, to_mnist
from lenet.nn.losses import softmax
from lenet.teaching.viz import plot_probabilities, png_bytes, static_html
from lenet.utils.i18n import translate

__all__ = ["DrawingPad"]


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
        self.clear_button = widgets.Button(description=translate("Clear"), icon="eraser")
        self.prediction = widgets.HTML(translate("Draw a digit in the box."))
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
        line = translate(
            "Drawing pad: draw a digit with the mouse and see what the network reads and its "
            "probabilities; it works in JupyterLab with a running kernel."
        )
        bundle["text/plain"] = line
        bundle["text/html"] = static_html(line)
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
        self.prediction.value = translate("Draw a digit in the box.")
        self.chart.layout.display = "none"

    def use_model(self, model, name=None):
        """Read with another network from now on (and read the drawing again)."""
        with self._lock:
            self.model = model
        if name:
            self.reading_with.value = translate(f"Reading with {html.escape(name)}.")
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
            self.chart.value = png_bytes(fig, dpi=90)  # beside a 280-pixel canvas on a laptop
            self.chart.layout.display = ""
            self.prediction.value = translate(f"<b>Prediction: {best}</b> ({probs[best]:.0%} sure)")
        return probs
