"""lenet: a numpy CNN you can read, check and train."""

from lenet.nn import (
    SGD,
    Adam,
    AvgPool2d,
    Conv2d,
    ExponentialDecay,
    Flatten,
    Layer,
    LeakyReLU,
    LeNet5,
    Linear,
    MaxPool2d,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    StepDecay,
    Tanh,
    check_layer,
    check_loss,
    log_softmax,
    numerical_gradient,
    relative_error,
    softmax,
)
from lenet.paper1998.loss import MAPLoss
from lenet.training.checkpoint import load, save
from lenet.utils import i18n

# A Chinese notebook runs the English code cells: what they print and plot is translated.
if i18n.LANGUAGE != "en":
    from lenet.teaching import plotlang

    i18n.install()
    plotlang.install()

__version__ = "0.1.0"

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
    "MAPLoss",
    "MSELoss",
    "MaxPool2d",
    "ReLU",
    "SGD",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "StepDecay",
    "Tanh",
    "check_layer",
    "check_loss",
    "load",
    "log_softmax",
    "numerical_gradient",
    "relative_error",
    "save",
    "softmax",
]
