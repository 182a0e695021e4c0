"""The checker engine: run a learner's function on an exercise's cases and judge it in words.

``judge(exercise, fn)`` calls fn on every Case of the Exercise, compares each output with the
exercise's reference (relative tolerance RTOL, so a 1% error fails) and returns a Verdict:
"passed", "failed" (which case differs, the expected and actual shapes, the first differing
index with both values and, when a typical Mistake explains the answer, its hint) or
"not attempted" (fn still raises the placeholder's NotImplementedError). It never prints and
never raises for fn.

What fn returns is checked before its values: an array where the reference returns an array
(not a list), an integer where it returns an integer, a tuple of as many values as the
reference returns, real numbers only (complex values are refused, not cast).
"""

import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lenet.utils.i18n import fill, translate

__all__ = ["Case", "Exercise", "ExerciseFailed", "Mistake", "Verdict", "judge"]

RTOL = 1e-5  # relative tolerance per element; the absolute floor is 1e-6 of the largest value


class ExerciseFailed(Exception):
    """A wrong answer. IPython shows only the message (no traceback into the checker)."""

    def _render_traceback_(self):
        return [f"ExerciseFailed: {self}"]


@dataclass(frozen=True)
class Case:
    """One call: a label saying what it probes, and the positional arguments (name -> value)."""

    label: str
    args: dict


@dataclass(frozen=True)
class Mistake:
    """A typical wrong solution and what to say about it.

    wrong: a function with the reference's signature computing the wrong answer; the hint is
    given when the learner's outputs equal its outputs (inf and nan count as one "not finite"),
    or when both raise the same error (same type, and the same message or one containing
    ``error``). seen(args, outputs): a test of the learner's outputs instead, for a mistake
    with many spellings (a softmax whose columns sum to 1).
    """

    hint: str
    wrong: Callable | None = None
    seen: Callable | None = None
    error: str = ""


@dataclass(frozen=True)
class Exercise:
    """One exercise: the learner writes `function`; `reference` is lenet's answer."""

    number: str  # "5.2"
    function: str  # the name the notebook gives the learner's function
    task: str  # one line: what to write (the student edition's placeholder says it)
    reference: Callable  # lenet's answer, same signature as the learner's function
    cases: tuple  # of Case, in the order they are tried
    mistakes: tuple = ()  # of Mistake, the first that matches gives its hint
    outputs: tuple = ("the result",)  # names of the returned values, in order
    points: int = 1  # what it is worth under nbgrader
    # For a class or a loop: turns the learner's answer, the reference and every mistake's
    # `wrong` (all written as the learner writes them) into functions of the cases' arguments.
    prepare: Callable | None = None


@dataclass(frozen=True)
class Verdict:
    """status is "passed", "failed" or "not attempted"; hint may be empty."""

    exercise: str
    status: str
    message: str
    hint: str = ""

    @property
    def passed(self):
        return self.status == "passed"


def _describe(case):
    """The case as the learner reads it: its label and its arguments' shapes or values."""
    parts = []
    for name, value in case.args.items():
        if isinstance(value, np.ndarray) and value.ndim > 0:
            parts.append(f"{name} {value.shape}")
        elif callable(value):
            parts.append(f"{name}={translate(getattr(value, '__doc__', None) or 'a function')}")
        else:
            parts.append(f"{name}={value!r}")
    return f"{translate(case.label)} ({', '.join(parts)})"


def _prepared(ex, fn):
    return fn if ex.prepare is None else ex.prepare(fn)


def _fresh_args(case):
    return [v.copy() if isinstance(v, np.ndarray) else v for v in case.args.values()]


