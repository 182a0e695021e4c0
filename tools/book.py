"""The series for readers and lecturers: a static website and reveal.js slides, offline.

    python tools/book.py site   [--out site]      [NOTEBOOK ...]   # what `make book` runs
    python tools/book.py slides [--out notebooks] [NOTEBOOK ...]   # what `make slides` runs

Without NOTEBOOK arguments, every notebooks/NN_*.ipynb is built, in order, and every Chinese
one, notebooks/zh/NN_*.ipynb (tools/translate.py writes them): the Chinese pages go to site/zh/
and the Chinese slides to notebooks/zh/, and every page has a link to its other language. Both
commands first execute the notebooks (quick mode unless LENET_QUICK=0, read by
lenet.utils.config) and keep each executed copy in build/executed/ under a key made of the
notebook, the lenet package's sources and the quick-mode switch: `make book slides` runs every
notebook once, and a second build only renders again.

The pages are nbconvert's HTML and reveal.js exports with the small templates in
tools/templates/. Everything a page loads is a local file copied next to it: MathJax 2 from the
jupyter-server-mathjax package and reveal.js from the sphinx-revealjs package (both installed
from PyPI by the `docs` extra). Widgets are replaced by a static view of their last state
before export (see static_widgets), so no page needs a widget manager from a CDN.
"""

import argparse
import hashlib
import html
import importlib.util
import os
import re
import shutil
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"
CACHE = ROOT / "build" / "executed"
SLIDES_ASSETS = "slides-assets"  # folder beside the .slides.html files
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
KERNEL_TIMEOUT = 1800  # seconds for one cell: full-data training cells take minutes

# What the pages themselves say, in each language (the notebooks bring their own text).
WORDS = {
    "en": {
        "all": "all notebooks",
        "switch": "中文",
        "title": "the notebooks",
        "widget": "Interactive control: run the notebook in JupyterLab to use it. Shown here as "
        "the run left it.",
        "pad": "(a drawing pad)",
        "intro": "Each notebook answers one question, works out the math, builds the piece in "
        "numpy, checks it with an assertion that can fail, and draws a picture. Read them in "
        "order:",
        "quick": "Numbers on these pages come from a quick run (small subsets, few epochs); "
        "<code>LENET_QUICK=0 make book</code> builds them from the full data.",
        "full": "Numbers on these pages come from a full run on all of MNIST.",
        "run": "To run and change the code, clone the repository and <code>make lab</code>.",
        "untranslated": "",
        "description": "",
        "stop": ".",
    },
    "zh": {
        "all": "全部笔记本",
        "switch": "English",
        "title": "笔记本",
        "widget": "交互控件：在 JupyterLab 中运行这本笔记本才能使用。"
        "这里显示的是运行结束时的样子。",
        "pad": "（一块手写板）",
        "intro": "每本笔记本回答一个问题：推导其中的数学，用 numpy 写出这一部件，"
        "用一个可能失败的断言检查它，再画一张图。请按顺序阅读：",
        "quick": "这些页面上的数字来自快速运行（小的子集，很少的轮数）；"
        "<code>LENET_QUICK=0 make book</code> 会用完整数据重新生成。",
        "full": "这些页面上的数字来自在全部 MNIST 上的完整运行。",
        "run": "要运行和修改代码，请克隆仓库并运行 <code>make lab</code>。",
        "untranslated": "（尚未翻译，英文版）",
        "stop": "。",
        "description": "一个读得懂、查得了、训得动的 numpy 卷积神经网络："
        "从线性回归到 MNIST 上的 LeNet-5",
    },
}


