"""Your pieces: the functions you wrote in the exercise notebooks, picked up without copying.

    from lenet.teaching.yours import collect

    mine = collect()                  # the exercise notebooks in this notebook's folder
    print(mine)                       # which piece is yours and which is lenet's, and why
    conv_naive = mine["5.2"]          # your conv_naive if it passes 5.2's check, else lenet's
    mine.yours("5.2")                 # True when it is yours

``collect`` reads every ``NN_*.ipynb`` of the folder (as saved on disk: save a notebook after
changing it), and for each notebook runs, in a fresh namespace of its own, the notebook's
import statements and then its solution cells in order (the cells whose first line is
``# Exercise 5.2``: nbgrader's autograded answers, so solutions stay where the learner wrote
them). Each exercise's function is checked with the exercise checker; a piece that passes is
kept, and one that fails, is not attempted, or whose cell raises is replaced, in that namespace
too, by lenet's reference, as ``or_reference`` does in the notebook itself. What the solution
cells print is not shown. The code run is the learner's own, from their own folder.
"""

import ast
import contextlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lenet.teaching.exercises import EXERCISES, exercise
from lenet.teaching.exercises.checker import judge
from lenet.utils.i18n import ljust, translate

__all__ = ["Collection", "Piece", "collect"]


@dataclass(frozen=True)
class Piece:
    """One exercise's function: the learner's (yours=True) or lenet's stand-in, and why."""

    exercise: str  # "5.2"
    name: str  # the function's name in the notebook, "conv_naive"
    function: object  # the callable to use
    yours: bool
    why: str  # "passed its check", "not attempted", "failed: <hint>", ...


class Collection(Mapping):
    """Exercise number -> the function to use; printing it shows whose each piece is."""

    def __init__(self, pieces):
        self.pieces = tuple(pieces)
        self._by_number = {piece.exercise: piece for piece in self.pieces}

    def __getitem__(self, number):
        return self._by_number[str(number)].function

    def __iter__(self):
        return iter(self._by_number)

    def __len__(self):
        return len(self._by_number)

    def yours(self, number):
        """True when exercise number's piece is the learner's own function."""
        return self._by_number[str(number)].yours

    def table(self):
        """One line per piece: exercise, function, whose, why."""
        width = max([len(p.name) for p in self.pieces] + [8])
        lines = [f"{'exercise':<9} {'function':<{width}} {'whose':<7} why"]
        # whose and why translated here, not by print: a function's name is code (accuracy)
        lines += [
            f"{p.exercise:<9} {p.name:<{width}} "
            f"{ljust(translate('yours' if p.yours else 'lenet'), 7)} {translate(p.why)}"
            for p in self.pieces
        ]
        mine = sum(p.yours for p in self.pieces)
        lines.append(f"{mine} of {len(self.pieces)} pieces are yours.")
        return "\n".join(lines)

    def __repr__(self):
        return self.table()


def _imports(cells):
    """The top-level import statements of a notebook's code cells, one module each."""
    nodes = []
    for cell in cells:
        lines = "".join(cell["source"]).splitlines()
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        nodes += [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return [ast.Module(body=[node], type_ignores=[]) for node in nodes]


def _solution_cells(cells):
    """(exercise number, source) of each solution cell, in order."""
    for cell in cells:
        source = "".join(cell["source"])
        first = source.split("\n", 1)[0].strip()
        if cell["cell_type"] == "code" and first.startswith("# Exercise "):
            number = first.removeprefix("# Exercise ").strip()
            if number in EXERCISES:
                yield number, source


def _why(verdict):
    if verdict.passed:
        return "passed its check"
    if verdict.status == "not attempted":
        return "not attempted"
    return f"failed its check: {verdict.hint}" if verdict.hint else "failed its check"


def _run_notebook(path, wanted):
    """The Pieces of the wanted exercises whose solution cells are in the notebook at path."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    namespace = {"__name__": f"lenet_yours_{Path(path).stem}"}
    for module in _imports(cells):
        # an import that fails leaves its name undefined: a solution cell needing it then
        # raises, and its piece is lenet's, with the error named
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
            exec(compile(module, str(path), "exec"), namespace)
    pieces = []
    for number, source in _solution_cells(cells):
        ex = exercise(number)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"{path} (exercise {number})", "exec"), namespace)
            verdict = judge(ex, namespace.get(ex.function))
            why = _why(verdict)
        except Exception as error:  # the learner's cell itself fails
            verdict, why = None, f"its cell raised {type(error).__name__}: {error}"
        passed = verdict is not None and verdict.passed
        if not passed:
            namespace[ex.function] = ex.reference  # later cells use lenet's, as or_reference does
        if number in wanted:
            function = namespace[ex.function]
            pieces.append(Piece(number, ex.function, function, passed, why))
    return pieces


def collect(folder=None, exercises=None):
    """The learner's passing functions from the exercise notebooks in folder, lenet's for the rest.

    folder: where the learner's notebooks are (default: the working folder, which JupyterLab
    sets to the running notebook's). exercises: the numbers wanted, e.g. ["5.2", "6.1"]
    (default: every exercise). Returns a Collection, in the order of exercises.

    >>> mine = collect("my-notebooks", ["5.2", "7.3"])
    >>> conv_naive = mine["5.2"]
    >>> print(mine)  # doctest: +SKIP
    exercise  function               whose   why
    5.2       conv_naive             yours   passed its check
    7.3       cross_entropy_gradient lenet   not attempted
    1 of 2 pieces are yours.
    """
    folder = Path.cwd() if folder is None else Path(folder)
    wanted = list(EXERCISES) if exercises is None else [exercise(n).number for n in exercises]
    found = {}
    for prefix in sorted({n.split(".")[0] for n in wanted}, key=int):
        paths = sorted(folder.glob(f"{int(prefix):02d}_*.ipynb"))
        paths = [p for p in paths if "." not in p.stem]  # not a kept copy (05_convolution.1)
        if paths:
            found.update((p.exercise, p) for p in _run_notebook(paths[0], set(wanted)))
    pieces = []
    for number in wanted:
        ex = exercise(number)
        missing = Piece(number, ex.function, ex.reference, False, f"no solution cell in {folder}")
        pieces.append(found.get(number, missing))
    return Collection(pieces)
