"""The command line: python -m lenet train | evaluate | bench | student.

It parses arguments and prints; lenet.training.experiment does the training. Exit codes: 0 done,
1 an error (missing or corrupt data, an unreadable checkpoint, a diverged run, a failed save),
2 bad arguments (including an output path that cannot be written), 129 SIGHUP (the terminal
closed), 130 Ctrl-C, 143 SIGTERM.
"""

import argparse
import errno
import math
import os
import signal
import sys

import numpy as np
from tqdm import tqdm

from lenet import data, paper1998, training
from lenet.teaching import student
from lenet.training import bench, checkpoint, experiment
from lenet.utils import files, i18n
from lenet.utils.checks import (
    non_negative_int,
    non_negative_number,
    number_in,
    positive_int,
    positive_number,
)
from lenet.utils.config import CHECKPOINT_DIR

EXAMPLES = f"""examples:
  python -m lenet train                      LeNet-5 on MNIST, saved to {CHECKPOINT_DIR}/lenet5.npz
  python -m lenet train --model lenet1998    the 1998 LeNet-5 with the paper's recipe
  python -m lenet train --distort            train on randomly distorted digits (either model)
  python -m lenet evaluate {CHECKPOINT_DIR}/lenet5.npz
  python -m lenet bench --batch-sizes 16,64,256,512

exit codes: 0 done, 1 error (data, checkpoint, diverged run, failed save), 2 bad arguments,
129 the terminal closed (SIGHUP), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)"""

TRAIN_DESCRIPTION = f"""Train a LeNet-5 on MNIST and report its test accuracy.

After every epoch that is the best so far (validation accuracy, else training accuracy) the
model is written to --output, whole or not at all, so a run ended any way - Ctrl-C, SIGTERM, a
closed terminal (SIGHUP), even kill -9 - loses at most the epoch in progress; at the end the
trained model replaces it. Output to a closed pipe (`train | head -1`) stops the printing, not
the training. Models go to the folder the notebooks use unless --output says otherwise:
  {CHECKPOINT_DIR}"""

DATA_DIR_HELP = (
    "folder with the MNIST files (default: $LENET_DATA_DIR if set, else data/ in a source "
    "checkout, else ~/.cache/lenet; missing files are downloaded there)"
)

# What --model lenet1998 does not use: its recipe sets the network, the loss and the steps.
NOT_FOR_1998 = (
    "lr",
    "momentum",
    "weight_decay",
    "lr_decay",
    "warmup",
    "optimizer",
    "activation",
    "pool",
)


class UsageError(Exception):
    """A bad argument found after parsing (exit code 2)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so that every cleanup runs (exit 128 + signal)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class _ClosedPipeSafe:
    """A text stream that stops printing, not the program, once its reader is gone.

    `python -m lenet train | head -1` closes the pipe after one line, and a closed terminal
    makes writes fail with EIO: either way, from then on the output goes to os.devnull.
    """

    GONE = (errno.EPIPE, errno.EIO)

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        try:
            return self.stream.write(text)
        except OSError as err:
            self._gone(err)
            return len(text)

    def flush(self):
        try:
            self.stream.flush()
        except OSError as err:
            self._gone(err)

    def _gone(self, err):
        if err.errno not in self.GONE:
            raise err
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.stream.fileno())
        os.close(devnull)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _checked(check, convert=float):
    """An argparse type: the text converted, then checked by a lenet.utils.checks function."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None  # not a number: the check below refuses it with its own words
        try:
            return check("value", value)
        except ValueError as err:
            expected = str(err).removeprefix("value must be ").rsplit(", got ", 1)[0]
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None

    return parse


def _fraction(name, value):
    return number_in(name, value, 0, 1, "a factor in (0, 1]", low_inclusive=False)


def _momentum(name, value):
    return number_in(name, value, 0, 1, "a momentum in [0, 1)", high_inclusive=False)


POSITIVE_INT = _checked(positive_int, int)
NON_NEGATIVE_INT = _checked(non_negative_int, int)
POSITIVE_NUMBER = _checked(positive_number)
NON_NEGATIVE_NUMBER = _checked(non_negative_number)
MOMENTUM = _checked(_momentum)
FRACTION = _checked(_fraction)


