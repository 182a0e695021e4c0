"""Notebook 5's exercises: the output size (5.1), convolution as loops (5.2), its backward
pass (5.3). The padded cases try P = 2 before P = 1, where P + 1 and 2P would look alike."""

import numpy as np

from lenet.nn import Conv2d, im2col
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.teaching.exercises.common import conv_layer, pad_width, windows
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]

BROADCAST = "could not be broadcast"


def out_size(H, K, S, P):
    return Conv2d(1, 1, K, S, P, dtype=np.float64).forward(np.zeros((1, 1, H, H))).shape[-1]


def conv_forward(x, W, b, stride=1, padding=0):
    return conv_layer(W, b, stride, padding).forward(x)


def out(x, W, stride, padding, axis=2):
    """The output size of a convolution of x with W along one axis (2: height, 3: width)."""
    return (x.shape[axis] + 2 * padding - W.shape[-1]) // stride + 1


def loops_on_padded(xp, W, b, stride, h_out, w_out):
    """The loop form on an already padded xp, for a given output size (windows may run off)."""
    K = W.shape[-1]
    y = np.zeros((xp.shape[0], W.shape[0], h_out, w_out))
    for i, j, win in windows((0, 0, h_out * stride + K - 1, w_out * stride + K - 1), K, stride):
        for o in range(W.shape[0]):
            y[:, o, i, j] = (xp[win] * W[o]).sum(axis=(1, 2, 3)) + b[o]
    return y


def conv_backward(x, W, dy, stride=1, padding=0):
    layer = conv_layer(W, None, stride, padding)
    layer.forward(x)
    dx = layer.backward(dy)
    return dx, layer.grads["W"], dy.sum(axis=(0, 2, 3))


def conv_backward_assigning(x, W, dy, stride, padding):
    """The notebook's loops (n, o, then windows) with dx[window] = ... instead of +=."""
    xp = np.pad(x, pad_width(padding))
    dxp = np.zeros_like(xp)
    for n in range(dy.shape[0]):
        for o in range(dy.shape[1]):
            for i, j, win in windows(xp.shape, W.shape[-1], stride):
                dxp[n][win[1:]] = dy[n, o, i, j] * W[o]
    h, w = x.shape[2:]
    _, dW, db = conv_backward(x, W, dy, stride, padding)
    return dxp[:, :, padding : padding + h, padding : padding + w], dW, db


def cropped_with_negative_end(x, W, dy, s, p):
    """dx cut out of the padded gradient with [P:-P]: empty when P = 0."""
    dxp, dW, db = conv_backward(np.pad(x, pad_width(p)), W, dy, s, 0)
    return dxp[:, :, p:-p, p:-p], dW, db


def db_over(axes):
    return lambda x, W, d, s, p: (*conv_backward(x, W, d, s, p)[:2], d.sum(axis=axes))


def conv_cases():
    r = as_generator(5)
    shapes = [  # label, x shape, W shape, stride, padding
        ("one channel, 3x3 kernel", (1, 1, 5, 5), (1, 1, 3, 3), 1, 0),
        ("padding 2, 5x5 kernel", (1, 2, 6, 8), (2, 2, 5, 5), 1, 2),
        ("padding 1, 3 channels in and out", (2, 3, 5, 5), (3, 3, 3, 3), 1, 1),
        ("stride 2, padding 1, odd non-square image", (2, 3, 7, 6), (4, 3, 3, 3), 2, 1),
        ("stride 3, as many output as input channels", (1, 3, 8, 7), (3, 3, 2, 2), 3, 0),
    ]
    forward, backward = [], []
    for label, xs, ws, s, p in shapes:
        x, W, b = r.normal(size=xs), r.normal(size=ws), r.normal(size=ws[0])
        dout = r.normal(size=conv_forward(x, W, b, s, p).shape)
        forward.append(Case(label, {"x": x, "W": W, "b": b, "stride": s, "padding": p}))
        backward.append(Case(label, {"x": x, "W": W, "dy": dout, "stride": s, "padding": p}))
    return tuple(forward), tuple(backward)


