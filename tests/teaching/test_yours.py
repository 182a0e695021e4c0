"""collect: a learner's passing pieces, read from their own notebooks, lenet's for the rest."""

import json
from pathlib import Path

import numpy as np

from lenet.teaching import student
from lenet.teaching.exercises import EXERCISES
from lenet.teaching.yours import collect

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SLIP = "(padding + 1, padding + 1), (padding + 1, padding + 1)"


def _set_solution(nb, number, source):
    [cell] = [c for c in nb["cells"] if "".join(c["source"]).startswith(f"# Exercise {number}\n")]
    cell["source"] = source


def _learner_folder(folder):
    """Notebook 05 as a learner left it: 5.1 solved, 5.2 padded by P + 1, 5.3 not attempted."""
    ours = json.loads((NOTEBOOKS / "05_convolution.ipynb").read_text(encoding="utf-8"))
    solutions = {
        number: "".join(c["source"])
        for c in ours["cells"]
        for number in ("5.1", "5.2")
        if "".join(c["source"]).startswith(f"# Exercise {number}\n")
    }
    nb = student.student_notebook(ours, "05_convolution.ipynb")
    _set_solution(nb, "5.1", solutions["5.1"])
    slipped = solutions["5.2"].replace("(padding, padding), (padding, padding)", SLIP)
    assert slipped != solutions["5.2"]
    _set_solution(nb, "5.2", slipped + "\nprint('the learner prints something')")
    (folder / "05_convolution.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (folder / "05_convolution.1.ipynb").write_text(json.dumps(ours), encoding="utf-8")  # a copy


def test_the_committed_solutions_are_all_picked_up_and_pass():
    mine = collect(NOTEBOOKS)
    assert list(mine) == list(EXERCISES)
    assert [p.exercise for p in mine.pieces if not p.yours] == [], mine.table()
    assert all(p.why == "passed its check" for p in mine.pieces)
    assert all(mine[n] is not EXERCISES[n].reference for n in EXERCISES)


def test_a_learners_folder_yours_where_it_passes_lenets_elsewhere(tmp_path, capsys):
    _learner_folder(tmp_path)
    mine = collect(tmp_path, ["5.1", "5.2", "5.3", "6.1"])
    assert capsys.readouterr().out == ""  # the learner's prints are not shown
    assert [mine.yours(n) for n in mine] == [True, False, False, False]
    assert mine["5.1"](28, 5, 1, 2) == 28 and mine["5.1"] is not EXERCISES["5.1"].reference
    for number in ("5.2", "5.3", "6.1"):
        assert mine[number] is EXERCISES[number].reference
    why = {p.exercise: p.why for p in mine.pieces}
    assert why["5.1"] == "passed its check"
    assert why["5.2"].startswith("failed its check: padding off by one")
    assert why["5.3"] == "not attempted"
    assert why["6.1"] == f"no solution cell in {tmp_path}"
    table = mine.table().splitlines()
    assert table[0].split() == ["exercise", "function", "whose", "why"]
    assert table[1].split()[:3] == ["5.1", "out_size", "yours"]
    assert table[2].split()[:3] == ["5.2", "conv_naive", "lenet"]
    assert table[-1] == "1 of 4 pieces are yours." and repr(mine) == mine.table()


def test_a_passing_piece_that_calls_a_failing_one_gets_lenets_version(tmp_path):
    ours = json.loads((NOTEBOOKS / "05_convolution.ipynb").read_text(encoding="utf-8"))
    _set_solution(ours, "5.1", "# Exercise 5.1\ndef out_size(H, K, S, P):\n    return H\n")
    (tmp_path / "05_convolution.ipynb").write_text(json.dumps(ours), encoding="utf-8")
    mine = collect(tmp_path, ["5.1", "5.2"])
    assert not mine.yours("5.1") and mine.yours("5.2")  # conv_naive calls out_size
    x, W, b = np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), np.zeros(1)
    assert mine["5.2"](x, W, b, 1, 1).shape == (1, 1, 5, 5)


def test_a_cell_that_raises_is_lenets_with_the_error_named(tmp_path):
    ours = json.loads((NOTEBOOKS / "05_convolution.ipynb").read_text(encoding="utf-8"))
    _set_solution(ours, "5.1", "# Exercise 5.1\ndef out_size(H, K, S, P):\n    return (H +\n")
    (tmp_path / "05_convolution.ipynb").write_text(json.dumps(ours), encoding="utf-8")
    [piece] = collect(tmp_path, ["5.1"]).pieces
    assert not piece.yours and piece.why.startswith("its cell raised SyntaxError")
