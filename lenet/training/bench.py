"""Benchmark: LeNet-5 training with lenet and with PyTorch (CPU), side by side.

    python -m lenet bench --batch-sizes 16,64,256,512     compare(): a quiet machine
    python -m lenet bench --shared                        shared(): a busy one

Both train the same network (ReLU, max pooling), with the same batch size and optimizer (SGD,
momentum 0.9), in float32, on the same MNIST-shaped random images, shuffled each epoch; each
library with its default threads. lenet is timed on both of its paths: fit's step
(model.forward_backward) and the loop a learner writes by hand (forward, loss, backward).

compare() alternates everything it times, repeat after repeat, so that a slow spell of the
machine hits all of them: at each batch size lenet's two paths, PyTorch, and the matrix-multiply
limit (the time numpy's float32 matrix product would need for the step's arithmetic alone,
measured in the same repeat). Each figure is the median of the repeats with its spread
(min-max). shared() times one training alone, two at once, and one beside a process that keeps
one core busy, for each library, in separate processes.
"""

import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_info

from lenet.data import iterate_minibatches
from lenet.interop import to_torch
from lenet.nn import Conv2d, LeNet5, Linear, SoftmaxCrossEntropy, cores
from lenet.nn.optim import SGD

__all__ = [
    "synthetic_mnist",
    "lenet_epoch",
    "torch_epoch",
    "training_flops",
    "matmul_seconds",
    "layer_profile",
    "lenet_peak_memory",
    "compare",
    "shared",
]

LR, MOMENTUM = 0.01, 0.9
PATHS = ("fit", "loop")  # lenet's two ways through a step: forward_backward, or by hand


def synthetic_mnist(n, seed=0):
    """n random images shaped like MNIST, with random labels: (n, 1, 28, 28) float32, (n,)."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


def lenet_epoch(images, labels, batch_size, seed=0, path="fit"):
    """Seconds for one lenet training epoch (shuffled mini-batches, SGD with momentum).

    path "fit": each step is fit's, model.forward_backward then opt.step(); "loop": the loop a
    learner writes, loss.forward(model.forward(x), y), model.backward(loss.backward()), step.
    """
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got {path!r}")
    model = LeNet5(rng=seed)
    loss = SoftmaxCrossEntropy()
    opt = SGD(model, lr=LR, momentum=MOMENTUM)
    start = time.perf_counter()
    for x, y in iterate_minibatches(images, labels, batch_size, rng=seed):
        if path == "fit":
            model.forward_backward(x, y, loss)
        else:
            loss.forward(model.forward(x), y)
            model.backward(loss.backward())
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


def training_flops(model, input_shape=(1, 28, 28)):
    """Floating-point operations of one image's training step in the matrix products.

    Each Conv2d and Linear costs 2 x (multiply-adds of its forward) for the forward, as many
    for the weight gradient, and as many again for the input gradient (unless it skips it).
    LeNet5: about 2.3 million.
    """
    x, total = np.zeros((1, *input_shape), dtype=np.float32), 0
    for layer in model.layers:
        y = layer.forward(x)
        if isinstance(layer, Conv2d | Linear):
            weights = layer.params["W"].size
            positions = y[0, 0].size if isinstance(layer, Conv2d) else 1
            passes = 3 if getattr(layer, "input_grad", True) else 2
            total += passes * 2 * weights * positions
        x = y
    model.clear_cache()
    return total


def matmul_seconds(flops, size=1024, repeats=5):
    """Seconds numpy's float32 matrix product (BLAS at its default threads) takes for `flops`
    operations, at the rate of its fastest of `repeats` (size x size) @ (size x size)."""
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    b = a.T.copy()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return flops * best / (2 * size**3)


def layer_profile(batch_size, repeats=50, seed=0):
    """Milliseconds of forward and backward per lenet layer for one batch: [(name, fwd, bwd)].

    Each figure is the fastest of `repeats` timings of the CPU time of the calling thread
    (time.thread_time): a layer runs in that thread with BLAS at one thread per product
    (lenet.nn.cores), and the time the scheduler gives other programs is not counted, so on a
    shared machine the figure is close to a quiet machine's. (A user who set BLAS's threads
    themselves gets only this thread's share of a product that ran on several.)
    """
    model = LeNet5(rng=seed)
    x, y = synthetic_mnist(batch_size, seed)
    loss = SoftmaxCrossEntropy()
    fwd = np.full(len(model.layers), np.inf)
    bwd = np.full(len(model.layers), np.inf)
    with cores.lenet_threads():
        for rep in range(repeats + 5):  # 5 warm-up runs
            _profile_step(model, x, y, loss, fwd, bwd, record=rep >= 5)
    names = [f"{i:2d} {type(layer).__name__}" for i, layer in enumerate(model.layers)]
    return list(zip(names, fwd * 1e3, bwd * 1e3, strict=True))


def _profile_step(model, x, y, loss, fwd, bwd, record):
    """One forward and backward, layer by layer; each layer's seconds lower fwd[i], bwd[i]."""
    h = x
    for i, layer in enumerate(model.layers):
        t = time.thread_time()
        h = layer.forward(h)
        if record:
            fwd[i] = min(fwd[i], time.thread_time() - t)
    loss.forward(h, y)
    d = loss.backward()
    for i in reversed(range(len(model.layers))):
        t = time.thread_time()
        d = model.layers[i].backward(d)
        if record:
            bwd[i] = min(bwd[i], time.thread_time() - t)


