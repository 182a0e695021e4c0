"""The 1998 paper's loss: the MAP criterion of Eq. (9) on the RBF units' outputs."""

import numpy as np

from lenet.nn.losses import Loss, check_labels

__all__ = ["MAPLoss"]


class MAPLoss(Loss):
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
        super().__init__()
        self.j = j

    def forward(self, outputs, labels):
        outputs, labels = check_labels(outputs, labels)
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
        p, labels = self._cached()
        n = len(labels)
        d = p.copy()
        d[np.arange(n), labels] -= 1
        return d / n

    def curvature(self):
        """Diagonal of d2E/dz2 of the mean loss, (N, K): p (1 - p) / N (never negative)."""
        p, labels = self._cached()
        return p * (1 - p) / len(labels)
