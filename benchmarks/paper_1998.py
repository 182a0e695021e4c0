"""The 1998 paper's LeNet-5 result, reproduced: test error per pass against the paper's.

    python benchmarks/paper_1998.py                      # 20 passes, no distortions (paper: 0.95%)
    python benchmarks/paper_1998.py --distort            # with distortions (paper: 0.8%)
    python benchmarks/paper_1998.py --batch-size 1 --limit 10000   # the paper's per-pattern steps
    python benchmarks/paper_1998.py --model lenet5 --distort       # the modern net, distorted data

Prints a line per pass (eta, training loss, training error, test error, seconds) and the final
test error beside the paper's; --json PATH also writes every number (keep it out of git).
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
from lenet.paper1998 import MU, PAPER_MU, PAPER_RESULTS, error_rate, train_1998  # noqa: E402


def run_1998(args, train_data, test_data):
    model = paper1998.LeNet1998(init=args.init, rng=args.seed)
    record = train_1998(
        model,
        train_data,
        test_data,
        epochs=args.passes,
        batch_size=args.batch_size,
        mu=args.mu,
        distort=Distorter() if args.distort else None,
        train_error_samples=args.train_error_samples,
        rng=args.seed,
        verbose=True,
    )
    return record.as_dict()


def run_modern(args, train_data, test_data):
    """The modern LeNet-5 with the command line's recipe (SGD 0.05, momentum 0.9, weight decay
    1e-3, x0.8 per epoch, batch 64), optionally on freshly distorted data each epoch."""
    from lenet import SGD, LeNet5
    from lenet.training import fit

    model = LeNet5(rng=args.seed)
    opt = SGD(model, lr=0.05, momentum=0.9, weight_decay=1e-3)
    rng = np.random.default_rng(args.seed)
    distort = Distorter() if args.distort else None
    x, y = train_data
    out = {"epoch": [], "test_error": [], "train_error": [], "seconds": []}
    n_err = args.train_error_samples or len(x)
    for epoch in range(args.passes):
        start = time.perf_counter()
        x_epoch = distort(x, rng) if distort is not None else x
        opt.lr = 0.05 * 0.8**epoch
        fit(model, opt, (x_epoch, y), 1, batch_size=64, rng=rng, progress=False)
        out["seconds"].append(time.perf_counter() - start)
        out["epoch"].append(epoch + 1)
        out["train_error"].append(error_rate(model, x[:n_err], y[:n_err])[0])
        out["test_error"].append(error_rate(model, *test_data)[0])
        print(
            f"epoch {epoch + 1:2d}: train error {out['train_error'][-1]:.2%}, "
            f"test error {out['test_error'][-1]:.2%}; {out['seconds'][-1]:.1f} s",
            flush=True,
        )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("lenet1998", "lenet5"), default="lenet1998")
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16, help="1: the paper's steps")
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
    runner = run_1998 if args.model == "lenet1998" else run_modern
    result = runner(args, (x, y), test_data)
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
