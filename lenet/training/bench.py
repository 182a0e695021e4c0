"""Benchmark: one training epoch of LeNet-5 with lenet and with PyTorch (CPU), side by side.

Both train the same network (ReLU, max pooling), with the same batch size and optimizer
(SGD, momentum 0.9), in float32, on the same MNIST-shaped random images, shuffled each epoch.
The two alternate so that a slow spell of the machine hits both; with several batch sizes
each repeat times lenet and PyTorch at every batch size in turn, and the summary gives the
median, the spread (min-max over the repeats) and the ratio per batch size. ``--profile`` adds
the forward and backward time of each lenet layer for one batch.
"""

import statistics
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_info

from lenet.data import iterate_minibatches
from lenet.interop import to_torch
from lenet.nn.losses import SoftmaxCrossEntropy
from lenet.nn.models import LeNet5
from lenet.nn.optim import SGD

__all__ = ["synthetic_mnist", "lenet_epoch", "torch_epoch", "layer_profile", "run"]

LR, MOMENTUM = 0.01, 0.9


def synthetic_mnist(n, seed=0):
    """n random images shaped like MNIST, with random labels: (n, 1, 28, 28) float32, (n,)."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


def lenet_epoch(images, labels, batch_size, seed=0):
    """Seconds for one lenet training epoch (shuffled mini-batches, SGD with momentum).

    Each step is fit's: model.forward_backward (a large batch in chunks), then opt.step().
    """
    model = LeNet5(rng=seed)
    loss = SoftmaxCrossEntropy()
    opt = SGD(model, lr=LR, momentum=MOMENTUM)
    start = time.perf_counter()
    for x, y in iterate_minibatches(images, labels, batch_size, rng=seed):
        model.forward_backward(x, y, loss)
        opt.step()
    return time.perf_counter() - start


def torch_epoch(torch, images, labels, batch_size, seed=0):
    """Seconds for the same epoch in PyTorch; the data is already in tensors, as for lenet."""
    torch.manual_seed(seed)
    model = to_torch(LeNet5(rng=seed))  # the same network, built by torch.nn
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    order = torch.randperm(len(images))
    for i in range(0, len(images), batch_size):
        idx = order[i : i + batch_size]
        opt.zero_grad()
        loss_fn(model(images[idx]), labels[idx]).backward()
        opt.step()
    return time.perf_counter() - start


def layer_profile(batch_size, repeats=50, seed=0):
    """Milliseconds of forward and backward per lenet layer for one batch: [(name, fwd, bwd)].

    Each figure is the fastest of `repeats` timings: on a shared machine the other programs
    only ever add time, so the minimum is the one least disturbed by them.
    """
    model = LeNet5(rng=seed)
    x, y = synthetic_mnist(batch_size, seed)
    loss = SoftmaxCrossEntropy()
    fwd = np.full(len(model.layers), np.inf)
    bwd = np.full(len(model.layers), np.inf)
    for rep in range(repeats + 5):  # 5 warm-up runs
        h = x
        for i, layer in enumerate(model.layers):
            t = time.perf_counter()
            h = layer.forward(h)
            if rep >= 5:
                fwd[i] = min(fwd[i], time.perf_counter() - t)
        loss.forward(h, y)
        d = loss.backward()
        for i in reversed(range(len(model.layers))):
            t = time.perf_counter()
            d = model.layers[i].backward(d)
            if rep >= 5:
                bwd[i] = min(bwd[i], time.perf_counter() - t)
    fwd, bwd = fwd * 1e3, bwd * 1e3
    names = [f"{i:2d} {type(layer).__name__}" for i, layer in enumerate(model.layers)]
    return list(zip(names, fwd, bwd, strict=True))


def lenet_peak_memory(images, labels, batch_size, batches=100):
    """Peak MB that lenet training allocates on top of the data (traced over some batches)."""
    n = min(len(images), batches * batch_size)
    tracemalloc.start()
    try:
        lenet_epoch(images[:n], labels[:n], batch_size)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _spread(values, digits=2):
    """'median (min-max)' of a list of numbers."""
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def run(images=60_000, batch_size=64, repeats=3, use_torch=True, profile=False, batch_sizes=None):
    """Time lenet and PyTorch epochs alternately; print images/s, medians, and the ratio last.

    batch_sizes: several batch sizes timed in one run (default: [batch_size]); every repeat
    runs lenet, then PyTorch, at each of them in turn. Returns {batch size: {"lenet": median
    seconds, "torch": ..., "ratio": median of the repeats' lenet/torch ratios, "peak_mb": ...,
    "lenet_times": [...], "torch_times": [...], "ratios": [...]}}.
    """
    sizes = [batch_size] if batch_sizes is None else list(batch_sizes)
    x, y = synthetic_mnist(images)
    torch = None
    if use_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing lenet only (pip install -e '.[torch]')")
    blas = ", ".join(f"{i['internal_api']} ({i['num_threads']} threads)" for i in threadpool_info())
    batches = ", ".join(str(b) for b in sizes)
    print(f"LeNet-5, {images:,} images, batch {batches}, float32, SGD momentum {MOMENTUM}")
    print(f"numpy {np.__version__} with {blas or 'no BLAS found'}")
    if torch is not None:
        print(f"torch {torch.__version__} with {torch.get_num_threads()} threads")
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    if profile:
        print(f"per-layer time for one batch of {sizes[0]} (ms, fastest of 50):")
        print(f"  {'layer':<16s} {'forward':>8s} {'backward':>9s}")
        for name, f, b in layer_profile(sizes[0]):
            print(f"  {name:<16s} {f:8.3f} {b:9.3f}")

    for size in sizes:  # first calls pay for imports, caches, thread pools
        warm_up = min(len(x), 10 * size)
        lenet_epoch(x[:warm_up], y[:warm_up], size)
        if torch is not None:
            torch_epoch(torch, xt[:warm_up], yt[:warm_up], size)
    times = {size: {"lenet": [], "torch": []} for size in sizes}
    for r in range(repeats):
        for size in sizes:
            t = times[size]
            t["lenet"].append(lenet_epoch(x, y, size, seed=r))
            line = f"repeat {r + 1}/{repeats}, batch {size}: lenet {t['lenet'][-1]:6.2f} s"
            if torch is not None:
                t["torch"].append(torch_epoch(torch, xt, yt, size, seed=r))
                line += f", torch {t['torch'][-1]:6.2f} s"
            print(line, flush=True)

    results = {}
    for size in sizes:
        t = times[size]
        result = results[size] = {"peak_mb": lenet_peak_memory(x, y, size)}
        print(
            f"batch {size}: lenet peak memory {x.nbytes / 2**20:.0f} MB of images "
            f"+ {result['peak_mb']:.0f} MB allocated while training"
        )
        for name, seconds in t.items():
            if seconds:
                result[name] = statistics.median(seconds)
                result[f"{name}_times"] = seconds
                print(
                    f"{name}: median epoch {_spread(seconds)} s, "
                    f"{images / result[name]:,.0f} images/s"
                )
        if torch is not None:
            result["ratios"] = [a / b for a, b in zip(t["lenet"], t["torch"], strict=True)]
            result["ratio"] = statistics.median(result["ratios"])
            print(
                f"ratio lenet/torch: {_spread(result['ratios'])} (median (min-max) of the repeats)"
            )
    if len(sizes) > 1:
        print(
            "summary: batch, lenet s, torch s, ratio lenet/torch -- median (min-max) of the repeats"
        )
        for size in sizes:
            t, result = times[size], results[size]
            line = f"  {size:>5d}  {_spread(t['lenet'])}"
            if torch is not None:
                line += f"  {_spread(t['torch'])}  {_spread(result['ratios'])}"
            print(line)
    return results
