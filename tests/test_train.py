"""fit, evaluate, early stopping, the divergence guard, and the confusion matrix."""

import math

import numpy as np
import pytest

import lenet
from lenet import train


def blobs(n=120, seed=0):
    """A tiny separable problem: 3 classes of 4-feature points around distinct centres."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
    x = centres[labels] + 0.3 * rng.standard_normal((n, 4)).astype(np.float32)
    return x, labels


def small_net(seed=0):
    return lenet.Sequential(
        lenet.Linear(4, 16, rng=seed), lenet.ReLU(), lenet.Linear(16, 3, rng=seed + 1)
    )


def run(epochs=5, seed=0, **kwargs):
    model = small_net()
    opt = kwargs.pop("opt", None) or lenet.SGD(model, lr=0.1, momentum=0.9)
    x, y = blobs()
    history = train.fit(
        model,
        opt,
        (x[:100], y[:100]),
        epochs,
        batch_size=16,
        val_data=(x[100:], y[100:]),
        rng=seed,
        progress=False,
        **kwargs,
    )
    return model, history


def test_history_has_one_entry_per_epoch_and_learns():
    _, history = run(epochs=5)
    assert len(history) == 5 and history.epoch == [1, 2, 3, 4, 5]
    for name in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"):
        assert len(getattr(history, name)) == 5, name
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] == 1.0
    assert all(s > 0 for s in history.seconds)


def test_same_seed_same_history_other_seed_other_history():
    _, a = run(seed=3)
    _, b = run(seed=3)
    _, c = run(seed=4)
    assert a.train_loss == b.train_loss and a.val_loss == b.val_loss
    assert a.train_loss != c.train_loss


def test_schedule_sets_the_learning_rate_per_epoch_and_restores_it():
    model = small_net()
    opt = lenet.SGD(model, lr=0.1)
    x, y = blobs()
    history = train.fit(model, opt, (x, y), 3, schedule=lenet.StepDecay(1, 0.5), progress=False)
    assert history.lr == pytest.approx([0.1, 0.05, 0.025])
    assert opt.lr == 0.1


def test_without_validation_data_val_entries_are_nan():
    model = small_net()
    x, y = blobs()
    history = train.fit(model, lenet.SGD(model, lr=0.1), (x, y), 2, progress=False)
    assert all(math.isnan(v) for v in history.val_loss + history.val_acc)


def test_early_stopping_stops_by_the_rule_and_restores_the_best_weights():
    seen = []

    def record(history):
        seen.append(len(history))

    # With lr 0 nothing changes, so validation loss never improves after epoch 1.
    model = small_net()
    x, y = blobs()
    history = train.fit(
        model,
        lenet.SGD(model, lr=0.0),
        (x, y),
        20,
        val_data=(x, y),
        patience=3,
        callback=record,
        progress=False,
    )
    assert len(history) == 4 and history.stopped_early and history.best_epoch == 1
    assert seen == [1, 2, 3, 4]


def test_early_stopping_restores_best_weights():
    # A learning rate that makes training worse after it gets going: the best epoch is kept.
    model, history = run(epochs=12, patience=2, min_delta=0.0, monitor="val_acc")
    assert history.best_epoch is not None
    x, y = blobs()
    _, acc, _ = train.evaluate(model, x[100:], y[100:])
    assert acc == history.val_acc[history.best_epoch - 1]


def test_divergence_raises_and_keeps_finite_weights():
    model = small_net()
    x, y = blobs()
    x = x * 1e3
    with pytest.raises(
        train.TrainingDiverged, match=r"in epoch \d+, step \d+ .*smaller learning rate"
    ):
        train.fit(model, lenet.SGD(model, lr=1e6), (x, y), 3, progress=False)
    for layer in model.layers:
        for name, p in layer.params.items():
            assert np.isfinite(p).all(), f"{layer!r} {name} is not finite"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"monitor": "accuracy"}, "monitor must be one of"),
        ({"patience": 0, "monitor": "train_loss"}, "patience must be a positive integer"),
        ({"patience": 2}, "monitor='val_loss' needs val_data"),
    ],
)
def test_bad_arguments(kwargs, message):
    model = small_net()
    x, y = blobs()
    args = {"epochs": 1, **kwargs}
    epochs = args.pop("epochs")
    with pytest.raises(ValueError, match=message):
        train.fit(model, lenet.SGD(model, lr=0.1), (x, y), epochs, progress=False, **args)


def test_mismatched_data():
    model = small_net()
    x, y = blobs()
    with pytest.raises(ValueError, match="train_data: 120 images but 119 labels"):
        train.fit(model, lenet.SGD(model, lr=0.1), (x, y[:-1]), 1, progress=False)


def test_evaluate_against_hand_computed_values():
    model = lenet.Sequential(lenet.Linear(2, 2, dtype=np.float64, rng=0))
    model.layers[0].params["W"][:] = np.eye(2)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    y = np.array([0, 0, 0])
    loss, acc, pred = train.evaluate(model, x, y, batch_size=2)
    np.testing.assert_array_equal(pred, [0, 1, 0])
    assert acc == pytest.approx(2 / 3)
    expected = np.mean([np.log(1 + np.exp(-1)), np.log(1 + np.exp(1)), np.log(1 + np.exp(-2))])
    assert loss == pytest.approx(expected)


def test_confusion_matrix():
    cm = train.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    with pytest.raises(ValueError, match="differ"):
        train.confusion_matrix([0, 1], [0])
