"""The Chinese edition of the series: one set of code cells, the text translated cell by cell.

    python tools/translate.py status [NOTEBOOK ...]   # what is stale, untranslated or differs
    python tools/translate.py update NOTEBOOK ...     # bring a notebook's .po up to its English
    python tools/translate.py build  [NOTEBOOK ...]   # write notebooks/zh/NN_name.ipynb

The translations of notebooks/NN_name.ipynb live in notebooks/i18n/zh/NN_name.po, a gettext
file that any PO editor (Poedit, Weblate, ...) opens: one entry per markdown cell, its context
(msgctxt) the cell's id, its msgid the English source the translation was made from, its
msgstr the Chinese. When an English cell changes, its msgid no longer matches: `status` (and
tests/test_translations.py) names the notebook and the cell and shows what changed; `update`
takes the new English into the entry and marks it fuzzy (gettext's word for "check me",
the old English kept as previous msgid) until a translator fixes the Chinese and removes the
mark. `build` copies the English notebook, code cells and all, and puts the translations in
its markdown cells. A notebook without a .po has no Chinese edition yet.

What the code cells print and the labels of their plots are translated when they run (see
lenet/utils/i18n.py): `status` also lists every such line that has no entry in
lenet/utils/locale/zh.json.
"""

import argparse
import ast
import copy
import difflib
import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import polib

from lenet.teaching.exercises.registry import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
LANG = "zh"

# Calls whose text a learner reads: the positional argument holding it (None: all of them).
SHOWN_ARGUMENT = {
    "print": None,
    "set_title": 0,
    "set_xlabel": 0,
    "set_ylabel": 0,
    "suptitle": 0,
    "title": 0,
    "xlabel": 0,
    "ylabel": 0,
    "set_text": 0,
    "annotate": 0,
    "text": 2,
    "figtext": 2,
    "translate": 0,
    "fill": 0,  # a template whose values go in untranslated (lenet.utils.i18n.fill)
}
# Calls whose first list of strings a learner reads (bar names, tick labels).
SHOWN_LIST = {"bar", "barh", "set_xticklabels", "set_yticklabels", "set_xticks", "set_yticks"}
SHOWN_KEYWORDS = {"label", "title", "xlabel", "ylabel", "description", "tooltip"}
_LETTERS = re.compile(r"[A-Za-z]")
# The edges of a padded field (f"{name:24}"): a row of a table, whose cells the translation
# layer also takes one by one (lenet/utils/i18n.py), so one entry per word cell will do.
CELL = "\0"
_WIDTH = re.compile(r"(.?[<>^=])?[-+ ]?z?#?0?[1-9]")  # a format spec that pads: >7, 24, 13.2f


