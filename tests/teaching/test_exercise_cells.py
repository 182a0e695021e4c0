"""The exercise cells: nbgrader's metadata stamped by tools/exercise_cells.py (found by content,
idempotent), and the summary a notebook ends with."""

import copy
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from lenet.teaching.exercises import EXERCISES, check, in_notebook, summary

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "exercise_cells.py"
spec = importlib.util.spec_from_file_location("exercise_cells", SCRIPT)
exercise_cells = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exercise_cells)


def _nb05():
    return nbformat.read(ROOT / "notebooks" / "05_convolution.ipynb", as_version=4)


def test_the_committed_notebooks_are_stamped():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr + "\nrun: python tools/exercise_cells.py"


def test_every_exercise_has_a_graded_check_and_an_answer_cell():
    found = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            grader = cell.metadata.get("nbgrader")
            if grader:
                found[grader["grade_id"]] = grader
    for number, ex in EXERCISES.items():
        key = number.replace(".", "_")
        check_cell, answer = found[f"check_{key}"], found[f"exercise_{key}"]
        assert check_cell["grade"] and check_cell["locked"] and not check_cell["solution"]
        assert check_cell["points"] == ex.points
        assert answer["solution"] and not answer["grade"] and not answer["locked"]


def test_cells_are_found_by_content_wherever_they_move():
    stamped = _nb05()
    nb = copy.deepcopy(stamped)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    nb.cells = [c for c in nb.cells if c.get("id") != exercise_cells.SUMMARY_ID]
    k = next(i for i, c in enumerate(nb.cells) if c.source == 'check("5.2", conv_naive)')
    nb.cells.insert(3, nb.cells.pop(k))  # an editor moved the check

    seen = exercise_cells.stamp(nb, "05_convolution.ipynb")
    assert seen[:3] == ["5.2", "5.1", "5.1"]  # the moved check first, then in order
    assert sorted(seen) == sorted(2 * [ex.number for ex in in_notebook(5)])
    moved = nb.cells[3]
    assert moved.metadata["nbgrader"] == exercise_cells.nbgrader_metadata("5.2", "check")
    by_id = {c.id: c for c in nb.cells}
    for cell in stamped.cells:
        assert by_id[cell.id].metadata == cell.metadata and by_id[cell.id].source == cell.source
    again = copy.deepcopy(nb)
    exercise_cells.stamp(again, "05_convolution.ipynb")
    assert nbformat.writes(again) == nbformat.writes(nb)  # idempotent


def test_the_summary_cell_sits_before_the_recap_and_states_the_points():
    nb = _nb05()
    [k] = [i for i, c in enumerate(nb.cells) if c.get("id") == exercise_cells.SUMMARY_ID]
    assert nb.cells[k + 1].source.startswith("## Summary") or k == len(nb.cells) - 2
    assert "5.1: 1, 5.2: 1, 5.3: 2" in nb.cells[k].source
    assert nb.cells[k].source.endswith("summary(5)")


def test_an_exercise_missing_from_lenet_is_named():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('check("8.9", adam_step)')])
    with pytest.raises(SystemExit, match=r"08_x.ipynb, cell 0: exercise 8.9 is not in lenet"):
        exercise_cells.stamp(nb, "08_x.ipynb")


def test_summary_lists_each_exercise_as_passed_failed_or_not_attempted(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    def not_yet(*args):
        raise NotImplementedError

    first, second, third = in_notebook(6)[:3]
    check(first.number, first.reference)
    check(second.number, second.mistakes[0].wrong)
    check(third.number, not_yet)
    capsys.readouterr()
    summary(6)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Exercises of notebook 6")
    assert lines[1].split()[:3] == ["✓", first.number, first.function]
    assert lines[2].split()[:3] == ["✗", second.number, second.function]
    assert second.mistakes[0].hint[:20] in lines[2]
    assert lines[3].split()[:3] == ["·", third.number, third.function]
    assert lines[3].rstrip().endswith("not attempted")
    assert lines[-1] == f"1 of {len(in_notebook(6))} passed."
