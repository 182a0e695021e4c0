"""Notebook 6's exercises: pooling as loops (6.1), max-pool backward with ties (6.2),
average-pool backward (6.3)."""

import numpy as np

from lenet.nn import AvgPool2d, MaxPool2d
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.teaching.exercises.common import layer_backward, pad_width, windows
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]

TIES = np.array([[1, 3, 3, 0], [3, 2, 1, 5], [0, 0, 2, 2], [0, 0, 2, 2]], float)[None, None]


def pool(x, K, S, P=0, kind="max"):
    layer = MaxPool2d(K, S, P) if kind == "max" else AvgPool2d(K, S, P)
    return layer.forward(x)


def avgpool_excluding_padding(x, K, S, P, kind):
    """Average pooling that divides by the number of real (unpadded) pixels in each window."""
    if kind == "max":
        return pool(x, K, S, P, kind)
    counts = pool(np.ones((1, 1, *x.shape[2:])), K, S, P, "avg")
    return pool(x, K, S, P, "avg") / counts


def maxpool_backward(x, dout, kernel_size, stride):
    return layer_backward(MaxPool2d(kernel_size, stride), x, dout)


def maxpool_backward_loop(x, dy, k, s, route, accumulate=True):
    """Max-pool backward as loops; route(window) -> the weight of each of its K x K inputs."""
    dx = np.zeros_like(x)
    for i, j, win in windows(x.shape, k, s):
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                weights = route(x[win][n, c])
                if accumulate:
                    dx[win][n, c] += weights * dy[n, c, i, j]
                else:  # `=` where the gradient goes: a later window overwrites an earlier one
                    dx[win][n, c][weights != 0] = dy[n, c, i, j]
    return dx


def first_max(window):
    mask = np.zeros(window.shape)
    mask[np.unravel_index(np.argmax(window), window.shape)] = 1
    return mask


def last_max(window):
    flat = window.ravel()
    mask = np.zeros(flat.shape)
    mask[flat.size - 1 - np.argmax(flat[::-1])] = 1
    return mask.reshape(window.shape)


def avgpool_backward(dout, x_shape, kernel_size, stride):
    return layer_backward(AvgPool2d(kernel_size, stride), np.zeros(x_shape), dout)


def avgpool_backward_loop(dout, x_shape, k, s, scale, accumulate=True):
    dx = np.zeros(x_shape)
    for i, j, win in windows(x_shape, k, s):
        share = dout[:, :, i, j][:, :, None, None] * scale
        if accumulate:
            dx[win] += share
        else:
            dx[win] = np.broadcast_to(share, dx[win].shape)
    return dx


def backward_cases():
    r = as_generator(6)
    relu_like = np.maximum(r.normal(size=(2, 2, 5, 5)), 0).round(1)  # all-zero windows and ties
    inputs = [  # label, x, K, S
        ("ties inside 2x2 windows", TIES, 2, 2),
        ("overlapping 3x3 windows, stride 1, ties", np.maximum(TIES, 1).repeat(2, 0), 3, 1),
        ("after a ReLU: all-zero windows", relu_like, 2, 2),
        ("3x3 windows with stride 2, odd size", r.normal(size=(2, 3, 7, 5)), 3, 2),
        ("2x2 windows with stride 1", r.normal(size=(1, 2, 4, 5)), 2, 1),
    ]
    backward, avg = [], []
    for label, x, k, s in inputs:
        dout = r.normal(size=pool(x, k, s).shape)
        backward.append(Case(label, {"x": x, "dy": dout, "K": k, "S": s}))
        avg.append(Case(label, {"dy": dout, "x_shape": x.shape, "K": k, "S": s}))
    return tuple(backward), tuple(avg[2:])


def naive_cases():
    r = as_generator(61)
    negative = -np.abs(r.normal(size=(2, 2, 5, 5))) - 0.1  # every value below the zero padding
    cases = [  # label, x, K, S, P, kind
        ("max, 2x2 windows with ties", TIES, 2, 2, 0, "max"),
        ("average, 2x2 windows", TIES, 2, 2, 0, "avg"),
        ("max, 3x3 windows, stride 2, odd size", r.normal(size=(2, 3, 7, 5)), 3, 2, 0, "max"),
        ("max, overlapping 3x3 windows, stride 1", r.normal(size=(1, 2, 5, 6)), 3, 1, 0, "max"),
        ("max, padding 1 around negative values", negative, 3, 2, 1, "max"),
        ("average, padding 1", r.normal(size=(1, 2, 5, 5)), 3, 2, 1, "avg"),
    ]
    return tuple(
        Case(label, {"x": x, "K": k, "S": s, "P": p, "kind": kind})
        for label, x, k, s, p, kind in cases
    )


