"""The Chinese edition in step with the English, and the translation layer that prints it.

Every notebook with a translation file (notebooks/i18n/zh/NN_name.po) must have its Chinese
edition notebooks/zh/NN_name.ipynb exactly as tools/translate.py builds it: every markdown cell
translated from the English as it is now, the code cells identical, and every line its code
prints or writes on a plot in lenet's catalog. A test on a temporary copy proves that an edited
English cell, an edited Chinese code cell and a new printed line each make the check fail.
"""

import importlib.util
import json
import re
import shutil
import warnings
from pathlib import Path

import ipywidgets
import matplotlib
import nbformat
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import lenet
from lenet import training
from lenet.teaching import plotlang, student
from lenet.teaching.exercises import (
    EXERCISES,
    ExerciseFailed,
    check,
    in_notebook,
    or_reference,
    summary,
    verdict,
)
from lenet.training import experiment
from lenet.utils import i18n

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_spec = importlib.util.spec_from_file_location("translate", ROOT / "tools" / "translate.py")
translate_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(translate_tool)
TRANSLATED = translate_tool.translated_notebooks()


@pytest.mark.parametrize("english", TRANSLATED, ids=lambda p: p.name)
def test_chinese_edition_is_in_step_with_the_english(english):
    found = translate_tool.problems(english)
    assert not found, "\n".join(found)


def test_what_lenet_shows_a_learner_is_translated():
    found = translate_tool.lenet_problems() + translate_tool.exercise_problems(EXERCISES)
    assert not found, "\n".join(found)
    hints = (ROOT / "lenet/teaching/exercises/nb01_linear_regression.py").read_text()
    assert len(translate_tool._hints(hints, i18n.normalize)) >= 5  # the check sees the hints


def test_the_catalog_translations_take_the_same_values():
    for key, value in i18n.catalog("zh").items():
        # matplotlib draws a label with TeX in it by mathtext, whose fonts have no Chinese
        assert not ("$" in value and CJK.search(value)), f"TeX beside Chinese: {value!r}"
        assert key == i18n.normalize(key), f"not a normalized key: {key!r}"
        count = key.replace("{{", "").count("{}")
        filled = value.format(*[f"\0{i}\0" for i in range(count)])  # every value used, once
        assert all(filled.count(f"\0{i}\0") == 1 for i in range(count)), (key, value)


# ---------------------------------------------------------------------------- a temporary copy


def make_root(tmp_path):
    """A small checkout: lenet's i18n module, a catalog, an English notebook and its .po."""
    (tmp_path / "lenet" / "utils" / "locale").mkdir(parents=True)
    shutil.copy(ROOT / "lenet" / "utils" / "i18n.py", tmp_path / "lenet" / "utils" / "i18n.py")
    catalog = {"loss {}": "损失 {}", "Time per epoch, {} images": "每轮用时, {} 张图像"}
    (tmp_path / "lenet/utils/locale/zh.json").write_text(json.dumps(catalog, ensure_ascii=False))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 1 · Loss\n\nThe loss is small.\nIt goes down."),
        nbformat.v4.new_code_cell('loss = 0.5\nprint(f"loss {loss:.3f}")'),
        nbformat.v4.new_markdown_cell("## Try it\n\nTrain longer."),
    ]
    for cell, cell_id in zip(nb.cells, ("intro", "code", "tryit"), strict=True):
        cell.id = cell_id
    (tmp_path / "notebooks").mkdir()
    english = tmp_path / "notebooks" / "01_loss.ipynb"
    nbformat.write(nb, english)
    po_path = translate_tool.update(english, root=tmp_path)
    po = translate_tool.polib.pofile(str(po_path))
    for entry, text in zip(
        po,
        ("# 1 · 损失\n\n损失很小。\n它在下降。", "## 试一试（Try it）\n\n多训练几轮。"),
        strict=True,
    ):
        entry.msgstr = text
    po.save()
    translate_tool.build(english, root=tmp_path)
    return english


def edit_cell(path, cell_id, change):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.id == cell_id)
    cell.source = change(cell.source)
    nbformat.write(nb, path)