def lenet_config():
    """lenet/utils/config.py, where LENET_QUICK is read, loaded alone (not the whole package)."""
    spec = importlib.util.spec_from_file_location(
        "lenet_config", ROOT / "lenet" / "utils" / "config.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def series_notebooks():
    """The English notebooks, then the Chinese ones."""
    english = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    return english + chinese(english)


def chinese(paths):
    """The Chinese editions of the English notebooks `paths` that have one, in order."""
    found = (NOTEBOOKS / "zh" / Path(path).name for path in paths)
    return sorted(path for path in found if path.exists())


def language(path):
    """'zh' for a notebook of the Chinese edition (notebooks/zh/), else 'en'."""
    return "zh" if Path(path).parent.name == "zh" else "en"


# ---------------------------------------------------------------------------- execution


def cache_key(nb, quick):
    """What the pages depend on: the cells' code and text (not metadata), lenet, the mode."""
    digest = hashlib.sha256()
    for cell in nb.cells:
        digest.update(cell.cell_type.encode() + b"\0" + cell.source.encode() + b"\0")
    sources = [*(ROOT / "lenet").rglob("*.py"), *(ROOT / "lenet").rglob("*.json")]
    for source in sorted(sources):
        digest.update(str(source.relative_to(ROOT)).encode() + b"\0" + source.read_bytes())
    digest.update(b"quick" if quick else b"full")
    return digest.hexdigest()[:16]


def executed(path, quick, cache=CACHE):
    """The notebook at `path` with its outputs, executed once per (notebook, lenet, mode).

    Only the cells' sources count: a change of slide types renders again without running.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    key = cache_key(nb, quick)
    name = path.stem if language(path) == "en" else f"{language(path)}-{path.stem}"
    cached = cache / f"{name}.{'quick' if quick else 'full'}.{key}.ipynb"
    if cached.exists():
        print(f"{path.name}: unchanged since its last run ({cached.relative_to(ROOT)})")
        done = nbformat.read(cached, as_version=4)
        for cell, source in zip(done.cells, nb.cells, strict=True):
            cell.metadata = source.metadata  # slide types may have changed since
        return done
    # The kernel inherits this environment: quick mode as asked, and inline pictures even
    # where MPLBACKEND=Agg is set for the tests (Agg would leave every plt.show() empty).
    os.environ["LENET_QUICK"] = "1" if quick else "0"
    os.environ["LENET_LANG"] = language(path)  # what lenet prints and plots (lenet.utils.i18n)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # Models the notebooks save go to build/, never over the ones in checkpoints/.
    os.environ.setdefault("LENET_CHECKPOINT_DIR", str(ROOT / "build" / "checkpoints"))
    start = time.perf_counter()
    print(f"{path.name}: running ({'quick' if quick else 'full'} mode) ...", flush=True)
    client = NotebookClient(
        nb,
        timeout=KERNEL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        sys.exit(f"{error}\n{path.name}: a cell failed (above); nothing was written for it")
    print(f"{path.name}: ran in {time.perf_counter() - start:.0f} s", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob(f"{name}.*.ipynb"):
        old.unlink()
    partial = cached.with_suffix(".partial")
    nbformat.write(nb, partial)
    partial.replace(cached)
    return nb


# ---------------------------------------------------------------------------- widgets


class StaticWidgets:
    """Static HTML for widgets, drawn from the widget state nbclient saved at the end of a run.

    A progress bar shows its final count, an HTML or Label widget its text, an Output widget
    the outputs it holds (pictures included), a slider or button its label and value; a panel
    with controls gets one line saying it is live in JupyterLab.
    """

    BOXES = {"HBoxModel", "VBoxModel", "BoxModel", "GridBoxModel"}

    def __init__(self, state, lang="en"):
        self.state = state
        self.words = WORDS[lang]

    def outputs(self, model_id):
        """nbformat outputs standing in for the widget `model_id` (maybe none)."""
        import nbformat

        self.interactive = False
        items = self.render(model_id)
        if self.interactive:
            items.insert(0, f'<p class="lenet-widget-note">{self.words["widget"]}</p>')
        outputs, run = [], []
        for item in [*items, None]:
            if isinstance(item, str):
                run.append(item)
                continue
            if run:
                outputs.append(
                    nbformat.v4.new_output(
                        "display_data", data={"text/html": "\n".join(run), "text/plain": ""}
                    )
                )
                run = []
            if item is not None:
                outputs.append(nbformat.from_dict(item))
        return outputs

    def model(self, ref):
        model_id = ref.removeprefix("IPY_MODEL_") if isinstance(ref, str) else None
        return self.state.get(model_id)

    def hidden(self, state):
        layout = self.model(state.get("layout")) or {}
        layout = layout.get("state", {})
        return layout.get("display") == "none" or layout.get("visibility") == "hidden"

    def render(self, model_id):
        model = self.state.get(model_id)
        if model is None:
            return []
        name, state = model.get("model_name", ""), model.get("state", {})
        if self.hidden(state):
            return []
        label = html.escape(str(state.get("description", "") or ""))
        if name in self.BOXES:
            items = []
            for child in state.get("children", []):
                items += self.render(child.removeprefix("IPY_MODEL_"))
            if name == "HBoxModel" and items and all(isinstance(i, str) for i in items):
                return ['<div class="lenet-widget-row">' + " ".join(items) + "</div>"]
            return items
        if name == "OutputModel":
            return list(state.get("outputs", []))
        if name in ("HTMLModel", "HTMLMathModel"):
            text = str(state.get("value", ""))
            return [f"{label} {text}".strip()] if text or label else []
        if name == "LabelModel":
            return [html.escape(str(state.get("value", "")))]
        if name in ("FloatProgressModel", "IntProgressModel"):
            value, high = state.get("value", 0), state.get("max", 100)
            return [f'{label} <progress value="{value}" max="{high}"></progress>'.strip()]
        if name == "ButtonModel":
            self.interactive = True
            return [f'<span class="lenet-widget-button">{label}</span>']
        if "Canvas" in name:
            self.interactive = True
            return [f'<span class="lenet-widget-control">{self.words["pad"]}</span>']
        if any(kind in name for kind in ("Slider", "Dropdown", "Select", "Toggle", "Text")):
            self.interactive = True
            value = state.get("value")
            if "_options_labels" in state and isinstance(state.get("index"), int):
                value = state["_options_labels"][state["index"]]
            if isinstance(value, float):
                value = f"{value:.3g}"
            shown = html.escape(str(value))
            return [f'<span class="lenet-widget-control">{label} <b>{shown}</b></span>']
        return []


WIDGET_REPR = re.compile(r"^\s*[A-Z]\w*\((children|value|layout|description|min|max)=")


def static_widgets(nb, lang="en"):
    """Replace every widget view in `nb` by a static stand-in; drop the saved widget state.

    A widget output that carries its own static picture or HTML (its author's fallback) keeps
    it; otherwise the widget is drawn from its saved state (StaticWidgets); a bare widget repr
    such as `VBox(children=...` is never shown.
    """
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    view = StaticWidgets(state, lang)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                outputs.append(output)
                continue
            own = {k: v for k, v in data.items() if k not in (WIDGET_VIEW, "text/plain")}
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            model_id = data[WIDGET_VIEW].get("model_id")
            if own:
                output.data = own
                outputs.append(output)
            elif model_id in state:
                outputs.extend(view.outputs(model_id))
            elif text.strip() and not WIDGET_REPR.match(text):
                output.data = {"text/plain": text}
                outputs.append(output)
        cell.outputs = outputs
    return nb


# ---------------------------------------------------------------------------- pages


def describe(nb, path):
    """(number, title, one line) from the notebook's first markdown cell.

    The first cell opens with `# N · Title` and a paragraph `**The question.** ...` (Chinese:
    `**问题。** ...`); the line is that paragraph's first question (or its first sentence).
    """
    number = int(path.name[:2])
    title, line = path.stem[3:].replace("_", " "), ""
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first is not None:
        text = first.source
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        if heading:
            title = re.sub(r"^[\d.]+\s*[·:.-]\s*", "", heading.group(1)).strip()
        body = [p for p in re.split(r"\n\s*\n", text) if p.strip() and not p.startswith("#")]
        if body:
            paragraph = re.sub(r"^\*\*(The question\.|问题。)\*\*\s*", "", body[0].strip())
            paragraph = " ".join(paragraph.split())
            end = re.search(r"(\?|？)(\s|$)", paragraph) or re.search(r"(\.|。)(\s|$)", paragraph)
            line = paragraph[: end.end()].strip() if end else paragraph
    return number, title, line


def copy_tree(source, target):
    """Copy a folder of static files once; a stamp names the source so upgrades copy again."""
    stamp = target / ".copied-from"
    if stamp.exists() and stamp.read_text() == str(source):
        return
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.map", "*.esm.js"))
    stamp.write_text(str(source))


def copy_assets(target, reveal=False):
    """MathJax (and reveal.js) from the installed PyPI packages into `target`."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        sys.exit('MathJax is missing: pip install -e ".[docs]" (make book/slides does it)')
    copy_tree(Path(jupyter_server_mathjax.__file__).parent / "static", target / "mathjax")
    if reveal:
        try:
            import sphinx_revealjs
        except ImportError:
            sys.exit('reveal.js is missing: pip install -e ".[docs]" (make slides does it)')
        reveal_js = Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs"
        copy_tree(reveal_js, target / "reveal.js")


def exporter(kind, lang="en", **traits):
    from nbconvert import HTMLExporter, SlidesExporter

    cls = SlidesExporter if kind == "slides" else HTMLExporter
    return cls(
        language_code=lang,
        template_name="lenet_slides" if kind == "slides" else "lenet_site",
        extra_template_basedirs=[str(TEMPLATES)],
        extra_template_paths=[str(TEMPLATES)],  # for lenet_mathjax.html.j2
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        **traits,
    )


def series_title():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["name"], project["description"]


def build_site(paths, out, quick):
    """site/index.html, one page per notebook, site/assets/ (MathJax, the style sheet); the
    Chinese notebooks among `paths` in site/zh/ with their own index."""
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out / "assets")
    shutil.copy(TEMPLATES / "site.css", out / "assets" / "site.css")
    english = [path for path in paths if language(path) == "en"]
    chinese_paths = [path for path in paths if language(path) == "zh"]
    if english or not chinese_paths:
        build_site_pages(english, out, quick, "en")
    if chinese_paths:
        build_site_pages(chinese_paths, out / "zh", quick, "zh")


def counterpart(path):
    """The same notebook in the other language (it may not exist)."""
    path = Path(path)
    if language(path) == "zh":
        return NOTEBOOKS / path.name
    return NOTEBOOKS / "zh" / path.name


def build_site_pages(paths, out, quick, lang):
    """The pages of one language in `out` (site/ or site/zh/), and its index.html."""
    out.mkdir(parents=True, exist_ok=True)
    up = "../" if lang == "zh" else ""  # site/zh/ shares site/assets/
    words = WORDS[lang]
    books = [(path, static_widgets(executed(path, quick), lang)) for path in paths]
    entries = [(path, *describe(nb, path)) for path, nb in books]
    name, _ = series_title()
    html_exporter = exporter("site", lang, mathjax_url=f"{up}assets/mathjax/MathJax.js")
    for i, (path, nb) in enumerate(books):
        neighbours = {}
        for key, j in (("previous", i - 1), ("next", i + 1)):
            if 0 <= j < len(entries):
                other, number, title, _ = entries[j]
                label = f"{number} · {html.escape(title)}"
                neighbours[key] = {"href": f"{other.stem}.html", "label": label}
        other = counterpart(path)
        other_dir = "../" if lang == "zh" else "zh/"
        switch = f"{other_dir}{other.stem}.html" if other.exists() else f"{other_dir}index.html"
        resources = {
            "metadata": {"name": entries[i][2], "path": str(path.parent)},
            "lenet": {
                "css": f"{up}assets/site.css",
                "series": name,
                "all": words["all"],
                "switch": {"href": switch, "label": words["switch"]},
                **neighbours,
            },
        }
        body, _ = html_exporter.from_notebook_node(nb, resources=resources)
        (out / f"{path.stem}.html").write_text(body, encoding="utf-8")
        print(f"wrote {out / path.stem}.html")
    (out / "index.html").write_text(index_page(entries, quick, lang), encoding="utf-8")
    print(f"wrote {out / 'index.html'}")


def index_page(entries, quick, lang="en"):
    from nbconvert.filters import markdown2html

    name, description = series_title()
    words = WORDS[lang]
    up = "../" if lang == "zh" else ""
    items = [
        f'<li value="{number}"><a href="{path.stem}.html">{html.escape(title)}</a>'
        f'<div class="lenet-line">{markdown2html(line).strip()}</div></li>'
        for path, number, title, line in entries
    ]
    if lang == "zh":  # the notebooks not translated yet: their English pages
        done = {path.name for path, *_ in entries}
        for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
            if path.name not in done:
                title = describe(nbformat_read(path), path)[1]
                items.append(
                    f'<li value="{int(path.name[:2])}"><a href="../{path.stem}.html">'
                    f"{html.escape(title)}</a> {words['untranslated']}</li>"
                )
        items.sort(key=lambda item: int(re.search(r'value="(\d+)"', item).group(1)))
        description = words["description"]
    mathjax = (TEMPLATES / "lenet_mathjax.html.j2").read_text()
    config = mathjax.split("{%- macro local_mathjax(url) -%}", 1)[1].split("{%- endmacro -%}")[0]
    config = config.replace("{{ url }}", f"{up}assets/mathjax/MathJax.js")
    switch = "zh/index.html" if lang == "en" else "../index.html"
    newline = "\n"
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(name)}: {words["title"]}</title>
<link rel="stylesheet" href="{up}assets/site.css">
{config}
</head>
<body class="lenet-index-page">
<main>
<nav class="lenet-nav lenet-nav-top"><span></span>
<a class="lenet-language" href="{switch}">{words["switch"]}</a></nav>
<h1>{html.escape(name)}</h1>
<p class="lenet-description">{html.escape(description)}{words["stop"]}</p>
<p>{words["intro"]}</p>
<ol class="lenet-notebooks">
{newline.join(items)}
</ol>
<p class="lenet-mode">{words["quick" if quick else "full"]} {words["run"]}</p>
</main>
</body>
</html>
"""


def nbformat_read(path):
    import nbformat

    return nbformat.read(path, as_version=4)


def build_slides(paths, out, quick):
    """notebooks/NN_name.slides.html for each notebook, with reveal.js and MathJax beside them;
    the Chinese ones in notebooks/zh/, using the same reveal.js and MathJax."""
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out / SLIDES_ASSETS, reveal=True)
    for lang in ("en", "zh"):
        chosen = [path for path in paths if language(path) == lang]
        if not chosen:
            continue
        folder, up = (out, "") if lang == "en" else (out / "zh", "../")
        folder.mkdir(parents=True, exist_ok=True)
        slides_exporter = exporter(
            "slides",
            lang,
            reveal_url_prefix=f"{up}{SLIDES_ASSETS}/reveal.js",
            mathjax_url=f"{up}{SLIDES_ASSETS}/mathjax/MathJax.js",
            reveal_theme="white",
            reveal_transition="none",
            reveal_number="c/t",
            reveal_width="1280",
            reveal_height="800",
        )
        for path in chosen:
            nb = static_widgets(executed(path, quick), lang)
            resources = {"metadata": {"name": describe(nb, path)[1], "path": str(path.parent)}}
            body, _ = slides_exporter.from_notebook_node(nb, resources=resources)
            target = folder / f"{path.stem}.slides.html"
            target.write_text(body, encoding="utf-8")
            print(f"wrote {target}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["site", "slides"])
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="default: notebooks/NN_*.ipynb and zh/NN_*.ipynb"
    )
    parser.add_argument("--out", type=Path, help="default: site/ or notebooks/")
    args = parser.parse_intermixed_args(argv)
    quick = lenet_config().quick_mode()
    paths = [p.resolve() for p in args.notebooks] or series_notebooks()
    start = time.perf_counter()
    if args.what == "site":
        build_site(paths, args.out or ROOT / "site", quick)
    else:
        build_slides(paths, args.out or NOTEBOOKS, quick)
    print(f"{args.what}: {len(paths)} notebooks in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
