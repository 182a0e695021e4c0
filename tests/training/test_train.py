"""fit, evaluate, early stopping, the divergence guard, and the confusion matrix."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest

import lenet
from lenet import training


def blobs(n=120, seed=0, noise=0.3):
    """3 classes of 4-feature points around distinct centres; separable when noise is small."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
    x = centres[labels] + noise * rng.standard_normal((n, 4)).astype(np.float32)
    return x, labels


def small_net(seed=0):
    return lenet.Sequential(
        lenet.Linear(4, 16, rng=seed), lenet.ReLU(), lenet.Linear(16, 3, rng=seed + 1)
    )


def all_params(model):
    return [p.copy() for layer in model.layers for p in layer.params.values()]


def run(epochs=5, seed=0, **kwargs):
    model = small_net()
    opt = kwargs.pop("opt", None) or lenet.SGD(model, lr=0.1, momentum=0.9)
    x, y = blobs()
    kwargs.setdefault("progress", None)
    history = training.fit(
        model,
        opt,
        (x[:100], y[:100]),
        epochs,
        batch_size=16,
        val_data=(x[100:], y[100:]),
        rng=seed,
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


class RecordingBar:
    """A tqdm-like class that records what fit asks of it."""

    made, lines = [], []

    def __init__(self, total, desc, leave):
        self.total, self.n, self.closed = total, 0, False
        RecordingBar.made.append(self)
        self.desc, self.leave = desc, leave

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True

    def update(self, n=1):
        self.n += n

    def set_postfix(self, **values):
        self.postfix = values

    @classmethod
    def write(cls, line, file=None):
        cls.lines.append(line)


def test_the_progress_bar_is_handed_in(capsys):
    RecordingBar.made, RecordingBar.lines = [], []
    run(epochs=2, progress=RecordingBar)
    assert [bar.desc for bar in RecordingBar.made] == ["epoch 1/2", "epoch 2/2"]
    assert all(bar.n == bar.total == 7 and bar.closed for bar in RecordingBar.made)  # 100 / 16
    assert [line.split(":")[0] for line in RecordingBar.lines] == ["epoch 1", "epoch 2"]
    assert "validation loss" in RecordingBar.lines[0] and "lr 0.1" in RecordingBar.lines[0]
    assert capsys.readouterr().out == ""  # the lines went through the bar's write


def test_default_progress_prints_a_line_per_epoch_and_none_prints_nothing(capsys):
    run(epochs=2, progress=training.loop.tqdm)
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["epoch 1", "epoch 2"]
    run(epochs=2, progress=None)
    assert capsys.readouterr() == ("", "")
    with pytest.raises(TypeError, match="progress must be a tqdm-like class or None, got True"):
        run(epochs=1, progress=True)


def test_the_loop_imports_no_notebook_code():
    """The bar is handed in: training knows nothing of notebooks (tqdm.auto chooses the bar)."""
    tree = ast.parse(Path(training.loop.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}  # fmt: skip
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if "IPython" in name or "notebook" in name}


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
    history = training.fit(model, opt, (x, y), 3, schedule=lenet.StepDecay(1, 0.5), progress=None)
    assert history.lr == pytest.approx([0.1, 0.05, 0.025])
    assert opt.lr == 0.1


def test_without_validation_data_val_entries_are_nan():
    model = small_net()
    x, y = blobs()
    history = training.fit(model, lenet.SGD(model, lr=0.1), (x, y), 2, progress=None)
    assert all(math.isnan(v) for v in history.val_loss + history.val_acc)


def test_without_validation_data_best_val_epoch_is_none():
    model = small_net()
    x, y = blobs()
    history = training.fit(model, lenet.SGD(model, lr=0.1), (x, y), 2, progress=None)
    assert history.best_epoch("val_loss") is None
    assert history.best_epoch("train_loss") in (1, 2)


def test_history_best_epoch_and_as_dict():
    history = training.History(
        epoch=[1, 2, 3],
        train_loss=[0.9, 0.5, 0.5],
        train_acc=[0.5, 0.8, 0.7],
        val_loss=[1.0, math.nan, 0.7],
        val_acc=[0.4, 0.9, 0.9],
    )
    assert history.best_epoch("train_loss") == 2  # the first of a tie
    assert history.best_epoch("val_loss") == 3  # nan is never best
    assert history.best_epoch("val_acc") == 2
    assert history.best_epoch("train_acc") == 2
    with pytest.raises(ValueError, match="monitor must be one of"):
        history.best_epoch("loss")
    d = history.as_dict()
    assert d["train_loss"] == [0.9, 0.5, 0.5] and d["stopped_epoch"] is None
    assert len(history) == 3


def test_early_stopping_stops_after_patience_flat_epochs():
    seen = []

    # With lr 0 nothing changes, so validation loss never improves after epoch 1.
    model = small_net()
    x, y = blobs()
    history = training.fit(
        model,
        lenet.SGD(model, lr=0.0),
        (x, y),
        20,
        val_data=(x, y),
        patience=3,
        callback=lambda h: seen.append(len(h)),
        progress=None,
    )
    assert len(history) == 4 and history.stopped_epoch == 4 and history.restored_epoch == 1
    assert seen == [1, 2, 3, 4]


def stopping_epoch(values, patience, min_delta):
    """The rule, replayed on a list of losses: the epoch (from 1) training stops after."""
    best, waited = math.inf, 0
    for epoch, value in enumerate(values, start=1):
        if value < best - min_delta:
            best, waited = value, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch
    return None


@pytest.mark.parametrize("min_delta", [0.0, 0.01, 0.02])
def test_early_stopping_follows_the_rule_and_restores_the_best_weights(min_delta):
    # Overlapping classes and a large step: the training loss wobbles on its way down, so
    # min_delta changes when training stops (after epoch 19, 14 and 5 here).
    x, y = blobs(noise=1.0)

    def fit(epochs, **kwargs):
        model = small_net()
        opt = lenet.SGD(model, lr=0.2, momentum=0.9)
        history = training.fit(model, opt, (x, y), epochs, monitor="train_loss", rng=0, **kwargs)
        return model, history

    _, full = fit(40, progress=None)
    expected = stopping_epoch(full.train_loss, 2, min_delta)
    assert expected is not None
    model, history = fit(40, patience=2, min_delta=min_delta, progress=None)
    assert history.stopped_epoch == expected == len(history)
    assert history.train_loss == full.train_loss[:expected]
    # The model holds the weights of the last epoch that improved by more than min_delta.
    best = history.restored_epoch
    assert best < expected and history.train_loss[best - 1] - min(history.train_loss) <= min_delta
    same, _ = fit(best, progress=None)
    for p, q in zip(all_params(model), all_params(same), strict=True):
        np.testing.assert_array_equal(p, q)


def test_early_stopping_on_val_acc_restores_best_weights():
    model, history = run(epochs=12, patience=2, monitor="val_acc")
    x, y = blobs()
    _, acc, _ = training.evaluate(model, x[100:], y[100:])
    epoch = history.restored_epoch or len(history)
    assert acc == history.val_acc[epoch - 1] == max(history.val_acc)


def test_divergence_raises_and_keeps_finite_weights():
    # A fine first epoch, then a schedule that multiplies the learning rate by 1e30.
    model = small_net()
    opt = lenet.SGD(model, lr=0.1, momentum=0.9)
    x, y = blobs()
    with pytest.raises(
        training.TrainingDiverged,
        match=r"in epoch 2, step \d+ at learning rate 1e\+29\. Try a smaller learning rate",
    ) as err:
        training.fit(
            model, opt, (x, y), 3, batch_size=16, schedule=lambda e: 1e30**e, rng=0, progress=None
        )
    assert len(err.value.history) == 1 and err.value.history.epoch == [1]
    assert opt.lr == 0.1
    for p in all_params(model):
        assert np.isfinite(p).all()


def test_divergence_in_the_last_step_is_caught_too():
    # One batch, one step: the step overflows the weights and no later loss would show it.
    model = small_net()
    before = all_params(model)
    x, y = blobs()
    with pytest.raises(
        training.TrainingDiverged,
        match=r"weights became non-finite in epoch 1, step 1 .*smaller learning rate",
    ):
        training.fit(model, lenet.SGD(model, lr=1e39), (x, y), 1, batch_size=len(y), progress=None)
    for p, q in zip(all_params(model), before, strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"monitor": "accuracy"}, "monitor must be one of"),
        ({"patience": 0, "monitor": "train_loss"}, "patience must be a positive integer"),
        ({"patience": 2}, "monitor='val_loss' needs val_data"),
        ({"min_delta": -0.1}, "min_delta must be a finite number >= 0, got -0.1"),
    ],
)
def test_bad_arguments(kwargs, message):
    model = small_net()
    x, y = blobs()
    args = {"epochs": 1, **kwargs}
    epochs = args.pop("epochs")
    with pytest.raises(ValueError, match=message):
        training.fit(model, lenet.SGD(model, lr=0.1), (x, y), epochs, progress=None, **args)