def _kind(value):
    """'array', 'integer', 'number' or None: what a reference output is, for the type check."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return "array"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return "integer"
    if isinstance(value, float | np.floating) or (isinstance(value, np.ndarray)):
        return "number"
    return None


def _type_problem(value, kind):
    """(what is wrong, how to fix it) when value is not of the kind the reference returns."""
    if np.iscomplexobj(value) or isinstance(value, complex):
        return (
            "returned complex numbers",
            "every value should be real: a square root or a fractional power of a negative "
            "number gives complex ones (and dropping the imaginary part would hide it)",
        )
    if kind == "array" and isinstance(value, list | tuple):
        return (
            f"should return a numpy array, got a {type(value).__name__}",
            "build it with np.array(...): a list does not add or multiply element by element",
        )
    if kind == "integer" and not isinstance(value, int | np.integer):
        return (
            f"should return an integer, got a {type(value).__name__} ({value!r:.30})",
            "round down with //: a size is a whole number",
        )
    return None


def _shape_problem(value, names):
    """(what is wrong, how to fix it) when value is not one value or a tuple of len(names)."""
    if value is None:
        return "returned None", "is the `return` statement missing?"
    count = len(names)
    if count == 1:
        return None
    got = f"{len(value)} values" if isinstance(value, tuple | list) else "one value"
    if not isinstance(value, tuple | list) or len(value) != count:
        return (
            f"should return a tuple of {count} ({', '.join(names)}), got {got}",
            f"end with `return {', '.join(n for n in names)}`",
        )
    return None


def _as_outputs(value, names, reference=None):
    """The outputs as a tuple of float64 arrays, or (what is wrong, how to fix it).

    With the reference's outputs, each output must be of the same kind (see _kind)."""
    problem = _shape_problem(value, names)
    if problem:
        return problem
    values = (value,) if len(names) == 1 else tuple(value)
    kinds = (None,) * len(values) if reference is None else tuple(map(_kind, reference))
    for name, v, kind in zip(names, values, kinds, strict=True):
        problem = _type_problem(v, kind)
        if problem:
            return problem if len(names) == 1 else (f"{problem[0]} for {name}", problem[1])
    try:
        return tuple(np.asarray(v, dtype=np.float64) for v in values)
    except (TypeError, ValueError) as error:
        return (
            f"returned something that is not an array of numbers ({error})",
            "return numbers: an array, or a float where the task asks for one",
        )


def _close(actual, expected):
    """Elementwise agreement: |a - e| <= RTOL |e| + 1e-6 max|e| (NaN matches NaN)."""
    finite = np.abs(expected[np.isfinite(expected)])
    floor = 1e-6 * max(float(finite.max(initial=0.0)), 1e-6)
    with np.errstate(invalid="ignore"):
        return np.isclose(actual, expected, rtol=RTOL, atol=floor, equal_nan=True)


def _same(actual, expected):
    return all(
        a.shape == e.shape and _close(a, e).all() for a, e in zip(actual, expected, strict=True)
    )


def _fmt(v):
    return f"{v:.6g}"