def test_a_translated_copy_is_in_step(tmp_path):
    english = make_root(tmp_path)
    assert translate_tool.problems(english, root=tmp_path) == []
    edition = nbformat.read(tmp_path / "notebooks" / "zh" / "01_loss.ipynb", as_version=4)
    assert [c.id for c in edition.cells] == ["intro", "code", "tryit"]
    assert edition.cells[0].source.startswith("# 1 · 损失")
    assert edition.cells[1].source == 'loss = 0.5\nprint(f"loss {loss:.3f}")'
    assert (tmp_path / "notebooks" / "zh" / ".lenet-lang").read_text().strip() == "zh"


def test_an_edited_english_cell_fails_naming_notebook_cell_and_change(tmp_path):
    english = make_root(tmp_path)
    edit_cell(english, "intro", lambda s: s.replace("is small", "is tiny"))
    found = translate_tool.problems(english, root=tmp_path)
    assert len(found) == 1, found
    assert found[0].startswith("01_loss.ipynb, cell intro: the English changed")
    assert "-The loss is small." in found[0] and "+The loss is tiny." in found[0]
    assert "It goes down." not in found[0]  # only what changed

    # update takes the new English and marks the entry fuzzy until a translator checks it
    translate_tool.update(english, root=tmp_path)
    found = translate_tool.problems(english, root=tmp_path)
    assert found == [
        "01_loss.ipynb, cell intro: marked fuzzy (the English changed; check the translation)"
    ]
    po = translate_tool.polib.pofile(str(tmp_path / "notebooks/i18n/zh/01_loss.po"))
    assert "is small" in po[0].previous_msgid and "is tiny" in po[0].msgid


def test_a_code_cell_that_differs_between_the_editions_fails(tmp_path):
    english = make_root(tmp_path)
    edit_cell(
        tmp_path / "notebooks" / "zh" / "01_loss.ipynb", "code", lambda s: s.replace("0.5", "0.25")
    )
    found = translate_tool.problems(english, root=tmp_path)
    assert len(found) == 2 and "cell code: the code differs between the editions" in found[0]
    assert found[1] == "01_loss.ipynb: rebuild the Chinese edition: python tools/translate.py build"
    assert "-loss = 0.5" in found[0] and "+loss = 0.25" in found[0]


def test_a_new_printed_line_without_translation_fails(tmp_path):
    english = make_root(tmp_path)
    edit_cell(
        english,
        "code",
        lambda s: s + '\nplt.title(f"Time per epoch, {n} images")\nprint("all done")',
    )
    translate_tool.build(english, root=tmp_path)
    found = translate_tool.problems(english, root=tmp_path)
    assert found == ["01_loss.ipynb, cell code: no translation for the line 'all done'"]


def test_a_table_needs_an_entry_for_each_word_cell(tmp_path):
    english = make_root(tmp_path)
    header = "print(f\"{'loss':8} {'time':>6}\")\nprint(f\"{'train':8} {loss:6.3f} {t:6.1f}\")"
    edit_cell(english, "code", lambda s: s + "\n" + header)
    translate_tool.build(english, root=tmp_path)
    found = translate_tool.problems(english, root=tmp_path)
    assert found == [
        "01_loss.ipynb, cell code: no translation for the line 'loss time'",
        "01_loss.ipynb, cell code: no translation for the line 'train {} {}'",
    ]
    catalog = tmp_path / "lenet/utils/locale/zh.json"
    entries = json.loads(catalog.read_text())
    entries.update({"loss": "损失", "time": "时间", "train": "训练"})
    catalog.write_text(json.dumps(entries, ensure_ascii=False))
    assert translate_tool.problems(english, root=tmp_path) == []  # one entry per cell will do


def test_a_new_english_cell_fails_until_translated(tmp_path):
    english = make_root(tmp_path)
    nb = nbformat.read(english, as_version=4)
    new = nbformat.v4.new_markdown_cell("A new paragraph.")
    new.id = "added"
    nb.cells.insert(1, new)
    nbformat.write(nb, english)
    found = translate_tool.problems(english, root=tmp_path)
    assert found[0].startswith("01_loss.ipynb, cell added: not translated")


