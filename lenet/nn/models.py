"""Models: Sequential stacks of layers, and the LeNet-5 builder (checkpoints: lenet.training)."""

import numpy as np

from lenet.nn import cores
from lenet.nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from lenet.nn.conv import Conv2d
from lenet.nn.layers import Layer
from lenet.nn.linear import Flatten, Linear
from lenet.nn.pooling import AvgPool2d, MaxPool2d
from lenet.utils.rng import as_generator

__all__ = ["Sequential", "LeNet5", "chunk_bounds"]

# Most samples per chunk when a large batch is cut into chunks for the cores. Chosen with
# `python benchmarks/batch_size.py --chunk-sizes 64 128 256 --batch-sizes 256 512`.
CHUNK_SIZE = 128


def chunk_bounds(n, chunk_size):
    """Where the chunks of a batch of n samples start and stop: [0, b1, ..., n].

    One chunk below chunk_size samples; else near-equal chunks of at most chunk_size samples,
    in an even number (at least 2, at most n), so that the cores of a common 2- or 4-core CPU
    get equal shares. The chunks depend on n and chunk_size only, never on the machine.
    """
    if n < chunk_size:
        return [0, n]
    count = -(-n // chunk_size)  # ceil
    count = min(n, max(2, count + count % 2))
    return [n * i // count for i in range(count + 1)]


def _same_pairs(a, b):
    return len(a) == len(b) and all(x is y and p is q for (x, p), (y, q) in zip(a, b, strict=True))


class Sequential:
    """Layers applied in order: forward runs them first to last, backward last to first.

    A batch of chunk_size samples or more (CHUNK_SIZE unless set) runs in chunks spread over
    the CPU's cores, in forward and in backward, with the same results (up to rounding): each
    chunk goes through its own siblings of the layers (Layer.sibling), which share the
    parameters, and backward sums the chunks' grads, in chunk order, into the layers' grads.
    A hand-written training loop gets this as fit does, with no change to its code.
    """

    def __init__(self, *layers):
        for layer in layers:
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"Sequential takes layers, got {type(layer).__name__}")
        self.layers = list(layers)
        self.chunk_size = CHUNK_SIZE
        self._siblings = []  # one Sequential per chunk, kept so their buffers are reused
        self._sibling_source = None  # (layer, params) pairs the siblings were made from
        self._chunks = None  # the bounds of the last forward's chunks, None when it had one

    def forward(self, x):
        """x: the first layer's input -> the last layer's output (logits for a classifier)."""
        with cores.lenet_threads():
            bounds = self._plan_chunks(len(x) if np.ndim(x) else 0)  # the layers check x
            if bounds is None:
                return self._forward_layers(x)
            parts = self._on_cores(bounds, lambda model, part: model._forward_layers(x[part]))
            return np.concatenate(parts)

    __call__ = forward

    def backward(self, dout):
        """dout: dL/d(output) -> dL/dx.

        A layer that skips its input gradient (Conv2d with input_grad=False) returns None;
        backward stops there, as the layers before it have no parameters to need one.
        """
        with cores.lenet_threads():
            if self._chunks is None:
                return self._backward_layers(dout)
            dout = self._check_batch(dout)
            parts = self._on_cores(
                self._chunks, lambda model, part: model._backward_layers(dout[part])
            )
            self._sum_over_chunks("grads")
            return None if parts[0] is None else np.concatenate(parts)

    def backward_curvature(self, d2out, dout=None):
        """The second-derivative pass of every layer, last to first (see Layer); after forward.

        dout (the gradient backward would get) goes to a last layer that uses it
        (curvature_uses_gradient, as the 1998 RBF output does). Sets each layer's curvature.
        """
        with cores.lenet_threads():
            if self._chunks is None:
                return self._curvature_layers(d2out, dout)
            d2out = self._check_batch(d2out)
            dout = None if dout is None else self._check_batch(dout)
            parts = self._on_cores(
                self._chunks,
                lambda model, part: model._curvature_layers(
                    d2out[part], None if dout is None else dout[part]
                ),
            )
            self._sum_over_chunks("curvature")
            return None if parts[0] is None else np.concatenate(parts)

    def forward_backward(self, x, targets, loss, chunk_size=None):
        """One training step's forward and backward passes -> (mean loss, outputs).

        ``loss.forward(self.forward(x), targets)`` and then ``self.backward(loss.backward())``;
        chunk_size, when given, replaces self.chunk_size for this step.
        """
        saved = self.chunk_size
        self.chunk_size = saved if chunk_size is None else chunk_size
        try:
            outputs = self.forward(x)
        finally:
            self.chunk_size = saved
        value = loss.forward(outputs, targets)
        self.backward(loss.backward())
        return value, outputs

    def _forward_layers(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def _backward_layers(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
            if dout is None:
                return None
        return dout

    def _curvature_layers(self, d2out, dout):
        last = self.layers[-1]
        if dout is not None and getattr(last, "curvature_uses_gradient", False):
            d2out = last.backward_curvature(d2out, dout=dout)
        else:
            d2out = last.backward_curvature(d2out)
        for layer in reversed(self.layers[:-1]):
            if d2out is None:
                return None
            d2out = layer.backward_curvature(d2out)
        return d2out

    def _plan_chunks(self, n):
        """Chunk bounds for a batch of n (None: one chunk), siblings made for them; the layers'
        own caches are dropped when chunks run, so that nothing reads a stale one."""
        bounds = chunk_bounds(n, self.chunk_size)
        shareable = all(isinstance(layer, Layer) for layer in self.layers)
        if len(bounds) == 2 or not shareable or cores.plan()["chunks"] == 1:
            self._chunks = None
            return None
        self._chunks = bounds
        for layer in self.layers:
            layer.clear_cache()
        source = [(layer, layer.params) for layer in self.layers]
        if self._sibling_source is None or not _same_pairs(source, self._sibling_source):
            self._siblings, self._sibling_source = [], source  # layers or parameters replaced
        while len(self._siblings) < len(bounds) - 1:
            self._siblings.append(self.sibling())
        return bounds

    def _on_cores(self, bounds, task):
        """[task(sibling i, slice of chunk i) for every chunk], the chunks spread over the
        cores (chunk i on core i mod cores, each core's in order), results in chunk order."""
        chunks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        workers = min(cores.plan()["chunks"], len(chunks))

        def share(w):
            return [(i, task(self._siblings[i], chunks[i])) for i in range(w, len(chunks), workers)]

        done = sorted(
            (r for part in cores.run_on_cores(share, range(workers)) for r in part),
            key=lambda r: r[0],
        )
        return [result for _, result in done]

    def _check_batch(self, array):
        array = np.asarray(array)
        if len(array) != self._chunks[-1]:
            raise ValueError(
                f"Sequential.backward expected {self._chunks[-1]} samples (the batch forward "
                f"ran), got an array of shape {array.shape}"
            )
        return array

    def _sum_over_chunks(self, kind):
        """Each layer's grads (or curvature): the sum of its siblings', in chunk order."""
        count = len(self._chunks) - 1
        for j, layer in enumerate(self.layers):
            parts = [getattr(model.layers[j], kind) for model in self._siblings[:count]]
            summed = {}
            for key in parts[0]:
                summed[key] = parts[0][key].copy()
                for part in parts[1:]:
                    summed[key] += part[key]
            getattr(layer, kind).update(summed)

    def sibling(self):
        """The same network with its own forward caches and grads (see Layer.sibling)."""
        return Sequential(*(layer.sibling() for layer in self.layers))

    def clear_cache(self):
        """Drop what every layer kept for backward (after evaluation, say), and the chunks'."""
        for layer in self.layers:
            layer.clear_cache()
        self._siblings, self._sibling_source, self._chunks = [], None, None

    def parameter_count(self):
        """Number of trainable numbers in all layers (each layer's parameter_count)."""
        return sum(layer.parameter_count() for layer in self.layers)

    def summary(self, input_shape):
        """Each layer's output shape and parameter_count() for one input of input_shape.

        Returns a list of (layer repr, output shape, parameter count), first row the input.
        """
        x = np.zeros(input_shape, dtype=self.dtype)
        rows = [("input", x.shape, 0)]
        for layer in self.layers:
            x = layer.forward(x)
            rows.append((repr(layer), x.shape, layer.parameter_count()))
        return rows

    @property
    def dtype(self):
        """The dtype of the parameters (float32 unless built with another)."""
        for layer in self.layers:
            for p in layer.params.values():
                return p.dtype
        return np.dtype(np.float32)

    def __repr__(self):
        inner = "".join(f"\n  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


_ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
}
_INIT_FOR = {"relu": "he", "leaky_relu": "he", "tanh": "glorot", "sigmoid": "glorot_sigmoid"}
_POOLS = {"max": MaxPool2d, "avg": AvgPool2d}


def LeNet5(activation="relu", pool="max", dtype=np.float32, rng=None):
    """LeNet-5 for 28 x 28 digits: (N, 1, 28, 28) -> logits (N, 10).

    conv 1->6 (5x5, pad 2) -> act -> pool 2 -> conv 6->16 (5x5) -> act -> pool 2 -> flatten
    -> 400->120 -> act -> 120->84 -> act -> 84->10.

    ``LeNet5()`` is the modern net (ReLU, max pooling, He init);
    ``LeNet5("sigmoid", "avg")`` is the seed report's (Glorot init, x4 for sigmoid layers, see
    lenet.nn.initialization; tanh gets plain Glorot). The output layer gets Glorot
    init scaled by 0.1: a fresh classifier should be unsure, with logits near 0, so its loss
    starts near ln 10 = 2.303 (a classic sanity check).
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if pool not in _POOLS:
        raise ValueError(f"pool must be one of {sorted(_POOLS)}, got {pool!r}")
    rng = as_generator(rng)
    act, pool_cls = _ACTIVATIONS[activation], _POOLS[pool]
    init = _INIT_FOR[activation]
    kw = {"init": init, "dtype": dtype, "rng": rng}
    output = Linear(84, 10, init="glorot", dtype=dtype, rng=rng)
    output.params["W"] *= 0.1
    return Sequential(
        Conv2d(1, 6, 5, padding=2, input_grad=False, **kw),
        act(),
        pool_cls(2),
        Conv2d(6, 16, 5, **kw),
        act(),
        pool_cls(2),
        Flatten(),
        Linear(16 * 5 * 5, 120, **kw),
        act(),
        Linear(120, 84, **kw),
        act(),
        output,
    )
