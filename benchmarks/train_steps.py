"""Run a fixed number of LeNet-5 training steps, for profilers that watch a whole process.

    python benchmarks/train_steps.py BATCH_SIZE STEPS

One warm-up step first (buffers allocated, BLAS started), then STEPS steps on one random batch.
Profile the same batch size with STEPS = 0 as well and subtract, to leave only the steps: e.g.
the cache misses per image at batch 64 and 256 with a simulated 32 MB last-level cache,

    OPENBLAS_NUM_THREADS=1 valgrind --tool=cachegrind --cache-sim=yes --LL=33554432,16,64 \\
        python benchmarks/train_steps.py 64 8     # and 64 0, 256 2, 256 0: 512 images each
"""

import argparse

from lenet.nn.losses import SoftmaxCrossEntropy
from lenet.nn.models import LeNet5
from lenet.nn.optim import SGD
from lenet.training import bench


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batch_size", type=int)
    parser.add_argument("steps", type=int)
    args = parser.parse_args(argv)
    x, y = bench.synthetic_mnist(args.batch_size)
    model, loss = LeNet5(rng=0), SoftmaxCrossEntropy()
    opt = SGD(model, lr=bench.LR, momentum=bench.MOMENTUM)
    losses = []
    for _ in range(1 + args.steps):
        losses.append(loss.forward(model.forward(x), y))
        model.backward(loss.backward())
        opt.step()
    print(
        f"{args.steps} steps at batch {args.batch_size} after one warm-up step: "
        f"loss {losses[0]:.4f} -> {losses[-1]:.4f}"
    )


if __name__ == "__main__":
    main()
