"""Stochastic diagonal Levenberg-Marquardt (LeCun et al. 1998, Appendix C).

Each parameter w_k gets its own step size from an estimate h_kk of the loss's second
derivative with respect to it:

    w_k <- w_k - eta / (mu + h_kk) * dE/dw_k

h_kk is the Gauss-Newton diagonal: a second backward pass (each layer's backward_curvature)
carries d2E/dy2 from the loss down the network, squaring every local derivative where backward
multiplies by it, and dropping the off-diagonal terms and the f'' terms of the squashing
functions. The paper re-estimates h on 500 training patterns before each pass, with mu = 0.02;
mu keeps the step finite where the curvature is nearly zero.

    opt = SDLM(model, MAPLoss(), lr=0.0005 * batch_size, mu=0.02)
    opt.estimate_curvature(x_train[:500], y_train[:500])      # before each pass
    ... model.backward(loss.backward()); opt.step()

Mini-batches: the paper steps after every pattern with the gradient of that pattern's loss.
lenet's losses are means over the batch, so one step on a mini-batch of B patterns with
lr = B * eta moves the weights by sum_p eta / (mu + h) * g_p: the sum of the B per-pattern
steps, each taken from the batch's starting point. That is the "linear scaling" of eta.
"""

import numpy as np

from lenet.nn.optim import Optimizer
from lenet.utils.checks import positive_number

__all__ = ["SDLM", "curvature_pass", "PAPER_ETA", "paper_eta"]

# Appendix C: eta per pass, 0.0005 for 2 passes, 0.0002 for 3, 0.0001 for 3, 0.00005 for 4,
# then 0.00001.
PAPER_ETA = (0.0005,) * 2 + (0.0002,) * 3 + (0.0001,) * 3 + (0.00005,) * 4
PAPER_ETA_AFTER = 0.00001


def paper_eta(epoch):
    """The paper's per-pattern step eta for a pass (epoch counted from 0)."""
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    return PAPER_ETA[epoch] if epoch < len(PAPER_ETA) else PAPER_ETA_AFTER


def curvature_pass(model, loss, images, labels):
    """Forward images, then carry the loss's curvature back through every layer.

    Each layer's backward_curvature sets layer.curvature (the batch's mean, as the loss's
    curvature is that of the mean loss). The last layer also gets the loss's gradient when it
    can use it (the RBF output's own curvature, see classic.RBFOutput). Returns the input's
    curvature (None when the first layer skips it).
    """
    outputs = model.forward(images)
    loss.forward(outputs, labels)
    if not hasattr(loss, "curvature"):
        raise TypeError(f"{type(loss).__name__} has no curvature(): SDLM needs one")
    return model.backward_curvature(loss.curvature(), dout=loss.backward())


class SDLM(Optimizer):
    """Stochastic diagonal Levenberg-Marquardt: w -= lr / (mu + h) * grad, h per parameter.

    model: the model whose parameters it updates (and runs for the curvature estimate);
    loss: a loss with curvature() (MAPLoss); lr: the step for one call of step() (eta for
    one pattern, B * eta for a mini-batch of B: see the module docstring); mu: 0.02 as in
    the paper. Call estimate_curvature(images, labels) before the first step and, as the
    paper does, before each pass.
    """

    def __init__(self, model, loss, lr=0.0005, mu=0.02):
        super().__init__(model, lr)
        self.model = model
        self.loss = loss
        self.mu = positive_number("mu", mu)  # > 0: it bounds the step where h is ~0
        self.slots = [(layer, name) for layer in model.layers for name in layer.params]
        self.hessian = [None] * len(self.slots)  # h_kk per slot, the shape of the parameter

    def estimate_curvature(self, images, labels, batch_size=500):
        """h = mean over the given patterns of the diagonal Gauss-Newton second derivative."""
        n = len(images)
        if n == 0:
            raise ValueError("estimate_curvature needs at least one pattern")
        totals = [np.zeros(layer.params[name].shape) for layer, name in self.slots]
        for start in range(0, n, batch_size):
            xb, yb = images[start : start + batch_size], labels[start : start + batch_size]
            curvature_pass(self.model, self.loss, xb, yb)
            for total, (layer, name) in zip(totals, self.slots, strict=True):
                if name not in layer.curvature:
                    raise RuntimeError(f"{type(layer).__name__} set no curvature for {name!r}")
                total += layer.curvature[name] * len(xb)  # curvature is the chunk's mean
        for i, (layer, name) in enumerate(self.slots):
            self.hessian[i] = (totals[i] / n).astype(layer.params[name].dtype)
            layer.clear_cache()
        return self.hessian

    def step_sizes(self):
        """lr / (mu + h) for every slot: what step() multiplies each gradient by."""
        if self.hessian[0] is None:
            raise RuntimeError("call estimate_curvature(images, labels) before step()")
        return [self.lr / (self.mu + h) for h in self.hessian]

    def step(self):
        """Update every parameter in place from layer.grads: w -= lr / (mu + h) * grad."""
        for step, (layer, name) in zip(self.step_sizes(), self.slots, strict=True):
            if name not in layer.grads:
                raise RuntimeError(
                    f"{type(layer).__name__} has no gradient for {name!r}: "
                    "call model.backward(...) before opt.step()"
                )
            param = layer.params[name]
            param -= (step * layer.grads[name]).astype(param.dtype, copy=False)
