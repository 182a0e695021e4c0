"""What the notebook cells call: check, or_reference, verdict and summary.

In a learner's own kernel ``check`` prints the verdict and never raises: ✓, "not attempted
yet", or what is wrong with the hint, so that Run All goes on (the cells after it use lenet's
version through ``or_reference``). Under nbgrader, which sets NBGRADER_EXECUTION to
"autograde" or "validate" in the kernels it runs, a wrong or missing answer raises
ExerciseFailed with the same message, so that its graded cell loses its points and the hint
shows in nbgrader's feedback.
"""

import os

from lenet.teaching.exercises.checker import ExerciseFailed, judge
from lenet.teaching.exercises.registry import exercise, in_notebook
from lenet.utils.i18n import fill, ljust, translate

__all__ = ["check", "grading", "or_reference", "summary", "verdict"]

_SEEN = {}  # exercise number -> its latest Verdict in this kernel, for summary()

MARKS = {"passed": "✓", "failed": "✗", "not attempted": "·"}


def grading():
    """True in a kernel that nbgrader runs to autograde or validate a notebook."""
    return os.environ.get("NBGRADER_EXECUTION", "") in ("autograde", "validate")


def verdict(number, fn):
    """The Verdict on fn for exercise number ("5.2"); prints nothing, never raises for fn."""
    result = judge(exercise(number), fn)
    _SEEN[result.exercise] = result
    return result


def check(number, fn):
    """Print fn's verdict (✓, not attempted, or what differs and why); returns None.

    Under nbgrader a wrong or missing answer raises ExerciseFailed instead (see the module).
    """
    result = verdict(number, fn)
    if grading() and not result.passed:
        raise ExerciseFailed(translate(result.message)) from None  # nbgrader's feedback
    print(result.message)


def or_reference(number, fn):
    """fn when it passes the exercise's check, else lenet's reference (saying so in one line)."""
    result = verdict(number, fn)
    if result.passed:
        return fn
    ex = exercise(number)
    # fill: the function's name is code, never translated as a word (accuracy)
    if result.status == "not attempted":
        line = fill(
            "(Exercise {} is not attempted yet: below, lenet's version of {} stands in.)",
            ex.number,
            ex.function,
        )
    else:
        line = fill(
            "(Exercise {} is not passing its check yet: below, lenet's version of {} stands in.)",
            ex.number,
            ex.function,
        )
    print(line)
    return ex.reference


def summary(notebook):
    """Print each exercise of a notebook (5 or "05") as ✓, ✗ or not attempted, with its points.

    Reads the verdicts of the checks run in this kernel; an exercise whose check has not run
    counts as not attempted. Never raises.
    """
    exercises = in_notebook(notebook)
    lines = [f"Exercises of notebook {int(notebook)} (points when graded with nbgrader):"]
    for ex in exercises:
        seen = _SEEN.get(ex.number)
        status = seen.status if seen is not None else "not attempted"
        # the word cells translated here, not by print: the function's name is code
        points = "1 point" if ex.points == 1 else f"{ex.points} points"  # catalog: each count
        points = ljust(translate(points), 9)
        why = f": {translate(seen.hint)}" if status == "failed" and seen.hint else ""
        shown = translate(status) + why
        lines.append(f"  {MARKS[status]} {ex.number:<5} {ex.function:<24} {points} {shown}")
    passed = sum(1 for ex in exercises if getattr(_SEEN.get(ex.number), "passed", False))
    lines.append(f"{passed} of {len(exercises)} passed.")
    print("\n".join(lines))
