"""The 1998 paper's LeNet-5 result, reproduced: test error per pass against the paper's.

    python benchmarks/paper_1998.py                      # 20 passes, no distortions (paper: 0.95%)
    python benchmarks/paper_1998.py --distort            # with distortions (paper: 0.8%)
    python benchmarks/paper_1998.py --batch-size 1 --limit 10000   # the paper's per-pattern steps
    python benchmarks/paper_1998.py --model lenet5 --distort       # the modern net, distorted data

Trains with lenet.training.fit and the paper's recipe (lenet.paper1998.recipe). Prints a line per
pass (lr, the step of a batch: batch size x eta; training loss; training error; test error;
seconds) and the final test error beside the paper's; --json PATH also writes every number (keep
it out of git).
The small matrices of this network run faster on one BLAS thread than on two threads fighting
over a shared 2-core machine, so the script asks for one unless the environment says otherwise.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from lenet import data, paper1998  # noqa: E402
from lenet.data.distortions import Distorter  # noqa: E402
from lenet.nn import SGD, LeNet5, optim  # noqa: E402
from lenet.paper1998 import MU, PAPER_MU, PAPER_RESULTS  # noqa: E402
from lenet.training import evaluate, fit  # noqa: E402


def recipe(args, model):
    """(optimizer, schedule, loss) for fit: the paper's for lenet1998, else the command line's
    (SGD 0.05, momentum 0.9, weight decay 1e-3, x0.8 per epoch; softmax cross-entropy)."""
    if args.model == "lenet1998":
        optimizer = paper1998.paper_optimizer(model, args.batch_size, mu=args.mu)
        return optimizer, paper1998.EtaSchedule(), optimizer.loss
    optimizer = SGD(model, lr=0.05, momentum=0.9, weight_decay=1e-3)
    return optimizer, optim.ExponentialDecay(0.8), None


def run(args, train_data, test_data):
    """Train with fit; after every pass the training error (on the first
    --train-error-samples undistorted training images) and the test error, outside the timed
    training -> a dict of lists, one entry per pass."""
    if args.model == "lenet1998":
        model = paper1998.LeNet1998(init=args.init, rng=args.seed)
    else:
        model = LeNet5(rng=args.seed)
    optimizer, schedule, loss = recipe(args, model)
    x, y = train_data
    n_err = args.train_error_samples or len(x)
    out = {"epoch": [], "lr": [], "train_loss": [], "train_error": [], "test_error": []}

    def after_pass(history):
        out["epoch"].append(history.epoch[-1])
        out["lr"].append(history.lr[-1])
        out["train_loss"].append(history.train_loss[-1])
        out["train_error"].append(1 - evaluate(model, x[:n_err], y[:n_err])[1])
        out["test_error"].append(1 - evaluate(model, *test_data)[1])
        print(
            f"pass {history.epoch[-1]:2d}: lr {history.lr[-1]:.3g}, train loss "
            f"{history.train_loss[-1]:.4f}, train error {out['train_error'][-1]:.2%}, test "
            f"error {out['test_error'][-1]:.2%}; {history.seconds[-1]:.1f} s",
            flush=True,
        )

    history = fit(
        model,
        optimizer,
        train_data,
        args.passes,
        batch_size=args.batch_size,
        schedule=schedule,
        rng=args.seed,
        callback=after_pass,
        progress=None,
        loss=loss,
        transform=Distorter() if args.distort else None,
    )
    out["seconds"] = history.seconds
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("lenet1998", "lenet5"), default="lenet1998")
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="1: the paper's steps (default: 16; lenet5: 64)",
    )
    parser.add_argument("--distort", action="store_true")
    parser.add_argument("--init", choices=paper1998.INIT_RULES, default="sqrt")
    parser.add_argument("--mu", type=float, default=MU, help=f"SDLM's mu (the paper: {PAPER_MU})")
    parser.add_argument("--limit", type=int, help="train on the first N training images")
    parser.add_argument(
        "--train-error-samples",
        type=int,
        default=10_000,
        help="measure the training error on the first N training images (0: all)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    args.train_error_samples = args.train_error_samples or None
    if args.batch_size is None:
        args.batch_size = paper1998.BATCH_SIZE if args.model == "lenet1998" else 64

    x, y = data.load_mnist("train")
    test_data = data.load_mnist("test")
    if args.limit:
        x, y = x[: args.limit], y[: args.limit]
    print(
        f"{args.model}: {args.passes} passes over {len(x):,} images, batch {args.batch_size}, "
        f"mu {args.mu:g}"
        f"{', distorted' if args.distort else ''}; numpy {np.__version__}, "
        f"{platform.processor() or platform.machine()}, "
        f"{os.environ.get('OPENBLAS_NUM_THREADS')} BLAS thread(s)",
        flush=True,
    )
    start = time.perf_counter()
    result = run(args, (x, y), test_data)
    total = time.perf_counter() - start
    final = result["test_error"][-1]
    paper = PAPER_RESULTS["test_error_distorted" if args.distort else "test_error"]
    print(
        f"final test error {final:.2%} ({round(final * len(test_data[1]))} of "
        f"{len(test_data[1]):,} misread) after {args.passes} passes; "
        + (f"the paper: {paper}%; " if args.model == "lenet1998" else "")
        + f"{np.mean(result['seconds']):.1f} s per pass of training, {total:.0f} s in all"
    )
    if args.json:
        result.update(vars(args), total_seconds=total)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