BACKWARD_CASES, AVGPOOL_CASES = backward_cases()

POOL_NAIVE = Exercise(
    number="6.1",
    function="pool_naive",
    task="return y (N, C, H', W'): the max (kind='max') or mean ('avg') of each K x K window",
    reference=pool,
    cases=naive_cases(),
    mistakes=(
        Mistake(
            wrong=lambda x, k, s, p, kind: pool(x, k, s, p, "avg" if kind == "max" else "max"),
            hint="max and average are swapped: kind='max' takes the largest value of each "
            "window, kind='avg' its mean",
        ),
        Mistake(
            wrong=lambda x, k, s, p, kind: pool(x, k, k, p, kind),
            hint="your windows are K apart; they move by the stride S (and may overlap)",
        ),
        Mistake(
            wrong=lambda x, k, s, p, kind: pool(x, k, 1, p, kind)[
                :, :, : (x.shape[2] + 2 * p - k) // s + 1, : (x.shape[3] + 2 * p - k) // s + 1
            ],
            hint="your output has the right size, but the window does not move by the "
            "stride: it starts at i * S, not i",
        ),
        Mistake(
            wrong=lambda x, k, s, p, kind: pool(x, k, s, p, kind)[:, :, :-1, :-1],
            hint="the output size lost its +1: H' = (H + 2P - K) // S + 1",
        ),
        Mistake(
            wrong=lambda x, k, s, p, kind: pool(np.pad(x, pad_width(p)), k, s, 0, kind),
            hint="max pooling pads with -inf, not 0: a zero in the padding would beat "
            "negative values (np.pad(..., constant_values=-np.inf))",
        ),
        Mistake(
            wrong=avgpool_excluding_padding,
            hint="average pooling divides by K*K even where the window covers padding "
            "(the zeros count, as in PyTorch); you divided by the number of real pixels",
        ),
        Mistake(
            wrong=lambda x, k, s, p, kind: pool(
                np.pad(x, pad_width(p), constant_values=-np.inf if kind == "max" else 0),
                k,
                s,
                p,
                kind,
            ),
            hint="the padding is applied twice (2P per side): pad once, by P",
        ),
    ),
    outputs=("y",),
)

MAXPOOL_BACKWARD = Exercise(
    number="6.2",
    function="maxpool_backward_naive",
    task="return dx (N, C, H, W): each window's dy routed to its first maximum",
    reference=maxpool_backward,
    cases=BACKWARD_CASES,
    mistakes=(
        Mistake(
            wrong=lambda x, d, k, s: maxpool_backward_loop(x, d, k, s, lambda w: w == w.max()),
            hint="a window with tied maxima gives its gradient to *every* tie: the "
            "gradient is duplicated. Route it to one maximum only, the first "
            "(np.argmax), as lenet and PyTorch do",
        ),
        Mistake(
            wrong=lambda x, d, k, s: maxpool_backward_loop(
                x, d, k, s, lambda w: (w == w.max()) / (w == w.max()).sum()
            ),
            hint="a window with tied maxima splits its gradient between the ties: give "
            "all of it to the first maximum (np.argmax), as lenet and PyTorch do",
        ),
        Mistake(
            wrong=lambda x, d, k, s: maxpool_backward_loop(x, d, k, s, last_max),
            hint="on ties your gradient goes to the *last* maximum; lenet and PyTorch "
            "pick the first in row-major order (np.argmax)",
        ),
        Mistake(
            wrong=lambda x, d, k, s: maxpool_backward_loop(x, d, k, s, first_max, False),
            hint="where windows overlap, a pixel that is the maximum of two windows "
            "collects both gradients: add with +=, do not assign with =",
        ),
        Mistake(
            wrong=lambda x, d, k, s: avgpool_backward(d, x.shape, k, s),
            hint="that is average pooling's gradient (spread evenly); max pooling gives "
            "everything to the maximum",
        ),
    ),
    outputs=("dx",),
)

AVGPOOL_BACKWARD = Exercise(
    number="6.3",
    function="avgpool_backward",
    task="return dx of shape x_shape: each window's dy / K^2 added to its K x K inputs",
    reference=avgpool_backward,
    cases=AVGPOOL_CASES,
    mistakes=(
        Mistake(
            wrong=lambda d, xs, k, s: avgpool_backward_loop(d, xs, k, s, 1.0),
            hint="divide by K*K: each input has weight 1/K^2 in the mean",
        ),
        Mistake(
            wrong=lambda d, xs, k, s: avgpool_backward_loop(d, xs, k, s, 1.0 / k),
            hint="divide by K*K (the window's area), not K",
        ),
        Mistake(
            wrong=lambda d, xs, k, s: avgpool_backward_loop(d, xs, k, s, 1.0 / k**2, False),
            hint="where windows overlap, a pixel collects gradient from every window: "
            "add with +=, do not assign with =",
        ),
    ),
    outputs=("dx",),
)