@pytest.mark.parametrize("english", TRANSLATED[:1], ids=lambda p: p.name)
def test_a_real_notebook_fails_on_an_edited_english_cell(english, tmp_path):
    po_path, zh_path = translate_tool.paths(english)
    for source in (english, po_path, zh_path, *sorted((ROOT / "lenet/utils").glob("i18n.py"))):
        target = tmp_path / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    shutil.copytree(ROOT / "lenet/utils/locale", tmp_path / "lenet/utils/locale")
    copy = tmp_path / english.relative_to(ROOT)
    assert translate_tool.problems(copy, root=tmp_path) == []
    first = next(c for c in nbformat.read(copy, as_version=4).cells if c.cell_type == "markdown")
    edit_cell(copy, first.id, lambda s: s + "\n\nOne more sentence.")
    found = translate_tool.problems(copy, root=tmp_path)
    assert len(found) == 1 and f"cell {first.id}: the English changed" in found[0]
    assert "+One more sentence." in found[0]


# ---------------------------------------------------------------------------- the layer


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.setattr(i18n, "LANGUAGE", "zh")
    monkeypatch.setattr(plotlang, "LANGUAGE", "zh")
    monkeypatch.setattr(i18n, "catalog", lambda lang: CATALOG if lang == "zh" else {})
    i18n._templates.cache_clear()
    yield
    i18n._templates.cache_clear()


CATALOG = {
    "predictions agree on {} of the {} test images": "{1} 张测试图像中, {0} 的预测一致",
    "lenet {} {}": "lenet {} {}",
    "epoch": "轮次",
    "loss: {}": "损失：{}",
    "{}: loss: {}": "{}：损失：{}",
    "validation accuracy": "验证准确率",
    "a brace {{x}} stays": "花括号 {{x}} 不变",
    "weight decay {}: ends at {}": "权重衰减 {}：终点 {}",
    "steps": "步骤",
    "plain": "普通",
    "stroke width": "笔画宽度",
    "+ centre of mass": "+ 质心",
    "all but anti-aliasing": "除抗锯齿外的所有步骤",
    "ok": "通过了",
}


def test_translate_fills_values_in_and_reorders_them(chinese):
    line = "predictions agree on 99.10% of the 10,000 test images"
    assert i18n.translate(line) == "10,000 张测试图像中, 99.10% 的预测一致"
    assert i18n.translate("  lenet        98.76%     1.23") == "  lenet 98.76% 1.23"
    assert i18n.translate("epoch\nvalidation accuracy") == "轮次\n验证准确率"
    assert i18n.translate("lenet epoch 0.97") == "lenet 轮次 0.97"  # a value that is an entry
    assert i18n.translate("Done. epoch") == "Done. 轮次"  # sentence by sentence
    assert i18n.translate("loss: predictions agree on 1% of the 2 test images") == (
        "损失：2 张测试图像中, 1% 的预测一致"  # a value translated by a template
    )
    assert i18n.translate("a brace {x} stays") == "花括号 {x} 不变"
    assert i18n.translate("no entry for this line") == "no entry for this line"
    assert i18n.translate("0.25 1e-3") == "0.25 1e-3"
    assert i18n.translate("epoch", lang="en") == "epoch"


def test_a_padded_name_in_a_sentence_is_no_table(chinese):
    assert i18n.translate(f"{'plain':9}: loss: 0.5") == "普通：损失：0.5"


def test_a_value_may_hold_a_number_ending_in_a_point(chinese):
    # numpy prints [2.   0.98]: the point of "2." ends no sentence
    assert (
        i18n.translate("weight decay 0.5: ends at [2.   0.98]") == "权重衰减 0.5：终点 [2.   0.98]"
    )


def _cell_columns(line):
    """The display column where each cell of a table row starts."""
    return [i18n.width(line[: m.start()]) for m in re.finditer(r"\S+(?: \S+)*", line)]


