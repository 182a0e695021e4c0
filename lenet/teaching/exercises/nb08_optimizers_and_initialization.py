"""Notebook 8's exercises: one step of SGD with momentum (8.1) and one step of Adam (8.2).

Both follow lenet's optimisers (lenet.SGD, lenet.Adam), which follow torch.optim: the velocity
sums gradients and the learning rate multiplies it at the step; weight decay is added to the
gradient first; Adam's bias correction divides by 1 - beta^t with t counted from 1.
"""

import numpy as np

from lenet.nn import SGD, Adam
from lenet.teaching.exercises.checker import Case, Exercise, Mistake
from lenet.utils.rng import as_generator

__all__ = ["EXERCISES"]


class _Weight:
    """One parameter w and its gradient, shaped like a layer for lenet's optimizers."""

    def __init__(self, w, dw):
        self.params, self.grads = {"w": w.copy()}, {"w": dw}


def momentum_step(w, dw, velocity, lr, momentum=0.9, weight_decay=0.0):
    weight = _Weight(w, dw)
    opt = SGD(weight, lr=lr, momentum=momentum, weight_decay=weight_decay)
    opt.velocity[0] = velocity.copy()  # the velocity so far
    opt.step()
    return weight.params["w"], opt.velocity[0]


def adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    weight = _Weight(w, dw)
    opt = Adam(weight, lr=lr, betas=(beta1, beta2), eps=eps)
    opt.m[0], opt.v[0], opt.t = m.copy(), v.copy(), t - 1  # the state after step t - 1
    opt.step()
    return weight.params["w"], opt.m[0], opt.v[0]


def _arrays(seed, shape):
    r = as_generator(seed)
    return r.normal(size=shape), r.normal(size=shape), r.normal(size=shape)


def momentum_cases():
    w, dw, velocity = _arrays(81, (3, 4))
    w2, dw2, velocity2 = _arrays(82, (5,))
    return (
        Case("a (3, 4) weight", {"w": w, "dw": dw, "velocity": velocity, "lr": 0.1,
                                 "momentum": 0.9, "weight_decay": 0.0}),
        Case("weight decay 0.01", {"w": w2, "dw": dw2, "velocity": velocity2, "lr": 0.05,
                                   "momentum": 0.8, "weight_decay": 0.01}),
        Case("the first step (velocity 0)", {"w": w2, "dw": dw2, "velocity": np.zeros(5),
                                             "lr": 0.5, "momentum": 0.9, "weight_decay": 0.1}),
    )  # fmt: skip


def adam_cases():
    w, dw, m = _arrays(83, (2, 3))
    v = as_generator(84).uniform(0.1, 1.0, size=(2, 3))
    return (
        Case("the first step (t = 1)", {"w": w, "dw": dw, "m": np.zeros((2, 3)),
                                        "v": np.zeros((2, 3)), "t": 1, "lr": 0.01,
                                        "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
        Case("step 5, with history", {"w": w, "dw": dw, "m": m, "v": v, "t": 5, "lr": 0.001,
                                      "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
        Case("tiny gradients", {"w": w, "dw": 1e-6 * dw, "m": np.zeros((2, 3)),
                                "v": np.zeros((2, 3)), "t": 1, "lr": 0.01, "beta1": 0.8,
                                "beta2": 0.99, "eps": 1e-3}),
    )  # fmt: skip


MOMENTUM = Exercise(
    number="8.1",
    function="momentum_step",
    task="return (w_new, velocity_new) after one step of SGD with momentum and weight decay",
    reference=momentum_step,
    cases=momentum_cases(),
    mistakes=(
        Mistake(
            wrong=lambda w, dw, v, lr, mu=0.9, wd=0.0: (
                w + (mu * v - lr * (dw + wd * w)),
                mu * v - lr * (dw + wd * w),
            ),
            hint="the velocity here is a sum of gradients, v = momentum * v + g, and the "
            "step is w - lr * v (as lenet.SGD and torch.optim.SGD keep it), not "
            "v = momentum * v - lr * g",
        ),
        Mistake(
            wrong=lambda w, dw, v, lr, mu=0.9, wd=0.0: (
                w - lr * (mu * v + dw),
                mu * v + dw,
            ),
            hint="weight decay is missing: add weight_decay * w to the gradient first",
        ),
        Mistake(
            wrong=lambda w, dw, v, lr, mu=0.9, wd=0.0: (
                w - lr * (mu * v + (1 - mu) * (dw + wd * w)),
                mu * v + (1 - mu) * (dw + wd * w),
            ),
            hint="no (1 - momentum) factor on the gradient: v = momentum * v + g",
        ),
        Mistake(
            wrong=lambda w, dw, v, lr, mu=0.9, wd=0.0: (
                w - lr * (mu * v + dw) - lr * wd * w,
                mu * v + dw,
            ),
            hint="weight decay goes into the gradient before the velocity, g = dw + "
            "weight_decay * w, not into the step after it",
        ),
    ),
    outputs=("w_new", "velocity_new"),
)


def _adam_variant(bias_correction=True, eps_inside=False, squared=True):
    def step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * (dw**2 if squared else np.abs(dw))
        m_hat, v_hat = (m / (1 - beta1**t), v / (1 - beta2**t)) if bias_correction else (m, v)
        root = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return w - lr * m_hat / root, m, v

    return step


ADAM = Exercise(
    number="8.2",
    function="adam_step",
    task="return (w_new, m_new, v_new) after Adam's step number t (t counts from 1)",
    reference=adam_step,
    cases=adam_cases(),
    mistakes=(
        Mistake(
            wrong=_adam_variant(bias_correction=False),
            hint="the bias correction is missing: divide m by (1 - beta1**t) and v by "
            "(1 - beta2**t) before the step (the returned m and v stay uncorrected)",
        ),
        Mistake(
            wrong=_adam_variant(eps_inside=True),
            hint="eps is added to the square root, sqrt(v_hat) + eps, not inside it",
        ),
        Mistake(
            wrong=_adam_variant(squared=False),
            hint="v is a running mean of the squared gradient, dw**2",
        ),
        Mistake(
            wrong=lambda w, dw, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8: _adam_variant()(
                w, dw, m, v, t + 1, lr, b1, b2, eps
            ),
            hint="t counts from 1 at the first step: the correction is 1 - beta**t with that t",
        ),
    ),
    outputs=("w_new", "m_new", "v_new"),
)

EXERCISES = (MOMENTUM, ADAM)
