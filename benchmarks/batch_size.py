"""Does a bigger batch make a lenet epoch faster? And which chunk and column-block sizes are best?

    python benchmarks/batch_size.py [--batch-sizes 64 256] [--images 20000] [--rounds 8]
    python benchmarks/batch_size.py --chunk-sizes 64 128 256 --batch-sizes 256 512
    python benchmarks/batch_size.py --column-block-bytes 131072 524288 2097152

Each round trains one epoch at every batch size (and every chunk size and column-block size
given), in turn, so that a slow spell of a shared machine hits all of them; the script prints
each round's times, the ratio of each setting's time to the first one's per round and its
median, and how much memory one training step allocates at each batch size (compare with the
CPU's last-level cache, e.g. `lscpu`). The constants these choose are
lenet.nn.models.CHUNK_SIZE and lenet.nn.im2col.COLUMN_BLOCK_BYTES.
"""

import argparse
import itertools
import statistics

from lenet.nn import im2col, models
from lenet.training import bench


def timed_epoch(x, y, batch, chunk, block, seed):
    """One epoch's seconds with lenet's chunk size and column-block bytes set for it."""
    saved = models.CHUNK_SIZE, im2col.COLUMN_BLOCK_BYTES
    models.CHUNK_SIZE, im2col.COLUMN_BLOCK_BYTES = chunk, block
    try:
        return bench.lenet_epoch(x, y, batch, seed=seed)
    finally:
        models.CHUNK_SIZE, im2col.COLUMN_BLOCK_BYTES = saved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--chunk-sizes", type=int, nargs="+", default=[models.CHUNK_SIZE])
    parser.add_argument(
        "--column-block-bytes", type=int, nargs="+", default=[im2col.COLUMN_BLOCK_BYTES]
    )
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    settings = list(itertools.product(args.batch_sizes, args.chunk_sizes, args.column_block_bytes))
    x, y = bench.synthetic_mnist(args.images)
    for batch, chunk, block in settings:  # warm up: imports, buffers, thread pools
        timed_epoch(x[: 10 * batch], y[: 10 * batch], batch, chunk, block, seed=0)
    times = {s: [] for s in settings}
    varied = (len(args.chunk_sizes) > 1, len(args.column_block_bytes) > 1)

    def name(setting):
        batch, chunk, block = setting
        extra = [f"chunks of {chunk}"] * varied[0] + [
            f"column blocks of {block // 1024} KB"
        ] * varied[1]
        return f"batch {batch}" + (f" ({', '.join(extra)})" if extra else "")

    for r in range(1, args.rounds + 1):
        for s in settings:
            times[s].append(timed_epoch(x, y, *s, seed=r))
        print(f"round {r}: " + ", ".join(f"{name(s)} {times[s][-1]:.2f} s" for s in settings))
    first = settings[0]
    for s in settings:
        ratios = [t / t0 for t, t0 in zip(times[s], times[first], strict=True)]
        per_step = bench.lenet_peak_memory(x, y, s[0], batches=5)
        print(
            f"{name(s)}: median {statistics.median(times[s]):.2f} s per epoch, "
            f"{statistics.median(ratios):.2f}x {name(first)}'s time (rounds: "
            f"{', '.join(f'{q:.2f}' for q in ratios)}); {per_step:.0f} MB allocated per step"
        )


if __name__ == "__main__":
    main()
