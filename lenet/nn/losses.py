"""Losses: ``loss.forward(outputs, targets) -> float``, then ``loss.backward() -> doutputs``.

A loss keeps what backward needs as a layer does (lenet.nn.layers.Cached); the 1998 paper's
MAP loss is lenet.paper1998.loss.MAPLoss.
"""

import numpy as np

from lenet.nn.layers import Cached

__all__ = ["log_softmax", "softmax", "check_labels", "Loss", "SoftmaxCrossEntropy", "MSELoss"]


def log_softmax(logits):
    """log(softmax(z)) by log-sum-exp: z - max(z) - log(sum(exp(z - max(z)))). (N, K) -> (N, K)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits):
    """Class probabilities, stable for any finite logits. (N, K) -> (N, K)."""
    return np.exp(log_softmax(logits))


def check_labels(logits, labels):
    """logits (N, K) and integer labels (N,) in [0, K), as arrays; else a ValueError."""
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, K), got {logits.shape}")
    n, k = logits.shape
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match logits, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(
            f"labels must lie in [0, {k}), got values from {labels.min()} to {labels.max()}"
        )
    return logits, labels


class Loss(Cached):
    """Base class of the losses: forward(outputs, targets) -> float, then backward()."""

    def forward(self, outputs, targets):
        raise NotImplementedError

    def backward(self):
        raise NotImplementedError


class SoftmaxCrossEntropy(Loss):
    """Mean cross-entropy of softmax(logits) against integer labels.

    logits: (N, K), labels: (N,) integers in [0, K). Gradient: (softmax - onehot) / N.
    """

    def forward(self, logits, labels):
        logits, labels = check_labels(logits, labels)
        n = len(labels)
        logp = log_softmax(logits)
        self._cache = (logp, labels)
        return float(-logp[np.arange(n), labels].mean())

    def backward(self):
        logp, labels = self._cached()
        n = len(labels)
        dlogits = np.exp(logp)
        dlogits[np.arange(n), labels] -= 1
        return dlogits / n


class MSELoss(Loss):
    """Mean squared error over all elements: mean((y - t)^2); gradient 2 (y - t) / y.size."""

    def forward(self, outputs, targets):
        outputs = np.asarray(outputs)
        targets = np.asarray(targets)
        if outputs.shape != targets.shape:
            raise ValueError(
                f"outputs and targets must have the same shape, got {outputs.shape} "
                f"and {targets.shape}"
            )
        diff = outputs - targets
        self._cache = diff
        return float(np.mean(diff**2))

    def backward(self):
        diff = self._cached()
        return 2 * diff / diff.size