def test_mismatched_data():
    model = small_net()
    x, y = blobs()
    opt = lenet.SGD(model, lr=0.1)
    with pytest.raises(
        ValueError,
        match=r"train_data: expected 120 labels for 120 images, got labels of shape \(119,\)",
    ):
        training.fit(model, opt, (x, y[:-1]), 1, progress=None)
    with pytest.raises(ValueError, match=r"val_data: expected images of shape \(5, 4\) .*\(5, 3\)"):
        training.fit(model, opt, (x, y), 1, val_data=(x[:5, :3], y[:5]), progress=None)
    with pytest.raises(ValueError, match="train_data must be a pair"):
        training.fit(model, opt, x, 1, progress=None)
    with pytest.raises(ValueError, match=r"N > 0, got \(0, 4\)"):
        training.fit(model, opt, (x[:0], y[:0]), 1, progress=None)


def test_evaluate_against_hand_computed_values():
    model = lenet.Sequential(lenet.Linear(2, 2, dtype=np.float64, rng=0))
    model.layers[0].params["W"][:] = np.eye(2)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    y = np.array([0, 0, 0])
    loss, acc, pred = training.evaluate(model, x, y, batch_size=2)
    np.testing.assert_array_equal(pred, [0, 1, 0])
    assert acc == pytest.approx(2 / 3)
    expected = np.mean([np.log(1 + np.exp(-1)), np.log(1 + np.exp(1)), np.log(1 + np.exp(-2))])
    assert loss == pytest.approx(expected)
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.ones((1, 2)))  # evaluate leaves no forward caches behind
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        training.evaluate(model, x, y, batch_size=0)


