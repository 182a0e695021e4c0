"""When does the default training (`python -m lenet train`) pass a test accuracy? Per epoch.

    python benchmarks/time_to_accuracy.py [--target 0.99] [--lr 0.1] [--batch-size 128] ...

The command line touches the test set only for its final number, by design; this measurement
evaluates the test set after every epoch (outside the timed training) to report the first epoch,
and the training seconds up to it, at which the test accuracy reaches the target.
"""

import argparse
import sys

from lenet import training
from lenet.training import experiment


def main(argv=None):
    defaults = experiment.Settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.99, help="test accuracy to reach")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--lr-decay", type=float, default=defaults.lr_decay)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--val", type=int, default=5000, help="validation images")
    parser.add_argument("--data-dir", help="folder with the MNIST files")
    args = parser.parse_args(argv)
    settings = experiment.Settings(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_decay=args.lr_decay,
        seed=args.seed,
    )
    splits = experiment.mnist_splits(args.val, args.data_dir)
    model = experiment.build_model(settings)
    reached = []

    def after_epoch(history):
        accuracy = training.evaluate(model, *splits[2])[1]
        seconds = sum(history.seconds)
        print(
            f"epoch {history.epoch[-1]}: test accuracy {accuracy:.2%}, {seconds:.1f} s of training",
            flush=True,
        )
        if accuracy >= args.target and not reached:
            reached.append((history.epoch[-1], seconds))

    experiment.run(settings, splits, callback=after_epoch, model=model)
    if not reached:
        print(f"never reached {args.target:.2%} in {args.epochs} epochs")
        return 1
    epoch, seconds = reached[0]
    print(f"first reached {args.target:.2%} after epoch {epoch}, {seconds:.1f} s of training")
    return 0


if __name__ == "__main__":
    sys.exit(main())
