"""Optimizers update the layers' parameter arrays in place from their grads, and
learning-rate schedules give the factor that scales the base learning rate each epoch.

    opt = SGD(model, lr=0.05, momentum=0.9)
    model.backward(loss.backward())
    opt.step()
"""

import numpy as np

from lenet.utils.checks import non_negative_number, positive_int

__all__ = ["Optimizer", "SGD", "Adam", "StepDecay", "ExponentialDecay"]


def _layers_of(model):
    """The layers of a model with .layers, of a single layer, or of a list of layers."""
    if hasattr(model, "layers"):
        return list(model.layers)
    if hasattr(model, "params"):
        return [model]
    return list(model)


class Optimizer:
    """Holds the (layer, parameter name) pairs to update and the learning rate."""

    def __init__(self, model, lr):
        self.lr = lr
        self.parameters = [(layer, name) for layer in _layers_of(model) for name in layer.params]
        if not self.parameters:
            raise ValueError("the model has no parameters to optimise")

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = non_negative_number("learning rate", value)

    def start_epoch(self, images, labels, rng):
        """lenet.training.fit calls this before each epoch with the epoch's training images
        (N, ...), labels (N,) and its Generator. Most optimizers need nothing; the 1998
        paper's SDLM re-estimates its curvature here."""

    def step(self):
        """Update every parameter in place from layer.grads."""
        for i, (layer, name) in enumerate(self.parameters):
            if name not in layer.grads:
                raise RuntimeError(
                    f"{type(layer).__name__} has no gradient for {name!r}: "
                    "call model.backward(...) before opt.step()"
                )
            self._update(i, layer.params[name], layer.grads[name])

    def _update(self, i, param, grad):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

    g = grad + weight_decay * p;  v = momentum * v + g;
    p -= lr * (g + momentum * v) with nesterov, else p -= lr * v.
    (PyTorch's torch.optim.SGD with dampening 0.)
    """

    def __init__(self, model, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(model, lr)
        self.momentum = non_negative_number("momentum", momentum)
        self.weight_decay = non_negative_number("weight_decay", weight_decay)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0")
        self.nesterov = bool(nesterov)
        self.velocity = [None] * len(self.parameters)

    def _update(self, i, param, grad):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            v = self.velocity[i]
            if v is None:
                v = self.velocity[i] = np.array(grad, dtype=param.dtype)
            else:
                v *= self.momentum
                v += grad
            grad = grad + self.momentum * v if self.nesterov else v
        param -= (self.lr * grad).astype(param.dtype, copy=False)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction, as torch.optim.Adam.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(self, model, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(model, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        self.betas = (float(b1), float(b2))
        self.eps = non_negative_number("eps", eps)
        self.weight_decay = non_negative_number("weight_decay", weight_decay)
        self.m = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]
        self.v = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]
        self.t = 0

    def step(self):
        self.t += 1
        super().step()

    def _update(self, i, param, grad):
        b1, b2 = self.betas
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        m, v = self.m[i], self.v[i]
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * grad * grad
        m_hat = m / (1 - b1**self.t)
        v_hat = v / (1 - b2**self.t)
        param -= (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(param.dtype, copy=False)


class StepDecay:
    """Multiply the learning rate by gamma every step_size epochs: factor(e) = gamma^(e // s)."""

    def __init__(self, step_size, gamma=0.1):
        self.step_size = positive_int("step_size", step_size)
        self.gamma = non_negative_number("gamma", gamma)

    def __call__(self, epoch):
        """Factor for epoch (counted from 0) that multiplies the base learning rate."""
        return self.gamma ** (epoch // self.step_size)


class ExponentialDecay:
    """Multiply the learning rate by gamma every epoch: factor(e) = gamma^e (the report: 0.95)."""

    def __init__(self, gamma=0.95):
        self.gamma = non_negative_number("gamma", gamma)

    def __call__(self, epoch):
        """Factor for epoch (counted from 0) that multiplies the base learning rate."""
        return self.gamma**epoch
