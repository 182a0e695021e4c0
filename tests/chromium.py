"""Debian's Chromium for the real-browser tests, started the way this offline machine needs."""

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
