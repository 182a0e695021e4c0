"""LeCun et al. 1998's LeNet-5, as the paper built and trained it.

    layers  its parts: trainable subsampling, the C3 connection table, scaled tanh, RBF output,
            and its model, LeNet1998
    loss    its MAP loss, Eq. (9)
    sdlm    the stochastic diagonal Levenberg-Marquardt optimizer
    recipe  the paper's training recipe and its reported results

May import: lenet.utils, lenet.nn, lenet.data.
"""

from lenet.paper1998.layers import *  # noqa: F403
from lenet.paper1998.layers import __all__ as _layers_all
from lenet.paper1998.loss import MAPLoss
from lenet.paper1998.recipe import *  # noqa: F403
from lenet.paper1998.recipe import __all__ as _recipe_all

__all__ = [*_layers_all, "MAPLoss", *_recipe_all]
