"""The command line under faults: bad outputs, existing models, Ctrl-C, SIGTERM, a full disk.

Each case as a user meets it: run as a subprocess where the process matters (signals, exit codes),
with the exit code, a message naming the file or the argument, and never a traceback.
"""

import errno
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import lenet
from lenet.__main__ import main
from lenet.training import checkpoint


def run_cli(*args, timeout=120):
    """python -m lenet args... in a subprocess -> CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "lenet", *args], capture_output=True, text=True, timeout=timeout
    )


def train_args(data, output, *extra):
    return ["train", "--data-dir", str(data), "--val", "50", "--limit", "200", "--epochs", "1",
            "--quiet", "--output", str(output), *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("make_output", "reason"),
    [
        (lambda tmp: "/proc/lenet-model.npz", "cannot write /proc/lenet-model.npz"),
        (lambda tmp: (tmp / "folder.npz").mkdir() or tmp / "folder.npz", "an existing folder"),
        (
            lambda tmp: (tmp / "afile").write_text("") or tmp / "afile" / "m.npz",
            "is a file, not a folder",
        ),
    ],
    ids=["proc", "existing-folder", "parent-is-a-file"],
)
def test_a_bad_output_is_found_before_training(tiny_mnist, tmp_path, make_output, reason):
    output = make_output(tmp_path)
    result = run_cli(*train_args(tiny_mnist, output))
    assert result.returncode == 2
    assert str(output) in result.stderr and reason in result.stderr
    assert "argument --output" in result.stderr
    assert "epoch 1" not in result.stdout  # nothing was trained
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_a_read_only_folder_is_found_before_training(tiny_mnist, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    result = run_cli(*train_args(tiny_mnist, folder / "m.npz"))
    assert result.returncode == 2 and "Permission denied" in result.stderr


def start_long_training(data, output):
    """`python -m lenet train` on the tiny data for 1000 epochs, in a process of its own."""
    args = train_args(data, output)
    args[args.index("--epochs") + 1] = "1000"
    return subprocess.Popen(
        [sys.executable, "-m", "lenet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_run_keeps_the_first_model(tiny_mnist, tmp_path):
    output = tmp_path / "checkpoints" / "lenet5.npz"
    first = run_cli(*train_args(tiny_mnist, output, "--seed", "1"))
    assert first.returncode == 0, first.stderr
    first_bytes = output.read_bytes()
    second = run_cli(*train_args(tiny_mnist, output, "--seed", "2"))
    assert second.returncode == 0, second.stderr
    kept = tmp_path / "checkpoints" / "lenet5.1.npz"
    assert f"the previous model at {output} is kept as {kept}" in second.stdout
    assert f"saved the model to {output}" in second.stdout
    assert kept.read_bytes() == first_bytes
    assert second.stdout.splitlines()[-1].startswith("test accuracy:")


def test_a_failed_save_prints_the_results_first(tiny_mnist, tmp_path, monkeypatch, capsys):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "save", disk_full)
    output = tmp_path / "m.npz"
    assert main(train_args(tiny_mnist, output)) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1].startswith("test accuracy:")
    assert f"could not save the model to {output}" in captured.err
    assert "No space left on device" in captured.err


def test_ctrl_c_keeps_the_best_finished_epoch(tiny_mnist, tmp_path, monkeypatch, capsys):
    real_fit = lenet.training.fit

    def fit_then_interrupt(*args, callback=None, **kwargs):
        def after_epoch(history):
            callback(history)
            if history.epoch[-1] == 2:
                raise KeyboardInterrupt

        return real_fit(*args, callback=after_epoch, **kwargs)

    monkeypatch.setattr(lenet.training.loop, "fit", fit_then_interrupt)
    output = tmp_path / "m.npz"
    args = train_args(tiny_mnist, output)
    args[args.index("--epochs") + 1] = "5"
    assert main(args) == 130
    captured = capsys.readouterr()
    assert "interrupted; keeping the model of epoch" in captured.err
    assert f"(the best finished epoch), saved to {output}" in captured.err  # saved after it
    assert lenet.load(output).forward(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 10)


def test_sigterm_exits_143_and_leaves_no_temporary_file(tiny_mnist, tmp_path):
    output = tmp_path / "m.npz"
    process = start_long_training(tiny_mnist, output)
    assert process.stdout.readline().startswith("training ")  # training has started
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert "terminated" in err and "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--epoch", "3"], "unrecognized arguments: --epoch"),  # no prefix matching
        (["--optimizer", "adam", "--momentum", "0.5"], "--momentum applies to sgd only"),
        (["--val", "300"], "argument --val: expected fewer validation images than the 300"),
    ],
)
def test_arguments_refused_with_exit_2(tiny_mnist, tmp_path, extra, message):
    args = train_args(tiny_mnist, tmp_path / "m.npz")
    args.remove("--val")
    args.remove("50")
    result = run_cli(*args, *extra)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_run_at_chance_level_says_so(tiny_mnist, tmp_path):
    result = run_cli(*train_args(tiny_mnist, tmp_path / "m.npz", "--lr", "5"))
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    if result.returncode == 0:  # else it diverged, and said so
        assert "warning: the model ends near chance" in result.stderr
    else:
        assert "training diverged" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b"not a model", "not a zip"), (b"\x80\x04K", "pickled")],
    ids=["empty", "text", "pickle"],
)
def test_evaluate_a_damaged_checkpoint(tmp_path, content, message):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    result = run_cli("evaluate", str(path))
    assert result.returncode == 1
    assert str(path) in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr and "allow_pickle" not in result.stderr


def test_help_shows_the_defaults_and_no_raw_docstring():
    top = run_cli("--help").stdout
    assert "``" not in top and "exit codes" in top
    train_help = " ".join(run_cli("train", "--help").stdout.split())  # unwrapped
    for default in ("(default: 10;", "(default: 64;", "(default: 0.001)", "default: 5000"):
        assert default in train_help
    assert "$LENET_DATA_DIR if set, else data/" in train_help


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / "train-images-idx3-ubyte").write_bytes(b""), "the file is empty"),
        (
            lambda folder: (folder / "train-images-idx3-ubyte").write_bytes(b"<html>Not found"),
            "an HTML page",
        ),
    ],
    ids=["empty", "html"],
)
def test_data_errors_speak_of_the_command_line_options(tiny_mnist, tmp_path, damage, message):
    damage(tiny_mnist)
    result = run_cli(*train_args(tiny_mnist, tmp_path / "m.npz"))
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert "train-images-idx3-ubyte" in first and message in first
    assert "`root`" not in result.stderr and "Traceback" not in result.stderr


def test_data_dir_that_is_a_file(tmp_path):
    a_file = tmp_path / "mnist.txt"
    a_file.write_text("")
    result = run_cli(*train_args(a_file, tmp_path / "m.npz"))
    assert result.returncode == 1
    assert "the data folder is a file" in result.stderr and "--data-dir" in result.stderr
    assert "Errno" not in result.stderr and "Traceback" not in result.stderr


# --- issue 29: checked checkpoints, a mistyped LENET_DATA_DIR, long names (the safety rows)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.full((3, 2), np.nan, np.float32), "6 of its 6 values are NaN or inf"),
        (np.ones((3, 2), np.int64), "its dtype is int64 (<i8), lenet weights are float32"),
        (np.full((3, 2), "w"), "its dtype is <U1"),
    ],
    ids=["nan", "int", "text"],
)
def test_evaluate_refuses_weights_that_are_not_finite_floats(tmp_path, weights, message):
    path = tmp_path / "m.npz"
    lenet.save(lenet.Sequential(lenet.Linear(3, 2, rng=0)), path)
    with np.load(path) as f:
        arrays = {key: f[key] for key in f.files}
    np.savez(path, **{**arrays, "0.W": weights})
    result = run_cli("evaluate", str(path))
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: array '0.W'") and message in line


def test_a_mistyped_lenet_data_dir_is_one_line_and_creates_nothing(tmp_path):
    missing = tmp_path / "mnsit"
    result = subprocess.run(
        [sys.executable, "-m", "lenet", "train", "--output", str(tmp_path / "m.npz")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LENET_DATA_DIR": str(missing)},
    )
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {missing}: LENET_DATA_DIR names a folder that does not exist.")
    assert os.listdir(tmp_path) == []


def test_a_244_character_output_name_is_accepted(tiny_mnist, tmp_path):
    output = tmp_path / ("m" * 240 + ".npz")
    result = run_cli(*train_args(tiny_mnist, output))
    assert result.returncode == 0, result.stderr
    assert checkpoint.load(output).layers


# --- issue 29: a run survives the terminal going away; messages name the cause ---------------


def test_sighup_after_epoch_1_leaves_a_loadable_model(tiny_mnist, tmp_path):
    """A closed terminal or a dropped SSH session (SIGHUP) is handled like SIGTERM: the best
    epoch's model is on disk (it was saved after the epoch) and the run says so, exit 129."""
    output = tmp_path / "m.npz"
    process = start_long_training(tiny_mnist, output)
    for line in process.stdout:  # the epoch's line comes after its save
        if line.startswith("epoch 1:"):
            break
    process.send_signal(signal.SIGHUP)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 129, err
    assert "terminated: the terminal closed (SIGHUP)" in err and "Traceback" not in err
    assert f"(the best finished epoch), saved to {output}" in err
    assert lenet.load(output).forward(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 10)


