"""Do two threads of one Python process do a LeNet-5 step's work twice as fast as one thread?

    python benchmarks/thread_scaling.py [--batch-size 64] [--repeats 200]

For each kind of numpy call a training step makes (a convolution's matrix product, im2col's
copy, col2im's strided sums, a ReLU, a comparison), at LeNet-5's sizes for one batch, the script
times one thread doing the call `repeats` times, then two threads each doing it `repeats` times
at once, and prints the speedup (2.0: the second core does as much as the first); then one
matrix product for each of two of lenet's threads, handed over `repeats` times (what a
hand-over costs when the work is short). Then the same
for whole training steps (forward and backward) of separate networks, in two threads and in two
processes. BLAS is held at one thread throughout, as lenet holds it (lenet.nn.cores). Run it on
a quiet machine: it measures what a second core adds, and a busy machine has none to add.
"""

import argparse
import concurrent.futures
import multiprocessing
import threading
import time

import numpy as np
from threadpoolctl import threadpool_limits

from lenet.nn import cores, im2col
from lenet.nn.losses import SoftmaxCrossEntropy
from lenet.nn.models import LeNet5


def calls(n, rng):
    """{name: a function making one numpy call of a LeNet-5 step at batch n}."""
    xp = im2col.batch_last((n, 6, 14, 14), np.float32, None)
    xp[...] = rng.standard_normal(xp.shape)
    weights = rng.standard_normal((16, 150)).astype(np.float32)
    columns = im2col.im2col(xp, 5, 1)
    dcols = rng.standard_normal(columns.shape).astype(np.float32)
    act = im2col.batch_last((n, 6, 28, 28), np.float32, None)
    act[...] = rng.standard_normal(act.shape)
    return {
        "matrix product (conv 2)": lambda: weights @ columns,
        "im2col copy (conv 2)": lambda: im2col.im2col(xp, 5, 1),
        "col2im sums (conv 2)": lambda: im2col.col2im(dcols, xp.shape, 5, 1),
        "ReLU (conv 1's output)": lambda: np.maximum(act, 0),
        "comparison (conv 1's output)": lambda: act > 0,
    }


def repeat(function, times):
    for _ in range(times):
        function()


def speedup(function, times):
    """Seconds of one thread doing `times` calls, times 2, over two threads doing as many each."""
    start = time.perf_counter()
    repeat(function, times)
    one = time.perf_counter() - start
    threads = [threading.Thread(target=repeat, args=(function, times)) for _ in range(2)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 2 * one / (time.perf_counter() - start)


def handed_over(function, times):
    """Seconds of two calls one after the other over the same two handed to two of lenet's
    threads at once (cores.run_on_cores), `times` pairs each: what one hand-over costs."""
    start = time.perf_counter()
    for _ in range(times):
        function()
        function()
    serial = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(times):
        cores.run_on_cores(lambda _: function(), [0, 1])
    return serial / (time.perf_counter() - start)


def training_steps(n, steps):
    """Seconds for `steps` forward and backward passes of a fresh LeNet-5 at batch n."""
    rng = np.random.default_rng(0)
    model, loss = LeNet5(rng=0), SoftmaxCrossEntropy()
    x = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, n)
    with threadpool_limits(1):
        model.forward_backward(x, y, loss)
        start = time.perf_counter()
        for _ in range(steps):
            model.forward_backward(x, y, loss)
        return time.perf_counter() - start


def step_speedups(n, steps):
    """(two threads, two processes): one network's seconds x 2 over two networks' at once."""
    one = training_steps(n, steps)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        start = time.perf_counter()
        list(pool.map(training_steps, [n, n], [steps, steps]))
        threads = time.perf_counter() - start
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        list(pool.map(training_steps, [n, n], [1, 1]))  # start both processes first
        start = time.perf_counter()
        list(pool.map(training_steps, [n, n], [steps, steps]))
        processes = time.perf_counter() - start
    return 2 * one / threads, 2 * one / processes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    n = args.batch_size
    print(f"batch {n}: speedup of two threads over one (2.0 = the second core does as much)")
    with threadpool_limits(1):
        for name, function in calls(n, np.random.default_rng(0)).items():
            function()
            print(f"  {name:30s} {speedup(function, args.repeats):.2f}")
        product = calls(n, np.random.default_rng(0))["matrix product (conv 2)"]
        print(f"  {'one product each, handed over':30s} {handed_over(product, args.repeats):.2f}")
    threads, processes = step_speedups(n, max(10, 3200 // n))
    print(f"  {'training steps, two threads':30s} {threads:.2f}")
    print(f"  {'training steps, two processes':30s} {processes:.2f}")


if __name__ == "__main__":
    main()
