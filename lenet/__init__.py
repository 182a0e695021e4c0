"""lenet: a numpy CNN you can read, check and train."""

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
from lenet.nn.losses import MAPLoss, MSELoss, SoftmaxCrossEntropy, log_softmax, softmax
from lenet.nn.models import LeNet5, Sequential
from lenet.nn.optim import SGD, Adam, ExponentialDecay, StepDecay
from lenet.training.checkpoint import load, save

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