def _learner_traceback(error):
    """The learner's own frames (the checker's are left out), as indented lines."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    lines = "".join(traceback.format_list(frames[-4:])).rstrip().splitlines()
    return "\n".join("  " + line for line in lines)


def _generic_hint(actual, expected):
    """A hint from the numbers alone: transposed, wrong sign, off by a factor, nan/inf."""
    if actual.ndim == 2 and actual.shape == expected.shape[::-1]:
        if _close(actual.T, expected).all():
            return "your result is the transpose of the expected one: swap the order of the product"
        if actual.shape != expected.shape:
            return "the two dimensions are swapped: check which axis is which in the shapes above"
    if actual.shape != expected.shape:
        return ""
    if not np.isfinite(actual).all() and np.isfinite(expected).all():
        return (
            "your result contains inf or nan: an overflow? exp() of a large number is inf; "
            "subtract the maximum first"
        )
    if np.any(expected) and _close(-actual, expected).all():
        return "wrong sign: your result is minus the expected one"
    denom = float(np.sum(expected * expected))
    if denom > 0 and np.isfinite(actual).all():
        c = float(np.sum(actual * expected)) / denom
        if abs(c - 1) > 1e-3 and c != 0 and _close(actual, c * expected).all():
            return (
                f"your result is {c:.4g} × the expected one: a factor is missing or extra "
                "(1/N, 2, K·K, the learning rate, ...)"
            )
    return ""


def _difference(name, actual, expected):
    if actual.shape != expected.shape:
        return f"expected {name} of shape {expected.shape}, got shape {actual.shape}"
    bad = ~_close(actual, expected)
    if actual.ndim == 0:
        return f"expected {name} = {_fmt(expected)}, got {_fmt(actual)}"
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return (
        f"{name} has the right shape {expected.shape} but {int(bad.sum())} of {bad.size} values "
        f"differ; the first at index {first}: expected {_fmt(expected[first])}, "
        f"got {_fmt(actual[first])}"
    )


def _hint_lines(hint):
    if not hint:
        return ""
    # translated before it is wrapped: the catalog knows each hint as one line
    return "\n" + textwrap.fill(
        translate(hint),
        width=100,
        initial_indent=f"  {translate('Hint:')} ",
        subsequent_indent="        ",
    )


def _changed_input(case, args):
    for (name, before), after in zip(case.args.items(), args, strict=True):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
            return name
    return None


def _not_finite_as_nan(outputs):
    return tuple(np.where(np.isfinite(o), o, np.nan) for o in outputs)


def _recognised(ex, case, actual):
    """The hint of the first typical mistake that explains actual on this case, or "".

    Outputs equal to a mistake's count first; only then is inf taken for nan (a learner's
    spelling of the same mistake may give either where a value blows up).
    """
    wrongs = []
    for mistake in ex.mistakes:
        if mistake.seen is not None:
            with np.errstate(all="ignore"):
                if mistake.seen(case.args, actual):
                    return mistake.hint
            continue
        try:
            with np.errstate(all="ignore"):
                wrong = _prepared(ex, mistake.wrong)(*_fresh_args(case))
                wrong = _as_outputs(wrong, ex.outputs)
        except Exception:  # a mistake that cannot happen in this case
            continue
        if isinstance(wrong, tuple) and isinstance(wrong[0], str):
            continue
        if _same(actual, wrong):
            return mistake.hint
        wrongs.append((wrong, mistake.hint))
    for wrong, hint in wrongs:
        if _same(_not_finite_as_nan(actual), _not_finite_as_nan(wrong)):
            return hint
    return ""


def _recognised_error(ex, case, error):
    """The hint of the first typical mistake that raises the same error on this case, or ""."""
    for mistake in ex.mistakes:
        if mistake.wrong is None:
            continue
        try:
            with np.errstate(all="ignore"):
                _prepared(ex, mistake.wrong)(*_fresh_args(case))
        except Exception as other:
            alike = mistake.error and mistake.error in str(other) and mistake.error in str(error)
            if type(other) is type(error) and (str(other) == str(error) or alike):
                return mistake.hint
    return ""


def _not_attempted(ex, name):
    return Verdict(
        ex.number,
        "not attempted",
        fill(
            "Exercise {} not attempted yet: write {} in the cell above (replace the "
            "`raise NotImplementedError`), run that cell, then this check again.",
            ex.number,
            name,
        ),
    )


def _judge_case(ex, fn, name, where, case):
    """None when fn agrees with lenet on this case, else the failed Verdict (or not attempted)."""
    args = _fresh_args(case)
    try:
        with np.errstate(all="ignore"):
            value = fn(*args)
    except NotImplementedError:
        return _not_attempted(ex, name)
    except Exception as error:  # the learner's bug, reported with the learner's frames
        hint = _recognised_error(ex, case, error)
        message = (
            f"{where}\n  your {name} raised {type(error).__name__}: {error}\n"
            f"{_learner_traceback(error)}"
        )
        return Verdict(ex.number, "failed", message.rstrip() + _hint_lines(hint), hint)
    changed = _changed_input(case, args)
    if changed is not None:
        hint = (
            f"your function changed its input `{changed}` in place (for example "
            f"`{changed}[...] = ...` or `{changed} *= ...`): work on a copy "
            f"(`{changed}.copy()`) or build a new array; the caller still needs `{changed}`"
        )
        return Verdict(ex.number, "failed", where + _hint_lines(hint), hint)
    reference = _prepared(ex, ex.reference)(*_fresh_args(case))
    reference = (reference,) if len(ex.outputs) == 1 else reference
    actual = _as_outputs(value, ex.outputs, reference)
    if isinstance(actual[0], str):
        what, hint = actual
        return Verdict(
            ex.number, "failed", f"{where}\n  your {name} {what}" + _hint_lines(hint), hint
        )
    expected = _as_outputs(reference if len(ex.outputs) > 1 else reference[0], ex.outputs)
    if _same(actual, expected):
        return None
    i = next(
        i for i, (a, e) in enumerate(zip(actual, expected, strict=True)) if not _same((a,), (e,))
    )
    hint = _recognised(ex, case, actual) or _generic_hint(actual[i], expected[i])
    message = f"{where}\n  {_difference(ex.outputs[i], actual[i], expected[i])}"
    return Verdict(ex.number, "failed", message + _hint_lines(hint), hint)


def judge(ex, fn):
    """The Verdict on fn for the Exercise ex; prints nothing, never raises for fn."""
    if not callable(fn):
        message = fill(
            "✗ Exercise {}: pass the function itself, check({}, {}), without calling it; got {} {}",
            ex.number,
            repr(ex.number),
            ex.function,
            type(fn).__name__,
            f"{fn!r:.60}",
        )
        return Verdict(ex.number, "failed", message)
    name = getattr(fn, "__name__", ex.function)
    fn = _prepared(ex, fn)
    for k, case in enumerate(ex.cases, 1):
        where = fill(
            "✗ Exercise {} ({}), case {} of {}: {}",
            ex.number,
            name,
            k,
            len(ex.cases),
            _describe(case),
        )
        verdict = _judge_case(ex, fn, name, where, case)
        if verdict is not None:
            return verdict
    return Verdict(
        ex.number,
        "passed",
        fill("✓ Exercise {} ({}): all {} cases agree with lenet.", ex.number, name, len(ex.cases)),
    )
