"""The drawing pad, driven from Python: strokes become a digit the network reads."""

import numpy as np
import pytest
from background import draw_a_one
from ipycanvas.canvas import COMMANDS

import lenet
from lenet import paper1998
from lenet.data import drawing, drawn
from lenet.teaching.pad import DrawingPad


@pytest.mark.parametrize(
    "make",
    [
        lambda: lenet.LeNet5(rng=0),
        lambda: paper1998.LeNet1998(init="glorot", input_range=None, binarize=True, rng=0),
    ],
    ids=["modern", "classic"],
)
def test_drawing_pad_predicts_from_strokes(make):
    pad = DrawingPad(make())
    draw_a_one(pad)
    assert "Prediction:" in pad.prediction.value
    assert bytes(pad.chart.value).startswith(b"\x89PNG") and pad.chart.layout.display == ""
    probs = pad.predict()
    assert probs.shape == (10,) and np.isclose(probs.sum(), 1)
    digit = drawing.to_mnist(pad.raster)
    assert digit.max() == 1.0
    pad.clear()
    assert not pad.raster.any() and pad.predict() is None and pad.chart.layout.display == "none"


def test_a_new_view_of_the_pad_is_drawn_again_from_the_raster(monkeypatch):
    pad = DrawingPad(lenet.LeNet5(rng=0))
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


def test_pad_static_view_is_one_line():
    bundle = DrawingPad(lenet.LeNet5(rng=0))._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # live in JupyterLab
    assert bundle["text/plain"].startswith("Drawing pad:")
    assert bundle["text/html"] == f'<p class="lenet-static">{bundle["text/plain"]}</p>'


def test_use_model_reads_the_drawing_again_and_names_the_network():
    pad = DrawingPad(lenet.LeNet5(rng=0))
    draw_a_one(pad)
    before = pad.chart.value
    other = lenet.LeNet5(rng=1)
    pad.use_model(other, "the other <network>")
    assert (
        pad.model is other and pad.reading_with.value == "Reading with the other &lt;network&gt;."
    )
    assert pad.chart.value != before  # read again, with the new network


def test_the_drawn_test_set_is_inked_as_the_pad_inks_a_mouse_stroke():
    strokes = drawn.strokes_of(4, rng=0)
    pad = DrawingPad(lenet.LeNet5(rng=0), pen_radius=7)
    for stroke in strokes:
        pad.pen_down(*stroke[0])
        for x, y in stroke[1:]:
            pad.pen_move(x, y)
        pad.pen_up()
    np.testing.assert_array_equal(pad.raster, drawn.render(strokes, radius=7))
    assert pad.raster.sum() > 1000  # a real digit, not an empty canvas
