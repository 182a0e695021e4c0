"""Losses: ``loss.forward(outputs, targets) -> float``, then ``loss.backward() -> doutputs``."""

import numpy as np

__all__ = ["log_softmax", "softmax", "SoftmaxCrossEntropy", "MSELoss", "MAPLoss"]


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


class MAPLoss:
    """The 1998 paper's MAP criterion (Eq. 9) on the outputs z = -y of RBF units, mean over N.

    For a pattern with label D and RBF penalties y_i = -z_i:

        E = y_D + log(e^{-j} + sum_i e^{-y_i})

    The first term pulls the pattern towards its own prototype; the second pushes it away
    from the others, and the constant e^{-j} (a "rubbish class" with penalty j) stops that push
    once the wrong penalties are large. Computed as -z_D + logsumexp(-j, z_0, ..., z_9), shifted
    by the largest term, so it never overflows. Gradient: (p - onehot) / N with
    p_i = e^{z_i} / (e^{-j} + sum_k e^{z_k}).

    curvature(): the diagonal of the Hessian of the mean loss with respect to z,
    p_i (1 - p_i) / N, for the second-derivative pass of SDLM (lenet.paper1998.sdlm).
    """

    def __init__(self, j=1.0):
        j = float(j)
        if not (np.isfinite(j) and j > 0):
            raise ValueError(f"j must be a finite number > 0, got {j}")
        self.j = j
        self._cache = None

    def forward(self, outputs, labels):
        outputs = np.asarray(outputs)
        labels = np.asarray(labels)
        SoftmaxCrossEntropy().forward(outputs, labels)  # the same shape and label checks
        n = len(labels)
        # logsumexp over [-j, z_0, ..., z_K-1]: shift by the largest of them
        top = np.maximum(outputs.max(axis=1, keepdims=True), -self.j)
        e = np.exp(outputs - top)
        total = e.sum(axis=1, keepdims=True) + np.exp(-self.j - top)
        p = e / total  # (N, K): each class's share, the rubbish class takes the rest
        self._cache = (p, labels)
        per_pattern = -outputs[np.arange(n), labels] + (top + np.log(total))[:, 0]
        return float(per_pattern.mean())

    def backward(self):
        p, labels = _cached(self)
        n = len(labels)
        d = p.copy()
        d[np.arange(n), labels] -= 1
        return d / n

    def curvature(self):
        """Diagonal of d2E/dz2 of the mean loss, (N, K): p (1 - p) / N (never negative)."""
        p, labels = _cached(self)
        return p * (1 - p) / len(labels)
