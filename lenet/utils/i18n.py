"""The one translation layer: what lenet and the notebooks print, in the learner's language.

The language is LENET_LANG (``en`` or ``zh``; ``zh_CN.UTF-8`` counts as ``zh``), else the
language named in a file ``.lenet-lang`` in the working directory (a Chinese notebook's kernel
runs in notebooks/zh/, which holds one), else English.

The catalog lenet/utils/locale/zh.json maps English lines to Chinese ones. A key is a template:
``{}`` stands for a value that is filled in when the line is printed, and the Chinese side may
reorder the values with ``{0}``, ``{1}``, ... Keys are single lines, with runs of spaces
written as one (a printed line matches whatever its padding). For example

    "predictions agree on {} of the {} test images": "{1} 张测试图像中, {0} 的预测一致"

translates the line ``predictions agree on 100.00% of the 10,000 test images``. A value that is
itself a line of the catalog (a run's name printed in a title) is translated too, and a line of
several sentences without an entry of its own is translated sentence by sentence. Where a value
must stay as it is (a learner's function named ``accuracy``), ``fill(template, *values)``
translates the template alone before the values go in.

A row of an aligned table (cells two or more spaces apart, as ``f"{name:24} {acc:7.1%}"``
prints them) without an entry of its own is translated cell by cell, each cell starting in the
display column it started in (a Chinese character is two columns wide), so the table stays
aligned: its header and its rows need one entry per word cell (``"steps": "步骤"``), not one per
line. A table whose cells hold names that are code (a function called ``accuracy``) translates
its word cells itself and pads them with ``ljust``; its rows then hold Chinese and are left as
they are.

The Chinese notebooks run the same code cells as the English ones, so in Chinese mode
``install()`` sends every ``print`` through ``translate`` (lenet's own messages included); the
plots get their labels the same way (lenet.teaching.plotlang). A line without a catalog entry
prints as written; tests/test_translations.py checks that every line a notebook prints has one.
"""

import builtins
import functools
import json
import os
import re
import string
import unicodedata
from pathlib import Path

__all__ = [
    "LANGUAGE",
    "LANGUAGES",
    "catalog",
    "fill",
    "install",
    "language",
    "ljust",
    "normalize",
    "translate",
    "width",
]

