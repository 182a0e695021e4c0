"""Notebook 7's exercises: a stable softmax (7.1), the cross-entropy (7.2) and its
gradient (7.3)."""

import numpy as np

from lenet.nn import SoftmaxCrossEntropy, log_softmax, softmax
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.teaching.exercises.common import NO_N, loss_gradient, naive_softmax, onehot
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]

AXIS_0 = (
    "each column of your result sums to 1: you normalised over axis 0, the examples. Each "
    "*row* (one example's scores) must sum to 1: use axis=1 (with keepdims=True)"
)


def cross_entropy(logits, labels):
    return SoftmaxCrossEntropy().forward(logits, labels)


def cross_entropy_gradient(logits, labels):
    return loss_gradient(SoftmaxCrossEntropy(), logits, labels)


def through_the_jacobian(logits, labels):
    """dL/dp (-1/(N p_t) at each label) times softmax's Jacobian p_i (delta_ij - p_j)."""
    n, k = logits.shape
    p = softmax(logits)
    rows = np.arange(n)
    dp = np.zeros_like(p)
    dp[rows, labels] = -1 / (n * p[rows, labels])
    jacobian = p[:, :, None] * (np.eye(k) - p[:, None, :])  # (N, K, K)
    return np.einsum("ni,nij->nj", dp, jacobian)


def columns_sum_to_one(args, outputs):
    p = outputs[0]
    return np.allclose(p.sum(axis=0), 1) and not np.allclose(p.sum(axis=1), 1)


def gradient_columns_sum_to_one(args, outputs):
    logits, labels = args["logits"], args["labels"]
    p = outputs[0] * len(logits) + onehot(labels, logits.shape[1])
    return np.allclose(p.sum(axis=0), 1) and not np.allclose(p.sum(axis=1), 1)


def softmax_cases():
    r = as_generator(7)
    return (
        Case("3 x 3 scores", {"z": r.normal(size=(3, 3))}),
        Case("4 examples, 10 classes", {"z": r.normal(size=(4, 10)) * 3}),
        Case("large logits", {"z": np.array([[1000.0, 999.0, 0.0], [-5.0, 2.0, 1.0]])}),
        Case("rows of very different size", {"z": np.array([[1.0, 2, 3], [-1000, -999, -1001]])}),
    )


def ce_cases():
    r = as_generator(8)
    return (
        Case(
            "3 examples, 3 classes",
            {"logits": r.normal(size=(3, 3)), "labels": np.array([2, 0, 2])},
        ),
        Case(
            "5 examples, 10 classes",
            {"logits": r.normal(size=(5, 10)) * 3, "labels": np.array([3, 3, 9, 0, 1])},
        ),
        Case(
            "large logits, a confident wrong answer",
            {"logits": np.array([[1000.0, 0, -1000], [0, 800, 0]]), "labels": np.array([1, 1])},
        ),
    )


STABLE_SOFTMAX = Exercise(
    number="7.1",
    function="stable_softmax",
    task="return softmax(z) row by row, z: (N, K), without overflow",
    reference=softmax,
    cases=softmax_cases(),
    mistakes=(
        Mistake(
            wrong=naive_softmax,
            hint="overflow: exp(1000) is inf. Subtract each row's maximum first; "
            "softmax does not change when you shift a row",
        ),
        Mistake(
            wrong=lambda z: naive_softmax(z - z.max()),
            hint="you subtracted the maximum of the whole array: a row far below it "
            "underflows to 0/0. Subtract each row's own max (axis=1, keepdims=True)",
        ),
        Mistake(seen=columns_sum_to_one, hint=AXIS_0),
        Mistake(
            wrong=lambda z: np.exp(z - z.max(axis=1)) / np.exp(z - z.max(axis=1)).sum(axis=1),
            hint="keepdims=True is missing: z.max(axis=1) has shape (N,) and broadcasts "
            "along the wrong axis",
        ),
    ),
    outputs=("p",),
)

CROSS_ENTROPY = Exercise(
    number="7.2",
    function="cross_entropy",
    task="return the mean over the batch of -log softmax(logits)[label], a float",
    reference=cross_entropy,
    cases=ce_cases(),
    mistakes=(
        Mistake(
            wrong=lambda z, y: -log_softmax(z)[np.arange(len(y)), y].sum(),
            hint="you summed over the batch: the loss is the *mean* (divide by N)",
        ),
        Mistake(
            wrong=lambda z, y: -np.log(naive_softmax(z)[np.arange(len(y)), y]).mean(),
            hint="overflow: exp of a large logit is inf, and log(0) is -inf. Compute "
            "log softmax directly: z - max - log(sum(exp(z - max)))",
        ),
        Mistake(
            wrong=lambda z, y: -np.log(softmax(z)[np.arange(len(y)), y]).mean(),
            hint="log(softmax) underflows: a tiny probability rounds to 0 and log(0) = "
            "-inf. Compute log softmax directly: z - max - log(sum(exp(z - max)))",
        ),
        Mistake(
            wrong=lambda z, y: log_softmax(z)[np.arange(len(y)), y].mean(),
            hint="wrong sign: the loss is -log p, a positive number",
        ),
        Mistake(
            wrong=lambda z, y: -log_softmax(z)[:, y].mean(),
            hint="logp[:, labels] picks whole columns: use logp[np.arange(N), labels] to "
            "take one entry per row",
        ),
    ),
    outputs=("the loss",),
)

CROSS_ENTROPY_GRADIENT = Exercise(
    number="7.3",
    function="cross_entropy_gradient",
    task="return dL/dlogits (N, K) of the mean cross-entropy",
    reference=cross_entropy_gradient,
    cases=ce_cases(),
    mistakes=(
        Mistake(wrong=lambda z, y: softmax(z) - onehot(y, z.shape[1]), hint=NO_N),
        Mistake(
            wrong=lambda z, y: (onehot(y, z.shape[1]) - softmax(z)) / len(z),
            hint="wrong sign: a step against the gradient must raise the right class's score",
        ),
        Mistake(
            wrong=lambda z, y: softmax(z) / len(z),
            hint="the label's own term is missing: the loss depends on the correct class's "
            "score twice, through the softmax and through -log p at the label",
        ),
        Mistake(
            wrong=lambda z, y: (softmax(z) - onehot(y, z.shape[1])) / z.shape[1],
            hint="divide by N, the number of examples (rows), not by K, the classes",
        ),
        Mistake(
            wrong=lambda z, y: (naive_softmax(z) - onehot(y, z.shape[1])) / len(z),
            hint="overflow: exp(1000) is inf. Subtract each row's maximum before exp",
        ),
        Mistake(
            wrong=through_the_jacobian,
            hint="the route through softmax's Jacobian divides by p at the label, and for a "
            "confident wrong answer that p underflows to 0 (1/0 = inf, then inf × 0 = nan). "
            "Multiply -1/(N p_t) by the Jacobian on paper first: the p_t cancels, and what "
            "is left needs no division",
        ),
        Mistake(seen=gradient_columns_sum_to_one, hint=AXIS_0),
    ),
    outputs=("dlogits",),
)

EXERCISES = (STABLE_SOFTMAX, CROSS_ENTROPY, CROSS_ENTROPY_GRADIENT)
