"""The network maths a learner reads: layers, losses, optimizers, models, gradient checks.

    layers          the Layer contract: the base class, the forward cache it shares with the
                    losses (Cached), and the input checks every layer shares
    linear          Linear (y = x W + b) and Flatten
    conv            Conv2d: im2col, then one matrix product
    pooling         MaxPool2d, AvgPool2d
    activations     ReLU, LeakyReLU, Tanh, Sigmoid (and Elementwise, their base class)
    im2col          sliding windows: the one place that knows strides, and the convolution's
                    blocked matrix product
    initialization  He and Glorot weights
    losses          Loss (their base class), SoftmaxCrossEntropy, MSELoss, softmax
    optim           optimizers and learning-rate schedules
    models          Sequential (a large batch in chunks over the cores), LeNet5
    cores           the threads, decided in one place: BLAS at one thread per product while
                    lenet computes, lenet's own threads for the chunks of a large batch
    gradcheck       numerical gradients, check_layer and check_loss

May import: lenet.utils.
"""

from lenet.nn.activations import Elementwise, LeakyReLU, ReLU, Sigmoid, Tanh
from lenet.nn.conv import Conv2d
from lenet.nn.gradcheck import check_layer, check_loss, numerical_gradient, relative_error
from lenet.nn.layers import Layer
from lenet.nn.linear import Flatten, Linear
from lenet.nn.losses import Loss, MSELoss, SoftmaxCrossEntropy, log_softmax, softmax
from lenet.nn.models import LeNet5, Sequential
from lenet.nn.optim import SGD, Adam, ExponentialDecay, Optimizer, StepDecay
from lenet.nn.pooling import AvgPool2d, MaxPool2d

__all__ = [
    "Adam",
    "AvgPool2d",
    "Conv2d",
    "Elementwise",
    "ExponentialDecay",
    "Flatten",
    "Layer",
    "LeNet5",
    "LeakyReLU",
    "Linear",
    "Loss",
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
