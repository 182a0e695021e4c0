"""Plots in the learner's language: a CJK font, and every label through the translation layer.

lenet imports this module only when the language (lenet.utils.i18n.LANGUAGE) is not English.
``install()`` then

- finds a CJK font among the system's fonts (Debian's fonts-noto-cjk, macOS's PingFang,
  Windows' Microsoft YaHei, ...) and adds it after matplotlib's font family: Latin letters and
  digits keep matplotlib's usual look and Chinese characters fall back to the CJK font, so no
  reader has to configure matplotlib;
- sends every matplotlib text (titles, axis labels, legends, category tick labels) through
  ``translate``, so that the Chinese notebooks' plotting code stays the English code;
- does the same for the label (``description``) and tooltip a notebook gives a widget.
"""

from pathlib import Path

import ipywidgets
from matplotlib import font_manager, rcParams
from matplotlib.text import Text

from lenet.utils.i18n import LANGUAGE, translate

__all__ = ["CJK_FONT_FILES", "cjk_font", "install"]

# File-name stems of CJK fonts that cover Simplified Chinese, in order of preference.
CJK_FONT_FILES = (
    "NotoSansCJK-Regular",
    "NotoSansCJKsc-Regular",
    "NotoSansSC-Regular",
    "SourceHanSansSC-Regular",
    "PingFang",
    "msyh",
    "simhei",
    "wqy-zenhei",
    "wqy-microhei",
)

_set_text = Text.set_text
_widget_init = ipywidgets.Widget.__init__
WIDGET_TEXTS = ("description", "tooltip")  # what a widget shows a learner in words


def cjk_font():
    """The family name of the first CJK font found on this system (added to matplotlib's
    font list if its cache predates the font), or None."""
    found = {Path(path).stem: path for path in font_manager.findSystemFonts()}
    for stem in CJK_FONT_FILES:
        path = found.get(stem)
        if path is None:
            continue
        if not any(f.fname == path for f in font_manager.fontManager.ttflist):
            font_manager.fontManager.addfont(path)
        names = [f.name for f in font_manager.fontManager.ttflist if f.fname == path]
        # A collection (.ttc) holds one face per region: the Simplified Chinese one, please.
        return next((n for n in names if n.endswith(" SC") and "Mono" not in n), names[0])
    return None


def _translated_set_text(self, s):
    _set_text(self, translate(s) if isinstance(s, str) else s)


def _translated_widget_init(self, **kwargs):
    for name in WIDGET_TEXTS:
        if isinstance(kwargs.get(name), str):
            kwargs[name] = translate(kwargs[name])
    _widget_init(self, **kwargs)


def install():
    """Chinese labels and a font that draws them (nothing to do in English; idempotent)."""
    if LANGUAGE == "en":
        return
    family = cjk_font()
    if family is not None and family not in rcParams["font.family"]:
        # a list of families is matplotlib's per-glyph fallback: Chinese characters that the
        # first font lacks come from the CJK font
        rcParams["font.family"] = [*rcParams["font.family"], family]
    Text.set_text = _translated_set_text
    ipywidgets.Widget.__init__ = _translated_widget_init
