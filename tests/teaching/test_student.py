"""The student edition: solutions replaced by placeholders, and the notebooks still run."""

import json
import re
from pathlib import Path

import pytest

from lenet.__main__ import main
from lenet.teaching import student
from lenet.teaching.exercises import EXERCISES

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WITH_EXERCISES = sorted({f"{int(n.split('.')[0]):02d}" for n in EXERCISES})


def _cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("student") / "edition"
    student.write(outdir)
    return outdir


def test_placeholder_keeps_indentation_and_names_the_exercise():
    source = (
        "# Exercise 5.1\n"
        "def out_size(H, K, S, P):\n"
        '    """The output size."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return (H + 2 * P - K) // S + 1\n"
        "    ### END SOLUTION\n"
        "### BEGIN HIDDEN TESTS\n"
        "assert out_size(28, 5, 1, 2) == 28\n"
        "### END HIDDEN TESTS"
    )
    task = EXERCISES["5.1"].task
    assert student.strip_solutions(source) == (
        "# Exercise 5.1\n"
        "def out_size(H, K, S, P):\n"
        '    """The output size."""\n'
        "    # YOUR CODE HERE\n"
        f"    raise NotImplementedError({'Exercise 5.1: ' + task!r})"
    )


def test_markdown_solution_and_unmatched_marker():
    assert student.strip_solutions(
        "A\n### BEGIN SOLUTION\nB\n### END SOLUTION\n", markdown=True
    ) == ("A\nYOUR ANSWER HERE")
    with pytest.raises(ValueError, match="x.ipynb, cell 3: '### BEGIN SOLUTION' without"):
        student.strip_solutions("### BEGIN SOLUTION\nx = 1\n", "x.ipynb, cell 3")


def test_edition_has_every_notebook_and_no_solution(edition):
    assert sorted(p.name for p in edition.glob("*.ipynb")) == sorted(
        p.name for p in NOTEBOOKS.glob("*.ipynb")
    )
    placeholders = []
    for path in edition.glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        assert "HIDDEN TESTS" not in text and student.REVEAL_NOTE not in text
        for cell in _cells(path):
            source = _source(cell)
            assert cell.get("outputs", []) == []
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                assert "source_hidden" not in cell["metadata"].get("jupyter", {})
                # nothing left but the exercise line, the signature, the docstring and the
                # placeholder: the solution's code is gone
                body = [
                    line
                    for line in source.splitlines()[2:]
                    if not line.strip().startswith(('"""', "# YOUR CODE HERE", "raise NotImpl"))
                ]
                assert body == [], (path.name, source)
                placeholders += re.findall(
                    r'NotImplementedError\(["\']Exercise (\d+\.\d+): ', source
                )
    assert sorted(placeholders) == sorted(EXERCISES)


def test_committed_notebooks_say_how_to_reveal_each_solution():
    for path in NOTEBOOKS.glob("*.ipynb"):
        cells = _cells(path)
        for k, cell in enumerate(cells):
            if "### BEGIN SOLUTION" in _source(cell):
                assert student.REVEAL_NOTE in _source(cells[k - 1]), (path.name, k)
                assert student.STUDENT_NOTE not in _source(cells[k - 1])


def test_command_line_and_bad_outdir(tmp_path, capsys):
    outdir = tmp_path / "mine"
    assert main(["student", str(outdir)]) == 0
    assert f"notebooks to {outdir}" in capsys.readouterr().out
    assert (outdir / "05_convolution.ipynb").is_file()

    bad = [
        ([str(outdir)], "exists and is not empty (add --force"),
        ([str(outdir / "05_convolution.ipynb")], "is a file, not a folder"),
        ([str(outdir / "05_convolution.ipynb" / "sub")], "cannot write to"),
    ]
    for args, message in bad:
        assert main(["student", *args]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    assert main(["student", str(outdir), "--force"]) == 0


@pytest.mark.notebooks
def test_student_edition_runs_top_to_bottom_with_every_check_not_attempted(edition, monkeypatch):
    """Executes the student notebooks with exercises (quick mode): nothing errors."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("LENET_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    seen = []
    for prefix in WITH_EXERCISES:
        [path] = edition.glob(f"{prefix}_*.ipynb")
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": edition}}
        )
        client.execute()  # raises CellExecutionError on any error
        for cell in nb.cells:
            match = re.fullmatch(r'check\("(\d+\.\d+)", \w+\)', cell.source.strip())
            if match:
                text = "".join(o.get("text", "") for o in cell.outputs)
                assert f"Exercise {match.group(1)} not attempted yet" in text, text
                seen.append(match.group(1))
    assert sorted(seen) == sorted(EXERCISES)