def i18n(root=ROOT):
    """lenet/utils/i18n.py of `root` loaded alone (catalog, normalize), not the whole package."""
    spec = importlib.util.spec_from_file_location("lenet_i18n", Path(root) / "lenet/utils/i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paths(english, root=ROOT, lang=LANG):
    """(the .po file, the translated notebook) of notebooks/NN_name.ipynb."""
    name = Path(english).stem
    folder = Path(root) / "notebooks"
    return folder / "i18n" / lang / f"{name}.po", folder / lang / f"{name}.ipynb"


def translatable(cell):
    return cell.cell_type == "markdown" and cell.source.strip()


# ---------------------------------------------------------------------------- the lines shown


def _template(node):
    """The text of a string expression, a value computed at run time written as {}."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.replace("{", "{{").replace("}", "}}")
    if isinstance(node, ast.JoinedStr):
        # a constant in a field (f"{'test accuracy':>14s}") is a padded word of its own
        return "".join(
            f"{CELL} {_template(part.value)} {CELL}"
            if isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Constant)
            else _template(part)
            if isinstance(part, ast.Constant)
            else f"{CELL}{{}}{CELL}"
            if _padded(part)
            else "{}"
            for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _template(node.left) + _template(node.right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    ):
        return re.sub(r"(?<!\{)\{[^{}]*\}(?!\})", "{}", node.func.value.value)
    return "{}"


def _padded(part):
    """True for a field of an f-string that pads its value to a width (f"{acc:7.1%}")."""
    spec = part.format_spec
    text = "".join(v.value for v in spec.values if isinstance(v, ast.Constant)) if spec else ""
    return _WIDTH.match(text) is not None


def _shown(call):
    """The string expressions of one call that a learner reads."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name == "print":
        sep = next((k.value for k in call.keywords if k.arg == "sep"), None)
        sep = sep.value if isinstance(sep, ast.Constant) and isinstance(sep.value, str) else " "
        yield sep.join(_template(arg) for arg in call.args)
    elif name == "fill" and call.args and isinstance(call.args[0], ast.Constant):
        yield call.args[0].value  # already a template: {} for each value
    elif name in SHOWN_ARGUMENT and len(call.args) > SHOWN_ARGUMENT[name]:
        yield _template(call.args[SHOWN_ARGUMENT[name]])
    if name in SHOWN_LIST:
        for arg in call.args:
            if isinstance(arg, ast.List | ast.Tuple):
                yield from (_template(e) for e in arg.elts if isinstance(e, ast.Constant))
    for keyword in call.keywords:
        if keyword.arg in SHOWN_KEYWORDS and isinstance(
            keyword.value, ast.Constant | ast.JoinedStr
        ):
            yield _template(keyword.value)


def shown_lines(source, normalize):
    """The catalog keys of every line the code `source` prints or writes on a plot (the edges
    of its padded fields marked CELL; see missing)."""
    code = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )
    keys = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            for text in _shown(node):
                for line in text.split("\n"):
                    key = normalize(line)
                    if _worded(key) and key not in keys:
                        keys.append(key)
    return keys


def _worded(key):
    """True when the key holds words (letters outside its values and its TeX)."""
    return bool(_LETTERS.search(re.sub(r"\$[^$]*\$", "", key.replace("{}", "").replace(CELL, ""))))


def missing(key, known):
    """The entry the line `key` of shown_lines lacks in the catalog `known`, or None: the whole
    line's, or for a table row (padded fields) one for each word cell."""
    line = " ".join(key.replace(CELL, "").split())
    if line in known:
        return None
    cells = [" ".join(cell.split()) for cell in key.split(CELL)]
    if CELL in key and all(cell in known for cell in cells if _worded(cell)):
        return None
    return line


# What lenet itself shows a learner: the pictures and widgets of lenet.teaching, and the hints of
# the exercises' checker (lenet.teaching.exercises.nb*.py, `hint=` of every Mistake).
LEARNER_MODULES = (
    "lenet/teaching/exercises/checker.py",
    "lenet/teaching/exercises/cells.py",
    "lenet/teaching/viz.py",
    "lenet/teaching/diagrams.py",
    "lenet/teaching/panel.py",
    "lenet/teaching/pad.py",
    "lenet/data/drawing.py",
    "lenet/training/loop.py",
)
HINTS = "lenet/teaching/exercises/nb*.py"