def test_a_closed_pipe_stops_the_printing_not_the_training(tiny_mnist, tmp_path):
    """`python -m lenet train | head -1`: head exits after one line; training goes on to the
    end and saves its model (it used to die of a broken pipe at the next print)."""
    output = tmp_path / "m.npz"
    args = train_args(tiny_mnist, output)
    args[args.index("--epochs") + 1] = "3"
    command = " ".join([sys.executable, "-m", "lenet", *args])
    result = subprocess.run(
        ["bash", "-c", command + ' | head -1; exit "${PIPESTATUS[0]}"'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("training ") and len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert lenet.load(output).forward(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 10)


def test_help_says_what_is_saved_when(tiny_mnist):
    text = " ".join(run_cli("train", "--help").stdout.split())
    assert "After every epoch that is the best so far" in text
    assert "kill -9" in text and "SIGHUP" in text and "closed pipe" in text
    assert "129" in " ".join(run_cli("--help").stdout.split())


def test_divergence_from_weight_decay_names_it_and_claims_no_save(tiny_mnist, tmp_path):
    """--weight-decay 100: the decay step flips and grows every weight. The message names the
    weight decay, not the learning rate, and says what is on disk: nothing after epoch 1."""
    output = tmp_path / "m.npz"
    args = train_args(tiny_mnist, output, "--weight-decay", "100", "--batch-size", "1")
    result = run_cli(*args)
    assert result.returncode == 1
    assert "The weight decay 100 is what grows the weights" in result.stderr
    assert "smaller learning rate" not in result.stderr
    assert "Nothing was saved." in result.stderr and "keeps the weights" not in result.stderr
    assert not output.exists()
    # diverging later: the best finished epoch is on disk, and the message says where
    args = train_args(tiny_mnist, output, "--weight-decay", "100", "--lr-decay", "1")
    args[args.index("--epochs") + 1] = "20"  # 4 steps per epoch: epoch 1 ends before it diverges
    result = run_cli(*args)
    assert result.returncode == 1 and "The weight decay 100 is what grows" in result.stderr
    assert f"(the best finished epoch) is saved at {output}." in result.stderr
    lenet.load(output)


@pytest.mark.parametrize(
    ("option", "value", "cause"),
    [
        ("--limit", "1", "too few steps to learn from: a limit of 1 training image gives 1 step"),
        (
            "--batch-size",
            "512",
            "the batch size (512) is larger than the 200 training images, so every epoch is a "
            "single step",
        ),
    ],
    ids=["limit-1", "batch-larger-than-the-data"],
)
def test_the_chance_warning_names_the_cause(tiny_mnist, tmp_path, option, value, cause):
    """A run that ends near chance because of its data is not blamed on the learning rate."""
    args = train_args(tiny_mnist, tmp_path / "m.npz")
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    warning = " ".join(result.stderr.split())
    assert "warning: the model ends near chance" in warning and cause in warning
    assert "learning rate" not in warning


@pytest.mark.parametrize(
    ("extra", "flags"),
    [
        (["--lr", "0.1"], "--lr"),
        (["--activation", "tanh", "--pool", "avg"], "--activation, --pool"),
        (["--weight-decay", "0", "--optimizer", "adam"], "--weight-decay, --optimizer"),
        (["--warmup", "10"], "--warmup"),
    ],
)
def test_lenet1998_refuses_options_it_does_not_use(tiny_mnist, tmp_path, extra, flags):
    result = run_cli(*train_args(tiny_mnist, tmp_path / "m.npz", "--model", "lenet1998", *extra))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "lenet1998 trains with the paper's recipe" in result.stderr
    assert f"does not use {flags}" in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_lenet1998_never_validates_on_0_and_honours_val_and_patience(tiny_mnist, tmp_path):
    args = train_args(tiny_mnist, tmp_path / "m.npz", "--model", "lenet1998")
    args[args.index("--val") + 1] = "0"
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "validating on 0" not in result.stdout
    assert result.stdout.splitlines()[0].endswith("on 200 images, no validation images")
    args = train_args(tiny_mnist, tmp_path / "p.npz", "--model", "lenet1998", "--patience", "1")
    args[args.index("--epochs") + 1] = "3"
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("on 200 images, validating on 50")
    assert all("validation loss" in line for line in lines if line.startswith("epoch "))


def test_the_default_output_is_the_notebooks_checkpoint_folder(tiny_mnist, tmp_path):
    folder = tmp_path / "notebook-checkpoints"
    args = train_args(tiny_mnist, "unused.npz")
    args = args[: args.index("--output")]
    result = subprocess.run(
        [sys.executable, "-m", "lenet", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LENET_CHECKPOINT_DIR": str(folder)},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    path = folder / "lenet5.npz"
    assert f"the best epoch so far is saved to {path} after every epoch" in result.stdout
    assert f"saved the model to {path}" in result.stdout
    assert path.is_file() and not (tmp_path / "checkpoints").exists()
