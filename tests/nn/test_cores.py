"""The threads while lenet computes: BLAS at what lenet decided, a user's own setting kept, and
a hand-written loop that runs its large batches on the cores as fit does."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import threadpoolctl

import lenet
from lenet.nn import cores


def blas_threads():
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


class Probe(lenet.Layer):
    """Passes its input on and records BLAS's thread counts whenever it runs."""

    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def forward(self, x):
        self.seen.append(blas_threads())
        self._cache = x.shape
        return x

    def backward(self, dout):
        self._cached()
        self.seen.append(blas_threads())
        return dout


def probed_net(seen):
    return lenet.Sequential(
        lenet.Conv2d(1, 2, 3, rng=0), Probe(seen), lenet.Flatten(), lenet.Linear(2 * 26 * 26, 10)
    )


@pytest.mark.skipif(cores.user_decides(), reason="BLAS's threads are set in the environment")
@pytest.mark.parametrize("batch", [8, 300])  # one chunk, and chunks on the cores
def test_blas_runs_at_lenets_setting_while_training_and_gets_its_threads_back(batch):
    x = np.random.default_rng(0).random((batch, 1, 28, 28), dtype=np.float32)
    y = np.arange(batch) % 10
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # as numpy starts on 2 cores
        before = blas_threads()
        seen = []
        model, loss = probed_net(seen), lenet.SoftmaxCrossEntropy()
        opt = lenet.SGD(model, lr=0.01)
        loss.forward(model.forward(x), y)  # the hand-written loop
        model.backward(loss.backward())
        opt.step()
        model.forward_backward(x, y, loss)  # fit's step
        after = blas_threads()
    assert seen and all(threads == [cores.plan()["blas"]] * len(before) for threads in seen)
    assert cores.plan()["blas"] == 1
    assert after == before == [2] * len(before)


SCRIPT = """
import json, numpy as np, threadpoolctl, lenet
from lenet.nn import cores
seen = []
class Probe(lenet.Layer):
    def forward(self, x):
        seen.append([i["num_threads"] for i in threadpoolctl.threadpool_info()])
        return x
model = lenet.Sequential(lenet.Linear(4, 3, rng=0), Probe())
model.forward(np.ones((256, 4), dtype=np.float32))
print(json.dumps({"seen": seen, "plan": cores.plan()}))
"""


def test_a_users_own_blas_setting_is_kept():
    env = {k: v for k, v in os.environ.items() if k not in cores.USER_SETTINGS}
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    assert result["seen"] and all(threads == [2] for threads in result["seen"])
    assert result["plan"] == {"blas": 2, "chunks": max(1, cores.core_count() // 2)}


def step_grads(model, x, y, hand_written):
    loss = lenet.SoftmaxCrossEntropy()
    if hand_written:
        value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
    else:
        value, _ = model.forward_backward(x, y, loss)
    return value, [{k: g.copy() for k, g in layer.grads.items()} for layer in model.layers]


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_the_hand_written_loop_runs_in_chunks_with_fits_gradients(monkeypatch, dtype, rtol):
    """Batch 256 runs in chunks on 2 cores in both; one chunk of 256 is the reference."""
    monkeypatch.setattr(cores, "core_count", lambda: 2)
    rng = np.random.default_rng(1)
    x, y = rng.random((256, 1, 28, 28)).astype(dtype), rng.integers(0, 10, 256)
    model = lenet.LeNet5(dtype=dtype, rng=0)
    hand = step_grads(model, x, y, hand_written=True)
    fit_step = step_grads(model, x, y, hand_written=False)
    model.chunk_size = 1000  # one chunk: the plain passes
    whole = step_grads(model, x, y, hand_written=True)
    assert hand[0] == fit_step[0]
    np.testing.assert_allclose(hand[0], whole[0], rtol=rtol)
    for a, b, c in zip(hand[1], fit_step[1], whole[1], strict=True):
        for k in c:
            np.testing.assert_array_equal(a[k], b[k])
            np.testing.assert_allclose(a[k], c[k], rtol=0, atol=rtol * np.abs(c[k]).max())


def test_chunked_passes_leave_no_stale_cache_in_the_layers(monkeypatch):
    """After a chunked forward, a layer's own backward says forward has not run on it."""
    monkeypatch.setattr(cores, "core_count", lambda: 2)
    model = lenet.LeNet5(dtype=np.float64, rng=0)
    model.forward(np.zeros((4, 1, 28, 28)))  # one chunk: the layers cache
    model.forward(np.zeros((256, 1, 28, 28)))  # chunks: the siblings cache
    with pytest.raises(RuntimeError, match="before forward"):
        model.layers[-1].backward(np.zeros((256, 10)))
    with pytest.raises(ValueError, match="expected 256 samples"):
        model.backward(np.zeros((255, 10)))


def test_replaced_layers_get_new_chunk_siblings(monkeypatch):
    monkeypatch.setattr(cores, "core_count", lambda: 2)
    model = lenet.Sequential(lenet.Linear(3, 2, dtype=np.float64, rng=0))
    x = np.ones((200, 3))
    model.forward(x)
    model.layers[0] = lenet.Linear(3, 2, dtype=np.float64, rng=1)
    np.testing.assert_array_equal(model.forward(x), x @ model.layers[0].params["W"])
