"""The benchmark: it runs small, reports what it promises, and counts the arithmetic right."""

import numpy as np
import pytest

import lenet
from lenet.training import bench


def test_training_flops_of_lenet5_counts_every_matrix_product():
    # forward, weight gradient, input gradient: 2 FLOP per multiply-add each; conv1 skips dx
    conv1, conv2 = 6 * 25 * 28 * 28, 16 * 6 * 25 * 10 * 10
    dense = 400 * 120 + 120 * 84 + 84 * 10
    expected = 2 * (2 * conv1 + 3 * conv2 + 3 * dense)
    assert bench.training_flops(lenet.LeNet5()) == expected  # about 2.3 million
    assert 2.2e6 < expected < 2.3e6


def test_both_lenet_paths_train_and_a_bad_path_is_refused():
    x, y = bench.synthetic_mnist(64)
    assert bench.lenet_epoch(x, y, 32, path="fit") > 0
    assert bench.lenet_epoch(x, y, 32, path="loop") > 0
    with pytest.raises(ValueError, match="path must be one of"):
        bench.lenet_epoch(x, y, 32, path="fast")


def test_compare_gives_medians_ratios_and_the_distance_to_the_limit(capsys):
    torch = pytest.importorskip("torch")
    assert torch
    results = bench.compare(images=128, batch_sizes=(16, 32), repeats=2)
    out = capsys.readouterr().out
    for size in (16, 32):
        r = results[size]
        assert len(r["times"]["fit"]) == len(r["times"]["torch"]) == 2
        assert r["fit_ratio"] > 0 and r["loop_ratio"] > 0 and r["fit_limit"] > 0
        assert f"repeat 2, batch {size}: fit " in out
    rows = out.split("of the repeats\n")[1].splitlines()
    assert [row.split()[0] for row in rows] == ["16", "32"]
    assert rows[0].count("(") == 5  # four spreads and the memory note


def test_shared_times_two_at_once_and_beside_a_busy_core(capsys):
    results = bench.shared(images=64, batch_sizes=(32,), repeats=1, use_torch=False)
    r = results[("lenet", 32)]
    assert len(r["alone"]) == len(r["two"]) == len(r["busy"]) == 1
    assert r["two_slowdown"] > 0 and r["busy_slowdown"] > 0
    assert "lenet    32" in capsys.readouterr().out


def test_matmul_seconds_scales_with_the_work():
    one = bench.matmul_seconds(1e9, size=256, repeats=3)
    assert one > 0 and np.isclose(bench.matmul_seconds(0, size=64), 0)


def test_layer_profile_times_every_layer_of_lenet5_on_this_threads_cpu_clock(monkeypatch):
    rows = bench.layer_profile(8, repeats=2)
    names = [f"{i:2d} {type(layer).__name__}" for i, layer in enumerate(lenet.LeNet5().layers)]
    assert [name for name, _, _ in rows] == names
    assert all(np.isfinite(f) and np.isfinite(b) and f >= 0 and b >= 0 for _, f, b in rows)
    # a CPU clock of this thread that moves 1 ms per reading: each layer then takes exactly 1 ms
    ticks = iter(range(10**6))
    monkeypatch.setattr(bench.time, "thread_time", lambda: next(ticks) / 1000)
    timed = np.array([(f, b) for _, f, b in bench.layer_profile(8, repeats=2)])
    np.testing.assert_allclose(timed, 1.0, rtol=1e-9)
