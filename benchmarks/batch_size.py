"""Does a bigger batch make a lenet epoch faster? Batch sizes timed alternately, round by round.

    python benchmarks/batch_size.py [--batch-sizes 64 256] [--images 20000] [--rounds 8]

Each round trains one epoch at every batch size, in turn, so that a slow spell of a shared
machine hits all of them; the script prints each round's times, the ratio of each batch size's
time to the first one's per round and its median, and how much memory one training step
allocates at each batch size (compare with the CPU's last-level cache, e.g. `lscpu`).
"""

import argparse
import statistics

from lenet.training import bench


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    sizes = args.batch_sizes
    x, y = bench.synthetic_mnist(args.images)
    for size in sizes:  # warm up: imports, buffers, thread pools
        bench.lenet_epoch(x[: 10 * size], y[: 10 * size], size)
    times = {size: [] for size in sizes}
    for r in range(1, args.rounds + 1):
        for size in sizes:
            times[size].append(bench.lenet_epoch(x, y, size, seed=r))
        print(f"round {r}: " + ", ".join(f"batch {s} {times[s][-1]:.2f} s" for s in sizes))
    first = sizes[0]
    for size in sizes:
        ratios = [t / t0 for t, t0 in zip(times[size], times[first], strict=True)]
        per_step = bench.lenet_peak_memory(x, y, size, batches=5)
        print(
            f"batch {size}: median {statistics.median(times[size]):.2f} s per epoch, "
            f"{statistics.median(ratios):.2f}x batch {first}'s time (rounds: "
            f"{', '.join(f'{q:.2f}' for q in ratios)}); {per_step:.0f} MB allocated per step"
        )


if __name__ == "__main__":
    main()