def lenet_peak_memory(images, labels, batch_size, batches=20):
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


def _import_torch(use_torch):
    if not use_torch:
        return None
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: timing lenet only (pip install -e '.[torch]')")
        return None
    return torch


def _print_setup(torch, images, sizes):
    blas = ", ".join(f"{i['internal_api']} ({i['num_threads']} threads)" for i in threadpool_info())
    batches = ", ".join(str(b) for b in sizes)
    print(f"LeNet-5, {images:,} images, batch {batches}, float32, SGD momentum {MOMENTUM}")
    print(f"numpy {np.__version__} with {blas or 'no BLAS found'}")
    if torch is not None:
        print(f"torch {torch.__version__} with {torch.get_num_threads()} threads")


def _print_profile(batch_size):
    print(f"per-layer CPU time for one batch of {batch_size} (ms, fastest of 50):")
    print(f"  {'layer':<16s} {'forward':>8s} {'backward':>9s}")
    for name, f, b in layer_profile(batch_size):
        print(f"  {name:<16s} {f:8.3f} {b:9.3f}")


def _time_repeat(r, sizes, data, torch_data, flops, times):
    """One repeat: at each batch size, lenet's paths, PyTorch and the matmul limit, in turn."""
    x, y = data
    for size in sizes:
        t = times[size]
        for path in PATHS:
            t[path].append(lenet_epoch(x, y, size, seed=r, path=path))
        if torch_data is not None:
            t["torch"].append(torch_epoch(*torch_data, size, seed=r))
        t["limit"].append(matmul_seconds(flops * len(x)))
        print(
            f"repeat {r + 1}, batch {size}: "
            + ", ".join(f"{name} {t[name][-1]:.2f} s" for name in t if t[name]),
            flush=True,
        )


def _summarise(size, t):
    """Medians and ratios of one batch size's repeats, as a dict and one printed row."""
    result = {name: statistics.median(v) for name, v in t.items() if v}
    result["times"] = t
    row = f"  {size:>5d}"
    for path in PATHS:
        if t["torch"]:
            ratios = [a / b for a, b in zip(t[path], t["torch"], strict=True)]
            result[f"{path}_ratio"] = statistics.median(ratios)
            row += f"  {_spread(ratios):>17s}"
        limits = [a / b for a, b in zip(t[path], t["limit"], strict=True)]
        result[f"{path}_limit"] = statistics.median(limits)
        row += f"  {_spread(limits, 1):>17s}"
    return result, row