FORWARD_CASES, BACKWARD_CASES = conv_cases()

OUT_SIZE = Exercise(
    number="5.1",
    function="out_size",
    task="return H', the number of positions of the window along one axis (an int)",
    reference=out_size,
    cases=tuple(
        Case(label, dict(zip("HKSP", v, strict=True)))
        for label, v in [
            ("LeNet's C1", (28, 5, 1, 2)),
            ("stride 2, padding 1", (7, 3, 2, 1)),
            ("a stride that does not divide evenly", (8, 3, 2, 0)),
            ("kernel as large as the image", (5, 5, 1, 0)),
            ("stride 3, padding 2", (10, 3, 3, 2)),
        ]
    ),
    mistakes=(
        Mistake(
            wrong=lambda H, K, S, P: (H + 2 * P - K) // S,
            hint="the +1 is missing: a window that fits exactly still counts once",
        ),
        Mistake(
            wrong=lambda H, K, S, P: (H + P - K) // S + 1, hint="padding goes on both sides: H + 2P"
        ),
        Mistake(
            wrong=lambda H, K, S, P: (H - K) // S + 1,
            hint="the padding is missing: the padded image is H + 2P wide",
        ),
    ),
    outputs=("H'",),
)

PADDING_MISTAKES = (
    Mistake(
        wrong=lambda x, W, b, s, p: conv_forward(x, W, b, s, 2 * p),
        hint="the padding is applied twice (2P zeros per side): pad once, by P",
    ),
    Mistake(
        wrong=lambda x, W, b, s, p: conv_forward(x, W, b, s, p + 1),
        hint="padding off by one: P + 1 zeros per side instead of P",
    ),
    Mistake(
        wrong=lambda x, W, b, s, p: conv_forward(x, W, b, s, max(p - 1, 0)),
        hint="padding off by one: P - 1 zeros per side instead of P",
    ),
    Mistake(
        wrong=lambda x, W, b, s, p: conv_forward(x, W, b, s, 2 * p)[
            :, :, : out(x, W, s, p), : out(x, W, s, p, 3)
        ],
        hint="the padding is applied twice: H' and W' are right, but the image got 2P zeros "
        "per side, so every window is shifted by P rows and columns. Pad once, by P",
    ),
    Mistake(
        wrong=lambda x, W, b, s, p: conv_forward(x, W, b, s, p + 1)[
            :, :, : out(x, W, s, p), : out(x, W, s, p, 3)
        ],
        hint="padding off by one: H' and W' are right, but the image got P + 1 zeros per "
        "side, so every window is shifted by a row and a column",
    ),
    Mistake(
        wrong=lambda x, W, b, s, p: conv_forward(
            np.pad(x, ((0, 0), (0, 0), (0, p), (0, p))), W, b, s, 0
        ),
        hint="padding on one side only: P zeros go on *each* side (top and bottom, left and right)",
    ),
    Mistake(
        wrong=lambda x, W, b, s, p: conv_forward(
            np.pad(x, ((0, 0), (0, 0), (p, 0), (p, 0))), W, b, s, 0
        ),
        hint="padding on one side only: P zeros go on *each* side (top and bottom, left and right)",
    ),
    Mistake(
        wrong=lambda x, W, b, s, p: loops_on_padded(
            x, W, b, s, out(x, W, s, p), out(x, W, s, p, 3)
        ),
        error=BROADCAST,
        hint="your windows run past the edge of the padded image, so the last ones are cut short: "
        "is the padding missing, or on one side only? P zeros go on *each* side (top and "
        "bottom, left and right)",
    ),
    Mistake(
        wrong=lambda x, W, b, s, p: conv_forward(x, W, b, s, 0),
        hint="the padding is missing: pad P zeros on each side before sliding the window",
    ),
)

