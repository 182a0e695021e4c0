"""Losses: ``loss.forward(outputs, targets) -> float``, then ``loss.backward() -> doutputs``."""

import numpy as np

__all__ = ["log_softmax", "softmax", "SoftmaxCrossEntropy", "MSELoss"]


def log_softmax(logits):
    """log(softmax(z)) by log-sum-exp: z - max(z) - log(sum(exp(z - max(z)))). (N, K) -> (N, K)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits):
    """Class probabilities, stable for any finite logits. (N, K) -> (N, K)."""
    return np.exp(log_softmax(logits))


def _cached(loss):
    if loss._cache is None:
        raise RuntimeError(f"{type(loss).__name__}.backward() was called before forward()")
    return loss._cache


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against integer labels.

    logits: (N, K), labels: (N,) integers in [0, K). Gradient: (softmax - onehot) / N.
    """

    def __init__(self):
        self._cache = None

    def forward(self, logits, labels):
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
        logp = log_softmax(logits)
        self._cache = (logp, labels)
        return float(-logp[np.arange(n), labels].mean())

    def backward(self):
        logp, labels = _cached(self)
        n = len(labels)
        dlogits = np.exp(logp)
        dlogits[np.arange(n), labels] -= 1
        return dlogits / n


class MSELoss:
    """Mean squared error over all elements: mean((y - t)^2); gradient 2 (y - t) / y.size."""

    def __init__(self):
        self._cache = None

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
        diff = _cached(self)
        return 2 * diff / diff.size
