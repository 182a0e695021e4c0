"""The notebooks as committed: no outputs, in order, each closing with things to try."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
# The Chinese edition (tools/translate.py) follows the same rules; its "Try it" is 试一试（Try it）.
EDITIONS = NOTEBOOKS + sorted(
    (Path(__file__).resolve().parent.parent / "notebooks/zh").glob("*.ipynb")
)


def test_notebooks_are_numbered_in_order():
    numbers = [int(nb.name[:2]) for nb in NOTEBOOKS]
    assert numbers == list(range(1, len(NOTEBOOKS) + 1))


@pytest.mark.parametrize("path", EDITIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_without_outputs_and_ending_with_try_it(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "Try it" in "".join(nb["cells"][-1]["source"])
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "assert" in code  # every notebook checks something that can fail
    assert "LENET_QUICK" not in code  # quick mode is read in one place: lenet.utils.config
