"""Run All never stops at a wrong answer: the student edition of notebook 05 with a typical
mistake in every exercise runs to the end under `jupyter nbconvert --execute` (no
--allow-errors); each check prints its hint, the cells after it say lenet's version stands in,
and the summary lists every exercise as failed."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lenet.teaching import student
from lenet.teaching.exercises import in_notebook

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAME = "05_convolution"


def _wrong_cell(source, number):
    """The solution cell rewritten to commit the exercise's first typical mistake."""
    header = next(line for line in source.splitlines() if line.startswith("def "))
    fn = ast.parse(header + " pass").body[0]
    names = [a.arg for a in fn.args.args]
    return (
        f"# Exercise {number}\n"
        "from lenet.teaching.exercises import exercise\n\n\n"
        f"{header}\n"
        f"    return exercise({number!r}).mistakes[0].wrong({', '.join(names)})\n"
    )


@pytest.mark.notebooks
def test_student_notebook_5_with_every_answer_wrong_runs_to_the_end(tmp_path):
    ours = json.loads((NOTEBOOKS / f"{NAME}.ipynb").read_text(encoding="utf-8"))
    nb = nbformat.from_dict(student.student_notebook(ours, f"{NAME}.ipynb"))
    numbers = [ex.number for ex in in_notebook(5)]
    for cell in nb.cells:
        source = "".join(cell.source)
        for number in numbers:
            if source.startswith(f"# Exercise {number}\n"):
                cell.source = _wrong_cell(source, number)
    path = tmp_path / f"{NAME}.ipynb"
    nbformat.write(nb, path)
    env = dict(os.environ, LENET_QUICK="1", MPLBACKEND="Agg")
    env.pop("NBGRADER_EXECUTION", None)  # a learner's own kernel
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute"]
        + ["--inplace", "--ExecutePreprocessor.timeout=600", str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ran = nbformat.read(path, as_version=4)
    text = {
        cell.source: "".join(o.get("text", "") for o in cell.outputs)
        for cell in ran.cells
        if cell.cell_type == "code"
    }
    shown = "\n".join(text.values())
    for ex in in_notebook(5):
        assert f"✗ Exercise {ex.number}" in shown and ex.mistakes[0].hint[:30] in shown
        assert f"lenet's version of {ex.function} stands in" in shown
    [summary] = [out for source, out in text.items() if "summary(5)" in source]
    assert summary.count("✗") == len(numbers) and f"0 of {len(numbers)} passed" in summary
