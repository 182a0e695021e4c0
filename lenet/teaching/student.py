"""The student edition: the notebooks with every exercise left for the learner to write.

    python -m lenet student OUTDIR [--force]

Each notebook becomes what nbgrader's ``generate_assignment`` releases from it, so that a
lecturer can grade the folder with nbgrader:

- every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes nbgrader's stub
  at the same indentation (``# YOUR CODE HERE`` then ``raise NotImplementedError()``, or
  ``YOUR ANSWER HERE`` in markdown), and a solution cell without markers becomes the stub;
- regions between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are removed;
- cells are locked and stamped with checksums as nbgrader does, its metadata stays,
  outputs are cleared.

Two changes of our own: a solution cell is no longer folded away, and REVEAL_NOTE (how to see
our solution) becomes STUDENT_NOTE (what to do).

The folder is the learner's to take away: README.md says how to start, and the marker file
lenet.utils.config.STUDENT_MARKER makes the notebooks run there keep their models in its
checkpoints/. Nothing a learner wrote is lost: the folder the notebooks come from is refused,
each file is written atomically, and a file the edition would replace that differs from what it
writes is kept first under the next free numbered name (05_convolution.1.ipynb).
"""

import copy
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from lenet.utils import files, i18n
from lenet.utils.config import STUDENT_MARKER, notebooks_dir

__all__ = [
    "OutdirError",
    "README",
    "README_ZH",
    "REVEAL_NOTE",
    "STUDENT_NOTE",
    "Written",
    "language_edition",
    "student_cell",
    "student_notebook",
    "write",
]

# nbgrader's default stubs (ClearSolutions.code_stub["python"] and .text_stub).
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
TEXT_STUB = ["YOUR ANSWER HERE"]

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

README = f"""\
# LeNet-5 from scratch: your notebooks

This folder is the student edition of lenet's notebooks, made by `python -m lenet student`.
Every exercise is a function for you to write, in the cell that says `# YOUR CODE HERE`. The
folder is yours to keep, copy and move: besides these files it needs only the `lenet` package
installed in your Python.

## How to start

In a terminal, in this folder:

    jupyter lab

then open `01_linear_regression.ipynb` and work through the notebooks in order. Below each
exercise a check cell runs your function on small cases and prints ✓, or which case differs
and the usual mistake behind it, or "not attempted yet". Until your function passes, the cells
after it use lenet's own version, so every notebook runs from top to bottom.

## Quick mode

From notebook 9 on, the notebooks train networks on all 60,000 MNIST digits, minutes each. To
run them first on small subsets with few epochs, start JupyterLab with

    LENET_QUICK=1 jupyter lab

## Where things go

- Your models go to `checkpoints/` in this folder: notebook 9 saves
  `checkpoints/lenet5_notebook.npz` there and notebook 12 reads your handwriting with it. The
  hidden file `{STUDENT_MARKER}` tells lenet that this folder is a student edition: keep it
  beside the notebooks. (`LENET_CHECKPOINT_DIR=/another/folder` puts the models there instead.)
- `python -m lenet train`, run in this folder, saves there too: `--model lenet1998` writes
  `checkpoints/lenet1998.npz`, the model notebook 12's last "Try it" loads.
- MNIST is read from `$LENET_DATA_DIR` if it is set, else from lenet's own data folder
  (`python -m lenet train --help` names it), and downloaded there once if it is missing. That is
  the only thing the notebooks write outside this folder.

## A fresh copy of a notebook

Run `python -m lenet student . --force` in this folder. Every file you changed is kept first
under the next free numbered name (`05_convolution.ipynb` becomes `05_convolution.1.ipynb`),
and the command says which.
"""


README_ZH = f"""\
# 从零实现 LeNet-5：你的笔记本

这个文件夹是 lenet 笔记本的学生版，由 `python -m lenet student --lang zh` 生成。每个练习都是
一个要你来写的函数，写在标有 `# YOUR CODE HERE`（在这里写你的代码）的单元格里。这个文件夹归你
保存、复制和移动：除了这些文件，它只需要你的 Python 中装有 `lenet` 包。

## 怎样开始

在终端里、在这个文件夹中运行

    jupyter lab

然后打开 `01_linear_regression.ipynb`，按顺序学习这些笔记本。每个练习下面有一个检查单元格，
它在几个小例子上运行你的函数，打印 ✓，或者指出哪个例子不同以及背后常见的错误，或者“尚未尝试”。
在你的函数通过之前，后面的单元格使用 lenet 自己的版本，所以每本笔记本都能从头运行到尾。

## 快速模式

从笔记本 9 开始，笔记本要在全部 60,000 个 MNIST 数字上训练网络，每次需要几分钟。想先在小的
子集上、用很少的轮数运行它们，就这样启动 JupyterLab：

    LENET_QUICK=1 jupyter lab

## 文件放在哪里

- 你的模型保存在这个文件夹的 `checkpoints/` 中：笔记本 9 把 `checkpoints/lenet5_notebook.npz`
  存在那里，笔记本 12 用它来识别你的手写数字。隐藏文件 `{STUDENT_MARKER}` 告诉 lenet 这个文件夹
  是学生版，`{i18n.MARKER}` 告诉它用中文：请把它们留在笔记本旁边。
  （`LENET_CHECKPOINT_DIR=/另一个/文件夹` 会把模型放到那里。）
- 在这个文件夹中运行的 `python -m lenet train` 也保存在这里：`--model lenet1998` 写出
  `checkpoints/lenet1998.npz`，也就是笔记本 12 最后一个“试一试”加载的模型。
- MNIST 从 `$LENET_DATA_DIR` 读取（如果设置了的话），否则从 lenet 自己的数据文件夹读取
  （`python -m lenet train --help` 会给出它的位置），缺少时会下载一次。这是笔记本在这个文件夹之外
  写入的唯一东西。

## 重新取一份笔记本

在这个文件夹中运行 `python -m lenet student . --force --lang zh`。你改过的每个文件都会先以下一个
空闲的编号名保存（`05_convolution.ipynb` 变成 `05_convolution.1.ipynb`），命令会告诉你是哪些。
"""


