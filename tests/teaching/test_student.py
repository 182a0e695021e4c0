"""The student edition: nbgrader's release, a folder the learner can take away, and never a
learner's work destroyed."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lenet.__main__ import main
from lenet.data.download import default_data_dir
from lenet.teaching import student
from lenet.teaching.exercises import EXERCISES
from lenet.utils import config, i18n

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
WITH_EXERCISES = sorted({f"{int(n.split('.')[0]):02d}" for n in EXERCISES})
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def _cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def _cell(source, cell_type="code", **nbgrader):
    if nbgrader:
        nbgrader = {"grade_id": "x", **nbgrader} | ({"points": 1} if nbgrader.get("grade") else {})
    metadata = {"nbgrader": nbgrader} if nbgrader else {}
    cell = {"cell_type": cell_type, "metadata": metadata, "source": source}
    if cell_type == "code":
        cell |= {"outputs": [{"output_type": "stream", "text": "x"}], "execution_count": 3}
    return cell


def _snapshot(folder):
    """{relative path: bytes, or None for a folder} of everything under folder (bytecode
    caches aside)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
        if "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("student") / "edition"
    student.write(outdir)
    return outdir


def test_solution_becomes_nbgraders_stub_at_its_indentation_and_hidden_tests_go():
    cell = _cell(
        "# Exercise 5.1\n"
        "def out_size(H, K, S, P):\n"
        '    """The output size."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return (H + 2 * P - K) // S + 1\n"
        "    ### END SOLUTION\n",
        solution=True,
        grade=False,
    )
    out = student.student_cell(cell)
    assert _source(out) == (
        "# Exercise 5.1\n"
        "def out_size(H, K, S, P):\n"
        '    """The output size."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
    )
    assert out["outputs"] == [] and out["execution_count"] is None
    assert out["metadata"]["deletable"] is False and "editable" not in out["metadata"]
    assert cell["outputs"] != [], "the cell given is not changed"

    test = _cell("check(1)\n### BEGIN HIDDEN TESTS\nassert f(2)\n### END HIDDEN TESTS", grade=True)
    out = student.student_cell(test)
    assert _source(out) == "check(1)"
    assert out["metadata"]["deletable"] is False and out["metadata"]["editable"] is False


def test_markdown_solution_whole_solution_cell_and_bad_markers():
    answer = _cell("A\n### BEGIN SOLUTION\nB\n### END SOLUTION", "markdown", solution=True)
    assert _source(student.student_cell(answer)) == "A\nYOUR ANSWER HERE"
    assert _source(student.student_cell(_cell("x = 1", solution=True))) == STUB
    bad = [
        (_cell("### BEGIN SOLUTION\nx = 1\n", solution=True), "'### BEGIN SOLUTION' without"),
        (
            _cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
            "a solution region in a cell that is not a solution cell",
        ),
        (
            _cell("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"),
            "hidden tests in a cell that is not a grade cell",
        ),
        (
            {**_cell("check(1)"), "metadata": {"nbgrader": {"grade": True}}},
            "nbgrader metadata without grade_id and points",
        ),
    ]
    for cell, message in bad:
        with pytest.raises(ValueError, match=f"x.ipynb, cell 3: {message}"):
            student.student_cell(cell, "x.ipynb, cell 3")


def _solution_lines(source):
    """The lines inside the cell's solution regions that appear nowhere else in it."""
    inside, solution, rest = False, set(), set()
    for line in source.split("\n"):
        if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            inside = "BEGIN" in line
        elif line.strip():
            (solution if inside else rest).add(line.strip())
    return solution - rest


def test_edition_has_every_notebook_a_readme_and_no_solution(edition):
    assert sorted(p.name for p in edition.glob("*.ipynb")) == sorted(
        p.name for p in NOTEBOOKS.glob("*.ipynb")
    )
    exercises = []
    for path in edition.glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        assert "HIDDEN TESTS" not in text and student.REVEAL_NOTE not in text
        committed = _cells(NOTEBOOKS / path.name)
        for cell, ours in zip(_cells(path), committed, strict=True):
            assert cell.get("outputs", []) == []
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                assert "source_hidden" not in cell["metadata"].get("jupyter", {})
                source = _source(cell)
                left = {line.strip() for line in source.splitlines()}
                assert not _solution_lines(_source(ours)) & left, (path.name, source)
                if cell["cell_type"] == "code":
                    assert "# YOUR CODE HERE\n" in source, source
                    assert "raise NotImplementedError()" in source, source
                exercises += re.findall(r"^# Exercise (\d+\.\d+)", source)
    assert sorted(exercises) == sorted(EXERCISES)
    readme = (edition / "README.md").read_text(encoding="utf-8")
    for needed in ("jupyter lab", "LENET_QUICK=1", "`checkpoints/`", config.STUDENT_MARKER):
        assert needed in readme
    assert (edition / config.STUDENT_MARKER).is_file()


