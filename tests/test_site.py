"""The static website and the slides, read in a real headless Chromium with the network off.

Builds the site and the slides for notebooks 05 and 09 with tools/book.py (what `make book` and
`make slides` run; CI runs those two for every notebook) into a temporary folder, then reads
them as a reader and a lecturer would: the index, the link to the LeNet-5 notebook, its
pictures and its math; notebook 05's first slide, the right arrow, the second slide. Every
request that is not a local file is blocked and reported: the pages must work offline.
Screenshots go to the test's temporary folder. Skipped where chromium or playwright is missing.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_FLAGS, evidence_on_failure, shot

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
LENET5 = "09_lenet5_mnist"
CONVOLUTION = "05_convolution"
RAW_MATH = re.compile(r"\$[^$\s][^$]*\$")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The site and the slides of notebooks 05 and 09, built as `make book slides` does."""
    pytest.importorskip("jupyter_server_mathjax", reason='the docs extra is missing: ".[docs]"')
    pytest.importorskip("sphinx_revealjs", reason='the docs extra is missing: ".[docs]"')
    out = tmp_path_factory.mktemp("book")
    notebooks = [str(ROOT / "notebooks" / f"{name}.ipynb") for name in (CONVOLUTION, LENET5)]
    env = dict(os.environ, LENET_QUICK=os.environ.get("LENET_QUICK", "1"))
    for what in ("site", "slides"):
        command = [sys.executable, str(ROOT / "tools" / "book.py"), what, *notebooks]
        subprocess.run([*command, "--out", str(out / what)], check=True, env=env, timeout=1800)
    return out


@pytest.fixture
def offline_page(tmp_path):
    """A Chromium page on which every request but file:// and data: is blocked and recorded."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium)")
    outside = []

    def block(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", block)
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page, outside, errors
        finally:
            browser.close()


def wait_for_math(page):
    page.wait_for_selector("html[data-math='typeset']", state="attached", timeout=60_000)


def test_reader_browses_the_site(built, offline_page, tmp_path):
    page, outside, errors = offline_page
    with evidence_on_failure(page, tmp_path):
        page.goto((built / "site" / "index.html").as_uri())
        wait_for_math(page)
        entries = page.locator("ol.lenet-notebooks > li")
        assert entries.count() == 2
        assert "Convolution" in entries.nth(0).inner_text()
        shot(page, tmp_path, "1-index")

        page.click(f"a[href='{LENET5}.html']")
        page.wait_for_url(f"**/{LENET5}.html")
        wait_for_math(page)
        assert "LeNet-5" in page.locator("h1").first.inner_text()

        # The pictures: every <img> has loaded and has pixels.
        page.wait_for_function("() => [...document.images].every(img => img.complete)")
        sizes = page.evaluate("() => [...document.images].map(img => img.naturalWidth)")
        assert len(sizes) >= 5 and min(sizes) > 0, sizes

        # The math: MathJax drew it, and no $...$ is left in the text of the markdown.
        assert page.locator(".MathJax").count() >= 5
        fonts = page.evaluate("() => [...document.fonts].map(f => f.family + ' ' + f.status)")
        assert any("STIX" in font and font.endswith("loaded") for font in fonts), fonts
        prose = page.locator(".jp-MarkdownOutput").all_inner_texts()
        left = [m for text in prose for m in RAW_MATH.findall(text)]
        assert not left, left

        # Printed numbers are there, widgets are never raw reprs, nothing failed.
        text = page.locator("main").inner_text()
        assert "test accuracy" in text.lower()
        for raw in ("VBox(children", "HBox(children", "Traceback", "Math Processing Error"):
            assert raw not in text
        shot(page, tmp_path, "2-lenet5")
        page.locator(".MathJax").first.scroll_into_view_if_needed()
        shot(page, tmp_path, "3-lenet5-math", full_page=False)

        assert not outside, f"requests left the machine: {outside}"
        assert not errors, errors


def test_lecturer_steps_through_slides(built, offline_page, tmp_path):
    page, outside, errors = offline_page
    with evidence_on_failure(page, tmp_path):
        page.goto((built / "slides" / f"{CONVOLUTION}.slides.html").as_uri())
        page.wait_for_selector(".reveal.ready", state="attached", timeout=60_000)
        wait_for_math(page)
        first = page.locator(".slides > section.present")
        first.wait_for(state="visible")
        assert "convolution" in first.locator("h1").first.inner_text().lower()
        assert page.evaluate("() => Reveal.getIndices().h") == 0
        first_text = first.inner_text()
        shot(page, tmp_path, "4-slide-1", full_page=False)

        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => Reveal.getIndices().h === 1")
        wait_for_math(page)  # drawn again for the slide now shown
        second = page.locator(".slides > section.present")
        second.wait_for(state="visible")
        second_text = second.inner_text()
        assert second_text.strip() and second_text != first_text
        assert second.locator(".MathJax").count() >= 1  # notebook 5's second slide has math
        assert page.locator(".slide-number").inner_text().startswith("2")
        shot(page, tmp_path, "5-slide-2", full_page=False)

        assert not outside, f"requests left the machine: {outside}"
        assert not errors, errors