CONV_NAIVE = Exercise(
    number="5.2",
    function="conv_naive",
    task="return y (N, O, H', W'): the cross-correlation of x with W plus b, stride and padding",
    reference=conv_forward,
    cases=FORWARD_CASES,
    mistakes=PADDING_MISTAKES
    + (
        Mistake(
            wrong=lambda x, W, b, s, p: conv_forward(x, W, b, 1, p)[
                :, :, : out(x, W, s, p), : out(x, W, s, p, 3)
            ],
            hint="your output has the right size, but the window does not move by the "
            "stride: it starts at i * S, not i",
        ),
        Mistake(
            wrong=lambda x, W, b, s, p: conv_forward(x, W, b, 1, p),
            hint="the stride is ignored: the window moves S pixels at a time",
        ),
        Mistake(
            wrong=lambda x, W, b, s, p: conv_forward(x, W, b, s, p)[:, :, :-1, :-1],
            hint="the output size lost its +1: H' = (H + 2P - K) // S + 1",
        ),
        Mistake(
            wrong=lambda x, W, b, s, p: conv_forward(x, W[:, :, ::-1, ::-1], b, s, p),
            hint="your kernel is flipped (true convolution); lenet, like every framework, "
            "computes cross-correlation: x[.., iS + a, jS + d] * W[.., a, d]",
        ),
        Mistake(
            wrong=lambda x, W, b, s, p: conv_forward(x, W, None, s, p),
            hint="the bias b[o] is missing",
        ),
        Mistake(
            wrong=lambda x, W, b, s, p: conv_forward(x, W.transpose(1, 0, 2, 3), b, s, p),
            hint="W is (O, C, K, K): output channel first, then input channel",
        ),
    ),
    outputs=("y",),
)

DB_AXES = "db[o] sums dy over the batch and every position: dy.sum(axis=(0, 2, 3)), shape (O,)"

CONV_BACKWARD = Exercise(
    number="5.3",
    function="conv_backward_naive",
    task="return (dx, dW, db) of the convolution for the upstream gradient dy (N, O, H', W')",
    reference=conv_backward,
    cases=BACKWARD_CASES,
    mistakes=(
        Mistake(
            wrong=lambda x, W, d, s, p: (
                conv_backward(np.pad(x, pad_width(p)), W, d, s, 0)[0],
                *conv_backward(x, W, d, s, p)[1:],
            ),
            hint="dx still has the padding: cut P rows and columns off each side, "
            "dx has the shape of x",
        ),
        Mistake(
            wrong=cropped_with_negative_end,
            hint="dx[:, :, P:-P, P:-P] is empty when P = 0 (-0 is 0, so the slice is 0:0): "
            "cut the padding off with P:P + H and P:P + W",
        ),
        Mistake(
            wrong=conv_backward_assigning,
            hint="where windows overlap, each pixel collects gradient from every window "
            "it is in: add with +=, do not assign with =",
        ),
        Mistake(
            wrong=lambda x, W, d, s, p: (
                *conv_backward(x, W, d, s, p)[:2],
                d.sum(axis=(0, 2, 3)) / len(x),
            ),
            hint="db is a sum over the batch and the positions, not a mean",
        ),
        Mistake(
            wrong=db_over((2, 3)),
            hint="db must be summed over the batch too: dout.sum(axis=(0, 2, 3)), shape (O,)",
        ),
        *(Mistake(wrong=db_over(axes), hint=DB_AXES) for axes in [(1, 2, 3), 0, (0, 1), None]),
        Mistake(
            wrong=lambda x, W, d, s, p: (
                conv_backward(x, W[:, :, ::-1, ::-1], d, s, p)[0],
                *conv_backward(x, W, d, s, p)[1:],
            ),
            hint="in the loop form no kernel flip is needed: dx[window] += W[o] * dout[n, o, i, j]",
        ),
        Mistake(
            wrong=lambda x, W, d, s, p: (
                conv_backward(x, W, d, s, p)[0],
                conv_backward(x, W, d, s, p)[1] / len(x),
                conv_backward(x, W, d, s, p)[2] / len(x),
            ),
            hint="no division by N here: dout already carries the loss's 1/N",
        ),
    ),
    outputs=("dx", "dW", "db"),
    points=2,
)


