"""The command line: train, evaluate and bench on small data; bad arguments exit 2."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from lenet.__main__ import main


def test_train_then_evaluate(tiny_mnist, tmp_path, capsys):
    model = tmp_path / "out" / "model.npz"
    args = ["train", "--data-dir", str(tiny_mnist), "--epochs", "2", "--val", "50"]
    code = main(args + ["--limit", "200", "--output", str(model), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert model.is_file()
    assert "on 200 images, validating on 50" in out
    assert "test accuracy:" in out.splitlines()[-1] and "after 2 epochs" in out

    assert main(["evaluate", str(model), "--data-dir", str(tiny_mnist)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "per-class accuracy" in out
    assert "confusion matrix" in out and len(out.splitlines()) >= 14


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--lr", "-1"], "expected a finite number > 0, got '-1'"),
        (["train", "--lr", "0"], "expected a finite number > 0, got '0'"),
        (["train", "--lr", "nan"], "expected a finite number > 0, got 'nan'"),
        (["train", "--momentum", "1"], r"expected a momentum in \[0, 1\), got '1'"),
        (["train", "--seed", "-1"], "expected a non-negative integer, got '-1'"),
        (["train", "--val", "-5"], "expected a non-negative integer, got '-5'"),
        (["train", "--output", "model.pkl"], "expected a path ending in .npz, got 'model.pkl'"),
        (["train", "--batch-size", "0"], "expected a positive integer, got '0'"),
        (["train", "--epochs", "ten"], "expected a positive integer, got 'ten'"),
        (["train", "--activation", "gelu"], "invalid choice: 'gelu'"),
        (["train", "--lr-decay", "1.5"], r"expected a factor in \(0, 1\], got '1.5'"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("python -m lenet")
    assert re.search(message, err.splitlines()[-1])


def test_early_stopping_says_which_weights_it_kept(tiny_mnist, tmp_path, capsys):
    # Random labels: validation accuracy does not keep improving, so patience 1 stops early.
    args = ["train", "--data-dir", str(tiny_mnist), "--epochs", "6", "--val", "50", "--quiet"]
    args += ["--limit", "200", "--patience", "1", "--output", str(tmp_path / "m.npz")]
    assert main(args) == 0
    out = capsys.readouterr().out
    stopped = re.search(r"stopped early after epoch (\d+); kept the weights of epoch (\d+)", out)
    assert stopped and int(stopped[2]) < int(stopped[1]) < 6
    assert f"after {stopped[1]} epochs" in out.splitlines()[-1]


def test_adam_gets_its_own_default_learning_rate(tiny_mnist, tmp_path, capsys):
    args = ["train", "--data-dir", str(tiny_mnist), "--epochs", "1", "--val", "0", "--quiet"]
    code = main(args + ["--optimizer", "adam", "--output", str(tmp_path / "m.npz")])
    assert code == 0
    assert "adam lr 0.001," in capsys.readouterr().out


def test_evaluate_a_missing_checkpoint(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nothing.npz")]) == 1
    assert capsys.readouterr().err.strip() == f"error: no checkpoint at {tmp_path / 'nothing.npz'}"


def test_missing_data_is_a_message_not_a_traceback(tmp_path):
    # A subprocess, as a user runs it; no mirror is reachable from here, so point at none.
    code = (
        "import sys, lenet.data as d; d.MIRRORS = ('http://127.0.0.1:9/',);"
        "from lenet.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "train", "--data-dir", str(tmp_path / "empty")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "MNIST files not found" in result.stderr and "LENET_DATA_DIR" in result.stderr


def test_divergence_is_a_message(tiny_mnist, tmp_path, capsys):
    args = ["train", "--data-dir", str(tiny_mnist), "--lr", "1e6", "--quiet", "--val", "50"]
    assert main(args + ["--output", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert "diverged" in err and "smaller learning rate" in err


def test_bench_runs_small(capsys):
    args = ["bench", "--images", "256", "--repeats", "1", "--no-torch", "--profile"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "repeat 1, batch 64: fit " in out and "Conv2d" in out


def test_bench_times_several_batch_sizes_in_one_run(capsys):
    args = ["bench", "--images", "128", "--repeats", "2", "--no-torch", "--batch-sizes", "16,32"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for size in (16, 32):
        assert f"repeat 2, batch {size}: fit " in out
    summary = out.split("of the repeats\n")[1].splitlines()
    assert [line.split()[0] for line in summary] == ["16", "32"]


def test_bench_refuses_a_bad_batch_size_list(capsys):
    with pytest.raises(SystemExit) as err:
        main(["bench", "--batch-sizes", "16,0"])
    assert err.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


def test_ctrl_c_exits_130_without_a_traceback(tiny_mnist, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("lenet.training.loop.fit", interrupted)
    output = tmp_path / "m.npz"
    args = ["train", "--data-dir", str(tiny_mnist), "--val", "50", "--output", str(output)]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert err.splitlines() == ["interrupted in epoch 1: nothing was saved", "interrupted"]
    assert not output.exists()


def test_time_to_accuracy_benchmark_runs_small(tiny_mnist):
    script = Path(__file__).parents[2] / "benchmarks" / "time_to_accuracy.py"
    args = ["--target", "0", "--data-dir", str(tiny_mnist), "--epochs", "2", "--val", "50"]
    result = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 2: test accuracy" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("first reached 0.00% after epoch 1, ")


def test_batch_size_benchmark_runs_small():
    script = Path(__file__).parents[2] / "benchmarks" / "batch_size.py"
    args = ["--batch-sizes", "32", "64", "--images", "256", "--rounds", "2"]
    result = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("round 1: batch 32 ") and "batch 64" in lines[0]
    assert lines[-1].startswith("batch 64: median ") and lines[-1].endswith("MB allocated per step")


def test_train_steps_script_runs():
    script = Path(__file__).parents[2] / "benchmarks" / "train_steps.py"
    result = subprocess.run(
        [sys.executable, str(script), "8", "20"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(
        r"20 steps at batch 8 after one warm-up step: loss (\S+) -> (\S+)\n", result.stdout
    )
    assert match and float(match[2]) < float(match[1])  # the same batch again: it learns it


def test_thread_scaling_benchmark_prints_a_speedup_per_call_and_for_whole_steps():
    script = Path(__file__).parents[2] / "benchmarks" / "thread_scaling.py"
    result = subprocess.run(
        [sys.executable, str(script), "--batch-size", "4", "--repeats", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("batch 4: speedup of two threads over one")
    names = [line.rsplit(maxsplit=1)[0].strip() for line in lines[1:]]
    assert names[0] == "matrix product (conv 2)" and names[-2:] == [
        "training steps, two threads",
        "training steps, two processes",
    ]
    assert all(float(line.rsplit(maxsplit=1)[1]) > 0 for line in lines[1:])