def compare(images=20_000, batch_sizes=(64,), repeats=3, use_torch=True, profile=False):
    """Time lenet (fit's step and the hand-written loop) and PyTorch epochs alternately.

    Prints each repeat, then per batch size the ratio lenet / PyTorch and the distance to the
    matrix-multiply limit (lenet's time / the limit's), median (min-max) of the repeats.
    Returns {batch size: {"fit", "loop", "torch", "limit": median seconds, "fit_ratio",
    "loop_ratio", "fit_limit", "loop_limit": median ratios, "times": every repeat's seconds,
    "peak_mb": what lenet allocates while training}}.
    """
    sizes = list(batch_sizes)
    x, y = synthetic_mnist(images)
    torch = _import_torch(use_torch)
    _print_setup(torch, images, sizes)
    torch_data = None if torch is None else (torch, torch.from_numpy(x), torch.from_numpy(y))
    flops = training_flops(LeNet5())
    print(f"matrix products per image and step: {flops / 1e6:.2f} MFLOP")
    if profile:
        _print_profile(sizes[0])
    for size in sizes:  # first calls pay for imports, caches, thread pools
        warm = min(len(x), 10 * size)
        for path in PATHS:
            lenet_epoch(x[:warm], y[:warm], size, path=path)
        if torch_data is not None:
            torch_epoch(torch, torch_data[1][:warm], torch_data[2][:warm], size)
    times = {s: {name: [] for name in (*PATHS, "torch", "limit")} for s in sizes}
    for r in range(repeats):
        _time_repeat(r, sizes, (x, y), torch_data, flops, times)
    print("batch, then per lenet path (fit, loop): ratio to PyTorch and times the matmul limit")
    print("-- median (min-max) of the repeats")
    results = {}
    for size in sizes:
        results[size], row = _summarise(size, times[size])
        results[size]["peak_mb"] = lenet_peak_memory(x, y, size)
        print(row + f"  (lenet allocates {results[size]['peak_mb']:.0f} MB while training)")
    return results


_CHILD = """
import sys, time, numpy as np
from lenet.training import bench
library, batch, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x, y = bench.synthetic_mnist(images)
if library == "torch":
    import torch
    args = (torch, torch.from_numpy(x), torch.from_numpy(y), batch)
    bench.torch_epoch(*args[:1], args[1][: 4 * batch], args[2][: 4 * batch], batch)
    print(bench.torch_epoch(*args))
else:
    bench.lenet_epoch(x[: 4 * batch], y[: 4 * batch], batch)
    print(bench.lenet_epoch(x, y, batch))
"""
_BUSY = "while True: pass"


def _children(library, batch, images, count, busy=False):
    """Seconds of `count` trainings started at once in their own processes (and a process
    that keeps one core busy beside them when busy)."""
    spinner = subprocess.Popen([sys.executable, "-c", _BUSY]) if busy else None
    try:
        command = [sys.executable, "-c", _CHILD, library, str(batch), str(images)]
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(count)]
        return [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def shared(images=5_000, batch_sizes=(64, 256), repeats=3, use_torch=True):
    """Slowdown of a training on a busy machine: two at once, and one beside a busy core.

    For each library and batch size, each repeat times one training alone, two started at once
    (their mean) and one beside a process that keeps a core busy, each in its own process.
    Prints the slowdowns (time / time alone), median (min-max) of the repeats; a fair share of
    two cores is 2x for two at once. Returns {(library, batch): {"alone", "two", "busy": lists
    of seconds, "two_slowdown", "busy_slowdown": medians}}.
    """
    libraries = ["lenet"] + (["torch"] if _import_torch(use_torch) is not None else [])
    print(f"{images:,} images per training, libraries {', '.join(libraries)}")
    results = {}
    for r in range(repeats):
        for batch in batch_sizes:
            for library in libraries:
                t = results.setdefault((library, batch), {"alone": [], "two": [], "busy": []})
                t["alone"] += _children(library, batch, images, 1)
                t["two"].append(statistics.mean(_children(library, batch, images, 2)))
                t["busy"] += _children(library, batch, images, 1, busy=True)
                print(
                    f"repeat {r + 1}, batch {batch}, {library}: alone {t['alone'][-1]:.2f} s, "
                    f"two at once {t['two'][-1]:.2f} s, beside a busy core {t['busy'][-1]:.2f} s",
                    flush=True,
                )
    print("library, batch: slowdown of two at once, beside a busy core -- median (min-max)")
    for (library, batch), t in results.items():
        two = [a / b for a, b in zip(t["two"], t["alone"], strict=True)]
        busy = [a / b for a, b in zip(t["busy"], t["alone"], strict=True)]
        t["two_slowdown"], t["busy_slowdown"] = statistics.median(two), statistics.median(busy)
        print(f"  {library:<6s} {batch:>4d}  {_spread(two)}  {_spread(busy)}")
    return results
