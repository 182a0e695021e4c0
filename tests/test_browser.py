"""The interactive notebooks in JupyterLab, driven in a real headless Chromium like a person would.

Notebook 9's training panel: move both sliders, Train, see the progress move inside the first
epoch while the kernel stays idle, Stop mid-run, Train again and see the runs overlaid, then
stop a run with Kernel -> Interrupt. Notebook 12's drawing pad: draw a digit, reload the page,
see the old strokes again, draw more: what the canvas shows is what the network reads.

Each test starts JupyterLab on 127.0.0.1 with a token in its temporary folder (quick mode),
waits for a connected, idle kernel (answering the kernel dialog once if JupyterLab asks), runs
all cells and then waits for states (texts, prompts, pixels), never for fixed times. The
screenshots go to the test's temporary folder (kept by pytest; its path is printed when a test
fails). Skipped with a message where no browser is installed; .ci/run installs Debian's chromium.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_FLAGS, evidence_on_failure, shot

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TOKEN = "lenet-browser-test"
# Every cell in the page (no virtual scrolling), no news or update pop-ups over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
LONG = 180_000  # ms: generous limits for a busy 2-core machine; a passing run never waits them out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, every=0.2):
    """Poll a state (not a clock): return predicate's first true value, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


# The test's copy of a notebook starts with this cell: every training step then takes at least
# 50 ms, so that a run lasts long enough to be watched and stopped on any machine (quick mode
# trains on a few thousand images, under a second on a fast one). The waits still wait for states.
SLOW_STEPS_CELL = {
    "cell_type": "code",
    "execution_count": None,
    "id": "test-slow-steps",
    "metadata": {},
    "outputs": [],
    "source": (
        "import time\n"
        "import lenet.nn.models\n"
        "_step = lenet.nn.models.Sequential.forward_backward\n"
        "def _at_least_50_ms(self, *args, **kwargs):\n"
        "    time.sleep(0.05)\n"
        "    return _step(self, *args, **kwargs)\n"
        "lenet.nn.models.Sequential.forward_backward = _at_least_50_ms"
    ),
}


class Lab:
    """A JupyterLab server serving a copy of one notebook; REST calls with its token."""

    def __init__(self, tmp_path, notebook):
        self.root = tmp_path / "lab"
        self.root.mkdir()
        self.name = notebook
        copy = json.loads((NOTEBOOKS / notebook).read_text())
        copy["cells"].insert(0, SLOW_STEPS_CELL)
        (self.root / notebook).write_text(json.dumps(copy))
        settings = tmp_path / "settings"
        for relative, values in LAB_SETTINGS.items():
            (settings / relative).parent.mkdir(parents=True, exist_ok=True)
            (settings / relative).write_text(json.dumps(values))
        env = dict(
            os.environ,
            LENET_QUICK="1",
            JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            LENET_CHECKPOINT_DIR=str(tmp_path / "checkpoints"),
        )
        self.log_path = tmp_path / "jupyter.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.port = free_port()
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                f"--port={self.port}",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.token={TOKEN}",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.open_browser=False",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/lab/tree/{notebook}?token={TOKEN}"

    def api(self, path):
        with urllib.request.urlopen(f"{self.base}/api/{path}?token={TOKEN}", timeout=5) as r:
            return json.load(r)

    def wait_started(self):
        def up():
            if self.server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited; see {self.log_path}")
            try:
                return self.api("status")
            except OSError:
                return None

        wait_until(up, 90, "JupyterLab to answer")

    def kernel(self):
        """The notebook's kernel as the server sees it (None before it starts)."""
        for session in self.api("sessions"):
            if session.get("path", "").endswith(self.name) and session.get("kernel"):
                return session["kernel"]
        return None

    def stop(self):
        self.server.terminate()
        try:
            self.server.wait(15)
        except subprocess.TimeoutExpired:
            self.server.kill()
        self.log.close()


