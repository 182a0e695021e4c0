"""The command line: ``python -m lenet train | evaluate | bench``.

python -m lenet train                     # LeNet-5 on MNIST, saved to checkpoints/lenet5.npz
python -m lenet evaluate checkpoints/lenet5.npz
python -m lenet bench --batch-size 256
"""

import argparse
import math
import sys
import time

import numpy as np

from lenet import bench, data, models, optim, train

DEFAULTS = {
    "epochs": 10,
    "batch_size": 64,
    "lr": {"sgd": 0.05, "adam": 0.001},
    "momentum": 0.9,
    "weight_decay": 1e-3,
    "lr_decay": 0.8,
}


def _number(text, ok, expected, convert=float):
    """argparse type: text converted and checked by ok(value), else a one-line error."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_int(text):
    return _number(text, lambda v: v >= 1, "a positive integer", int)


def _non_negative_int(text):
    return _number(text, lambda v: v >= 0, "an integer >= 0", int)


def _positive_float(text):
    return _number(text, lambda v: v > 0, "a number > 0")


def _non_negative_float(text):
    return _number(text, lambda v: v >= 0, "a number >= 0")


def _momentum(text):
    return _number(text, lambda v: 0 <= v < 1, "a momentum in [0, 1)")


def _decay(text):
    return _number(text, lambda v: 0 < v <= 1, "a factor in (0, 1]")


def _npz_path(text):
    if not text.endswith(".npz"):
        raise argparse.ArgumentTypeError(f"expected a path ending in .npz, got {text!r}")
    return text


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m lenet", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train", help="train LeNet-5 on MNIST and report test accuracy")
    p.add_argument("--epochs", type=_positive_int, default=DEFAULTS["epochs"])
    p.add_argument("--batch-size", type=_positive_int, default=DEFAULTS["batch_size"])
    p.add_argument(
        "--lr",
        type=_positive_float,
        help="learning rate (default: 0.05 for sgd, 0.001 for adam)",
    )
    p.add_argument("--momentum", type=_momentum, default=DEFAULTS["momentum"], help="sgd momentum")
    p.add_argument(
        "--weight-decay", type=_non_negative_float, default=DEFAULTS["weight_decay"], help="L2"
    )
    p.add_argument(
        "--lr-decay",
        type=_decay,
        default=DEFAULTS["lr_decay"],
        help="multiply the learning rate by this after every epoch (1 = constant)",
    )
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    p.add_argument(
        "--activation", choices=("relu", "leaky_relu", "tanh", "sigmoid"), default="relu"
    )
    p.add_argument("--pool", choices=("max", "avg"), default="max")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="weights and shuffling")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $LENET_DATA_DIR)")
    p.add_argument(
        "--output", type=_npz_path, default="checkpoints/lenet5.npz", help="where to save the model"
    )
    p.add_argument("--limit", type=_positive_int, help="train on at most this many images")
    p.add_argument(
        "--val",
        type=_non_negative_int,
        default=5000,
        help="validation images, the last ones of the training set (0: none)",
    )
    p.add_argument(
        "--patience",
        type=_positive_int,
        help="stop when validation accuracy has not improved for N epochs; keep the best weights",
    )
    p.add_argument("--quiet", action="store_true", help="a line per epoch, no progress bars")

    p = commands.add_parser("evaluate", help="test accuracy and confusion matrix of a checkpoint")
    p.add_argument("model", help="a checkpoint saved by `train` (.npz)")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $LENET_DATA_DIR)")

    p = commands.add_parser("bench", help="time a training epoch: lenet vs PyTorch")
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--images", type=_positive_int, default=60_000)
    p.add_argument("--repeats", type=_positive_int, default=3)
    p.add_argument("--no-torch", action="store_true", help="time lenet only")
    p.add_argument("--profile", action="store_true", help="also time each layer")
    return parser


def model_and_optimizer(args):
    """The fresh LeNet5 and its optimizer that `train` with these parsed arguments uses."""
    model = models.LeNet5(args.activation, args.pool, rng=args.seed)
    lr = args.lr if args.lr is not None else DEFAULTS["lr"][args.optimizer]
    if args.optimizer == "sgd":
        opt = optim.SGD(model, lr=lr, momentum=args.momentum, weight_decay=args.weight_decay)
    else:
        opt = optim.Adam(model, lr=lr, weight_decay=args.weight_decay)
    return model, opt


def fit_as_told(args, model, opt, train_data, val_data, callback=None, progress=False):
    """train.fit with the epochs, batch size, decay, patience and seed of `train`'s arguments.

    val_data: (images, labels), possibly empty (--val 0): then early stopping watches the
    training accuracy instead.
    """
    has_val = len(val_data[0]) > 0
    return train.fit(
        model,
        opt,
        train_data,
        args.epochs,
        batch_size=args.batch_size,
        val_data=val_data if has_val else None,
        schedule=optim.ExponentialDecay(args.lr_decay),
        patience=args.patience,
        monitor="val_acc" if has_val else "train_acc",
        rng=args.seed,
        progress=progress,
        callback=callback,
    )


def run_train(args):
    x, y = data.load_mnist("train", root=args.data_dir)
    x_test, y_test = data.load_mnist("test", root=args.data_dir)
    (x_train, y_train), val_data = data.train_val_split(x, y, n_val=args.val)
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    model, opt = model_and_optimizer(args)
    print(
        f"training LeNet-5 ({args.activation}, {args.pool} pool) on {len(x_train):,} images, "
        f"validating on {len(val_data[0]):,}; {args.optimizer} lr {opt.lr:g}, "
        f"batch {args.batch_size}, up to {args.epochs} epochs",
        flush=True,
    )
    start = time.perf_counter()
    history = fit_as_told(
        args,
        model,
        opt,
        (x_train, y_train),
        val_data,
        callback=(lambda h: print(train.epoch_summary(h), flush=True)) if args.quiet else None,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - start
    if history.stopped_epoch is not None:
        print(
            f"stopped early after epoch {history.stopped_epoch}; "
            f"kept the weights of epoch {history.restored_epoch}"
        )
    models.save(model, args.output)
    _, accuracy, predictions = train.evaluate(model, x_test, y_test)
    print(f"saved the model to {args.output}")
    print(
        f"test accuracy: {accuracy:.2%} ({int(np.sum(predictions == y_test))}/{len(y_test)}) "
        f"after {len(history)} epochs, {seconds:.0f} s of training"
    )
    return 0


def run_evaluate(args):
    model = models.load(args.model)
    x_test, y_test = data.load_mnist("test", root=args.data_dir)
    loss, accuracy, predictions = train.evaluate(model, x_test, y_test)
    cm = train.confusion_matrix(y_test, predictions)
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
    bench.run(
        images=args.images,
        batch_size=args.batch_size,
        repeats=args.repeats,
        use_torch=not args.no_torch,
        profile=args.profile,
    )
    return 0


def main(argv=None):
    """Run a command; returns the exit code (2 for bad arguments, 1 for errors)."""
    args = build_parser().parse_args(argv)
    command = {"train": run_train, "evaluate": run_evaluate, "bench": run_bench}[args.command]
    try:
        return command(args)
    except (OSError, ValueError, train.TrainingDiverged) as err:
        # Missing or corrupt data, a bad checkpoint, an unwritable output, a diverged run:
        # the message says it all.
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
