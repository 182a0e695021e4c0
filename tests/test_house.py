"""The house's rules, read from the source: no upward import, no import loop, sizes bounded.

Each package of lenet may import only the packages below it in LAYERS (and itself); an import
inside a function is allowed only for the optional torch.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lenet"

# Lowest first: a module may import only its own package and the ones before it.
LAYERS = ["utils", "nn", "data", "paper1998", "interop", "training", "teaching", "__main__"]
OPTIONAL = {"torch"}


def owner(module):
    """'lenet.nn.layers' -> 'nn'; the package (or top-level module) a dotted name belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        dotted = ".".join(("lenet", *path.relative_to(PACKAGE).with_suffix("").parts))
        yield dotted.removesuffix(".__init__"), path


def imports(path):
    """(imported module, line, inside a function) for every import of a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            yield name, node.lineno, id(node) in inside


def test_no_module_imports_a_layer_above_its_own():
    wrong = []
    for dotted, path in modules():
        mine = owner(dotted)
        if mine == "__init__":
            continue  # lenet/__init__.py re-exports the public names of every layer
        for name, line, _ in imports(path):
            if not name.startswith("lenet.") or name.count(".") < 1:
                continue
            theirs = owner(name)
            if theirs in LAYERS and LAYERS.index(theirs) > LAYERS.index(mine):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({mine}) imports {name}")
    assert not wrong, "upward imports:\n" + "\n".join(wrong)


def test_imports_inside_functions_are_only_the_optional_ones():
    hidden = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name} inside a function"
        for _, path in modules()
        for name, line, inside in imports(path)
        if inside and name.split(".")[0] not in OPTIONAL
    ]
    assert not hidden, "\n".join(hidden)


def test_top_level_holds_at_most_ten_modules():
    top = [p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()]
    assert len(top) <= 10, sorted(top)


@pytest.mark.parametrize("dotted, path", list(modules()), ids=lambda v: str(v))
def test_modules_and_functions_are_short(dotted, path):
    source = path.read_text()
    assert source.count("\n") <= 600, f"{path.name} has {source.count(chr(10))} lines (at most 600)"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > 70
    ]
    assert not long, f"{dotted}: functions over 70 lines: {long}"