def test_confusion_matrix():
    cm = training.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert cm.dtype == np.int64 and cm.sum() == 6
    with pytest.raises(ValueError, match=r"same shape \(N,\), got \(2,\) and \(1,\)"):
        training.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match=r"predictions must lie in \[0, 3\)"):
        training.confusion_matrix([0, 1], [0, 3], num_classes=3)


def test_nan_in_the_data_is_named_not_blamed_on_the_learning_rate():
    model = small_net()
    x, y = blobs()
    x = x.copy()
    x[3, 0] = np.nan
    with pytest.raises(ValueError, match="train_data: 1 of the 120 images hold NaN or inf"):
        training.fit(model, lenet.SGD(model, lr=0.1), (x, y), 1, progress=None)


def test_fit_takes_another_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    targets = x @ np.array([[1.0], [-2.0], [0.5]])
    model = lenet.Sequential(lenet.Linear(3, 1, dtype=np.float64, rng=0))
    history = training.fit(
        model,
        lenet.SGD(model, lr=0.1),
        (x, targets),
        20,
        batch_size=16,
        loss=lenet.MSELoss(),
        progress=None,
        rng=0,
    )
    assert history.train_loss[-1] < 1e-3 * history.train_loss[0]
    assert np.isnan(history.train_acc).all()  # no accuracy for regression targets


