"""Losses: values, stability, gradients and input checks."""

import numpy as np
import pytest

import lenet
from lenet.nn import gradcheck


def test_cross_entropy_of_uniform_logits_is_ln_k():
    loss = lenet.SoftmaxCrossEntropy()
    assert loss.forward(np.zeros((4, 10)), np.array([0, 3, 9, 2])) == pytest.approx(np.log(10))


def test_cross_entropy_matches_the_definition():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 5))
    labels = rng.integers(0, 5, 6)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(6), labels]))
    assert lenet.SoftmaxCrossEntropy().forward(logits, labels) == pytest.approx(expected)


def test_cross_entropy_is_stable_for_huge_logits():
    loss = lenet.SoftmaxCrossEntropy()
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        value = loss.forward(logits, np.array([0, 0]))
        grad = loss.backward()
    # Sample 0 is right with certainty (loss 0); sample 1 is wrong by 2e4 (+ ln 2 for the tie).
    assert value == pytest.approx((0 + 2e4 + np.log(2)) / 2)
    np.testing.assert_allclose(grad, [[0, 0, 0], [-0.5, 0.25, 0.25]], atol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 3))
    labels = np.array([2, 0, 1, 1])
    loss = lenet.SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    expected = (lenet.softmax(logits) - np.eye(3)[labels]) / 4
    np.testing.assert_allclose(loss.backward(), expected, rtol=1e-12)


def test_cross_entropy_gradient_check():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((7, 10)) * 3
    labels = rng.integers(0, 10, 7)
    assert gradcheck.check_loss(lenet.SoftmaxCrossEntropy(), logits, labels) < 1e-6


def test_mse_value_and_gradient_check():
    rng = np.random.default_rng(3)
    y, t = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    loss = lenet.MSELoss()
    assert loss.forward(y, t) == pytest.approx(np.mean((y - t) ** 2))
    assert gradcheck.check_loss(loss, y, t) < 1e-6


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        (np.zeros(10), np.array([1]), r"logits must have shape \(N, K\), got \(10,\)"),
        (np.zeros((3, 10)), np.array([1, 2]), r"labels must have shape \(3,\).*got \(2,\)"),
        (np.zeros((2, 10)), np.array([1.0, 2.0]), "integer class indices"),
        (np.zeros((2, 10)), np.array([1, 10]), r"\[0, 10\), got values from 1 to 10"),
        (np.zeros((2, 10)), np.array([-1, 3]), r"\[0, 10\), got values from -1 to 3"),
    ],
)
def test_cross_entropy_rejects_bad_input(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        lenet.SoftmaxCrossEntropy().forward(logits, labels)


def test_mse_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"same shape, got \(3, 1\) and \(3,\)"):
        lenet.MSELoss().forward(np.zeros((3, 1)), np.zeros(3))


@pytest.mark.parametrize("loss", [lenet.SoftmaxCrossEntropy(), lenet.MSELoss()])
def test_loss_backward_before_forward(loss):
    with pytest.raises(RuntimeError, match="before forward"):
        loss.backward()
