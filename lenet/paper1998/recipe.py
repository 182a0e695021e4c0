"""The 1998 paper's training recipe for its LeNet-5: its constants, its step schedule, its results.

The recipe is lenet.training.fit with the paper's parts:

    model      LeNet1998(): the paper's input (-0.1 / 1.175, 32 x 32) and initialisation
    optimizer  paper_optimizer(model, batch_size): SDLM with the MAP loss of Eq. (9), steps
               eta / (mu + h_kk), h re-estimated on 500 patterns before each pass
    schedule   EtaSchedule(): eta 0.0005 x 2 passes, 0.0002 x 3, 0.0001 x 3, 0.00005 x 4,
               then 0.00001 (Appendix C)
    data       the 60,000 training images, PAPER_RESULTS["passes"] passes; with distortions,
               a freshly distorted copy each pass (fit's transform=Distorter())

    model = LeNet1998(rng=0)
    optimizer = paper_optimizer(model, BATCH_SIZE)
    history = fit(model, optimizer, (x, y), 20, batch_size=BATCH_SIZE, schedule=EtaSchedule(),
                  loss=optimizer.loss, rng=0)

The paper steps after every pattern (batch_size=1). A mini-batch of B patterns takes one step
with eta scaled by B (see lenet.paper1998.sdlm), which is how numpy makes a pass take seconds,
not minutes. The README's Results give what this recipe measures against the paper.
"""

from lenet.paper1998.loss import MAPLoss
from lenet.paper1998.sdlm import SDLM

__all__ = [
    "PAPER_RESULTS",
    "PAPER_ETA",
    "PAPER_ETA_AFTER",
    "PAPER_MU",
    "MU",
    "BATCH_SIZE",
    "EtaSchedule",
    "paper_optimizer",
]

# Test error (%) the paper reports for LeNet-5 on MNIST (Section III.C and Fig. 5), and its passes.
PAPER_RESULTS = {"test_error": 0.95, "test_error_distorted": 0.8, "passes": 20}

# Appendix C: the per-pattern step eta of each pass, then PAPER_ETA_AFTER for every later pass.
PAPER_ETA = (0.0005,) * 2 + (0.0002,) * 3 + (0.0001,) * 3 + (0.00005,) * 4
PAPER_ETA_AFTER = 0.00001

# SDLM's mu. The paper's 0.02 bounds a parameter's step at eta / 0.02 = 0.025 per pattern where
# the curvature estimate is near zero; on our net the estimate of the lower and saturated units
# is small enough that this happens to many weights, and the second pass undoes the first
# (`python benchmarks/paper_1998.py --mu 0.02`, in the README's Results). mu = 0.5 bounds the
# step at 0.001 per pattern.
PAPER_MU = 0.02
MU = 0.5

# Patterns per step: close to the paper's per-pattern steps in test error, several times faster
# (chosen with `python benchmarks/paper_1998.py --batch-size 1 --limit 10000` against
# `--batch-size 16` and `--batch-size 64`; README, Results).
BATCH_SIZE = 16


class EtaSchedule:
    """The paper's eta per pass as a learning-rate schedule for fit.

    eta(epoch) is the per-pattern step of a pass (epoch counted from 0); calling the schedule
    gives the factor eta(epoch) / eta(0), so that fit's learning rate, base lr x factor with
    base lr = eta(0) x B (paper_optimizer), is eta(epoch) x B for mini-batches of B patterns.
    """

    def eta(self, epoch):
        """The paper's per-pattern step eta for a pass (epoch counted from 0)."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        return PAPER_ETA[epoch] if epoch < len(PAPER_ETA) else PAPER_ETA_AFTER

    def __call__(self, epoch):
        """The factor for epoch (counted from 0) that multiplies the base learning rate."""
        return self.eta(epoch) / PAPER_ETA[0]


def paper_optimizer(model, batch_size, mu=MU, curvature_samples=500):
    """SDLM on the MAP loss at the paper's first eta, for steps on batch_size patterns.

    Its loss (optimizer.loss, a MAPLoss) is the one fit should train with; it re-estimates the
    curvature on curvature_samples patterns before every epoch of fit.
    """
    lr = PAPER_ETA[0] * batch_size
    return SDLM(model, MAPLoss(), lr=lr, mu=mu, curvature_samples=curvature_samples)
