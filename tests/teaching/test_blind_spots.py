"""The checker's blind spots of issue 30 (item 6) and issue 29: each wrong answer below, written
as a learner would, is caught with a hint that names the mistake."""

import numpy as np
import pytest

from lenet.teaching.exercises import EXERCISES, verdict


def _hint(number, fn):
    return _failed(number, fn).hint


def _failed(number, fn):
    result = verdict(number, fn)
    assert result.status == "failed", result.message
    assert result.hint and "Hint: " in result.message, result.message
    return result


# 2.1 and 5.1: what is returned is checked, not only its values ----------------------------


def test_a_path_returned_as_a_list_is_refused():
    def descend(grad, x0, lr, steps):
        path = [x0]
        for _ in range(steps):
            path.append(path[-1] - lr * grad(path[-1]))
        return path  # a list: path[-1] - 3 works, but path - 3 raises TypeError later

    result = _failed("2.1", descend)
    assert "should return a numpy array, got a list" in result.message
    assert "np.array" in result.hint


def test_an_output_size_returned_as_a_float_is_refused():
    def out_size(H, K, S, P):
        return (H + 2 * P - K) / S + 1  # 28.0 where the layer needs 28

    result = _failed("5.1", out_size)
    assert "should return an integer, got a float" in result.message and "//" in result.hint


def test_a_tuple_of_two_where_three_are_due():
    def conv_backward_naive(x, W, dy, stride=1, padding=0):
        dx, dW, _ = EXERCISES["5.3"].reference(x, W, dy, stride, padding)
        return dx, dW

    result = _failed("5.3", conv_backward_naive)
    assert "should return a tuple of 3 (dx, dW, db), got 2 values" in result.message
    assert "return dx, dW, db" in result.hint


def test_a_complex_answer_is_refused_not_cast():
    def mse(pred, target):
        return np.mean((pred - target) ** 2) + 0j

    result = _failed("1.1", mse)
    assert "returned complex numbers" in result.message and "real" in result.hint


# 5.2: padding ------------------------------------------------------------------------------


def _loops(xp, W, b, stride, Ho, Wo):
    """The notebook's loops over an already padded image, for the output size given."""
    N, n_out, K = xp.shape[0], W.shape[0], W.shape[-1]
    y = np.zeros((N, n_out, Ho, Wo))
    for n in range(N):
        for o in range(n_out):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride : i * stride + K, j * stride : j * stride + K]
                    y[n, o, i, j] = np.sum(window * W[o]) + b[o]
    return y


def _conv_naive(widths, size_from_padded):
    """A learner's conv_naive padding with widths(P) per side; the output size from the padded
    image, or from the formula with P."""

    def conv_naive(x, W, b, stride=1, padding=0):
        (top, bottom), (left, right) = widths(padding)
        xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
        K = W.shape[-1]
        if size_from_padded:
            Ho, Wo = (xp.shape[2] - K) // stride + 1, (xp.shape[3] - K) // stride + 1
        else:
            Ho = (x.shape[2] + 2 * padding - K) // stride + 1
            Wo = (x.shape[3] + 2 * padding - K) // stride + 1
        return _loops(xp, W, b, stride, Ho, Wo)

    return conv_naive


@pytest.mark.parametrize("size_from_padded", [True, False])
@pytest.mark.parametrize(
    "widths", [lambda p: ((p, 0), (p, 0)), lambda p: ((0, p), (0, p))], ids=["before", "after"]
)
def test_padding_on_one_side_is_named(widths, size_from_padded):
    assert "one side only" in _hint("5.2", _conv_naive(widths, size_from_padded))


@pytest.mark.parametrize("size_from_padded", [True, False])
def test_padding_by_p_plus_one_is_off_by_one_not_twice(size_from_padded):
    learner = _conv_naive(lambda p: ((p + 1, p + 1),) * 2, size_from_padded)
    hint = _hint("5.2", learner)
    assert hint.startswith("padding off by one") and "twice" not in hint