LANGUAGES = ("en", "zh")
MARKER = ".lenet-lang"  # a file in the working directory naming the language of its notebooks
LOCALE = Path(__file__).resolve().parent / "locale"
_LETTERS = re.compile(r"[A-Za-z]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_GAP = re.compile(r" {2,}")  # between the cells of a table row


def language():
    """'en' or 'zh': from LENET_LANG, else from ./.lenet-lang, else 'en'."""
    value = os.environ.get("LENET_LANG", "").strip()
    if not value and (Path.cwd() / MARKER).is_file():
        value = (Path.cwd() / MARKER).read_text(encoding="utf-8").strip()
    code = re.split(r"[_.-]", value.lower(), maxsplit=1)[0] or "en"
    if code not in LANGUAGES:
        raise ValueError(f"LENET_LANG: expected one of {', '.join(LANGUAGES)}, got {value!r}")
    return code


LANGUAGE = language()


def normalize(template):
    """A catalog key: one line, runs of whitespace written as one space, no space at the ends."""
    return " ".join(template.split())


@functools.cache
def catalog(lang):
    """{English template: translation} for `lang` ({} for English)."""
    if lang == "en":
        return {}
    return json.loads((LOCALE / f"{lang}.json").read_text(encoding="utf-8"))


def _pattern(key):
    """A regular expression matching a printed line of the template `key`, values as groups."""
    parts, fields = [], list(string.Formatter().parse(key))
    for k, (literal, field, _, _) in enumerate(fields):
        parts.append(r"\s+".join(re.escape(word) for word in literal.split(" ")))
        if field is not None and k == len(fields) - 1:
            parts.append("(.*?)")  # a value at the end may be whole sentences (a verdict)
        elif field is not None:
            # one value never spans a sentence's end (a number's point, as numpy prints
            # [0. 1.], is none)
            parts.append(r"((?:(?!(?<!\d)[.!?]\s).)*?)")
    return re.compile(r"\s*" + "".join(parts) + r"\s*", re.DOTALL)


@functools.cache
def _templates(lang):
    """(longest literal word, pattern, translation) for each key with values, longest first."""
    found = []
    for key, translated in catalog(lang).items():
        parsed = list(string.Formatter().parse(key))
        if all(field is None for _, field, _, _ in parsed):
            continue  # looked up exactly
        words = " ".join(literal for literal, _, _, _ in parsed).split()
        anchor = max(words, key=len) if words else ""
        found.append((len("".join(words)), anchor, _pattern(key), translated))
    found.sort(key=lambda item: -item[0])
    return [(anchor, pattern, translated) for _, anchor, pattern, translated in found]


def _exact(text, lang):
    """The catalog's translation of `text` as a whole (a key without values), or None."""
    found = catalog(lang).get(normalize(text).replace("{", "{{").replace("}", "}}"))
    return None if found is None else found.replace("{{", "{").replace("}}", "}")


def _line(line, lang):
    if not _LETTERS.search(line):
        return line
    indent = line[: len(line) - len(line.lstrip())]
    exact = _exact(line, lang)
    if exact is not None:
        return indent + exact
    row = _row(line, lang, whole=True)  # before the templates: "{} s per epoch" is no header
    if row is not None:
        return row
    for anchor, pattern, translated in _templates(lang):
        if anchor in line:
            match = pattern.fullmatch(line)
            if match:
                # a value that is itself a line of the catalog (a run's name in a title, a
                # verdict in a sentence) is translated too; values are shorter than the line
                values = [_line(v.strip(), lang) for v in match.groups()]
                return indent + translated.format(*values)
    row = _row(line, lang, whole=False)
    if row is not None:
        return row
    sentences = _SENTENCE_END.split(line.strip())
    if len(sentences) > 1:  # a paragraph of sentences: each has its own entry
        translated = [_line(sentence, lang) for sentence in sentences]
        if translated != sentences:
            return indent + " ".join(translated)
    return line


def width(text):
    """The columns `text` takes on a terminal: 2 for a wide (CJK) character, 0 for a mark."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def ljust(text, columns):
    """`text` padded with spaces to `columns` display columns (str.ljust counts characters)."""
    return text + " " * (columns - width(text))


def _cells(line):
    """(start, text) of each cell of a table row: the gaps of two or more spaces outside
    brackets (numpy prints [2.   0.98] as one value) and before no punctuation (a padded name
    in a sentence, f"{name:12}: x = {x}", is no table)."""
    cells, start = [], len(line) - len(line.lstrip())
    for gap in _GAP.finditer(line, start):
        before = line[: gap.start()]
        opened = sum(before.count(c) for c in "([{") - sum(before.count(c) for c in ")]}")
        if not opened and not line.startswith((":", ",", ";", ".", ")"), gap.end()):
            cells.append((start, line[start : gap.start()]))
            start = gap.end()
    tail = line[start:].rstrip()
    return cells + [(start, tail)] if tail else cells


def _row(line, lang, whole):
    """A table row translated cell by cell, each cell where it started, or None if no cell
    has an entry (whole: if a cell with words has none). A wider cell takes from the gap after
    it, keeping two spaces. A row with wide characters was laid out in its language by the
    code that made it (a name that is code, a function called accuracy, stays as it is): None."""
    cells = _cells(line)
    if len(cells) < 2 or width(line) > len(line):
        return None
    out, changed = "", False
    for start, text in cells:
        translated = _line(text, lang) if _LETTERS.search(text) else text
        if whole and translated == text and _LETTERS.search(text) and _exact(text, lang) is None:
            return None
        changed = changed or translated != text
        gap = width(line[:start]) - width(out)
        out += " " * (max(gap, 2) if out else gap) + translated
    return out if changed else None


def translate(text, lang=None):
    """`text` in `lang` (default: LANGUAGE), line by line; a line without an entry unchanged."""
    lang = LANGUAGE if lang is None else lang
    if lang == "en" or not isinstance(text, str):
        return text
    return "\n".join(_line(line, lang) for line in text.split("\n"))


def fill(template, *values, lang=None):
    """`template`'s translation with `values` put in as they are: a name that is code
    (a function called ``accuracy``) is not translated as a word would be."""
    lang = LANGUAGE if lang is None else lang
    return catalog(lang).get(normalize(template), template).format(*values)


_print = builtins.print


def translated_print(*values, sep=" ", end="\n", file=None, flush=False):
    """print, with the joined text translated into LANGUAGE."""
    text = (" " if sep is None else sep).join(str(value) for value in values)
    _print(translate(text), end=end, file=file, flush=flush)


def install():
    """In a language other than English, every print goes through translate (idempotent)."""
    if LANGUAGE != "en":
        builtins.print = translated_print
