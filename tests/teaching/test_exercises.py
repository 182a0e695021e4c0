"""exercises: every checker accepts lenet's answer, rejects typical mistakes with their
hint, fails a 1% error, and reports "not attempted" and the learner's own errors in words."""

import inspect
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lenet.teaching.exercises import EXERCISES, ExerciseFailed, check, or_reference, verdict

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MISTAKES = [
    (number, k)
    for number, ex in EXERCISES.items()
    for k, mistake in enumerate(ex.mistakes)
    if mistake.wrong is not None  # a mistake told by a test of the outputs: test_blind_spots
]


def test_twenty_exercises_in_eight_notebooks_with_three_mistakes_each():
    per_notebook = {}
    for number, ex in EXERCISES.items():
        per_notebook.setdefault(number.split(".")[0], []).append(number)
        assert len(ex.mistakes) >= 3, number
        assert len(ex.cases) >= 2, number
    assert len(EXERCISES) >= 20
    assert {"1", "2", "3", "4", "5", "6", "7", "11"} <= set(per_notebook)
    assert all(len(numbers) >= 2 for numbers in per_notebook.values())


@pytest.mark.parametrize("number", EXERCISES)
def test_reference_passes_with_one_check_line(number, capsys):
    assert verdict(number, EXERCISES[number].reference).passed
    assert check(number, EXERCISES[number].reference) is None
    out = capsys.readouterr().out
    assert out.startswith(f"✓ Exercise {number} ") and out.count("\n") == 1


@pytest.mark.parametrize(("number", "k"), MISTAKES)
def test_typical_mistake_is_rejected_with_its_hint(number, k):
    mistake = EXERCISES[number].mistakes[k]
    result = verdict(number, mistake.wrong)
    assert result.status == "failed"
    assert result.hint == mistake.hint, result.message
    assert "Hint: " + mistake.hint.split()[0] in result.message
    assert f"Exercise {number} " in result.message and "case " in result.message


def _scaled(fn, factor):
    def wrong(*args):
        out = fn(*args)
        if isinstance(out, tuple):
            return tuple(np.asarray(o) * factor for o in out)
        return np.asarray(out) * factor

    return wrong


# An exercise on a class or a loop (Exercise.prepare) cannot be scaled from outside.
FUNCTIONS = [n for n, ex in EXERCISES.items() if getattr(ex, "prepare", None) is None]


@pytest.mark.parametrize("number", FUNCTIONS)
@pytest.mark.parametrize("factor", [1.01, 0.99])
def test_one_percent_error_fails(number, factor):
    result = verdict(number, _scaled(EXERCISES[number].reference, factor))
    assert result.status == "failed"
    assert any(w in result.message for w in ("differ", "expected", "should return an integer"))


@pytest.mark.parametrize("number", [n for n in FUNCTIONS if len(EXERCISES[n].outputs) > 1])
def test_one_percent_error_in_a_single_output_fails(number):
    ex = EXERCISES[number]

    def last_output_off(*args):
        *first, last = ex.reference(*args)
        return (*first, last * 1.01)

    assert verdict(number, last_output_off).status == "failed"


def test_the_message_names_case_shapes_index_and_values():
    def conv_naive(x, W, b, stride=1, padding=0):  # padding off by one
        y = EXERCISES["5.2"].reference(x, W, b, stride, padding + 1)
        return y

    message = verdict("5.2", conv_naive).message
    assert message.startswith("✗ Exercise 5.2 (conv_naive), case 1 of 5: one channel")
    assert "expected y of shape (1, 1, 3, 3), got shape (1, 1, 5, 5)" in message
    assert "padding off by one" in message

    def off_at_one_place(x, W, b, stride=1, padding=0):
        y = EXERCISES["5.2"].reference(x, W, b, stride, padding)
        y[0, 0, 1, 2] += 0.5
        return y

    message = verdict("5.2", off_at_one_place).message
    assert "1 of 9 values differ; the first at index (0, 0, 1, 2)" in message
    assert "expected " in message and "got " in message


def test_not_attempted_is_reported_and_does_not_fail(capsys):
    def stable_softmax(z):
        raise NotImplementedError("Exercise 7.1: ...")

    assert verdict("7.1", stable_softmax).status == "not attempted"
    check("7.1", stable_softmax)  # no exception
    assert "Exercise 7.1 not attempted yet" in capsys.readouterr().out
    assert or_reference("7.1", stable_softmax) is EXERCISES["7.1"].reference
    assert "lenet's version" in capsys.readouterr().out


def test_or_reference_returns_a_passing_function_silently(capsys):
    def stable_softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    assert or_reference("7.1", stable_softmax) is stable_softmax
    assert capsys.readouterr().out == ""