@pytest.mark.parametrize("size_from_padded", [True, False])
def test_padding_twice_is_named(size_from_padded):
    learner = _conv_naive(lambda p: ((2 * p, 2 * p),) * 2, size_from_padded)
    assert "applied twice" in _hint("5.2", learner)


def test_the_first_padded_case_has_p_2_where_p_plus_one_is_not_2p():
    paddings = [case.args["padding"] for case in EXERCISES["5.2"].cases]
    assert [p for p in paddings if p][0] == 2


# 5.3: the crop and db ----------------------------------------------------------------------


def _conv_backward(crop, db_axes):
    def conv_backward_naive(x, W, dy, stride=1, padding=0):
        K, P = W.shape[-1], padding
        xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
        dxp, dW = np.zeros_like(xp), np.zeros_like(W)
        N, n_out, Ho, Wo = dy.shape
        for n in range(N):
            for o in range(n_out):
                for i in range(Ho):
                    for j in range(Wo):
                        win = np.s_[i * stride : i * stride + K, j * stride : j * stride + K]
                        dW[o] += dy[n, o, i, j] * xp[n][(slice(None), *win)]
                        dxp[n][(slice(None), *win)] += dy[n, o, i, j] * W[o]
        return crop(dxp, P, x), dW, dy.sum(axis=db_axes)

    return conv_backward_naive


def _right_crop(dxp, P, x):
    return dxp[:, :, P : P + x.shape[2], P : P + x.shape[3]]


def test_a_crop_with_minus_p_is_named_for_p_0():
    learner = _conv_backward(lambda dxp, P, x: dxp[:, :, P:-P, P:-P], (0, 2, 3))
    assert "empty when P = 0" in _hint("5.3", learner)


@pytest.mark.parametrize("axes", [(1, 2, 3), 0, (0, 1), None])
def test_db_summed_over_the_wrong_axes_is_named(axes):
    assert "dy.sum(axis=(0, 2, 3))" in _hint("5.3", _conv_backward(_right_crop, axes))


def test_the_learners_loops_pass_with_the_right_crop_and_axes():
    assert verdict("5.3", _conv_backward(_right_crop, (0, 2, 3))).passed


def test_linear_db_summed_over_the_features_is_named():
    def linear_backward(x, W, dout):
        return dout @ W.T, x.T @ dout, dout.sum(axis=1)

    assert "axis 0" in _hint("3.1", linear_backward)


# 4.1, 7.1, 7.3 -----------------------------------------------------------------------------


def test_relu_forward_returned_from_the_backward_pass_is_named():
    def relu_backward(x, dout):
        return np.maximum(x, 0)

    assert "forward pass" in _hint("4.1", relu_backward)


@pytest.mark.parametrize("shift", ["row", "column"])
def test_softmax_normalised_over_axis_0_is_named(shift):
    def stable_softmax(z):
        e = np.exp(z - z.max(axis=1 if shift == "row" else 0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    assert "axis 0" in _hint("7.1", stable_softmax)


def test_cross_entropy_gradient_normalised_over_axis_0_is_named():
    def cross_entropy_gradient(logits, labels):
        e = np.exp(logits - logits.max(axis=0, keepdims=True))
        p = e / e.sum(axis=0, keepdims=True)
        p[np.arange(len(labels)), labels] -= 1
        return p / len(labels)

    assert "axis 0" in _hint("7.3", cross_entropy_gradient)


@pytest.mark.parametrize("spelling", ["matrix", "elementwise"])
def test_the_softmax_jacobian_route_is_named_at_large_logits(spelling):
    def cross_entropy_gradient(logits, labels):
        n, k = logits.shape
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        dp = np.zeros_like(p)
        dp[np.arange(n), labels] = -1 / (n * p[np.arange(n), labels])  # dL/dp
        if spelling == "matrix":
            jacobians = np.stack([np.diag(row) - np.outer(row, row) for row in p])
            return np.einsum("nij,nj->ni", jacobians, dp)  # the Jacobian is symmetric
        return p * (dp - (p * dp).sum(axis=1, keepdims=True))

    result = verdict("7.3", cross_entropy_gradient)
    assert "large logits" in result.message and "Jacobian" in result.hint