def maxpool_fast(x, K):
    return MaxPool2d(K).forward(x)


def maxpool_backward_fast(x, dy, K):
    return layer_backward(MaxPool2d(K), x, dy)


def fast_cases(with_dy):
    r = as_generator(64)
    cases = []
    for label, shape, k in [
        ("2 x 2 windows on a 4 x 6 image", (2, 3, 4, 6), 2),
        ("3 x 3 windows on 6 x 6", (1, 2, 6, 6), 3),
        ("ties: values 0, 1, 2 (every window has one)", (2, 2, 4, 4), 2),
    ]:
        x = r.integers(0, 3, shape).astype(float) if "ties" in label else r.normal(size=shape)
        x[0, 0, :2, :2] = 1.0 if "ties" in label else x[0, 0, :2, :2]  # one window all tied
        args = {"x": x}
        if with_dy:
            args["dy"] = r.normal(size=(shape[0], shape[1], shape[2] // k, shape[3] // k))
        args["K"] = k
        cases.append(Case(label, args))
    return tuple(cases)


def _windows_last(x, k):
    """(N, C, H, W) -> (N, C, H/K, W/K, K*K): each window's K*K values, row-major, last."""
    n, c, h, w = x.shape
    return (
        x.reshape(n, c, h // k, k, w // k, k)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, h // k, w // k, k * k)
    )


def _from_windows(dwin, shape, k):
    """The inverse of _windows_last."""
    n, c, h, w = shape
    return dwin.reshape(n, c, h // k, w // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def maxpool_backward_routed(route):
    """Vectorised max-pool backward with a rule for where each window's dy goes."""

    def backward(x, dy, K):
        windows = _windows_last(x, K)
        return _from_windows(route(windows) * dy[..., None], x.shape, K)

    return backward


def _to_all_maxima(windows):
    return (windows == windows.max(axis=-1, keepdims=True)).astype(float)


MAXPOOL_FAST = Exercise(
    number="6.4",
    function="maxpool_fast",
    task="return max pooling with K x K windows and stride K, without a Python loop",
    reference=maxpool_fast,
    cases=fast_cases(with_dy=False),
    mistakes=(
        Mistake(
            wrong=lambda x, k: _windows_last(x, k).mean(axis=-1),
            hint="that is average pooling: take the max of each window",
        ),
        Mistake(
            wrong=lambda x, k: x.reshape(
                x.shape[0], x.shape[1], k, x.shape[2] // k, k, x.shape[3] // k
            ).max(axis=(2, 4)),
            hint="reshape to (N, C, H/K, K, W/K, K): the window index comes before the offset "
            "inside it, then take the max over axes 3 and 5",
        ),
        Mistake(
            wrong=lambda x, k: x.reshape(
                x.shape[0], x.shape[1], x.shape[2] // k, k, x.shape[3] // k, k
            ).max(axis=3),
            hint="take the max over both offsets inside the window: axis=(3, 5)",
        ),
    ),
    outputs=("y",),
)

MAXPOOL_BACKWARD_FAST = Exercise(
    number="6.5",
    function="maxpool_backward_fast",
    task="return dx: each window's dy to its first maximum, without a Python loop",
    reference=maxpool_backward_fast,
    cases=fast_cases(with_dy=True),
    mistakes=(
        Mistake(
            wrong=maxpool_backward_routed(_to_all_maxima),
            hint="with ties, dy goes to ONE maximum, the first in row-major order "
            "(np.argmax gives it), not to every entry equal to the maximum",
        ),
        Mistake(
            wrong=maxpool_backward_routed(
                lambda w: _to_all_maxima(w) / _to_all_maxima(w).sum(axis=-1, keepdims=True)
            ),
            hint="with ties, dy goes whole to the first maximum, never split between them",
        ),
        Mistake(
            wrong=lambda x, dy, k: maxpool_backward_routed(
                lambda w: np.eye(k * k)[w.argmax(axis=-1)]
            )(x, np.ones_like(dy), k),
            hint="multiply by the upstream gradient: the maximum receives dy, not 1",
        ),
    ),
    outputs=("dx",),
)

EXERCISES = (POOL_NAIVE, MAXPOOL_BACKWARD, AVGPOOL_BACKWARD, MAXPOOL_FAST, MAXPOOL_BACKWARD_FAST)