def conv_im2col_variant(order="h', w', n", bias=True, padding_used=True):
    """The im2col forward pass with the usual slips switchable (the right one by default)."""

    def conv(x, W, b, stride=1, padding=0):
        n, o, k = len(x), len(W), W.shape[-1]
        xp = im2col.pad(x, padding if padding_used else 0)
        h_out, w_out = im2col.output_shape(xp.shape, k, stride)
        y2d = W.reshape(o, -1) @ im2col.im2col(xp, k, stride) + (b[:, None] if bias else 0)
        if order == "n, h', w'":
            return y2d.reshape(o, n, h_out, w_out).transpose(1, 0, 2, 3)
        return y2d.reshape(o, h_out, w_out, n).transpose(3, 0, 1, 2)

    return conv


CONV_IM2COL = Exercise(
    number="5.4",
    function="conv_im2col",
    task="return the convolution y: (N, O, H', W') as one matrix product with im2col's columns",
    reference=conv_forward,
    cases=FORWARD_CASES,
    mistakes=(
        Mistake(
            wrong=conv_im2col_variant(order="n, h', w'"),
            hint="im2col's columns run over (h', w', n), batch last: reshape the product to "
            "(O, H', W', N), then move N to the front with transpose(3, 0, 1, 2)",
        ),
        Mistake(
            wrong=conv_im2col_variant(bias=False),
            hint="add the bias: b[:, None] to every column of the (O, H'W'N) product",
        ),
        Mistake(
            wrong=conv_im2col_variant(padding_used=False),
            hint="pad x first (im2col.pad(x, padding)): im2col slides over the padded image",
        ),
    ),
    outputs=("y",),
)


def conv_backward_im2col_variant(order="h', w', n", crop=True, db_axis=1):
    """The im2col backward pass with the usual slips switchable (the right one by default)."""

    def backward(x, W, dy, stride=1, padding=0):
        o, k = len(W), W.shape[-1]
        xp = im2col.pad(x, padding)
        cols = im2col.im2col(xp, k, stride)
        first = (1, 2, 3, 0) if order == "h', w', n" else (1, 0, 2, 3)
        dy2d = dy.transpose(*first).reshape(o, -1)
        dW = (dy2d @ cols.T).reshape(W.shape)
        dxp = im2col.col2im(W.reshape(o, -1).T @ dy2d, xp.shape, k, stride)
        dx = im2col.unpad(dxp, padding) if crop else dxp
        return dx, dW, dy2d.sum(axis=db_axis)

    return backward


CONV_BACKWARD_IM2COL = Exercise(
    number="5.5",
    function="conv_backward_im2col",
    task="return (dx, dW, db) of the convolution with two matrix products and col2im",
    reference=conv_backward,
    cases=BACKWARD_CASES,
    mistakes=(
        Mistake(
            wrong=conv_backward_im2col_variant(order="n, h', w'"),
            hint="dy must list its columns in cols' order (h', w', n): "
            "dy.transpose(1, 2, 3, 0).reshape(O, -1), not transpose(1, 0, 2, 3)",
        ),
        Mistake(
            wrong=conv_backward_im2col_variant(crop=False),
            hint="col2im gives the gradient of the padded input: cut the padding off "
            "(im2col.unpad(dxp, padding)), dx has the shape of x",
        ),
        Mistake(
            wrong=conv_backward_im2col_variant(db_axis=0),
            hint="db sums each row of the (O, H'W'N) matrix dy2d: dy2d.sum(axis=1), shape (O,)",
        ),
    ),
    outputs=("dx", "dW", "db"),
)

EXERCISES = (OUT_SIZE, CONV_NAIVE, CONV_BACKWARD, CONV_IM2COL, CONV_BACKWARD_IM2COL)
