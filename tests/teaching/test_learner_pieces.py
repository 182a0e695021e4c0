"""The learner's pieces: the exercises whose answer is a class or a loop (Exercise.prepare) -
3.3's layer class and 9.1's training loop - are judged as the learner writes them, a 1% error
fails, the student edition's stub counts as not attempted and a failing one is replaced by
lenet's; and notebook 9 trains its LeNet-5 with the solutions of notebooks 3 to 9."""

import functools
from collections import Counter
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lenet import data
from lenet.nn import Layer
from lenet.nn.gradcheck import check_layer
from lenet.teaching import yours
from lenet.teaching.exercises import EXERCISES, or_reference, verdict


def test_the_exercises_of_a_class_and_a_loop_are_prepared():
    prepared = sorted(n for n, ex in EXERCISES.items() if ex.prepare is not None)
    assert prepared == ["3.3", "9.1"]
    assert len(EXERCISES) >= 26


def test_lenets_layer_class_passes_check_layer():
    rng = np.random.default_rng(0)
    layer = EXERCISES["3.3"].reference(rng.normal(size=(4, 3)), rng.normal(size=3))
    assert max(check_layer(layer, rng.normal(size=(5, 4))).values()) < 1e-7


def test_a_layer_class_one_percent_off_in_dw_fails_naming_dw():
    class Off(EXERCISES["3.3"].reference):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["W"] = self.grads["W"] * 1.01
            return dx

    result = verdict("3.3", Off)
    assert result.status == "failed"
    assert "dW has the right shape" in result.message and "Off" in result.message


class Stub(Layer):
    """What the student edition leaves of exercise 3.3: the constructor, and stubs."""

    def __init__(self, W, b):
        super().__init__()
        self.params = {"W": W, "b": b}

    def forward(self, x):
        raise NotImplementedError()

    def backward(self, dout):
        raise NotImplementedError()


def test_a_stub_class_is_not_attempted_and_lenets_class_stands_in(capsys):
    assert verdict("3.3", Stub).status == "not attempted"
    assert or_reference("3.3", Stub) is EXERCISES["3.3"].reference
    assert "lenet's version of LinearLayer stands in" in capsys.readouterr().out


def test_a_training_loop_with_a_one_percent_larger_step_fails():
    reference = EXERCISES["9.1"].reference

    def train_epoch(model, loss_fn, optimizer, x, y, batch_size, rng):
        optimizer.lr *= 1.01
        return reference(model, loss_fn, optimizer, x, y, batch_size, rng)

    result = verdict("9.1", train_epoch)
    assert result.status == "failed" and "values differ" in result.message


def test_a_training_loop_returning_a_list_is_accepted():
    reference = EXERCISES["9.1"].reference

    def train_epoch(model, loss_fn, optimizer, x, y, batch_size, rng):
        return list(reference(model, loss_fn, optimizer, x, y, batch_size, rng))

    assert verdict("9.1", train_epoch).passed


def test_each_call_of_a_prepared_check_starts_from_the_same_weights():
    seen = []
    reference = EXERCISES["9.1"].reference

    def train_epoch(model, loss_fn, optimizer, x, y, batch_size, rng):
        seen.append(model.layers[0].params["W"].copy())
        return reference(model, loss_fn, optimizer, x, y, batch_size, rng)

    assert verdict("9.1", train_epoch).passed
    first_case = EXERCISES["9.1"].cases[0].args["W"]
    assert np.array_equal(seen[0], first_case)  # not the weights another call trained


NOTEBOOK_9 = Path(__file__).resolve().parents[2] / "notebooks" / "09_lenet5_mnist.ipynb"
# the cells that load the data, and the section "Your LeNet-5"
CELLS = ["0fe7064a", "1e70f928", "yours-collect", "yours-glue", "yours-build", "yours-train"]
PIECES = ["3.3", "4.1", "5.4", "5.5", "6.4", "6.5", "7.2", "7.3", "8.1", "9.1", "9.2"]


def _counted(piece, calls):
    """The piece's function (or class), counting its calls into calls[piece.exercise]."""
    if isinstance(piece.function, type):

        class Counted(piece.function):
            def forward(self, x):
                calls[piece.exercise] += 1
                return super().forward(x)

        return Counted

    @functools.wraps(piece.function)
    def counted(*args, **kwargs):
        calls[piece.exercise] += 1
        return piece.function(*args, **kwargs)

    return counted


def test_notebook_9_trains_your_lenet5_with_the_solutions_of_notebooks_3_to_9(monkeypatch):
    try:
        data.load_mnist("train", download=False)
    except Exception as error:  # the notebooks need MNIST: LENET_DATA_DIR (README)
        pytest.skip(f"MNIST is not available: {error}")
    calls = Counter()
    real_collect = yours.collect

    def collect(folder=None, exercises=None):
        mine = real_collect(NOTEBOOK_9.parent, exercises)  # the committed, solved notebooks
        assert all(mine.yours(n) for n in mine), mine.table()
        return yours.Collection(replace(p, function=_counted(p, calls)) for p in mine.pieces)

    monkeypatch.setattr(yours, "collect", collect)
    cells = {c.id: c.source for c in nbformat.read(NOTEBOOK_9, as_version=4).cells}
    namespace = {}
    for cell_id in CELLS:
        code = "\n".join(line for line in cells[cell_id].splitlines() if not line.startswith("%"))
        if cell_id == "yours-train":
            assert sorted(namespace["pieces"]) == sorted(PIECES)
            calls.clear()  # from here on: training and testing
        exec(code, namespace)
        if cell_id == "0fe7064a":
            namespace["QUICK"] = True  # the small subsets of quick mode
    assert namespace["your_test_acc"] > 0.85
    assert sorted(calls) == sorted(PIECES), calls
    # every training step ran through the solutions: a batch of 64 over 5,000 images
    steps = -(-len(namespace["x_train"]) // 64)
    assert calls["9.1"] == 1 and calls["8.1"] == steps * 10  # ten parameter arrays per step
    assert calls["5.5"] == 2 * steps and calls["7.3"] == steps