def language_edition(lang):
    """(the notebooks' folder, the README) of the student edition in `lang` ('en' or 'zh')."""
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"lang: expected one of {', '.join(i18n.LANGUAGES)}, got {lang!r}")
    if lang == "en":
        return notebooks_dir(), README
    return notebooks_dir() / lang, README_ZH


class OutdirError(ValueError):
    """OUTDIR cannot take the student edition; nothing has been written."""


@dataclass(frozen=True)
class Written:
    """One file of the edition: its path, and where the earlier, different file went (or None)."""

    path: Path
    kept: Path | None = None


def _replace_regions(source, name, stub, where):
    """(source, found): every region BEGIN name ... END name replaced by the stub lines.

    nbgrader's rule: a line containing the delimiter opens or closes a region, and the stub
    takes that line's indentation.
    """
    begin, end = f"BEGIN {name}", f"END {name}"
    out, inside, found = [], False, False
    for line in source.split("\n"):
        if begin in line:
            if inside:
                raise ValueError(f"{where}: '### {begin}' inside another one")
            inside = found = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + stub_line for stub_line in stub]
        elif end in line:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '### {begin}' without '### {end}'")
    return "\n".join(out), found


def _kinds(grader):
    """(grade, solution, locked) of a cell's nbgrader metadata, as nbgrader.utils reads them."""
    grade, solution = grader.get("grade", False), grader.get("solution", False)
    return grade, solution, not solution and (grade or grader.get("locked", False))


def _lock_and_stamp(cell, source, where):
    """Lock the cell as nbgrader's LockCells does by default, and stamp it as its
    ComputeChecksums does (the checksum `nbgrader validate` compares a locked cell with)."""
    metadata = cell["metadata"]
    grader = metadata.get("nbgrader")
    if grader is None:
        return
    grade, solution, locked = _kinds(grader)
    if solution:
        metadata["deletable"] = False
    elif locked:
        metadata["deletable"] = metadata["editable"] = False
    if grade or solution or locked:
        needed = ("grade_id", "points") if grade else ("grade_id",)
        if missing := [key for key in needed if key not in grader]:
            raise ValueError(f"{where}: nbgrader metadata without {' and '.join(missing)}")
        parts = [source, cell["cell_type"], str(grade), str(solution), str(locked)]
        parts += [grader["grade_id"], *([str(float(grader["points"]))] if grade else [])]
        digest = hashlib.md5("".join(parts).encode("utf-8"), usedforsecurity=False)
        grader["checksum"], grader["cell_type"] = digest.hexdigest(), cell["cell_type"]


def student_cell(cell, where="a cell"):
    """A copy of one notebook cell (nbformat 4 dict) as the student edition has it."""
    cell = copy.deepcopy(cell)
    metadata = cell["metadata"]
    grader = metadata.get("nbgrader", {})
    source = "".join(cell["source"])
    if cell["cell_type"] == "markdown":
        for lang in i18n.LANGUAGES:  # the notes as the Chinese edition words them, too
            source = source.replace(
                i18n.translate(REVEAL_NOTE, lang), i18n.translate(STUDENT_NOTE, lang)
            )
    stub = CODE_STUB if cell["cell_type"] == "code" else TEXT_STUB
    source, replaced = _replace_regions(source, "SOLUTION", stub, where)
    if replaced and not grader.get("solution"):
        raise ValueError(f"{where}: a solution region in a cell that is not a solution cell")
    if grader.get("solution") and not replaced:
        source = "\n".join(stub)
    source, removed = _replace_regions(source, "HIDDEN TESTS", [], where)
    if removed and not grader.get("grade"):
        raise ValueError(f"{where}: hidden tests in a cell that is not a grade cell")
    if replaced or grader.get("solution"):
        metadata.get("jupyter", {}).pop("source_hidden", None)
        if metadata.get("jupyter") == {}:
            del metadata["jupyter"]
    _lock_and_stamp(cell, source, where)
    cell["source"] = source.splitlines(keepends=True)
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
        metadata.pop("collapsed", None)
        metadata.pop("scrolled", None)
    return cell


