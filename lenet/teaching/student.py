"""The student edition: the notebooks with every exercise left for the learner to write.

    python -m lenet student OUTDIR [--force]

In each notebook, every block between nbgrader's markers

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

becomes, at the same indentation, nbgrader's own placeholder with the exercise's task:

    # YOUR CODE HERE
    raise NotImplementedError("Exercise 5.2: return y (N, O, H', W'): ...")

Blocks between ### BEGIN HIDDEN TESTS and ### END HIDDEN TESTS are removed, solution cells
are no longer folded away, the line that says how to reveal our solution becomes one that
says what to do, and outputs are cleared. A cell names its exercise in a first line
``# Exercise 5.2``; the task comes from lenet.teaching.exercises.EXERCISES.
"""

import copy
import json
import re
from pathlib import Path

from lenet.teaching.exercises import EXERCISES

__all__ = ["OutdirError", "REVEAL_NOTE", "STUDENT_NOTE", "student_notebook", "write"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# Every exercise's question in the committed notebooks ends with REVEAL_NOTE (tested); the
# student edition says STUDENT_NOTE instead.
REVEAL_NOTE = (
    '*Our solution sits in the next cell, folded away: click the "…" (or the blue bar at the '
    "cell's left) to reveal it. Try it yourself first — in the student edition "
    "(`python -m lenet student DIR`) that cell is yours to write.*"
)
STUDENT_NOTE = (
    "*Your turn: write the function in the next cell (replace the `raise NotImplementedError`), "
    "then run the check below it. Until it passes, the cells after the check use `lenet`'s "
    "version.*"
)

_EXERCISE = re.compile(r"^#\s*Exercise\s+(\d+\.\d+)", re.MULTILINE)


class OutdirError(ValueError):
    """OUTDIR cannot take the student edition (a file, not empty, not writable)."""


def _placeholder(source, where):
    match = _EXERCISE.search(source)
    if match is None:
        return "raise NotImplementedError()"
    number = match.group(1)
    if number not in EXERCISES:
        raise ValueError(f"{where}: no exercise {number} in lenet.teaching.exercises.EXERCISES")
    message = f"Exercise {number}: {EXERCISES[number].task}"
    return f"raise NotImplementedError({message!r})"


def strip_solutions(source, where="a cell", markdown=False):
    """The cell's source with solution blocks replaced and hidden-test blocks removed."""
    out, block, indent = [], None, ""
    for line in source.splitlines(keepends=True):
        marker = line.strip()
        if block is None and marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
            block = marker.removeprefix("### BEGIN ")
            indent = line[: len(line) - len(line.lstrip())]
            continue
        if block is not None and marker == f"### END {block}":
            if block == "SOLUTION" and markdown:
                out.append("YOUR ANSWER HERE\n")
            elif block == "SOLUTION":
                out.append(f"{indent}# YOUR CODE HERE\n")
                out.append(f"{indent}{_placeholder(source, where)}\n")
            block = None
            continue
        if block is None:
            out.append(line)
    if block is not None:
        raise ValueError(f"{where}: '### BEGIN {block}' without '### END {block}'")
    return "".join(out).rstrip("\n")


def student_notebook(nb, name="a notebook"):
    """A copy of a notebook (nbformat 4 JSON as a dict) turned into its student edition."""
    nb = copy.deepcopy(nb)
    for k, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        where = f"{name}, cell {k}"
        if cell["cell_type"] == "markdown":
            source = source.replace(REVEAL_NOTE, STUDENT_NOTE)
        if "### BEGIN" in source:
            source = strip_solutions(source, where, markdown=cell["cell_type"] == "markdown")
            cell["metadata"].get("jupyter", {}).pop("source_hidden", None)
            if cell["metadata"].get("jupyter") == {}:
                del cell["metadata"]["jupyter"]
        cell["source"] = source.splitlines(keepends=True)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def _check_outdir(outdir, force):
    if outdir.exists() and not outdir.is_dir():
        raise OutdirError(f"{outdir} is a file, not a folder")
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise OutdirError(f"{outdir} exists and is not empty (add --force to write into it)")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        probe = outdir / ".lenet-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise OutdirError(f"cannot write to {outdir}: {err.strerror or err}") from None


def write(outdir, force=False, notebooks=NOTEBOOKS):
    """Write the student edition of every notebook in `notebooks` to outdir; returns the paths.

    OutdirError when outdir is a file, or a non-empty folder without force, or not writable.
    """
    notebooks, outdir = Path(notebooks), Path(outdir)
    sources = sorted(notebooks.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(
            f"no notebooks in {notebooks}: the student edition is made from a source checkout "
            "of lenet (pip install -e .)"
        )
    _check_outdir(outdir, force)
    written = []
    for path in sources:
        nb = json.loads(path.read_text(encoding="utf-8"))
        target = outdir / path.name
        text = json.dumps(student_notebook(nb, path.name), indent=1, ensure_ascii=False)
        target.write_text(text + "\n", encoding="utf-8")
        written.append(target)
    return written