def _batch_sizes(text):
    """'16,64,256' -> [16, 64, 256]: comma-separated positive integers."""
    return [POSITIVE_INT(part.strip()) for part in text.split(",")]


def _npz_path(text):
    if not text.endswith(".npz"):
        raise argparse.ArgumentTypeError(f"expected a path ending in .npz, got {text!r}")
    return text


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default (if it has one), and the description and examples as written."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        shown = default is not None and default is not False and default != argparse.SUPPRESS
        if shown and "default" not in text:
            text += " (default: %(default)s)"
        return text


def _add_train_parser(commands, sub):
    defaults = experiment.Settings()
    paper = experiment.MODEL_DEFAULTS["lenet1998"]
    p = commands.add_parser(
        "train",
        help="train LeNet-5 on MNIST and report test accuracy",
        description=TRAIN_DESCRIPTION,
        **sub,
    )
    p.add_argument(
        "--model",
        choices=("lenet5", "lenet1998"),
        default=defaults.model,
        help="lenet5: the modern net; lenet1998: the paper's net, loss, SDLM and step schedule "
        "(it refuses --lr, --momentum, --weight-decay, --lr-decay, --warmup, --optimizer, "
        "--activation and --pool)",
    )
    p.add_argument(
        "--epochs",
        type=POSITIVE_INT,
        help=f"passes over the data (default: {defaults.epochs}; lenet1998: {paper['epochs']})",
    )
    p.add_argument(
        "--batch-size",
        type=POSITIVE_INT,
        help=f"images per step (default: {defaults.batch_size}; lenet1998: {paper['batch_size']})",
    )
    p.add_argument(
        "--lr",
        type=POSITIVE_NUMBER,
        help=f"learning rate (default: {experiment.DEFAULT_LR['sgd']} for sgd, "
        f"{experiment.DEFAULT_LR['adam']} for adam)",
    )
    p.add_argument(
        "--momentum",
        type=MOMENTUM,
        help=f"sgd momentum (default: {experiment.DEFAULT_MOMENTUM}; adam takes none)",
    )
    p.add_argument(
        "--weight-decay", type=NON_NEGATIVE_NUMBER, help=f"L2 (default: {defaults.weight_decay})"
    )
    p.add_argument(
        "--lr-decay",
        type=FRACTION,
        help="multiply the learning rate by this after every epoch (1 = constant; default: "
        f"{defaults.lr_decay})",
    )
    p.add_argument(
        "--warmup",
        type=NON_NEGATIVE_INT,
        help="steps over which the learning rate rises linearly to --lr at the start, so that "
        f"large batches do not collapse (0: none; default: {experiment.WARMUP} for batches of "
        f"{experiment.WARMUP_FROM} or more, else 0)",
    )
    p.add_argument(
        "--optimizer",
        choices=experiment.OPTIMIZERS,
        help=f"method (default: {defaults.optimizer})",
    )
    p.add_argument(
        "--activation",
        choices=experiment.ACTIVATIONS,
        help=f"units (default: {defaults.activation})",
    )
    p.add_argument("--pool", choices=experiment.POOLS, help=f"pooling (default: {defaults.pool})")
    _add_run_options(p, defaults)


