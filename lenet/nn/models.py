"""Models: Sequential stacks of layers, and the LeNet-5 builder (checkpoints: lenet.training)."""

import copy

import numpy as np

from lenet.nn import cores
from lenet.nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from lenet.nn.conv import Conv2d
from lenet.nn.layers import Layer
from lenet.nn.linear import Flatten, Linear
from lenet.nn.pooling import AvgPool2d, MaxPool2d
from lenet.utils.rng import as_generator

__all__ = ["Sequential", "LeNet5", "chunk_bounds"]

# Most samples per chunk in Sequential.forward_backward: a training step's working set for this
# many 28 x 28 images of LeNet-5 stays near a core's cache (measured fastest: 128).
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


class Sequential:
    """Layers applied in order: forward runs them first to last, backward last to first."""

    def __init__(self, *layers):
        for layer in layers:
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"Sequential takes layers, got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x):
        """x: the first layer's input -> the last layer's output (logits for a classifier)."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout):
        """dout: dL/d(output) -> dL/dx.

        A layer that skips its input gradient (Conv2d with input_grad=False) returns None;
        backward stops there, as the layers before it have no parameters to need one.
        """
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
            if dout is None:
                return None
        return dout

    def forward_backward(self, x, targets, loss, chunk_size=None):
        """One training step's forward and backward passes -> (mean loss, outputs).

        The same gradients as ``loss.forward(self.forward(x), targets)`` and then
        ``self.backward(loss.backward())``, but a batch of chunk_size samples or more runs in
        chunks (chunk_bounds), spread over the CPU's cores: each core works through its own
        chunks with siblings of the layers (Layer.sibling), and each chunk's working set stays
        near its core's cache, where one large batch would overflow it. loss must be a mean over
        the samples (as every lenet loss is): a chunk of n_c of the batch's N samples then
        contributes its gradient times n_c / N, and the grads summed over the chunks, in chunk
        order, equal the batch's (up to rounding). outputs: (N, ...) the model's outputs for x.
        The layers' forward caches then hold one chunk's, the grads the whole batch's.
        chunk_size=None: lenet.nn.models.CHUNK_SIZE.
        """
        bounds = chunk_bounds(len(x), CHUNK_SIZE if chunk_size is None else chunk_size)
        if len(bounds) == 2:
            outputs = self.forward(x)
            value = loss.forward(outputs, targets)
            self.backward(loss.backward())
            return value, outputs
        chunks = list(enumerate(zip(bounds[:-1], bounds[1:], strict=True)))
        # one core for layers of other kinds (objects with forward and backward only)
        shareable = all(isinstance(layer, Layer) for layer in self.layers)
        workers = min(cores.core_count(), len(chunks)) if shareable else 1
        models = [self] + [self.sibling() for _ in range(workers - 1)]
        losses = [loss] + [copy.copy(loss) for _ in range(workers - 1)]

        def run_share(w):
            """Forward and backward of worker w's chunks -> [(chunk, loss, outputs, grads)]."""
            model, share_loss, done = models[w], losses[w], []
            for i, (start, stop) in chunks[w::workers]:
                out = model.forward(x[start:stop])
                weight = (stop - start) / len(x)
                value = share_loss.forward(out, targets[start:stop]) * weight
                model.backward(share_loss.backward() * weight)
                grads = [
                    {k: g.copy() for k, g in la.grads.items()}
                    if getattr(la, "params", None)
                    else {}
                    for la in model.layers
                ]
                done.append((i, value, out, grads))
            return done

        shares = cores.run_on_cores(run_share, range(workers))
        done = sorted((r for share in shares for r in share), key=lambda r: r[0])
        sums = done[0][3]
        for _, _, _, grads in done[1:]:
            for acc, layer_grads in zip(sums, grads, strict=True):
                for k, g in layer_grads.items():
                    acc[k] += g
        for layer, acc in zip(self.layers, sums, strict=True):
            if acc:
                layer.grads.update(acc)
        return sum(r[1] for r in done), np.concatenate([r[2] for r in done])

    def sibling(self):
        """The same network with its own forward caches and grads (see Layer.sibling)."""
        return Sequential(*(layer.sibling() for layer in self.layers))

    def clear_cache(self):
        """Drop what every layer kept for backward (after evaluation, say)."""
        for layer in self.layers:
            layer.clear_cache()

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