def test_a_table_row_is_translated_cell_by_cell_in_its_columns(chinese):
    rows = [f"{'steps':24} {'plain':>7} {'stroke width':>13}"] + [
        f"{name:24} {accuracy:7.1%} {width:13.2f}"
        for name, accuracy, width in (
            ("+ centre of mass", 0.92, 1.69),
            ("all but anti-aliasing", 0.905, 1.88),
        )
    ]
    translated = [i18n.translate(row) for row in rows]
    assert [row.split("  ")[0] for row in translated] == ["步骤", "+ 质心", "除抗锯齿外的所有步骤"]
    assert translated[0].split() == ["步骤", "普通", "笔画宽度"]
    assert translated[1].split()[2:] == ["92.0%", "1.69"]
    for row, chinese_row in zip(rows, translated, strict=True):
        assert _cell_columns(chinese_row) == _cell_columns(row), chinese_row  # still aligned
    assert i18n.width("笔画 width") == 10
    # a cell wider than its English takes from the gap after it, two spaces kept
    assert i18n.translate("ok      0.5  1") == "通过了  0.5  1"
    assert i18n.translate("ok  0.5  1") == "通过了  0.5  1"
    assert i18n.translate("steps 1  plain  0.5") == "steps 1  普通   0.5"
    assert i18n.translate("adam      98.76%") == "adam      98.76%"  # no cell known


def test_fill_puts_the_values_in_as_they_are(chinese):
    assert i18n.translate("loss: epoch") == "损失：轮次"  # a value that is a word
    assert i18n.fill("loss: {}", "epoch") == "损失：epoch"  # a value that is code (a name)
    assert i18n.fill("lenet {} {}", 1, 2) == "lenet 1 2"
    assert i18n.fill("no entry: {}", "epoch") == "no entry: epoch"
    assert i18n.fill("loss: {}", "epoch", lang="en") == "loss: epoch"


def test_print_goes_through_the_catalog(chinese, capsys):
    i18n.translated_print("predictions agree on", "100.00% of the 10 test images", end="!\n")
    assert capsys.readouterr().out == "10 张测试图像中, 100.00% 的预测一致!\n"


def test_the_language_comes_from_lenet_lang_or_the_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LENET_LANG", raising=False)
    assert i18n.language() == "en"
    (tmp_path / ".lenet-lang").write_text("zh\n")
    assert i18n.language() == "zh"
    monkeypatch.setenv("LENET_LANG", "en")
    assert i18n.language() == "en"
    monkeypatch.setenv("LENET_LANG", "zh_CN.UTF-8")
    assert i18n.language() == "zh"
    monkeypatch.setenv("LENET_LANG", "fr")
    with pytest.raises(ValueError, match="LENET_LANG: expected one of en, zh, got 'fr'"):
        i18n.language()


def test_chinese_plots_have_a_cjk_font_and_translated_labels(chinese, monkeypatch, tmp_path):
    if plotlang.cjk_font() is None:
        pytest.skip("no CJK font on this machine: apt-get install fonts-noto-cjk")
    monkeypatch.setattr(Text, "set_text", Text.set_text)  # undone after the test
    with matplotlib.rc_context():
        plotlang.install()
        fig = Figure(figsize=(4, 3))
        ax = fig.subplots()
        ax.plot([1, 2, 3], [0.9, 0.95, 0.97], label="validation accuracy")
        ax.set(xlabel="epoch", title="卷积与池化 (LeNet-5)")
        ax.legend()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # matplotlib warns of every glyph it cannot draw
            fig.savefig(tmp_path / "chinese.png")
    assert ax.get_xlabel() == "轮次"
    assert ax.get_legend().get_texts()[0].get_text() == "验证准确率"
    assert (tmp_path / "chinese.png").stat().st_size > 0


def test_chinese_widgets_have_translated_labels(chinese, monkeypatch):
    monkeypatch.setattr(ipywidgets.Widget, "__init__", ipywidgets.Widget.__init__)  # undone
    monkeypatch.setattr(Text, "set_text", Text.set_text)
    with matplotlib.rc_context():
        plotlang.install()
    slider = ipywidgets.FloatLogSlider(value=0.1, description="validation accuracy")
    button = ipywidgets.Button(description="epoch", tooltip="epoch")
    assert slider.description == "验证准确率"  # notebook 2's slider is made by its own code
    assert button.description == button.tooltip == "轮次"
    assert ipywidgets.Button(description="no entry").description == "no entry"


