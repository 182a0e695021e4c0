"""lenet.training.experiment: settings checked up front, one run from names and numbers, seeded."""

import dataclasses

import numpy as np
import pytest
from synthetic import tiny_data

from lenet.nn import optim
from lenet.paper1998 import EtaSchedule, MAPLoss
from lenet.paper1998.sdlm import SDLM
from lenet.training import experiment, loop


def test_run_learns_and_measures():
    seen = []
    settings = experiment.Settings(lr=0.05, batch_size=32, epochs=3)
    result = experiment.run(settings, tiny_data(), callback=seen.append)
    assert result.diverged is None
    assert len(result.history) == 3 and len(seen) == 3
    assert result.test_accuracy > 0.5 and result.seconds_per_epoch > 0
    assert result.test_predictions.shape == (64,)
    assert result.history.lr == pytest.approx([0.05, 0.04, 0.032])  # x lr_decay per epoch


def test_same_seed_same_run():
    settings = experiment.Settings(lr=0.05, batch_size=32, epochs=2, limit=128)
    first, second = (experiment.run(settings, tiny_data()) for _ in range(2))
    assert first.history.train_loss == second.history.train_loss
    np.testing.assert_array_equal(first.test_predictions, second.test_predictions)
    other = experiment.run(dataclasses.replace(settings, seed=1), tiny_data())
    assert other.history.train_loss != first.history.train_loss


def test_divergence_is_reported_not_raised():
    result = experiment.run(experiment.Settings(lr=1e4, batch_size=16, epochs=2), tiny_data())
    assert "diverged" in result.diverged and "smaller learning rate" in result.diverged
    assert result.test_accuracy is None
    assert result.history is None and result.seconds_per_epoch is None  # no epoch finished


def test_no_validation_and_no_test_data():
    (x, y), _, _ = tiny_data()
    settings = experiment.Settings(epochs=2, batch_size=64, patience=1)
    result = experiment.run(settings, ((x, y), (x[:0], y[:0]), None))
    assert result.test_accuracy is None and len(result.history) >= 1
    assert np.isnan(result.history.val_acc).all()


def test_builders_follow_the_names():
    model = experiment.build_model(experiment.Settings(activation="tanh", pool="avg"))
    assert [type(layer).__name__ for layer in model.layers][1:3] == ["Tanh", "AvgPool2d"]
    adam = experiment.build_optimizer(experiment.Settings(optimizer="adam"), model)
    assert isinstance(adam, optim.Adam) and adam.lr == experiment.DEFAULT_LR["adam"]
    sgd = experiment.build_optimizer(experiment.Settings(momentum=0.5), model)
    assert isinstance(sgd, optim.SGD) and sgd.momentum == 0.5 and sgd.lr == 0.05
    assert experiment.build_schedule(experiment.Settings(lr_decay=1)) is None
    report = experiment.build_model(experiment.Settings(model="report", seed=3))
    weights = np.concatenate([p.ravel() for layer in report.layers for p in layer.params.values()])
    assert abs(weights.std() - 1) < 0.05  # the report's N(0, 1) weights and biases


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "resnet"}, "model must be one of"),
        ({"activation": "gelu"}, "activation must be one of"),
        ({"optimizer": "adam", "momentum": 0.5}, "momentum applies to sgd only"),
        ({"lr": 0}, r"lr must be a finite number > 0, got 0"),
        ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
        ({"lr_decay": 0}, r"lr_decay must be a factor in \(0, 1\]"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"epochs": 1.5}, "epochs must be a positive integer"),
        ({"warmup": -1}, "warmup must be a non-negative integer, got -1"),
    ],
)
def test_bad_settings_are_refused_before_training(changes, message):
    with pytest.raises(ValueError, match=message):
        experiment.Settings(**changes)


def test_describe_says_what_runs():
    assert experiment.Settings(epochs=1).describe() == (
        "LeNet-5 (relu, max pool), sgd lr 0.05, batch 64, up to 1 epoch"
    )


