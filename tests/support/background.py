"""Helpers for tests of the panel, its trainer and the pad: hold a training thread, draw."""

import threading

import numpy as np
from synthetic import tiny_data

WAIT = 120  # seconds: generous timeouts for a busy machine; a passing test never waits them out


class Gate:
    """A trainer clock that holds the training thread at its n-th call until released."""

    def __init__(self, hold_at=3, on_hold=None):
        self.calls, self.hold_at, self.on_hold = 0, hold_at, on_hold
        self.held, self.release = threading.Event(), threading.Event()

    def __call__(self):
        self.calls += 1
        if self.calls == self.hold_at:
            self.held.set()
            if self.on_hold is not None:
                self.on_hold()
            assert self.release.wait(WAIT), "the test never released the training thread"
        return float(self.calls)


def bigger_data():
    """tiny_data with 4 times the training images: 16 steps of 64 per epoch."""
    (x, y), val, test = tiny_data()
    return (np.concatenate([x] * 4), np.concatenate([y] * 4)), val, test


def draw_a_one(pad):
    """A vertical stroke down the middle of a DrawingPad's 280 x 280 canvas."""
    pad.pen_down(140, 40)
    for y in range(40, 240, 10):
        pad.pen_move(140, y)
    pad.pen_up()
