"""The 1998 paper's training recipe for its LeNet-5, in one function: train_1998.

    model  classic.LeNet1998: the paper's input (-0.1 / 1.175, 32 x 32) and initialisation
    loss   loss.MAPLoss: Eq. (9)
    steps  sdlm.SDLM: eta / (mu + h_kk), h re-estimated on 500 patterns per pass; mu = 0.5
           here, not the paper's 0.02 (see MU)
    eta    sdlm.paper_eta: 0.0005 x 2 passes, 0.0002 x 3, 0.0001 x 3, 0.00005 x 4, then 0.00001
    data   the 60,000 training images, 20 passes; with distortions (lenet.data.distortions),
           a freshly distorted copy of the training set each pass

The paper steps after every pattern (batch_size=1). A mini-batch of B patterns takes one step
with eta scaled by B (see lenet.paper1998.sdlm), which is how numpy makes a pass take seconds, not
minutes.
"""

import dataclasses
import math
import sys
import time

import numpy as np

from lenet.data import iterate_minibatches
from lenet.paper1998.loss import MAPLoss
from lenet.paper1998.sdlm import SDLM, paper_eta
from lenet.training.loop import TrainingDiverged, stop_requested
from lenet.utils.checks import positive_int
from lenet.utils.rng import as_generator

__all__ = ["PAPER_RESULTS", "PAPER_MU", "MU", "Record1998", "error_rate", "train_1998"]

# Test error (%) the paper reports for LeNet-5 on MNIST (Section III.C and Fig. 5).
PAPER_RESULTS = {"test_error": 0.95, "test_error_distorted": 0.8, "passes": 20}

# SDLM's mu. The paper's 0.02 bounds a parameter's step at eta / 0.02 = 0.025 per pattern where
# the curvature estimate is near zero; on our net the estimate of the lower and saturated units
# is small enough that this happens to many weights, and the second pass at eta = 0.0005 undoes
# the first (test error 2.5% after pass 1, 7.9% after pass 2 with mu = 0.02, batch 16:
# benchmarks/paper_1998.py --mu 0.02). mu = 0.5 bounds the step at 0.001 per pattern.
PAPER_MU = 0.02
MU = 0.5


@dataclasses.dataclass
class Record1998:
    """One entry per pass (passes count from 1); errors are fractions, not percent."""

    epoch: list = dataclasses.field(default_factory=list)
    eta: list = dataclasses.field(default_factory=list)
    train_loss: list = dataclasses.field(default_factory=list)
    train_error: list = dataclasses.field(default_factory=list)
    test_error: list = dataclasses.field(default_factory=list)
    seconds: list = dataclasses.field(default_factory=list)
    batch_size: int = 1
    distorted: bool = False
    stopped: bool = False  # a stop request ended training before the last pass

    def __len__(self):
        return len(self.epoch)

    def as_dict(self):
        return dataclasses.asdict(self)

    def summary(self):
        """One line about the last pass."""
        line = (
            f"pass {self.epoch[-1]:2d}: eta {self.eta[-1]:.5f}, train loss "
            f"{self.train_loss[-1]:.4f}, train error {self.train_error[-1]:.2%}"
        )
        if not math.isnan(self.test_error[-1]):
            line += f", test error {self.test_error[-1]:.2%}"
        return line + f"; {self.seconds[-1]:.1f} s"


def error_rate(model, images, labels, batch_size=1000):
    """Fraction of images whose largest output is not their label; also the predictions."""
    predictions = np.concatenate(
        [
            model.forward(images[i : i + batch_size]).argmax(axis=1)
            for i in range(0, len(images), batch_size)
        ]
    )
    model.clear_cache()
    return float(np.mean(predictions != labels)), predictions


def train_1998(
    model,
    train_data,
    test_data=None,
    epochs=20,
    batch_size=1,
    eta=paper_eta,
    mu=MU,
    curvature_samples=500,
    loss=None,
    distort=None,
    train_error_samples=None,
    rng=0,
    callback=None,
    verbose=False,
    stop=None,
):
    """Train model the paper's way; returns a Record1998 of the passes.

    train_data, test_data: (images (N, 1, 28, 28) in [0, 1], labels (N,)). eta(epoch) gives
    the per-pattern step of each pass (epoch from 0); a step on a batch of B patterns uses
    B * eta. distort: None, or a function (images, rng) -> images (lenet.data.distortions.Distorter)
    applied to the whole training set at the start of every pass. The training error is
    measured after each pass on the undistorted training images (the first
    train_error_samples of them when given); the test error on test_data. callback(record)
    runs after every pass; verbose prints a line per pass. stop (None, a threading.Event or a
    callable, as for train.fit): a request ends training between two steps; the unfinished pass
    is not recorded, and record.stopped is True.
    """
    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    positive_int("curvature_samples", curvature_samples)
    x_train, y_train = train_data
    rng = as_generator(rng)
    loss = MAPLoss() if loss is None else loss
    opt = SDLM(model, loss, lr=eta(0) * batch_size, mu=mu)
    record = Record1998(batch_size=batch_size, distorted=distort is not None)
    n_err = len(x_train) if train_error_samples is None else train_error_samples
    for epoch in range(epochs):
        start = time.perf_counter()
        x_pass = x_train if distort is None else distort(x_train, rng)
        sample = rng.choice(len(x_pass), size=min(curvature_samples, len(x_pass)), replace=False)
        opt.estimate_curvature(x_pass[sample], y_train[sample])
        opt.lr = eta(epoch) * batch_size
        total = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for xb, yb in iterate_minibatches(x_pass, y_train, batch_size, rng=rng):
                if stop_requested(stop):
                    record.stopped = True
                    return record
                value = loss.forward(model.forward(xb), yb)
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"training diverged: the loss became {value} in pass {epoch + 1}"
                    )
                model.backward(loss.backward())
                opt.step()
                total += value * len(yb)
        seconds = time.perf_counter() - start
        record.epoch.append(epoch + 1)
        record.eta.append(eta(epoch))
        record.train_loss.append(total / len(x_pass))
        record.seconds.append(seconds)
        record.train_error.append(error_rate(model, x_train[:n_err], y_train[:n_err])[0])
        if test_data is not None:
            record.test_error.append(error_rate(model, *test_data)[0])
        else:
            record.test_error.append(math.nan)
        if verbose:
            print(record.summary(), file=sys.stdout, flush=True)
        if callback is not None:
            callback(record)
    return record