def test_the_chinese_student_edition(tmp_path):
    source, readme = student.language_edition("zh")
    assert source == ROOT / "notebooks" / "zh" and readme == student.README_ZH
    written = student.write(tmp_path / "edition", source=source, readme=readme)
    names = {w.path.name for w in written}
    assert {".lenet-lang", "README.md"} <= names and any(n.endswith(".ipynb") for n in names)
    assert (tmp_path / "edition" / ".lenet-lang").read_text().strip() == "zh"
    reveal, yours = (
        i18n.translate(note, "zh") for note in (student.REVEAL_NOTE, student.STUDENT_NOTE)
    )
    assert reveal != student.REVEAL_NOTE and yours != student.STUDENT_NOTE  # both translated
    text = "".join((tmp_path / "edition" / n).read_text() for n in names if n.endswith(".ipynb"))
    assert reveal not in text and "BEGIN SOLUTION" not in text
    assert yours in text and "NotImplementedError()" in text  # the note and the placeholders
    with pytest.raises(ValueError, match="lang: expected one of en, zh, got 'fr'"):
        student.language_edition("fr")


# ---------------------------------------------------------------------------- the checker


def _slips(ex):
    """Wrong answers to exercise ex that provoke each kind of verdict the checker gives."""

    def answer(change):
        def wrong(*args):
            out = ex.reference(*args)
            return tuple(map(change, out)) if isinstance(out, tuple) else change(out)

        return wrong

    def raises(*args):
        raise ValueError("operands could not be broadcast together")

    def in_place(*args):
        for arg in args:
            if isinstance(arg, np.ndarray) and arg.size:
                arg[...] = 0
        return ex.reference(*args)

    slips = [mistake.wrong for mistake in ex.mistakes if mistake.wrong is not None]
    if ex.prepare is not None:  # a class or a loop: its mistakes are written as the learner's
        return slips
    return slips + [
        answer(lambda o: np.asarray(o) * 1.01),
        answer(lambda o: -np.asarray(o) - 1),
        answer(lambda o: -np.asarray(o)),
        answer(lambda o: np.asarray(o).T),
        answer(lambda o: np.asarray(o)[..., :1]),
        answer(lambda o: np.asarray(o) * np.inf),
        answer(lambda o: np.asarray(o).tolist()),
        answer(lambda o: np.asarray(o) * 1j),
        answer(lambda o: np.asarray(o) + 0.5),
        answer(lambda o: "text"),
        lambda *args: None,
        lambda *args: (1.0,) * (len(ex.outputs) + 1),
        raises,
        in_place,
        ex.reference(*ex.cases[0].args.values()),  # the result, not the function
    ]


def _still_english(text):
    """The lines of a verdict, as print shows it in Chinese, that are English words without
    Chinese (a traceback's lines, the learner's own code, are left out)."""
    lines = i18n.translate(text).split("\n")
    return [
        line
        for line in lines
        if not line.startswith("    ") and re.search("[A-Za-z]{3,}", line) and not CJK.search(line)
    ]


@pytest.fixture
def chinese_checker(monkeypatch):
    monkeypatch.setattr(i18n, "LANGUAGE", "zh")


def test_the_checkers_verdicts_are_chinese(chinese_checker):
    english = []
    for number, ex in EXERCISES.items():
        for slip in _slips(ex):
            result = verdict(number, slip)  # a transposed vector passes
            english += _still_english(result.message) + _still_english(result.hint)
    assert not english, "\n".join(dict.fromkeys(english))


def _placeholder(pred, target):
    raise NotImplementedError