def _add_run_options(p, defaults):
    """train's options that both models take."""
    p.add_argument(
        "--distort",
        action="store_true",
        help="train on freshly distorted digits every epoch (the paper's affine distortions)",
    )
    p.add_argument(
        "--seed", type=NON_NEGATIVE_INT, default=defaults.seed, help="weights, shuffling"
    )
    p.add_argument("--data-dir", help=DATA_DIR_HELP)
    p.add_argument(
        "--output",
        type=_npz_path,
        help=f"where to save the model (default: {CHECKPOINT_DIR}/MODEL.npz, the folder the "
        "notebooks use, or $LENET_CHECKPOINT_DIR's; a file already there is kept as "
        "NAME.1.npz, NAME.2.npz...)",
    )
    p.add_argument("--limit", type=POSITIVE_INT, help="train on the first N training images only")
    p.add_argument(
        "--val",
        type=NON_NEGATIVE_INT,
        help="validation images, the last ones of the training set (0: none; default: 5000, "
        "lenet1998: 0, as the paper trains on all 60,000)",
    )
    p.add_argument(
        "--patience",
        type=POSITIVE_INT,
        help="stop when validation accuracy (training accuracy with --val 0) has not improved "
        "for N epochs; keep the best weights",
    )
    p.add_argument("--quiet", action="store_true", help="a line per epoch, no progress bars")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m lenet",
        description="lenet: train, evaluate and time a numpy LeNet-5 on MNIST.",
        epilog=EXAMPLES,
        formatter_class=_HelpFormatter,
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub = {"formatter_class": _HelpFormatter, "allow_abbrev": False}
    _add_train_parser(commands, sub)

    p = commands.add_parser("evaluate", help="test accuracy and confusion matrix of a model", **sub)
    p.add_argument("model", help="a checkpoint saved by `train` (.npz)")
    p.add_argument("--data-dir", help=DATA_DIR_HELP)

    p = commands.add_parser("bench", help="time a training epoch: lenet vs PyTorch", **sub)
    p.add_argument("--batch-size", type=POSITIVE_INT, default=64, help="images per step")
    p.add_argument(
        "--batch-sizes",
        type=_batch_sizes,
        help="several batch sizes in one alternating run, e.g. 16,64,256,512 (overrides "
        "--batch-size); prints median, spread and ratio per batch size",
    )
    p.add_argument("--images", type=POSITIVE_INT, default=20_000, help="images per epoch")
    p.add_argument("--repeats", type=POSITIVE_INT, default=3, help="epochs timed per library")
    p.add_argument("--no-torch", action="store_true", help="time lenet only")
    p.add_argument("--profile", action="store_true", help="also time each layer")
    p.add_argument(
        "--shared",
        action="store_true",
        help="the slowdown of two trainings at once and of one beside a busy core, for lenet "
        "and PyTorch, each in its own process (use a small --images, e.g. 5000)",
    )

    p = commands.add_parser(
        "student", help="write the notebooks with the exercises left to the learner", **sub
    )
    p.add_argument("outdir", help="the folder to write them to (new, or empty)")
    p.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that is not empty; every file there that would change is "
        "kept first under a numbered name (05_convolution.1.ipynb)",
    )
    p.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        default="en",
        help="the notebooks' language: en (English, the default) or zh (Chinese: notebooks/zh)",
    )
    return parser


def settings_from(args):
    """experiment.Settings from train's parsed arguments; UsageError for a bad combination.

    Fills in the defaults that depend on --model (epochs, batch size, validation images,
    output) and refuses, for lenet1998, the options its recipe does not use.
    """
    given = {name: getattr(args, name) for name in NOT_FOR_1998 if getattr(args, name) is not None}
    if args.model == "lenet1998" and given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise UsageError(
            f"argument --model: lenet1998 trains with the paper's recipe (its network, MAP loss, "
            f"SDLM and step schedule) and does not use {flags}"
        )
    if args.val is None:
        args.val = 0 if args.model == "lenet1998" else 5000
    if args.output is None:
        args.output = str(CHECKPOINT_DIR / f"{args.model}.npz")
    try:
        return experiment.Settings(
            model=args.model,
            distort=args.distort,
            epochs=args.epochs,
            batch_size=args.batch_size,
            limit=args.limit,
            patience=args.patience,
            seed=args.seed,
            **given,
        )
    except ValueError as err:
        raise UsageError(str(err).replace("momentum applies", "--momentum applies")) from err


def _load_splits(args):
    """(train, val, test) of MNIST as --val and --data-dir say."""
    images, labels = data.load_mnist("train", root=args.data_dir)
    if args.val >= len(images):
        raise UsageError(
            f"argument --val: expected fewer validation images than the {len(images):,} "
            f"training images, got {args.val}"
        )
    train_pair, val = data.train_val_split(images, labels, n_val=args.val)
    return train_pair, val, data.load_mnist("test", root=args.data_dir)


