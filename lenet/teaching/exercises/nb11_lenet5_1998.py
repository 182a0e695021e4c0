"""Notebook 11's exercises (the 1998 LeNet-5): the C3 masked convolution (11.1), the RBF
output (11.2) and its backward pass (11.3)."""

import numpy as np

from lenet.paper1998 import C3_TABLE, DIGIT_BITMAPS, MaskedConv2d, RBFOutput
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.teaching.exercises.common import conv_layer, layer_backward
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]

PROTOTYPES = DIGIT_BITMAPS.reshape(10, -1)  # (10, 84)


def c3_forward(x, W, b, table):
    layer = MaskedConv2d(table.shape[1], table.shape[0], W.shape[-1], table, dtype=np.float64)
    layer.params["W"][...], layer.params["b"][...] = W, b  # forward applies W * mask
    return layer.forward(x)


def rbf_output(x):
    return RBFOutput().forward(x)


def rbf_backward(x, dout):
    return layer_backward(RBFOutput(), x, dout)


def c3_cases():
    r = as_generator(11)
    lower = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], bool)
    part = np.array([[1, 1, 0, 0], [0, 1, 0, 1]], bool)
    cases = [  # label, x shape, table, K
        ("3 maps, an asymmetric table", (1, 3, 5, 6), lower, 3),
        ("2 maps reading 4, odd sizes", (2, 4, 7, 5), part, 3),
        ("the real C3 table", (2, 6, 7, 7), np.array(C3_TABLE), 5),
    ]
    return tuple(
        Case(
            label,
            {
                "x": r.normal(size=xs),
                "W": r.normal(size=(*t.shape, k, k)),
                "b": r.normal(size=t.shape[0]),
                "table": t,
            },
        )
        for label, xs, t, k in cases
    )


def rbf_cases(with_dout):
    r = as_generator(12)
    cases = []
    for label, x in [
        ("one example", r.normal(size=(1, 84))),
        ("three examples near +-1", np.tanh(2 * r.normal(size=(3, 84)))),
        ("digit 7's own bitmap", PROTOTYPES[[7, 1]] + 0.1 * r.normal(size=(2, 84))),
    ]:
        args = {"x": x, "dout": r.normal(size=(len(x), 10))} if with_dout else {"x": x}
        cases.append(Case(label, args))
    return tuple(cases)


C3 = Exercise(
    number="11.1",
    function="c3_forward",
    task="return y (N, O, H-K+1, W-K+1): conv of x with W, output map o reading input map c "
    "only where table[o, c], plus b",
    reference=c3_forward,
    cases=c3_cases(),
    mistakes=(
        Mistake(
            wrong=lambda x, W, b, t: conv_layer(W, b).forward(x),
            hint="the table is not applied: weights W[o, c] with table[o, c] False must "
            "not count (multiply W by table[:, :, None, None])",
        ),
        Mistake(
            wrong=lambda x, W, b, t: c3_forward(x, W, b, t.T),
            hint="table[o, c] says whether output map o reads input map c; you used table[c, o]",
        ),
        Mistake(
            wrong=lambda x, W, b, t: c3_forward(x, W, np.zeros_like(b), t),
            hint="the bias b[o] is missing",
        ),
        Mistake(
            wrong=lambda x, W, b, t: c3_forward(x, W[:, :, ::-1, ::-1], b, t),
            hint="your kernel is flipped (true convolution); like every framework, lenet "
            "computes cross-correlation: x[.., i + a, j + d] * W[.., a, d]",
        ),
    ),
    outputs=("y",),
)

RBF = Exercise(
    number="11.2",
    function="rbf_output",
    task="return -y (N, 10), y[n, i] = sum_j (x[n, j] - w[i, j])^2, w = the flattened bitmaps",
    reference=rbf_output,
    cases=rbf_cases(False),
    mistakes=(
        Mistake(
            wrong=lambda x: -rbf_output(x),
            hint="return the *negative* distances -y: the best digit is then the largest "
            "output, as in every lenet model",
        ),
        Mistake(
            wrong=lambda x: -np.sqrt(-rbf_output(x)),
            hint="y is the *squared* distance: leave out the square root",
        ),
        Mistake(
            wrong=lambda x: (
                -(((x[:, None, :] - DIGIT_BITMAPS.transpose(0, 2, 1).reshape(10, -1)) ** 2).sum(-1))
            ),
            hint="flatten each 12 x 7 bitmap row by row (DIGIT_BITMAPS.reshape(10, -1)), "
            "not column by column",
        ),
        Mistake(
            wrong=lambda x: rbf_output(x) / 84,
            hint="sum the 84 squared differences, do not average them",
        ),
        Mistake(
            wrong=lambda x: -(np.abs(x[:, None, :] - PROTOTYPES).sum(-1)),
            hint="square the differences (x_j - w_ij)^2; you summed their absolute values",
        ),
    ),
    outputs=("-y",),
)

RBF_BACKWARD = Exercise(
    number="11.3",
    function="rbf_backward",
    task="return dL/dx (N, 84) of the outputs -y for the upstream dout (N, 10)",
    reference=rbf_backward,
    cases=rbf_cases(True),
    mistakes=(
        Mistake(
            wrong=lambda x, d: -rbf_backward(x, d),
            hint="wrong sign: the layer returns -y, so d(-y_i)/dx = -2 (x - w_i)",
        ),
        Mistake(
            wrong=lambda x, d: rbf_backward(x, d) / 2,
            hint="the derivative of (x_j - w_ij)^2 is 2 (x_j - w_ij): the 2 is missing",
        ),
        Mistake(
            wrong=lambda x, d: 2 * d @ PROTOTYPES,
            hint="x appears in every unit's distance: the term -2 x sum_i dout_i is missing",
        ),
        Mistake(
            wrong=lambda x, d: -2 * (x - d @ PROTOTYPES),
            hint="each unit contributes dout_i (x - w_i): x is multiplied by the sum of "
            "dout over the 10 units, not by 1",
        ),
    ),
    outputs=("dx",),
)

EXERCISES = (C3, RBF, RBF_BACKWARD)
