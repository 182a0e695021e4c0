"""When does the default `python -m lenet train` pass a test accuracy? Measured per epoch.

    python benchmarks/time_to_accuracy.py [--target 0.99] [train options, e.g. --lr 0.1]

The command line touches the test set only for its final number, by design; this measurement
evaluates the test set after every epoch (outside the timed training) to report the first epoch,
and the training seconds up to it, at which the test accuracy reaches the target.
"""

import argparse
import sys

from lenet import data, train
from lenet.__main__ import build_parser, fit_as_told, model_and_optimizer


def main(argv=None):
    own = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    own.add_argument("--target", type=float, default=0.99, help="test accuracy to reach")
    ours, rest = own.parse_known_args(argv)
    args = build_parser().parse_args(["train", *rest])
    images, labels = data.load_mnist("train", root=args.data_dir)
    x_test, y_test = data.load_mnist("test", root=args.data_dir)
    train_data, val_data = data.train_val_split(images, labels, n_val=args.val)
    model, opt = model_and_optimizer(args)
    reached = []

    def after_epoch(history):
        accuracy = train.evaluate(model, x_test, y_test)[1]
        seconds = sum(history.seconds)
        print(
            f"epoch {history.epoch[-1]}: test accuracy {accuracy:.2%}, {seconds:.1f} s of training"
        )
        if accuracy >= ours.target and not reached:
            reached.append((history.epoch[-1], seconds))

    fit_as_told(args, model, opt, train_data, val_data, callback=after_epoch)
    if not reached:
        print(f"never reached {ours.target:.2%} in {args.epochs} epochs")
        return 1
    epoch, seconds = reached[0]
    print(f"first reached {ours.target:.2%} after epoch {epoch}, {seconds:.1f} s of training")
    return 0


if __name__ == "__main__":
    sys.exit(main())