@pytest.mark.parametrize("chunk_size", [7, 16])
def test_fit_in_chunks_gives_the_same_training_in_float64(monkeypatch, chunk_size):
    """fit runs batches of lenet.nn.models.CHUNK_SIZE or more in chunks: the same mathematics."""
    rng = np.random.default_rng(0)
    x = rng.random((100, 1, 8, 8))
    y = rng.integers(0, 3, 100)

    def trained(chunk):
        monkeypatch.setattr(lenet.nn.models, "CHUNK_SIZE", chunk)
        model = lenet.Sequential(
            lenet.Conv2d(1, 4, 3, padding=1, dtype=np.float64, rng=0),
            lenet.ReLU(),
            lenet.MaxPool2d(2),
            lenet.Flatten(),
            lenet.Linear(64, 3, dtype=np.float64, rng=1),
        )
        opt = lenet.SGD(model, lr=0.1, momentum=0.9)
        history = training.fit(model, opt, (x, y), 3, batch_size=30, rng=0, progress=None)
        return history, all_params(model)

    (chunked, weights), (whole, expected) = trained(chunk_size), trained(10_000)
    np.testing.assert_allclose(chunked.train_loss, whole.train_loss, rtol=1e-12)
    assert chunked.train_acc == whole.train_acc
    for p, q in zip(weights, expected, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)


def test_warmup_ramps_the_learning_rate_over_the_first_steps():
    model = small_net()
    opt = lenet.SGD(model, lr=0.1)
    x, y = blobs()
    rates = []
    history = training.fit(
        model,
        opt,
        (x, y),
        2,
        batch_size=40,  # 3 steps per epoch
        schedule=lenet.StepDecay(1, 0.5),
        warmup=4,
        on_step=lambda *args: rates.append(opt.lr),
        progress=None,
    )
    assert rates == pytest.approx([0.025, 0.05, 0.075, 0.05, 0.05, 0.05])
    assert history.lr == pytest.approx([0.1, 0.05]) and opt.lr == 0.1
    with pytest.raises(ValueError, match="warmup must be a non-negative integer, got -1"):
        training.fit(model, opt, (x, y), 1, warmup=-1, progress=None)


def test_divergence_from_weight_decay_names_the_weight_decay():
    """lr x decay = 5 > 2 (1 + 0.9): the decay step alone flips and grows every weight."""
    model = small_net()
    x, y = blobs()
    opt = lenet.SGD(model, lr=0.05, momentum=0.9, weight_decay=100)
    with pytest.raises(training.TrainingDiverged) as err:
        training.fit(model, opt, (x, y), 10, batch_size=8, rng=0, progress=None)
    message = str(err.value)
    assert "The weight decay 100 is what grows the weights" in message
    assert "Try a weight decay below 76" in message and "smaller learning rate" not in message
    assert "keeps the weights" not in message  # fit's caller decides what is kept and said


def test_copy_and_restore_weights_keep_the_arrays_the_optimizer_holds():
    model = small_net()
    arrays = [p for layer in model.layers for p in layer.params.values()]
    saved = training.copy_weights(model)
    for p in arrays:
        p += 1.0
    assert training.copy_weights(model, into=saved) is saved
    np.testing.assert_array_equal(saved[0]["W"], arrays[0])
    for p in arrays:
        p -= 1.0
    training.restore_weights(model, saved)
    again = [p for layer in model.layers for p in layer.params.values()]
    assert all(a is b for a, b in zip(arrays, again, strict=True))
    np.testing.assert_array_equal(arrays[0], saved[0]["W"])