def student_notebook(nb, name="a notebook"):
    """A copy of a notebook (nbformat 4 JSON as a dict) turned into its student edition."""
    nb = copy.deepcopy(nb)
    nb["cells"] = [student_cell(c, f"{name}, cell {k}") for k, c in enumerate(nb["cells"])]
    nb["metadata"].pop("celltoolbar", None)
    return nb


def _edition(source, readme):
    """{file name: bytes} of the whole edition, made before anything is written."""
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(
            f"no notebooks in {source}: this installation of lenet has none to make the "
            "student edition from; reinstall it from lenet's source folder (the one with "
            "pyproject.toml and notebooks/): run `pip install .` there, then this command again"
        )
    # The marker first: a folder that a failed write leaves half-made is still the learner's.
    edition = {
        STUDENT_MARKER: (
            "This folder is a student edition of lenet's notebooks (python -m lenet student):\n"
            "the notebooks run here keep their models in checkpoints/ here.\n"
        ),
        "README.md": readme,
    }
    if (source / i18n.MARKER).is_file():  # the notebooks' language (notebooks/zh has one)
        edition[i18n.MARKER] = (source / i18n.MARKER).read_text(encoding="utf-8")
    for path in notebooks:
        nb = student_notebook(json.loads(path.read_text(encoding="utf-8")), path.name)
        edition[path.name] = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    return {name: text.encode("utf-8") for name, text in edition.items()}


def _refuse_source(outdir, source):
    """OutdirError when outdir is the folder the notebooks come from, or holds it."""
    if not outdir.exists():
        return
    for folder in (source, *source.parents):
        if folder.exists() and os.path.samefile(outdir, folder):
            if folder == source:
                raise OutdirError(
                    f"{outdir} is the folder the student edition is made from: writing there "
                    "would replace the solutions in its notebooks; choose another folder"
                )
            raise OutdirError(
                f"{outdir} holds lenet's own notebooks ({source}): the student edition "
                "belongs in a folder of its own; choose another folder"
            )


def _check_outdir(outdir, force, names):
    """OutdirError, before anything is written, when outdir cannot take the edition."""
    if outdir.exists() and not outdir.is_dir():
        raise OutdirError(f"{outdir} is a file, not a folder")
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise OutdirError(f"{outdir} exists and is not empty (add --force to write into it)")
    try:
        for name in names:
            target = outdir / name
            if target.exists() and not target.is_file():
                raise OutdirError(f"{target} is not a file: move it away first")
            if target.suffix == ".ipynb" and target.is_file():
                if b"BEGIN SOLUTION" in target.read_bytes():
                    raise OutdirError(
                        f"{target} holds solutions (nbgrader's ### BEGIN SOLUTION): {outdir} "
                        "is a source of the notebooks, not a student edition; choose another "
                        "folder"
                    )
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutdirError(f"cannot write to {outdir}: {err.strerror or err}") from None
    try:
        files.check_writable(outdir / STUDENT_MARKER)
    except OSError as err:
        raise OutdirError(str(err)) from None


def _put(target, data):
    """Write data to target atomically; returns where a different earlier file went, or None."""
    kept = None
    try:
        with files.atomic_write(target) as f:
            f.write(data)
            f.flush()  # a full disk fails here, before the earlier file is moved
            if target.exists():
                kept = files.move_aside(target)
    except OSError as err:
        if kept is None:
            raise
        raise OSError(
            f"{err.strerror or err}; your earlier {target.name} is kept as {kept.name}"
        ) from err
    return kept


def write(outdir, force=False, source=None, readme=README):
    """Write the student edition of the notebooks in `source` to outdir; a list of Written.

    source defaults to lenet.utils.config.notebooks_dir() (a checkout's notebooks/, else the
    copy installed with lenet); another language's notebooks (notebooks/zh) come with their
    own readme, and the edition carries their folder's language file (lenet.utils.i18n.MARKER).

    OutdirError (nothing written) when outdir is a file, the source folder or holds it, holds
    notebooks with solutions, is not empty without force, or cannot be written. OSError naming
    the file and the cause when a write fails half-way: every file is then whole, the earlier
    ones new, the rest as they were.
    """
    outdir, source = Path(outdir), Path(notebooks_dir() if source is None else source)
    _refuse_source(outdir, source.resolve())
    edition = _edition(source, readme)
    _check_outdir(outdir, force, edition)
    written = []
    for name, data in edition.items():
        target = outdir / name
        if target.is_file() and target.read_bytes() == data:
            written.append(Written(target))
            continue
        try:
            written.append(Written(target, _put(target, data)))
        except OSError as err:
            raise OSError(
                f"cannot write {target}: {err.strerror or err} ({len(written)} of "
                f"{len(edition)} files written before it; no file is half-written)"
            ) from err
    return written