def _save(model, path, keep_previous=True):
    """Save; with keep_previous an earlier file is kept under a numbered name, and said so."""
    previous = checkpoint.save(model, path, keep_previous=keep_previous)
    if previous is not None:
        print(f"the previous model at {path} is kept as {previous}", flush=True)


class _BestSoFar:
    """After every epoch: the model saved to path when the epoch is the best so far (by
    validation accuracy, else training accuracy), then the epoch's line when fit prints none.

    The first save of a run keeps an earlier file under a numbered name; later ones replace
    this run's. A save that fails is said on stderr and training goes on (the final save
    tries again). epoch: the epoch whose model is on disk, None while none is.
    """

    def __init__(self, model, path, quiet):
        self.model, self.path, self.quiet = model, path, quiet
        self.epoch = self.score = None
        self.finished = 0  # epochs finished

    def __call__(self, history):
        self.finished = history.epoch[-1]
        score = history.val_acc[-1]
        if math.isnan(score):
            score = history.train_acc[-1]
        if self.score is None or score > self.score:
            try:
                _save(self.model, self.path, keep_previous=self.epoch is None)
                self.epoch, self.score = history.epoch[-1], score
            except OSError as err:
                print(f"warning: could not save epoch {history.epoch[-1]}: {err}", file=sys.stderr)
        if self.quiet:
            print(training.epoch_summary(history), flush=True)

    def kept(self):
        """Where the run's model is, in words, for a run that ends before its last epoch."""
        if self.epoch is None:
            return "nothing was saved"
        return f"the model of epoch {self.epoch} (the best finished epoch) is saved at {self.path}"


def _warn_if_useless(result, train_images):
    final_loss = result.history.train_loss[-1]
    if result.test_accuracy < 0.2 or (final_loss > 10 and result.settings.model != "lenet1998"):
        print(
            f"warning: the model ends near chance (test accuracy {result.test_accuracy:.1%}, "
            f"training loss {final_loss:.3g}): "
            f"{experiment.chance_cause(result.settings, train_images)}",
            file=sys.stderr,
        )


def _summary(result, y_test):
    """The last line: test accuracy (and for lenet1998 the test error beside the paper's)."""
    settings, epochs = result.settings, len(result.history)
    correct = int(np.sum(result.test_predictions == y_test))
    line = (
        f"test accuracy: {result.test_accuracy:.2%} ({correct}/{len(y_test)}) after {epochs} "
        f"epoch{'s' if epochs != 1 else ''}, {result.seconds:.0f} s of training"
    )
    if settings.model == "lenet1998":
        key = "test_error_distorted" if settings.distort else "test_error"
        paper = f"{paper1998.PAPER_RESULTS[key]}%{' with distortions' if settings.distort else ''}"
        line += f"; test error {100 - 100 * result.test_accuracy:.2f}% (the paper: {paper})"
    return line


def _train(settings, args, splits):
    """experiment.run with the model saved after every best epoch -> (Result, _BestSoFar)."""
    model = experiment.build_model(settings)
    best = _BestSoFar(model, args.output, args.quiet)
    try:
        result = experiment.run(
            settings, splits, callback=best, progress=None if args.quiet else tqdm, model=model
        )
    except KeyboardInterrupt:
        if best.epoch is None:
            print(f"interrupted in epoch {best.finished + 1}: nothing was saved", file=sys.stderr)
        else:
            print(
                f"interrupted; keeping the model of epoch {best.epoch} (the best finished "
                f"epoch), saved to {args.output}",
                file=sys.stderr,
            )
        raise
    if result.diverged:
        kept = best.kept()
        raise training.TrainingDiverged(f"{result.diverged} {kept[0].upper()}{kept[1:]}.")
    return result, best