def test_wrong_answer_prints_in_a_learners_kernel_and_raises_under_nbgrader(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert check("4.1", lambda x, dout: dout) is None
    assert capsys.readouterr().out.startswith("✗ Exercise 4.1")
    for mode in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", mode)
        with pytest.raises(ExerciseFailed, match="✗ Exercise 4.1") as info:
            check("4.1", lambda x, dout: dout)
        assert info.value.__cause__ is None and info.value.__suppress_context__
        with pytest.raises(ExerciseFailed, match="Exercise 4.1 not attempted yet"):
            check("4.1", _placeholder)
        check("4.1", EXERCISES["4.1"].reference)  # a right answer passes quietly
    monkeypatch.setenv("NBGRADER_EXECUTION", "")  # anything else is a learner's kernel
    check("4.1", _placeholder)
    assert "not attempted yet" in capsys.readouterr().out


def _placeholder(*args):
    raise NotImplementedError("Exercise 4.1: ...")


def _learner_helper(x):
    return x / 0 if np.ndim(x) > 5 else {}["missing key"]


def test_learner_exception_reported_with_learner_frames_only():
    def relu_backward(x, dout):
        return _learner_helper(x)

    result = verdict("4.1", relu_backward)
    assert result.status == "failed"
    assert "your relu_backward raised KeyError: 'missing key'" in result.message
    assert "in relu_backward" in result.message and "in _learner_helper" in result.message
    assert "lenet/teaching/exercises" not in result.message and "in judge" not in result.message
    assert "case 1 of 2" in result.message


def test_a_mistake_that_crashes_is_recognised_by_its_error():
    def stable_softmax(z):
        if z.shape[0] == z.shape[1]:  # right on the square first case: case 2 must crash
            return EXERCISES["7.1"].reference(z)
        e = np.exp(z - z.max(axis=1))  # keepdims forgotten: (4, 10) - (4,) cannot broadcast
        return e / e.sum(axis=1)

    result = verdict("7.1", stable_softmax)
    assert "case 2 of 4" in result.message and "raised ValueError" in result.message
    assert "keepdims=True is missing" in result.hint


def test_input_changed_in_place_is_named():
    def relu_backward(x, dout):
        dout[x <= 0] = 0
        return dout

    result = verdict("4.1", relu_backward)
    assert result.status == "failed" and "changed its input `dout` in place" in result.hint


def test_missing_return_and_wrong_number_of_outputs():
    assert "`return` statement missing" in verdict("1.1", lambda pred, target: None).message
    message = verdict("3.1", lambda x, W, dout: (dout @ W.T, x.T @ dout)).message
    assert "should return a tuple of 3 (dx, dW, db), got 2 values" in message


def test_generic_hints_transpose_sign_and_factor():
    ref = EXERCISES["3.1"].reference
    message = verdict("3.1", lambda x, W, d: tuple(-g for g in ref(x, W, d))).message
    assert "wrong sign" in message
    message = verdict("1.2", lambda p, t: 3 * EXERCISES["1.2"].reference(p, t)).message
    assert "3 × the expected one" in message


def test_overflow_recognised_in_softmax():
    def stable_softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    result = verdict("7.1", stable_softmax)
    assert result.status == "failed" and "case 3 of 4: large logits" in result.message
    assert "Subtract each row's maximum" in result.hint


def test_tied_maxima_duplicated_or_split():
    def duplicated(x, dy, K, S):
        dx = np.zeros_like(x)
        for i in range(dy.shape[2]):
            for j in range(dy.shape[3]):
                window = x[:, :, i * S : i * S + K, j * S : j * S + K]
                top = window.max(axis=(2, 3), keepdims=True)
                dx[:, :, i * S : i * S + K, j * S : j * S + K] += (window == top) * dy[
                    :, :, i : i + 1, j : j + 1
                ]
        return dx

    result = verdict("6.2", duplicated)
    assert "case 1 of 5: ties" in result.message and "duplicated" in result.hint


def test_passing_a_result_instead_of_the_function():
    assert "pass the function itself" in verdict("5.1", 28).message


def test_unknown_exercise():
    with pytest.raises(ValueError, match="no exercise '9.9'; there are: 1.1, 1.2"):
        verdict("9.9", print)


def test_shown_in_a_grading_kernel_without_the_checkers_traceback(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # the kernel inherits it
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    source = textwrap.dedent(
        """
        from lenet.teaching.exercises import check

        def out_size(H, K, S, P):
            return (H + P - K) // S + 1

        check("5.1", out_size)
        """
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    [error] = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    shown = "\n".join(error.traceback)
    assert error.ename == "ExerciseFailed"
    assert "padding goes on both sides: H + 2P" in shown
    assert "checker.py" not in shown and "Traceback" not in shown
    assert "ExerciseFailed" in str(info.value)


def _defaults(fn):
    return [p.default for p in inspect.signature(fn).parameters.values()]


def test_every_exercise_sits_in_its_notebook():
    found = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if "### BEGIN SOLUTION" in source:
                number = source.split("\n", 1)[0].removeprefix("# Exercise ")
                found[number] = (path.name, source, cell["metadata"])
    assert sorted(found) == sorted(EXERCISES)
    for number, (name, source, metadata) in found.items():
        assert name.startswith(f"{int(number.split('.')[0]):02d}_"), (number, name)
        function = EXERCISES[number].function
        assert f"def {function}(" in source or f"class {function}(" in source, number
        # lenet's stand-in must accept every call the notebook makes to the learner's function
        if source.split("\n")[1].startswith("def "):  # a class's constructor is given
            namespace = {}
            exec(source.split("\n")[1] + " pass", namespace)
            learner = namespace[EXERCISES[number].function]
            assert _defaults(learner) == _defaults(EXERCISES[number].reference), number
        assert metadata["jupyter"]["source_hidden"] is True
        assert metadata["nbgrader"]["solution"] is True


def test_an_honest_loop_attempt_with_padding_off_by_one():
    def conv_naive(x, W, b, stride=1, padding=0):
        n_images, _, H, Wd = x.shape
        n_out, _, K, _ = W.shape
        p = padding + 1  # the slip
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        Ho, Wo = (H + 2 * p - K) // stride + 1, (Wd + 2 * p - K) // stride + 1
        y = np.zeros((n_images, n_out, Ho, Wo))
        for n in range(n_images):
            for o in range(n_out):
                for i in range(Ho):
                    for j in range(Wo):
                        rows = slice(i * stride, i * stride + K)
                        cols = slice(j * stride, j * stride + K)
                        y[n, o, i, j] = np.sum(xp[n, :, rows, cols] * W[o]) + b[o]
        return y

    result = verdict("5.2", conv_naive)
    assert result.status == "failed" and result.hint.startswith("padding off by one")