def test_the_summary_of_the_exercises_is_chinese(chinese_checker, capsys):
    verdict("1.1", EXERCISES["1.1"].mistakes[0].wrong)  # failed, with its hint
    verdict("5.3", EXERCISES["5.3"].reference)  # passed, 2 points
    verdict("1.2", _placeholder)  # not attempted
    shown = {}
    for notebook in sorted({int(number.split(".")[0]) for number in EXERCISES}):
        summary(notebook)
        rows = [i18n.translate(line) for line in capsys.readouterr().out.splitlines()]
        assert len(rows) == len(in_notebook(notebook)) + 2
        assert CJK.search(rows[0]) and CJK.search(rows[-1])  # the title and the count
        for ex, row in zip(in_notebook(notebook), rows[1:-1], strict=True):
            shown[ex.number] = re.split(" {2,}", row.strip())[2:]  # points, status (and hint)
    assert all(re.fullmatch(r"\d 分", points) for points, _ in shown.values()), shown
    assert shown["1.1"][1].startswith("未通过: 你把平方误差加起来了")
    assert shown["5.3"] == ["2 分", "通过"] and shown["1.2"] == ["1 分", "尚未尝试"]


def test_a_function_named_like_a_word_keeps_its_name(chinese_checker, capsys):
    reference = EXERCISES["9.2"].reference

    def accuracy(logits, labels):  # "accuracy" is also a word of the catalog: 准确率
        return reference(logits, labels)

    def wrong(logits, labels):
        return 2

    wrong.__name__ = "accuracy"
    assert verdict("9.2", accuracy).message.startswith("✓ 练习 9.2（accuracy）")
    assert or_reference("9.2", wrong) is reference
    shown = i18n.translate(capsys.readouterr().out.strip())
    assert shown == "（练习 9.2 还没有通过检查：下面用 lenet 的 accuracy 代替。）"


def test_nbgraders_feedback_is_chinese(chinese_checker, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseFailed) as failed:
        check("1.1", EXERCISES["1.1"].mistakes[0].wrong)
    lines = str(failed.value).split("\n")  # as nbgrader shows it: no print translates it
    assert all(CJK.search(line) for line in lines), lines
    assert lines[1] == "  损失 应为 0.896046，得到的是 4.48023" and lines[2].startswith("  提示：")


def test_the_checks_catch_a_missing_entry(chinese_checker, monkeypatch):
    known = i18n.catalog("zh")
    ex = EXERCISES["3.1"]
    label, output = ex.cases[0].label, "expected {} of shape {}, got shape {}"
    assert label in known and output in known
    without = {key: value for key, value in known.items() if key not in (label, output)}
    monkeypatch.setattr(translate_tool, "i18n", lambda root: _Module(without))
    assert translate_tool.exercise_problems({"3.1": ex}) == [
        f"exercise 3.1: no translation for {label!r}"
    ]
    monkeypatch.setattr(i18n, "catalog", lambda lang: without)
    i18n._templates.cache_clear()
    try:
        wrong = verdict("3.1", lambda x, W, dout: (dout @ W.T, x.T @ dout, dout.sum(axis=0)[:1]))
        assert _still_english(wrong.message) == ["  expected db of shape (3,), got shape (1,)"]
        assert label in wrong.message  # left in English: the catalog has no entry
    finally:
        i18n._templates.cache_clear()


class _Module:
    """tools/translate.py's view of lenet.utils.i18n, with another catalog."""

    def __init__(self, known):
        self.catalog = lambda lang: known
        self.normalize = i18n.normalize


def test_a_runs_description_and_its_divergence_read_in_chinese():
    for distort in (False, True):
        for epochs in (1, 3):
            line = i18n.translate(
                experiment.Settings(distort=distort, epochs=epochs).describe(), "zh"
            )
            assert CJK.search(line) and not re.search("distorted|epoch|batch|pool", line), line
    x, y = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32), np.arange(8) % 3
    for lr, decay in ((1e39, 0.0), (0.05, 100.0)):  # a step too large; a decay that overshoots
        model = lenet.Sequential(lenet.Linear(4, 3, rng=0))
        optimizer = lenet.SGD(model, lr=lr, momentum=0.9, weight_decay=decay)
        with pytest.raises(training.TrainingDiverged) as err:
            training.fit(model, optimizer, (x, y), 50, batch_size=2, rng=0, progress=None)
        line = i18n.translate(str(err.value), "zh")
        assert CJK.search(line) and not re.search("[A-Za-z]{4,}", line), line
