"""Stamp the notebooks' exercise cells for nbgrader, and add each notebook's exercise summary.

    python tools/exercise_cells.py [NOTEBOOK ...]    # stamp (default: every notebooks/NN_*.ipynb)
    python tools/exercise_cells.py --check [...]      # exit 1 if a notebook would change

Run it again after adding or moving an exercise: it finds the cells by their content, never by
their position, and changes nothing when everything is in place (idempotent).

- A **solution cell** is a code cell whose first line is ``# Exercise 5.2`` and that holds
  ``### BEGIN SOLUTION``: it becomes nbgrader's autograded answer (solution, not graded, not
  locked, grade_id ``exercise_5_2``).
- A **check cell** is a code cell whose whole source is ``check("5.2", conv_naive)``: it becomes
  nbgrader's autograded test (graded, locked, grade_id ``check_5_2``) worth the exercise's
  points (``Exercise.points`` in lenet.teaching.exercises).
- The **summary cell** (id ``exercise-summary``, found by that id) prints every exercise of the
  notebook as ✓, ✗ or not attempted and states what each is worth. It is added before the
  notebook's ``## Summary`` cell, or else before its last cell (the "Try it" one), and its
  source is rewritten from the exercises' table; a notebook without exercises gets none.

Only those cells' nbgrader metadata and the summary cell are written; every other cell, key
and byte stays as it was. Each notebook is read, changed and written at once (atomically), so
an editor working on other cells meanwhile loses nothing but the seconds in between.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

from lenet.teaching.exercises import EXERCISES, in_notebook
from lenet.utils.files import atomic_write

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOLUTION = re.compile(r"\A#\s*Exercise\s+(\d+\.\d+)\s*\n")
CHECK = re.compile(r'\Acheck\("(\d+\.\d+)",\s*\w+\)\Z')
SUMMARY_ID = "exercise-summary"


def nbgrader_metadata(number, kind):
    """nbgrader's cell metadata (schema 3) for exercise number's "solution" or "check" cell."""
    key = number.replace(".", "_")
    if kind == "solution":
        return {
            "grade": False,
            "grade_id": f"exercise_{key}",
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
    return {
        "grade": True,
        "grade_id": f"check_{key}",
        "locked": True,
        "points": EXERCISES[number].points,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }


def summary_source(notebook):
    """The summary cell's source for notebook 5 (its exercises and their points)."""
    worth = ", ".join(f"{ex.number}: {ex.points}" for ex in in_notebook(notebook))
    return (
        "# Your exercises in this notebook: ✓ passed, ✗ failed, · not attempted.\n"
        f"# Points when a lecturer grades with nbgrader: {worth}.\n"
        "from lenet.teaching.exercises import summary\n"
        "\n"
        f"summary({int(notebook)})"
    )


def _exercise_of(cell, where):
    """(number, "solution" | "check") for an exercise cell, else None."""
    if cell.cell_type != "code":
        return None
    source = cell.source.strip()
    match = SOLUTION.match(cell.source)
    if match and "### BEGIN SOLUTION" in source:
        found = match.group(1), "solution"
    elif match := CHECK.match(source):
        found = match.group(1), "check"
    else:
        return None
    if found[0] not in EXERCISES:
        raise SystemExit(
            f"{where}: exercise {found[0]} is not in lenet.teaching.exercises.EXERCISES "
            "(add it to its notebook's module there first)"
        )
    return found


def _place_summary(nb, notebook):
    cells = nb.cells
    existing = [k for k, c in enumerate(cells) if c.get("id") == SUMMARY_ID]
    source = summary_source(notebook)
    if existing:
        cells[existing[0]].source = source
        return
    cell = nbformat.v4.new_code_cell(source, metadata={"slideshow": {"slide_type": "slide"}})
    cell.id = SUMMARY_ID
    recap = [k for k, c in enumerate(cells) if c.source.lstrip().startswith("## Summary")]
    cells.insert(recap[-1] if recap else len(cells) - 1, cell)


def stamp(nb, name="a notebook"):
    """Stamp one notebook (an nbformat node, changed in place); returns the exercises seen."""
    seen = []
    for k, cell in enumerate(nb.cells):
        found = _exercise_of(cell, f"{name}, cell {k}")
        if found is None:
            continue
        number, kind = found
        cell.metadata["nbgrader"] = nbgrader_metadata(number, kind)
        seen.append(number)
    notebook = int(name[:2]) if name[:2].isdigit() else None
    if notebook is not None and in_notebook(notebook):
        _place_summary(nb, notebook)
    return seen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    stale = []
    for path in paths:
        before = path.read_text(encoding="utf-8")
        nb = nbformat.reads(before, as_version=4)
        stamp(nb, path.name)
        after = nbformat.writes(nb) + "\n"
        if after == before:
            continue
        stale.append(path)
        if not args.check:
            with atomic_write(path) as f:
                f.write(after.encode("utf-8"))
    verb = "would change" if args.check else "stamped"
    for path in stale:
        print(f"{verb} {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
