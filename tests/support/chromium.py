"""Debian's Chromium for the real-browser tests, started the way this offline machine needs,
and the screenshots they keep."""

import contextlib

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags, Chromium keeps trying hosts the closed network refuses.
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


def shot(page, folder, name, full_page=True):
    """A screenshot of the page as folder/name.png: what the test saw, to open and look at."""
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


@contextlib.contextmanager
def evidence_on_failure(page, folder, kept="screenshots"):
    """On a failure inside, a screenshot of the page as it was, and a line saying where."""
    try:
        yield
    except BaseException:
        shot(page, folder, "failure")
        print(f"{kept} are in {folder}")
        raise
