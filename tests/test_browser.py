"""The interactive notebook in JupyterLab, driven in a real headless Chromium.

Starts JupyterLab on 127.0.0.1 with a token in a temporary folder, opens notebook 12, runs all
cells, moves the learning-rate and batch-size sliders, clicks Train, draws a digit on the pad,
and checks what a person would see. Screenshots go to the test's temporary folder (kept by
pytest; its path is printed when the test fails). Skipped with a message where no browser is
installed; .ci/run installs Debian's chromium so that it runs in CI.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "12_your_handwriting.ipynb"
TOKEN = "lenet-browser-test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyter_lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of notebook 12; always stopped."""
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port = free_port()
    env = dict(os.environ, LENET_QUICK="1", JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    log = open(tmp_path / "jupyter.log", "w")  # noqa: SIM115 (closed in finally)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log_path = tmp_path / "jupyter.log"
                    raise RuntimeError(f"JupyterLab did not start; see {log_path}") from None
                time.sleep(0.5)
        yield f"{url}/lab/tree/{NOTEBOOK.name}?token={TOKEN}"
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1100})
        finally:
            browser.close()


def shot(page, tmp_path, name):
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_panel_and_drawing_pad_in_jupyterlab(jupyter_lab, page, tmp_path):
    try:
        run_the_notebook_like_a_person(page, jupyter_lab, tmp_path)
    except Exception:
        shot(page, tmp_path, "failure")
        print(f"screenshots and the server log are in {tmp_path}")
        raise


def run_all_cells(page, attempts=3):
    """Run > Run All Cells, once the kernel is up; again if the kernel was not ready for it.

    JupyterLab may first ask which kernel to start: answer it like a user would.
    """
    first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for _ in range(attempts):
        select = page.locator(".jp-Dialog button:has-text('Select')")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if select.count():
                select.click()
            idle = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
            if page.locator(idle).count() and not select.count():
                break
            time.sleep(0.5)
        page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
        page.click("li[data-command='runmenu:run-all']")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if first_prompt.inner_text().strip() not in ("[ ]:", ""):
                return
            time.sleep(0.5)
    raise AssertionError("Run All Cells did not start any cell")


def run_the_notebook_like_a_person(page, url, tmp_path):
    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    run_all_cells(page)

    # Every cell ran: the pad's canvas and the panel's Train button are on the page.
    page.wait_for_selector("button:has-text('Train')", timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    shot(page, tmp_path, "1-ran-all-cells")
    assert "Traceback" not in page.locator(".jp-Notebook").inner_text()

    # The sliders: keyboard on the handles, as a person using the keyboard would.
    lr = page.locator(".widget-hslider:has(label:text-is('learning rate'))")
    batch = page.locator(".widget-hslider:has(label:text-is('batch size'))")
    lr_before = lr.locator(".widget-readout").inner_text()
    lr.locator(".noUi-handle").focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    batch.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowLeft")
    lr_after = lr.locator(".widget-readout").inner_text()
    assert lr_after != lr_before
    assert batch.locator(".widget-readout").inner_text() == "32"

    page.click("button:has-text('Train')")
    result = page.locator(".widget-html-content:has-text('test accuracy')")
    result.wait_for(timeout=120_000)
    text = result.inner_text()
    assert f"learning rate {float(lr_after):.4g}" in text and "batch size 32" in text
    curves = page.locator(".widget-output img")
    curves.first.wait_for(timeout=30_000)
    assert curves.count() >= 1
    shot(page, tmp_path, "2-trained")

    # Draw a "1": one stroke from top to bottom of the pad's canvas.
    canvas = page.locator(".jp-OutputArea canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x0 - i * 0.4, y0 + i * box["height"] * 0.035)
    page.mouse.up()
    prediction = page.locator(".widget-html-content:has-text('Prediction:')")
    prediction.wait_for(timeout=30_000)
    assert "sure" in prediction.inner_text()
    page.locator(".widget-output img").nth(1).wait_for(timeout=30_000)  # input and probabilities
    shot(page, tmp_path, "3-drawn")
    assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