def test_edition_is_what_nbgrader_releases():
    """nbgrader's own preprocessors of generate_assignment, in its order, give the same cells
    and the same locks; ours also unfold solution cells and swap the note on revealing."""
    nbformat = pytest.importorskip("nbformat")
    grader = pytest.importorskip("nbgrader.preprocessors")
    steps = [
        grader.LockCells,
        grader.ClearSolutions,
        grader.ClearOutput,
        grader.ClearHiddenTests,
        grader.ComputeChecksums,
    ]
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        released, resources = nbformat.read(path, as_version=4), {}
        for step in steps:
            released, resources = step().preprocess(released, resources)
        ours = student.student_notebook(json.loads(path.read_text(encoding="utf-8")))
        assert ours["metadata"] == released.metadata
        assert len(ours["cells"]) == len(released.cells)
        for k, (mine, theirs) in enumerate(zip(ours["cells"], released.cells, strict=True)):
            where = (path.name, k)
            assert _source(mine) == theirs.source.replace(
                student.REVEAL_NOTE, student.STUDENT_NOTE
            ), where
            unfolded = {key: v for key, v in theirs.metadata.items() if key != "jupyter"}
            assert {key: v for key, v in mine["metadata"].items() if key != "jupyter"} == (
                unfolded
            ), where


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
    out = capsys.readouterr().out
    assert f"wrote the student edition of {len(list(NOTEBOOKS.glob('*.ipynb')))} notebooks" in out
    assert f"cd {outdir} && jupyter lab" in out
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
    assert "kept" not in capsys.readouterr().out, "nothing changed, nothing kept"
    assert not list(outdir.glob("*.1.*"))


def test_force_keeps_every_file_the_learner_changed(tmp_path, capsys):
    outdir = tmp_path / "mine"
    student.write(outdir)
    fresh = _snapshot(outdir)
    mine = outdir / "05_convolution.ipynb"
    nb = json.loads(mine.read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = ["my own notes\n"]
    mine.write_text(json.dumps(nb), encoding="utf-8")
    (outdir / "README.md").write_text("my readme\n", encoding="utf-8")
    edited = _snapshot(outdir)

    assert main(["student", str(outdir), "--force"]) == 0
    out = capsys.readouterr().out
    assert "kept your earlier 05_convolution.ipynb as 05_convolution.1.ipynb" in out
    assert "kept your earlier README.md as README.1.md" in out
    after = _snapshot(outdir)
    assert after.pop("05_convolution.1.ipynb") == edited["05_convolution.ipynb"]
    assert after.pop("README.1.md") == b"my readme\n"
    assert after == fresh

    mine.write_text(json.dumps(nb), encoding="utf-8")  # edited again: the next free number
    [written] = [w for w in student.write(outdir, force=True) if w.kept]
    assert (written.path, written.kept) == (mine, outdir / "05_convolution.2.ipynb")
    assert written.kept.read_bytes() == edited["05_convolution.ipynb"]


def test_a_failed_rename_says_where_the_learners_file_is(tmp_path, monkeypatch):
    outdir = tmp_path / "mine"
    student.write(outdir)
    mine = outdir / "05_convolution.ipynb"
    mine.write_text("{}", encoding="utf-8")

    def no_rename(source, target):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError) as raised:
        student.write(outdir, force=True)
    assert str(raised.value).startswith(
        f"cannot write {mine}: Input/output error; your earlier 05_convolution.ipynb is kept "
        "as 05_convolution.1.ipynb"
    ), raised.value
    assert (outdir / "05_convolution.1.ipynb").read_text(encoding="utf-8") == "{}"
    assert not list(outdir.glob(".*.tmp"))


def test_the_folder_the_notebooks_come_from_is_refused_and_left_alone(
    tmp_path, capsys, monkeypatch
):
    before = _snapshot(NOTEBOOKS)
    (tmp_path / "link").symlink_to(NOTEBOOKS)
    monkeypatch.chdir(NOTEBOOKS)  # the relative names below are resolved from here
    refused = {
        str(NOTEBOOKS): "is the folder the student edition is made from",
        ".": "is the folder the student edition is made from",
        "../notebooks": "is the folder the student edition is made from",
        str(tmp_path / "link"): "is the folder the student edition is made from",
        "..": "holds lenet's own notebooks",
    }
    for outdir, message in refused.items():
        assert main(["student", outdir, "--force"]) == 2, outdir
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and f"{outdir} {message}" in err, err
    assert _snapshot(NOTEBOOKS) == before


