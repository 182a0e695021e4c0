"""Stochastic diagonal Levenberg-Marquardt (LeCun et al. 1998, Appendix C).

Each parameter w_k gets its own step size from an estimate h_kk of the loss's second
derivative with respect to it:

    w_k <- w_k - eta / (mu + h_kk) * dE/dw_k

h_kk is the Gauss-Newton diagonal: a second backward pass (each layer's backward_curvature)
carries d2E/dy2 from the loss down the network, squaring every local derivative where backward
multiplies by it, and dropping the off-diagonal terms and the f'' terms of the squashing
functions. The paper re-estimates h on 500 training patterns before each pass; mu keeps the
step finite where the curvature is nearly zero.

    opt = SDLM(model, MAPLoss(), lr=0.0005 * batch_size, mu=0.5)
    lenet.training.fit(model, opt, ..., loss=opt.loss)   # start_epoch re-estimates h each pass

Mini-batches: the paper steps after every pattern with the gradient of that pattern's loss.
lenet's losses are means over the batch, so one step on a mini-batch of B patterns with
lr = B * eta moves the weights by sum_p eta / (mu + h) * g_p: the sum of the B per-pattern
steps, each taken from the batch's starting point. That is the "linear scaling" of eta.
"""

import numpy as np

from lenet.nn.optim import Optimizer
from lenet.utils.checks import positive_int, positive_number
from lenet.utils.rng import as_generator

__all__ = ["SDLM", "curvature_pass"]


def curvature_pass(model, loss, images, labels):
    """Forward images, then carry the loss's curvature back through every layer.

    Each layer's backward_curvature sets layer.curvature (the batch's mean, as the loss's
    curvature is that of the mean loss). The last layer also gets the loss's gradient when it
    can use it (the RBF output's own curvature, see lenet.paper1998.layers.RBFOutput). Returns
    the input's curvature (None when the first layer skips it).
    """
    outputs = model.forward(images)
    loss.forward(outputs, labels)
    if not hasattr(loss, "curvature"):
        raise TypeError(f"{type(loss).__name__} has no curvature(): SDLM needs one")
    return model.backward_curvature(loss.curvature(), dout=loss.backward())


class SDLM(Optimizer):
    """Stochastic diagonal Levenberg-Marquardt: w -= lr / (mu + h) * grad, h per parameter.

    model: the model whose parameters it updates (and runs for the curvature estimate);
    loss: a loss with curvature() (MAPLoss); lr: the step for one call of step() (eta for one
    pattern, B * eta for a mini-batch of B: see the module docstring); mu: the paper's 0.02
    bounds a step at lr / mu where h is ~0 (lenet.paper1998.recipe.MU says why the recipe uses
    0.5); curvature_samples: how many patterns of each epoch start_epoch estimates h on.
    Call estimate_curvature(images, labels) before the first step, or let fit call start_epoch.
    """

    def __init__(self, model, loss, lr=0.0005, mu=0.02, curvature_samples=500):
        super().__init__(model, lr)
        self.model = model
        self.loss = loss
        self.mu = positive_number("mu", mu)  # > 0: it bounds the step where h is ~0
        self.curvature_samples = positive_int("curvature_samples", curvature_samples)
        self.hessian = [None] * len(self.parameters)  # h_kk per parameter, of its shape

    def start_epoch(self, images, labels, rng):
        """Before each pass, as the paper does: h from curvature_samples of the pass's patterns,
        drawn without replacement by rng."""
        rng = as_generator(rng)
        size = min(self.curvature_samples, len(images))
        sample = rng.choice(len(images), size=size, replace=False)
        self.estimate_curvature(images[sample], labels[sample])

    def estimate_curvature(self, images, labels, batch_size=500):
        """h = mean over the given patterns of the diagonal Gauss-Newton second derivative."""
        n = len(images)
        if n == 0:
            raise ValueError("estimate_curvature needs at least one pattern")
        totals = [np.zeros(layer.params[name].shape) for layer, name in self.parameters]
        for start in range(0, n, batch_size):
            xb, yb = images[start : start + batch_size], labels[start : start + batch_size]
            curvature_pass(self.model, self.loss, xb, yb)
            for total, (layer, name) in zip(totals, self.parameters, strict=True):
                if name not in layer.curvature:
                    raise RuntimeError(f"{type(layer).__name__} set no curvature for {name!r}")
                total += layer.curvature[name] * len(xb)  # curvature is the chunk's mean
        for i, (layer, name) in enumerate(self.parameters):
            self.hessian[i] = (totals[i] / n).astype(layer.params[name].dtype)
            layer.clear_cache()
        return self.hessian

    def step_sizes(self):
        """lr / (mu + h) for every parameter: what step() multiplies each gradient by."""
        if self.hessian[0] is None:
            raise RuntimeError("call estimate_curvature(images, labels) before step()")
        return [self.lr / (self.mu + h) for h in self.hessian]

    def step(self):
        """Update every parameter in place from layer.grads: w -= lr / (mu + h) * grad."""
        if self.hessian[0] is None:
            raise RuntimeError("call estimate_curvature(images, labels) before step()")
        super().step()

    def _update(self, i, param, grad):
        param -= (self.lr / (self.mu + self.hessian[i]) * grad).astype(param.dtype, copy=False)