@pytest.fixture
def lab(tmp_path):
    servers = []

    def start(notebook):
        server = Lab(tmp_path, notebook)
        servers.append(server)
        server.wait_started()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def page(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(LONG)
            yield page
        except BaseException:
            raise
        finally:
            browser.close()


# --------------------------------------------------------------------- JupyterLab, as a user


def connect_kernel(page, lab):
    """Open the notebook and wait for its kernel: started, idle, and connected to this page.

    If JupyterLab asks which kernel to start, answer once (a second click would restart it).
    """
    page.goto(lab.url)
    page.wait_for_selector(".jp-Notebook")
    answered = []

    def ready():
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if not answered and dialog.count() and dialog.first.is_visible():
            dialog.first.click()
            answered.append(True)
        kernel = lab.kernel()
        return (
            kernel is not None
            and kernel.get("execution_state") == "idle"
            and kernel.get("connections", 0) >= 1
            and page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
        )

    wait_until(ready, LONG / 1000, "a connected, idle kernel")


# Every code cell has run, or one failed (Run All stops there, so the rest never would).
ALL_CELLS_RAN_OR_ONE_FAILED = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
    const ran = prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
    const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
    return ran || outputs.some(o => o.textContent.includes('Traceback (most recent call last)'));
}"""


def run_all_cells(page):
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li[data-command='runmenu:run-all']")
    page.wait_for_function(ALL_CELLS_RAN_OR_ONE_FAILED, timeout=600_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    assert_no_traceback(page)


def assert_no_traceback(page):
    """No cell shows a traceback; if one does, the failure shows it."""
    text = page.locator(".jp-Notebook").inner_text()
    assert "Traceback" not in text, text[max(0, text.index("Traceback") - 300) :][:1500]


def text_of(locator):
    return locator.inner_text().strip()


# --------------------------------------------------------------------- notebook 9: the panel


def test_training_panel_in_notebook_9(lab, page, tmp_path):
    server = lab("09_lenet5_mnist.ipynb")
    with evidence_on_failure(page, tmp_path, "screenshots and the server log"):
        use_the_panel(page, server, tmp_path)


def use_the_panel(page, lab, tmp_path):
    connect_kernel(page, lab)
    run_all_cells(page)
    panel = page.locator(".lenet-panel")
    panel.scroll_into_view_if_needed()
    result, legend = panel.locator(".lenet-result"), panel.locator(".lenet-legend")
    progress = panel.locator(".lenet-progress")
    train, stop = (
        panel.locator("button:has-text('Train')"),
        panel.locator("button:has-text('Stop')"),
    )
    assert "test accuracy" in text_of(result)  # the cell's own run with the defaults
    assert text_of(legend).count("lr ") == 1
    shot(page, tmp_path, "1-ran-all-cells")

    # The sliders, with the keyboard on their handles: readouts show 3 significant figures.
    def slider(name):
        return panel.locator(f".widget-hslider:has(label:text-is('{name}'))")

    def press(name, key, times):
        slider(name).locator(".noUi-handle").focus()
        for _ in range(times):
            page.keyboard.press(key)

    press("learning rate", "ArrowLeft", 3)  # 0.05 -> 10^-1.6
    press("batch size", "ArrowLeft", 1)
    press("epochs", "ArrowRight", 2)
    # The panel says what Train will do once the kernel has the values (a click sent sooner
    # could overtake slider updates that ipywidgets holds back while the kernel is busy).
    next_run = "next run: lr 0.0251, batch 32, 3 epochs"
    wait_until(lambda: text_of(progress) == next_run, 60, next_run)
    readouts = [
        text_of(slider(n).locator(".widget-readout"))
        for n in ("learning rate", "batch size", "epochs")
    ]
    assert readouts == ["0.0251", "32", "3"]
    box = slider("learning rate").locator(".noUi-target").bounding_box()
    assert box["width"] > 150 and box["height"] >= 8  # a track you can hit with a mouse

    # Train: the progress moves inside the first epoch, the kernel stays free, Train is refused.
    curves = panel.locator("img.widget-image")
    picture_before = curves.get_attribute("src")
    train.click()
    step_text = re.compile(r"epoch 1 of 3, step (\d+) of (\d+)")
    first = wait_until(lambda: step_text.search(text_of(progress)), 120, "progress in epoch 1")
    moved = wait_until(
        lambda: (m := step_text.search(text_of(progress))) and int(m[1]) > int(first[1]) and m,
        120,
        "the progress to move on inside epoch 1",
    )
    assert int(moved[1]) < int(moved[2])  # still inside the first epoch
    assert curves.get_attribute("src") != picture_before  # the curves follow
    assert "Training lr 0.0251, batch 32: epoch 1 of 3" in text_of(result)
    assert train.is_disabled() and stop.is_enabled()  # no second run while one trains
    indicator = page.locator(".jp-Notebook-ExecutionIndicator")
    assert indicator.get_attribute("data-status") == "idle"  # the kernel is not blocked
    shot(page, tmp_path, "2-training")

    # Stop mid-run, in the second epoch: the run ends, keeping its finished first epoch.
    wait_until(lambda: "epoch 2 of 3, step" in text_of(progress), 120, "the second epoch")
    stop.click()
    clicked = time.monotonic()
    wait_until(lambda: "Stopped" in text_of(result), 60, "the run to stop")
    stopped_after = time.monotonic() - clicked
    assert not train.is_disabled()
    assert "lr 0.0251, batch 32 (stopped after 1 epoch)" in text_of(legend)
    shot(page, tmp_path, "3-stopped")

    # Train again (one epoch): the runs are overlaid, each labelled.
    press("learning rate", "ArrowRight", 5)  # 10^-1.1
    press("epochs", "ArrowLeft", 2)
    next_run = "next run: lr 0.0794, batch 32, 1 epoch"
    wait_until(lambda: text_of(progress) == next_run, 60, next_run)
    train.click()
    wait_until(lambda: "test accuracy" in text_of(result) and not train.is_disabled(), 300, "run 3")
    runs = text_of(legend)
    assert runs.count("lr ") == 3 and "lr 0.0251, batch 32 (stopped after 1 epoch)" in runs
    assert "lr 0.0794, batch 32 (test accuracy" in runs
    assert "accuracy" in text_of(result) and "after epoch 1" in text_of(result)
    shot(page, tmp_path, "4-runs-overlaid")

    # Kernel -> Interrupt stops a run too, while the kernel is idle.
    train.click()
    wait_until(lambda: "epoch 1 of 1, step" in text_of(progress), 120, "the fourth run to train")
    page.click("div.lm-MenuBar-itemLabel:text-is('Kernel')")
    page.click("li[data-command='kernelmenu:interrupt']")
    wait_until(lambda: "Stopped" in text_of(result), 60, "Interrupt to stop the run")
    assert not train.is_disabled() and text_of(legend).count("lr ") == 4
    shot(page, tmp_path, "5-interrupted")
    assert_no_traceback(page)
    print(f"Stop took {stopped_after:.1f} s from the click to the words in the page")


# --------------------------------------------------------------------- notebook 12: the pad

CANVAS_INK = """canvas => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let top = canvas.height, left = canvas.width, bottom = -1, right = -1;
    for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) {
        const i = 4 * (y * canvas.width + x);
        if (data[i + 3] > 128 && data[i] < 100) {  // dark, opaque: ink
            top = Math.min(top, y); bottom = Math.max(bottom, y);
            left = Math.min(left, x); right = Math.max(right, x);
        }
    }
    return bottom < 0 ? null : [top, left, bottom, right];
}"""


def stroke(page, canvas, points):
    """Drag the mouse through points given as fractions (x, y) of the canvas."""
    box = canvas.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(xy, xy[1:], strict=False):
        for i in range(1, 11):
            page.mouse.move(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
    page.mouse.up()


def kernel_says(page, code):
    """Run code in a new cell at the end of the notebook; its printed output."""
    cells = page.locator(".jp-Notebook .jp-Cell")
    cells.last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new cell below, in edit mode after Enter
    page.keyboard.press("Enter")
    cell = cells.nth(cells.count() - 1)  # Shift+Enter adds one more below it
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    output = cell.locator(".jp-OutputArea-output")
    output.first.wait_for()
    return text_of(output.first)


def test_drawing_pad_in_notebook_12(lab, page, tmp_path):
    server = lab("12_your_handwriting.ipynb")
    with evidence_on_failure(page, tmp_path, "screenshots and the server log"):
        draw_reload_draw(page, server, tmp_path)


def draw_reload_draw(page, lab, tmp_path):
    connect_kernel(page, lab)
    run_all_cells(page)
    canvas = page.locator(".jp-OutputArea canvas").first
    canvas.scroll_into_view_if_needed()
    prediction = page.locator(".lenet-prediction")

    stroke(page, canvas, [(0.55, 0.15), (0.47, 0.85)])  # a "1"
    wait_until(lambda: "sure" in text_of(prediction), 60, "a prediction")
    first_ink = canvas.evaluate(CANVAS_INK)
    assert first_ink is not None
    shot(page, tmp_path, "1-drawn")

    # A page reload (after a save, as autosave does): the canvas comes back from the kernel's
    # raster, not blank.
    page.click("div.lm-MenuBar-itemLabel:text-is('File')")
    page.click("li[data-command='docmanager:save']")
    page.wait_for_selector(".lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)")
    page.reload()
    page.wait_for_selector(".jp-Notebook")
    canvas = page.locator(".jp-OutputArea canvas").first
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    again = wait_until(lambda: canvas.evaluate(CANVAS_INK), 60, "the old strokes to be redrawn")
    assert all(abs(a - b) <= 2 for a, b in zip(again, first_ink, strict=True))
    shot(page, tmp_path, "2-reloaded")

    # Draw more: the new stroke shows, and the network reads what the canvas shows.
    before = text_of(prediction)
    chart = page.locator("img.lenet-chart")
    chart_before = chart.get_attribute("src")
    stroke(page, canvas, [(0.2, 0.15), (0.55, 0.15)])  # a bar on top: a "7"
    wait_until(lambda: chart.get_attribute("src") != chart_before, 60, "a new prediction")
    both = canvas.evaluate(CANVAS_INK)
    assert both[1] < first_ink[1] - 40  # the bar reaches further left: it was drawn
    code = "ink = np.argwhere(pad.raster > 0.5); "
    code += "print(*ink.min(0), *ink.max(0), pad.predict().argmax())"
    raster = kernel_says(page, code)
    top, left, bottom, right, digit = map(int, raster.split())
    assert all(abs(a - b) <= 3 for a, b in zip((top, left, bottom, right), both, strict=True))
    assert f"Prediction: {digit}" in text_of(prediction)
    canvas.scroll_into_view_if_needed()
    shot(page, tmp_path, "3-drawn-again")
    print(f"prediction before the reload: {before!r}; after drawing again: {digit}")

    # The pad keeps drawing and reading while the panel trains, then reads with its network.
    panel = page.locator(".lenet-panel")
    panel.scroll_into_view_if_needed()
    epochs = panel.locator(".widget-hslider:has(label:text-is('epochs'))")
    epochs.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    progress = panel.locator(".lenet-progress")
    next_run = "next run: lr 0.05, batch 64, 3 epochs"
    wait_until(lambda: text_of(progress) == next_run, 60, next_run)
    train = panel.locator("button:has-text('Train')")
    train.click()
    wait_until(lambda: "epoch 1 of 3, step" in text_of(progress), 120, "the panel to train")
    canvas.scroll_into_view_if_needed()
    page.locator("button:has-text('Clear')").click()
    wait_until(lambda: canvas.evaluate(CANVAS_INK) is None, 30, "a clear canvas")
    chart_before = chart.get_attribute("src")
    stroke(page, canvas, [(0.5, 0.15), (0.5, 0.85)])
    wait_until(lambda: chart.get_attribute("src") != chart_before, 60, "a prediction mid-run")
    assert canvas.evaluate(CANVAS_INK) is not None and train.is_disabled()  # still training
    shot(page, tmp_path, "4-drawn-while-training")
    reading = page.locator(".lenet-reading-with")
    wait_until(lambda: "pad now reads" in text_of(panel.locator(".lenet-result")), 300, "the end")
    assert "panel's network (lr 0.05, batch 64)" in text_of(reading)
    shot(page, tmp_path, "5-pad-reads-with-the-new-network")
    assert_no_traceback(page)
