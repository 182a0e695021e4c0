"""Splits and mini-batches of any (images, labels) arrays."""

import numpy as np
import pytest

from lenet import data


def test_no_examples_to_split():
    message = r"train_val_split: expected images of shape \(N, \.\.\.\) with N > 0, got \(0, 1, 28"
    with pytest.raises(ValueError, match=message):
        data.train_val_split(np.zeros((0, 1, 28, 28)), np.zeros(0))


def test_train_val_split_takes_the_last_examples():
    x, y = np.arange(10)[:, None], np.arange(10)
    (xt, yt), (xv, yv) = data.train_val_split(x, y, n_val=3)
    np.testing.assert_array_equal(yt, np.arange(7))
    np.testing.assert_array_equal(yv, [7, 8, 9])
    np.testing.assert_array_equal(xv[:, 0], yv)


@pytest.mark.parametrize("bad", [-1, 10, 2.5])
def test_train_val_split_bad_size(bad):
    with pytest.raises(ValueError, match=rf"n_val must be an integer in \[0, 10\), got {bad}"):
        data.train_val_split(np.zeros((10, 1)), np.zeros(10), n_val=bad)


def test_minibatches_cover_everything_once_and_keep_the_last_partial_batch():
    x, y = np.arange(10)[:, None], np.arange(10)
    batches = list(data.iterate_minibatches(x, y, 4, rng=0))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10))
    for bx, by in batches:
        np.testing.assert_array_equal(bx[:, 0], by)  # images stay with their labels


def test_minibatch_order_depends_only_on_the_seed():
    x, y = np.arange(50)[:, None], np.arange(50)

    def order(seed):
        return np.concatenate([b for _, b in data.iterate_minibatches(x, y, 8, rng=seed)])

    np.testing.assert_array_equal(order(3), order(np.random.default_rng(3)))
    assert not np.array_equal(order(3), order(4))
    unshuffled = data.iterate_minibatches(x, y, 8, shuffle=False)
    np.testing.assert_array_equal(np.concatenate([b for _, b in unshuffled]), y)


def test_minibatches_leave_the_global_random_state_alone():
    # The legacy global state is read here on purpose, to show that shuffling never touches it.
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    list(data.iterate_minibatches(np.zeros((10, 1)), np.zeros(10), 3))
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_bad_batch_size_is_reported_at_the_call(bad):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {bad!r}"):
        data.iterate_minibatches(np.zeros((4, 1)), np.zeros(4), bad)


def test_images_and_labels_must_match():
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        data.iterate_minibatches(np.zeros((4, 1)), np.zeros(3), 2)
