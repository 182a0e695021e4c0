"""Optimizers and learning-rate schedules against their update rules."""

import numpy as np
import pytest

import lenet


def one_param_layer(value, grad):
    layer = lenet.Linear(1, 1, bias=False, dtype=np.float64, rng=0)
    layer.params["W"][:] = value
    layer.grads["W"] = np.array([[grad]])
    return layer


def test_plain_sgd_step():
    layer = one_param_layer(1.0, 0.5)
    lenet.SGD(layer, lr=0.1).step()
    assert layer.params["W"][0, 0] == pytest.approx(1.0 - 0.05)


def test_sgd_momentum_accumulates_velocity():
    layer = one_param_layer(0.0, 1.0)
    opt = lenet.SGD(layer, lr=0.1, momentum=0.9)
    opt.step()  # v = 1
    opt.step()  # v = 0.9 + 1 = 1.9
    assert layer.params["W"][0, 0] == pytest.approx(-0.1 * (1 + 1.9))


def test_sgd_nesterov_and_weight_decay():
    layer = one_param_layer(2.0, 1.0)
    opt = lenet.SGD(layer, lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.1)
    opt.step()  # g = 1 + 0.2 = 1.2; v = 1.2; step = g + 0.5 v = 1.8
    assert layer.params["W"][0, 0] == pytest.approx(2.0 - 0.18)


def test_adam_first_step_moves_by_lr():
    layer = one_param_layer(1.0, 3.0)
    lenet.Adam(layer, lr=0.01).step()  # bias-corrected m / sqrt(v) = sign(g) on step 1
    assert layer.params["W"][0, 0] == pytest.approx(0.99, abs=1e-7)


def test_optimizer_updates_in_place_and_keeps_dtype():
    model = lenet.LeNet5(rng=0)
    w = model.layers[0].params["W"]
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    loss = lenet.SoftmaxCrossEntropy()
    loss.forward(model.forward(x), np.array([1, 2, 3, 4]))
    model.backward(loss.backward())
    before = w.copy()
    lenet.Adam(model, lr=0.01).step()
    assert model.layers[0].params["W"] is w
    assert w.dtype == np.float32
    assert not np.array_equal(w, before)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda m: lenet.SGD(m, lr=-0.1), r"learning rate must be a finite number >= 0, got -0.1"),
        (lambda m: lenet.SGD(m, lr=float("nan")), "learning rate must be a finite number"),
        (lambda m: lenet.SGD(m, lr=0.1, momentum=-1), "momentum must be"),
        (lambda m: lenet.SGD(m, lr=0.1, nesterov=True), "nesterov=True needs a momentum > 0"),
        (lambda m: lenet.Adam(m, lr=-1), "learning rate must be"),
        (lambda m: lenet.Adam(m, betas=(1.0, 0.9)), r"betas must lie in \[0, 1\)"),
    ],
)
def test_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message):
        make(lenet.Linear(2, 2))


def test_setting_a_negative_lr_later_is_refused():
    opt = lenet.SGD(lenet.Linear(2, 2), lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        opt.lr = -0.5


def test_step_before_backward_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"call model.backward\(...\) before opt.step\(\)"):
        lenet.SGD(lenet.Linear(2, 2), lr=0.1).step()


def test_no_parameters_is_refused():
    with pytest.raises(ValueError, match="no parameters"):
        lenet.SGD(lenet.Sequential(lenet.ReLU()), lr=0.1)


def test_schedules():
    assert [lenet.ExponentialDecay(0.95)(e) for e in range(3)] == pytest.approx([1, 0.95, 0.9025])
    assert [lenet.StepDecay(2, 0.1)(e) for e in range(5)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    assert lenet.StepDecay(np.int64(2), 0.1)(2) == pytest.approx(0.1)  # e.g. from an array
    for bad in (0, True, 1.5):
        with pytest.raises(ValueError, match="step_size must be a positive integer"):
            lenet.StepDecay(bad)