def test_a_folder_of_notebooks_with_solutions_is_refused(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(NOTEBOOKS / "05_convolution.ipynb", source)
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    with pytest.raises(student.OutdirError, match="holds solutions"):
        student.write(copy, force=True, source=source)
    assert _snapshot(copy) == _snapshot(source)


def test_the_notebooks_come_from_notebooks_dir_and_none_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(student, "notebooks_dir", lambda: tmp_path / "installed")
    (tmp_path / "installed").mkdir()
    with pytest.raises(FileNotFoundError, match=r"run `pip install \.` there, then this command"):
        student.write(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    shutil.copy(NOTEBOOKS / "05_convolution.ipynb", tmp_path / "installed")
    assert {w.path.name for w in student.write(tmp_path / "out")} == {
        "05_convolution.ipynb",
        "README.md",
        config.STUDENT_MARKER,
    }


def test_another_languages_edition_carries_its_language_and_readme(tmp_path):
    source = tmp_path / "zh"
    source.mkdir()
    (source / i18n.MARKER).write_text("zh\n", encoding="utf-8")
    shutil.copy(NOTEBOOKS / "05_convolution.ipynb", source)
    student.write(tmp_path / "out", source=source, readme="# 你的笔记本\n")
    assert (tmp_path / "out" / i18n.MARKER).read_text(encoding="utf-8") == "zh\n"
    assert (tmp_path / "out" / "README.md").read_text(encoding="utf-8") == "# 你的笔记本\n"
    assert [p.name for p in (tmp_path / "out").glob("*.ipynb")] == ["05_convolution.ipynb"]


def _write_with_file_size_limit(outdir, limit, *args):
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "from lenet.__main__ import main\n"
        f"sys.exit(main(['student', {str(outdir)!r}, *{list(args)!r}]))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize("force", [False, True])
def test_a_write_that_fails_half_way_leaves_every_notebook_whole(tmp_path, force):
    # the files' sizes in the order they are written
    sizes = {w.path.name: w.path.stat().st_size for w in student.write(tmp_path / "fresh")}
    largest = max(sizes, key=sizes.get)
    assert largest != next(iter(sizes)), "some files are written before the largest"
    outdir = tmp_path / "mine"
    mine = outdir / largest
    if force:  # a learner's edited notebooks in the folder
        student.write(outdir)
        for path in outdir.glob("*.ipynb"):
            nb = json.loads(path.read_text(encoding="utf-8"))
            nb["cells"][0]["source"] = ["my own notes\n"]
            path.write_text(json.dumps(nb), encoding="utf-8")
        edited = mine.read_bytes()
    run = _write_with_file_size_limit(outdir, sizes[largest] - 1, *["--force"] * force)
    assert run.returncode == 1, run.stderr
    assert run.stderr.strip() == run.stderr.strip().splitlines()[0], run.stderr
    assert f"cannot write {mine}: File too large" in run.stderr
    for path in outdir.glob("*.ipynb"):
        json.loads(path.read_text(encoding="utf-8"))  # every notebook is valid JSON
    assert not list(outdir.glob(".*.tmp"))
    if force:
        assert mine.read_bytes() == edited
        assert len(list(outdir.glob("*.1.ipynb"))) == sum(
            n.endswith(".ipynb") and n < largest for n in sizes
        )
    else:
        assert not mine.exists()


def test_checkpoints_go_to_the_student_folder_it_runs_in(edition, monkeypatch):
    monkeypatch.delenv("LENET_CHECKPOINT_DIR", raising=False)
    (edition / "sub").mkdir(exist_ok=True)
    monkeypatch.chdir(edition / "sub")
    assert config.checkpoint_dir() == edition.resolve() / "checkpoints"
    monkeypatch.chdir(ROOT)
    assert config.checkpoint_dir() == ROOT / "checkpoints"


@pytest.mark.notebooks
def test_student_notebook_9_writes_nothing_into_the_checkout(tmp_path, monkeypatch):
    """Notebook 9 of the student edition, run in its folder, saves its model there and writes
    nothing into the checkout lenet is imported from (a copy of this one, so that the test
    sees only its own writes)."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    checkout = tmp_path / "checkout"
    shutil.copytree(
        ROOT / "lenet", checkout / "lenet", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", checkout)
    before = _snapshot(checkout)
    outdir = tmp_path / "mine"
    student.write(outdir)
    monkeypatch.delenv("LENET_CHECKPOINT_DIR", raising=False)
    monkeypatch.setenv("LENET_DATA_DIR", str(default_data_dir()))  # the real checkout's MNIST
    monkeypatch.setenv("PYTHONPATH", str(checkout))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("LENET_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(outdir)
    nb = nbformat.read(outdir / "09_lenet5_mnist.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import lenet\nprint(lenet.__file__)"))
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": outdir}}
    ).execute()
    assert nb.cells[0].outputs[0]["text"].strip() == str(checkout / "lenet" / "__init__.py")
    assert (outdir / "checkpoints" / "lenet5_notebook.npz").is_file()
    assert _snapshot(checkout) == before


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