def run_train(args):
    settings = settings_from(args)
    try:
        files.check_writable(args.output)
    except OSError as err:
        raise UsageError(f"argument --output: {err}") from err
    splits = _load_splits(args)
    train_images = min(len(splits[0][0]), args.limit or math.inf)
    validating = f"validating on {args.val:,}" if args.val else "no validation images"
    print(f"training {settings.describe()} on {train_images:,} images, {validating}", flush=True)
    print(f"the best epoch so far is saved to {args.output} after every epoch", flush=True)
    result, best = _train(settings, args, splits)
    history = result.history
    if history.stopped_epoch is not None:
        print(
            f"stopped early after epoch {history.stopped_epoch}; "
            f"kept the weights of epoch {history.restored_epoch}"
        )
    summary = _summary(result, splits[2][1])
    _warn_if_useless(result, train_images)
    try:
        _save(result.model, args.output, keep_previous=best.epoch is None)
    except OSError as err:
        print(summary, flush=True)  # the results first: the run is not lost on screen
        raise OSError(f"could not save the model to {args.output}: {err}; {best.kept()}") from err
    print(f"saved the model to {args.output}")
    print(summary)  # the last line, always
    return 0


def run_evaluate(args):
    model = checkpoint.load(args.model)
    x_test, y_test = data.load_mnist("test", root=args.data_dir)
    loss, accuracy, predictions = training.evaluate(model, x_test, y_test)
    cm = training.confusion_matrix(y_test, predictions)
    print(f"{args.model}: test loss {loss:.4f}, accuracy {accuracy:.2%} on {len(y_test):,} images")
    per_class = [
        f"{d}: {cm[d, d] / cm[d].sum():.1%}" if cm[d].sum() else f"{d}: -" for d in range(10)
    ]
    print("per-class accuracy: " + ", ".join(per_class))
    print("confusion matrix (rows: true digit, columns: predicted digit):")
    print("      " + "".join(f"{d:>6d}" for d in range(10)))
    for d in range(10):
        print(f"{d:>6d}" + "".join(f"{n:>6d}" for n in cm[d]))
    return 0


def run_bench(args):
    sizes = args.batch_sizes or [args.batch_size]
    if args.shared:
        bench.shared(args.images, sizes, args.repeats, use_torch=not args.no_torch)
    else:
        bench.compare(args.images, sizes, args.repeats, not args.no_torch, args.profile)
    return 0


def run_student(args):
    try:
        source, readme = student.language_edition(args.lang)
        written = student.write(args.outdir, force=args.force, source=source, readme=readme)
    except student.OutdirError as err:
        raise UsageError(f"argument outdir: {err}") from err
    notebooks = sum(w.path.suffix == ".ipynb" for w in written)
    print(f"wrote the student edition of {notebooks} notebooks to {args.outdir}")
    for w in written:
        if w.kept is not None:
            print(f"  kept your earlier {w.path.name} as {w.kept.name}")
    print(f"start with: cd {args.outdir} && jupyter lab   (README.md there says more)")
    return 0


def _terminate(signum, frame):
    raise Terminated(signum)


def main(argv=None):
    """Run a command; returns the exit code (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = {
        "train": run_train,
        "evaluate": run_evaluate,
        "bench": run_bench,
        "student": run_student,
    }[args.command]
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ClosedPipeSafe(sys.stdout), _ClosedPipeSafe(sys.stderr)
    try:
        return _run(parser, command, args)
    finally:
        sys.stdout, sys.stderr = streams


def _run(parser, command, args):
    try:
        return command(args)
    except UsageError as err:
        print(f"{parser.prog} {args.command}: error: {err}", file=sys.stderr)
        return 2
    except data.DataError as err:  # worded for the command line: --data-dir, not `root`
        print(f"error: {err.explain(root_name='--data-dir')}", file=sys.stderr)
        return 1
    except (OSError, ValueError, training.TrainingDiverged) as err:
        # Missing or corrupt data, a bad checkpoint, a failed save, a diverged run:
        # the message says it all.
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Terminated as err:
        name = "the terminal closed (SIGHUP)" if err.signum == signal.SIGHUP else "SIGTERM"
        print(f"terminated: {name}", file=sys.stderr)
        return 128 + err.signum
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
