"""Exercises: write a piece of the network yourself, and get told at once whether it is right.

In a notebook, after writing a function such as ``conv_naive``:

    from lenet.teaching.exercises import check, or_reference, summary
    check("5.2", conv_naive)                  # ✓, or which case differs, where, and why
    conv = or_reference("5.2", conv_naive)    # yours once it passes, else lenet's
    summary(5)                                # every exercise of notebook 5: ✓, ✗, not attempted

Each check runs the function on a few small cases chosen to expose the usual mistakes (odd
shapes, stride 2, padding, ties in a pooling window, large logits), compares every output with
lenet's own tested implementation (relative tolerance 1e-5, so a 1% error fails) and says in
words which case differs, the expected and actual shapes, the first differing index with both
values, and, when the answer equals a typical wrong one, what that mistake is. ``verdict``
returns the Verdict (``.passed``, ``.status``, ``.message``, ``.hint``) without printing.

    checker   the engine: Case, Mistake, Exercise, Verdict, judge (no exercise in it)
    cells     check, or_reference, verdict, summary: what notebook cells call (nbgrader-aware)
    registry  EXERCISES, every exercise by number, gathered from the modules below
    common    helpers the exercise modules share
    nbNN_*    one module per notebook: its exercises, references and typical mistakes

May import: lenet.utils, lenet.nn, lenet.paper1998.
"""

from lenet.teaching.exercises.cells import check, grading, or_reference, summary, verdict
from lenet.teaching.exercises.checker import Case, Exercise, ExerciseFailed, Mistake, Verdict
from lenet.teaching.exercises.registry import EXERCISES, exercise, in_notebook

__all__ = [
    "EXERCISES",
    "Case",
    "Exercise",
    "ExerciseFailed",
    "Mistake",
    "Verdict",
    "check",
    "exercise",
    "grading",
    "in_notebook",
    "or_reference",
    "summary",
    "verdict",
]