def test_each_model_brings_its_own_recipe():
    assert (experiment.Settings().epochs, experiment.Settings().batch_size) == (10, 64)
    paper = experiment.Settings(model="lenet1998")
    assert (paper.epochs, paper.batch_size) == (20, 16)
    assert experiment.Settings(model="lenet1998", epochs=3).epochs == 3


def test_a_stop_request_ends_a_1998_run_between_two_steps():
    """The 1998 recipe is fit too: it honours stop, and on_step runs after every step."""
    steps = []

    def stop():  # asks to stop at the 5th step of the second pass
        return len(steps) >= 8 + 4

    settings = experiment.Settings(model="lenet1998", epochs=3, batch_size=32, limit=256)
    result = experiment.run(settings, tiny_data(), stop=stop, on_step=lambda *a: steps.append(a))
    assert result.stopped and result.diverged is None
    assert len(result.history) == 1 and len(steps) == 12  # the one finished pass, 8 steps each
    assert result.test_accuracy is None
    assert result.verdict().startswith("Stopped after 1 finished epoch.")
    whole = experiment.run(settings, tiny_data())
    assert not whole.stopped and len(whole.history) == 3 and whole.test_accuracy is not None


def test_the_1998_recipe_is_fit_with_sdlm_the_map_loss_and_the_papers_schedule(monkeypatch):
    seen = {}
    real_fit = loop.fit

    def spy(model, optimizer, *args, **kwargs):
        seen.update(optimizer=optimizer, **kwargs)
        return real_fit(model, optimizer, *args, **kwargs)

    monkeypatch.setattr(loop, "fit", spy)
    settings = experiment.Settings(model="lenet1998", epochs=2, batch_size=16, limit=128)
    result = experiment.run(settings, tiny_data())
    assert isinstance(seen["optimizer"], SDLM) and isinstance(seen["optimizer"], optim.Optimizer)
    assert isinstance(seen["loss"], MAPLoss) and seen["loss"] is seen["optimizer"].loss
    assert isinstance(seen["schedule"], EtaSchedule)
    # the step of a batch of 16 is 16 x the paper's eta of the pass
    assert result.history.lr == pytest.approx([16 * 0.0005, 16 * 0.0005])
    assert isinstance(result.history, loop.History) and result.test_accuracy is not None


def test_chance_names_the_batch_the_steps_or_else_the_learning_rate():
    settings = experiment.Settings(batch_size=512, epochs=2)
    assert "batch size (512) is larger than the 300 training images" in (
        experiment.chance_cause(settings, 300)
    )
    few = experiment.chance_cause(experiment.Settings(epochs=1, limit=1), 1)
    assert few.startswith("too few steps to learn from: a limit of 1 training image gives 1 step")
    rate = experiment.chance_cause(experiment.Settings(epochs=1), 55_000)
    assert "learning rate" in rate and "larger than" not in rate


def test_the_default_recipe_warms_up_and_the_papers_does_not(monkeypatch):
    """Large batches start with WARMUP steps of rising learning rate (batch 512 used to collapse
    to chance at seed 0); small ones and the 1998 recipe do not."""
    large = experiment.WARMUP_FROM
    assert experiment.Settings(batch_size=large).warmup == experiment.WARMUP > 0
    assert experiment.Settings(batch_size=512).warmup == experiment.WARMUP
    assert experiment.Settings().warmup == experiment.Settings(batch_size=large // 2).warmup == 0
    assert experiment.Settings(model="lenet1998", batch_size=512).warmup == 0
    assert experiment.Settings(batch_size=512, warmup=0).warmup == 0
    seen = {}
    real_fit = loop.fit

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(loop, "fit", spy)
    experiment.run(experiment.Settings(epochs=1, batch_size=large, limit=256), tiny_data())
    assert seen["warmup"] == experiment.WARMUP
