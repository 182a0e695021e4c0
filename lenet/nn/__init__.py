"""The network maths a learner reads: layers, losses, optimizers, models, gradient checks.

    layers          the Layer contract and the layers (Linear, Conv2d, pools, activations)
    im2col          sliding windows: the one place that knows strides
    initialization  He and Glorot weights
    losses          SoftmaxCrossEntropy, MSELoss, softmax
    optim           optimizers and learning-rate schedules
    models          Sequential (a large batch in chunks over the cores), LeNet5
    cores           running the chunks of one step on the CPU's cores at once
    gradcheck       numerical gradients, check_layer and check_loss

May import: lenet.utils.
"""

from lenet.nn.gradcheck import check_layer, check_loss, numerical_gradient, relative_error
from lenet.nn.layers import (
    AvgPool2d,
    Conv2d,
    Flatten,
    Layer,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
)
from lenet.nn.losses import MSELoss, SoftmaxCrossEntropy, log_softmax, softmax
from lenet.nn.models import LeNet5, Sequential
from lenet.nn.optim import SGD, Adam, ExponentialDecay, Optimizer, StepDecay

__all__ = [
    "Adam",
    "AvgPool2d",
    "Conv2d",
    "ExponentialDecay",
    "Flatten",
    "Layer",
    "LeNet5",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "Optimizer",
    "ReLU",
    "SGD",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "StepDecay",
    "Tanh",
    "check_layer",
    "check_loss",
    "log_softmax",
    "numerical_gradient",
    "relative_error",
    "softmax",
]