def _hints(source, normalize):
    """The catalog keys of the `hint=` strings in a module (a name resolves to its constant)."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }
    keys = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "hint":
            value = node.value
            if isinstance(value, ast.Name):
                text = constants.get(value.id)
                text = None if text is None else text.replace("{", "{{").replace("}", "}}")
            elif isinstance(value, ast.Constant | ast.JoinedStr):
                text = _template(value).replace(CELL, "")
            else:
                text = None
            if text and normalize(text) not in keys:
                keys.append(normalize(text))
    return keys


def lenet_problems(root=ROOT, lang=LANG):
    """Every line lenet shows a learner (LEARNER_MODULES, the exercises' hints) that has no
    entry in the catalog."""
    module = i18n(root)
    known = module.catalog(lang)
    found = []
    for name in LEARNER_MODULES:
        for key in shown_lines((Path(root) / name).read_text(), module.normalize):
            if missing(key, known):
                found.append(f"{name}: no translation for the line {missing(key, known)!r}")
    for path in sorted(Path(root).glob(HINTS)):
        for key in _hints(path.read_text(), module.normalize):
            if key not in known:
                found.append(f"{path.relative_to(root)}: no translation for the hint {key!r}")
    return found


def exercise_problems(exercises, root=ROOT, lang=LANG):
    """Every text of the exercises {number: Exercise} that the checker puts in a verdict (a
    case's label, a function argument's docstring, an output's name when it is words) with
    no entry in the catalog."""
    module = i18n(root)
    known = module.catalog(lang)
    found = []
    for number, ex in exercises.items():
        labels = [case.label for case in ex.cases]
        docs = [
            getattr(value, "__doc__", None) or "a function"
            for case in ex.cases
            for value in case.args.values()
            if callable(value)
        ]
        names = [name for name in ex.outputs if " " in name]
        for text in dict.fromkeys(labels + docs + names):
            if module.normalize(text) not in known:
                found.append(f"exercise {number}: no translation for {text!r}")
    return found


# ---------------------------------------------------------------------------- build and check


def translated(english, po):
    """The notebook `english` with its markdown cells replaced by the translations in `po`."""
    entries = {entry.msgctxt: entry for entry in po if not entry.obsolete}
    nb = copy.deepcopy(english)
    for cell in nb.cells:
        entry = entries.get(cell.get("id"))
        if translatable(cell) and entry is not None and entry.msgstr:
            cell.source = entry.msgstr
    return nb


def problems(english_path, root=ROOT, lang=LANG):
    """Every way the translated edition of `english_path` is out of step, as readable lines."""
    english_path = Path(english_path)
    po_path, zh_path = paths(english_path, root, lang)
    name = english_path.name
    english = nbformat.read(english_path, as_version=4)
    po = polib.pofile(str(po_path))
    entries = {entry.msgctxt: entry for entry in po if not entry.obsolete}
    found = []
    for cell in english.cells:
        entry, where = entries.get(cell.get("id")), f"{name}, cell {cell.get('id')}"
        if not translatable(cell):
            continue
        if entry is None or not entry.msgstr:
            found.append(f"{where}: not translated; the English begins {cell.source[:60]!r}")
        elif entry.msgid != cell.source:
            diff = difflib.unified_diff(
                entry.msgid.splitlines(),
                cell.source.splitlines(),
                "translated from",
                "English now",
                lineterm="",
                n=0,
            )
            found.append(
                f"{where}: the English changed since it was translated:\n" + "\n".join(diff)
            )
        elif "fuzzy" in entry.flags:
            found.append(f"{where}: marked fuzzy (the English changed; check the translation)")
    ids = {cell.get("id") for cell in english.cells if translatable(cell)}
    for gone in sorted(set(entries) - ids):
        found.append(f"{name}, cell {gone}: translated, but no such markdown cell in the English")
    found += _edition_problems(english, po, zh_path, name)
    module = i18n(root)
    known = module.catalog(lang)
    for cell in english.cells:
        if cell.cell_type == "code":
            for key in shown_lines(cell.source, module.normalize):
                if missing(key, known):
                    found.append(
                        f"{name}, cell {cell.get('id')}: no translation for the line "
                        f"{missing(key, known)!r}"
                    )
    return found


def _edition_problems(english, po, zh_path, name):
    if not zh_path.exists():
        return [f"{name}: {zh_path.name} is missing: python tools/translate.py build"]
    edition = nbformat.read(zh_path, as_version=4)
    ours = {c.get("id"): c.source for c in english.cells if c.cell_type != "markdown"}
    theirs = {c.get("id"): c.source for c in edition.cells if c.cell_type != "markdown"}
    found = []
    for cell_id, source in ours.items():
        if cell_id not in theirs:
            found.append(f"{name}, cell {cell_id}: a code cell of the English, missing in Chinese")
        elif theirs[cell_id] != source:
            diff = difflib.unified_diff(
                source.splitlines(), theirs[cell_id].splitlines(), "English", "Chinese",
                lineterm="", n=0,
            )  # fmt: skip
            found.append(
                f"{name}, cell {cell_id}: the code differs between the editions:\n"
                + "\n".join(diff)
            )
    for cell_id in theirs.keys() - ours.keys():
        found.append(f"{name}, cell {cell_id}: a code cell of the Chinese, not in the English")
    if found:
        found.append(f"{name}: rebuild the Chinese edition: python tools/translate.py build")
    elif _text(translated(english, po)) != zh_path.read_text(encoding="utf-8"):
        found.append(f"{name}: {zh_path} is not what build writes: python tools/translate.py build")
    return found


def _text(nb):
    """The notebook as nbformat.write writes it to a file."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def build(english_path, root=ROOT, lang=LANG):
    """Write the translated notebook (and the folder's language marker); return its path."""
    po_path, zh_path = paths(english_path, root, lang)
    english = nbformat.read(english_path, as_version=4)
    zh_path.parent.mkdir(parents=True, exist_ok=True)
    (zh_path.parent / i18n(root).MARKER).write_text(lang + "\n", encoding="utf-8")
    text = _text(translated(english, polib.pofile(str(po_path))))
    partial = zh_path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(zh_path)
    return zh_path


def update(english_path, root=ROOT, lang=LANG):
    """The .po of `english_path` made to match its markdown cells: new cells as untranslated
    entries, changed ones with the new English, marked fuzzy; entries of cells gone removed."""
    po_path, _ = paths(english_path, root, lang)
    english = nbformat.read(english_path, as_version=4)
    if po_path.exists():
        po = polib.pofile(str(po_path), wrapwidth=0)
    else:
        po = polib.POFile(wrapwidth=0)
        po.metadata = {"Language": lang, "Content-Type": "text/plain; charset=UTF-8"}
    entries = {entry.msgctxt: entry for entry in po}
    cells = [cell for cell in english.cells if translatable(cell)]
    for cell in cells:
        entry = entries.get(cell.id)
        if entry is None:
            po.append(polib.POEntry(msgctxt=cell.id, msgid=cell.source, msgstr=""))
        elif entry.msgid != cell.source:
            entry.previous_msgid, entry.msgid = entry.msgid, cell.source
            if entry.msgstr and "fuzzy" not in entry.flags:
                entry.flags.append("fuzzy")
    for gone in set(entries) - {cell.id for cell in cells}:
        po.remove(entries[gone])
    order = {cell.id: i for i, cell in enumerate(cells)}
    po.sort(key=lambda entry: order[entry.msgctxt])
    po_path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(po_path))
    return po_path


def translated_notebooks(root=ROOT, lang=LANG):
    """The English notebooks that have a translation file, in order."""
    folder = Path(root) / "notebooks"
    return [
        p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")) if paths(p, root, lang)[0].exists()
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["status", "update", "build"])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every translated one")
    args = parser.parse_args(argv)
    chosen = [p.resolve() for p in args.notebooks] or translated_notebooks()
    if args.what == "update":
        if not args.notebooks:
            parser.error("update: name the English notebooks")
        for path in chosen:
            print(f"wrote {update(path).relative_to(ROOT)}")
    elif args.what == "build":
        for path in chosen:
            print(f"wrote {build(path).relative_to(ROOT)}")
    else:
        found = [line for path in chosen for line in problems(path)] + lenet_problems()
        found += exercise_problems(EXERCISES)
        print("\n".join(found) or f"{len(chosen)} notebooks in step with their translations")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
