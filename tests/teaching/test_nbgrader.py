"""The real nbgrader grades the exercise notebooks: a course made as the README says, three
submissions, and the scores and the feedback nbgrader gives them (quick mode).

The course's source is notebook 05 as committed (nbgrader's markers around our solutions);
nbgrader's release must agree with `python -m lenet student`. Three students hand it in:
untouched (0 points), with our solutions (every point), and with padding off by one in 5.2
(every point but 5.2's, and 5.2's hint in the feedback). About 1 to 2 minutes.
"""

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lenet.teaching import student
from lenet.teaching.exercises import EXERCISES, in_notebook

nbgrader = pytest.importorskip("nbgrader", reason="nbgrader is in the `grade` extra")
nbformat = pytest.importorskip("nbformat")
from nbgrader.api import Gradebook  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAME = "05_convolution"

PADDING_OFF_BY_ONE = """# Exercise 5.2
def conv_naive(x, W, b, stride=1, padding=0):
    N, C, H, Wd = x.shape
    O, _, K, _ = W.shape
    p = padding + 1  # the slip
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = (H + 2 * padding - K) // stride + 1, (Wd + 2 * padding - K) // stride + 1
    y = np.zeros((N, O, Ho, Wo))
    for n in range(N):
        for o in range(O):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride : i * stride + K, j * stride : j * stride + K]
                    y[n, o, i, j] = np.sum(window * W[o]) + b[o]
    return y"""


def _nbgrader(course, *args):
    env = dict(os.environ, LENET_QUICK="1", MPLBACKEND="Agg")
    # nbgrader runs `alembic` (its database migrations) from PATH: the venv's scripts first
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _submit(course, who, nb):
    folder = course / "submitted" / who / "ps1"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{NAME}.ipynb")


def _with_solution_cell(nb, number, source):
    nb = nbformat.from_dict(copy.deepcopy(nb))
    [cell] = [c for c in nb.cells if c.source.startswith(f"# Exercise {number}\n")]
    cell.source = source
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    (root / "source" / "ps1").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "lenet"\n'
    )
    shutil.copy(NOTEBOOKS / f"{NAME}.ipynb", root / "source" / "ps1")  # with our solutions
    _nbgrader(root, "generate_assignment", "ps1")

    solved = nbformat.read(NOTEBOOKS / f"{NAME}.ipynb", as_version=4)
    _submit(root, "untouched", nbformat.read(root / "release" / "ps1" / f"{NAME}.ipynb", 4))
    _submit(root, "solved", solved)
    _submit(root, "slipped", _with_solution_cell(solved, "5.2", PADDING_OFF_BY_ONE))
    _nbgrader(root, "autograde", "ps1", "--create")
    _nbgrader(root, "generate_feedback", "ps1", "--CourseDirectory.student_id_exclude=solved")
    return root


def _scores(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "lenet") as gb:
        return {
            who: (
                gb.find_submission("ps1", who).score,
                gb.find_submission("ps1", who).max_score,
            )
            for who in ("untouched", "solved", "slipped")
        }


def test_the_gradebook_gives_0_full_and_full_minus_the_slipped_exercise(course):
    full = sum(ex.points for ex in in_notebook(5))
    assert full > len(in_notebook(5))  # 5.3 is worth more than one point
    assert _scores(course) == {
        "untouched": (0, full),
        "solved": (full, full),
        "slipped": (full - EXERCISES["5.2"].points, full),
    }


def test_the_feedback_carries_the_checkers_hint(course):
    feedback = (course / "feedback" / "slipped" / "ps1" / f"{NAME}.html").read_text()
    assert "ExerciseFailed" in feedback and "Exercise 5.2" in feedback
    assert "padding off by one" in feedback and "P + 1 zeros per side" in feedback
    untouched = (course / "feedback" / "untouched" / "ps1" / f"{NAME}.html").read_text()
    assert "Exercise 5.2 not attempted yet" in untouched
    for html in (feedback, untouched):
        assert "HIDDEN TESTS" not in html  # the checker's cases live in lenet, not in the cell


def test_the_release_has_the_student_editions_code_and_locked_graded_checks(course):
    """nbgrader's release and `python -m lenet student` agree on every code cell."""
    release = nbformat.read(course / "release" / "ps1" / f"{NAME}.ipynb", as_version=4)
    ours = json.loads((NOTEBOOKS / f"{NAME}.ipynb").read_text(encoding="utf-8"))
    edition = nbformat.from_dict(student.student_notebook(ours, f"{NAME}.ipynb"))
    assert [_code(c) for c in release.cells] == [_code(c) for c in edition.cells]
    checks = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    points = {f"check_{ex.number.replace('.', '_')}": ex.points for ex in in_notebook(5)}
    assert {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in checks} == points
    assert all(c.metadata.nbgrader.locked for c in checks)


def _code(cell):
    source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
    return source.strip() if cell.cell_type == "code" else cell.cell_type
