"""Local Sphinx extension for the book.

* Vendored assets (MathJax) live in ``book/_vendor``. Jupyter Book 1 adds a
  ``<script>`` tag for every ``.js`` file under a ``_static/`` folder it knows of,
  which would load all of MathJax's extensions on every page; adding the vendor
  folder to ``html_static_path`` here, at ``config-inited``, copies the files
  without that side effect.
* Chinese comes from the book's own web fonts (``book/_vendor/cjk``, made by
  ``scripts/make_font_subset.py``): ``cjk/cjk.css`` declares them with ``@font-face``
  and ``attnbook.css`` puts their family first in the theme's font stacks.
* Each chapter page gets a line under its title with the time the notebook took to
  run from a fresh kernel, as measured by ``scripts/execute_notebooks.py`` and
  recorded in ``notebooks/runtimes.json``.
* Every page links to the same page in the other language (English ⇄ 中文): the Chinese
  edition is the same source built with ``language = "zh_CN"`` into ``_build/html/zh_CN/``
  (``scripts/i18n.py``), so the link is relative (``zh_CN/<page>.html`` from an English page,
  ``../<page>.html`` from a Chinese one) and works offline and from ``file://``. Sphinx
  keeps the English ids of translated glossary terms and sections, so every
  ``glossary.md#term-…`` link resolves in both languages.
* The directive ``{exercise-solutions} notebooks/NN_name.ipynb`` shows a chapter's
  exercises, each with its worked solution and the checker's verdict, read from the
  notebook itself (the solutions appendix), so they are never copied by hand.
"""

import json
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

HERE = Path(__file__).resolve().parent
VENDOR = HERE.parent / "_vendor"  # MathJax, the Chinese web fonts
ASSETS = HERE.parent / "_assets"  # the book's own CSS
ROOT = HERE.parent.parent
RUNTIMES = ROOT / "notebooks" / "runtimes.json"
EXERCISE = re.compile(r"^\*\*Exercise (\d+\.\d+)", re.M)  # "**Exercise 1.2.**" opens a paragraph
SOLUTION = "# Worked solution"  # how a solution cell (tagged hide-cell) begins


def _add_vendor(app, config):
    config.html_static_path.extend([str(VENDOR), str(ASSETS)])


def runtime_note(record: dict, language: str = "en") -> str:
    """The HTML line shown under a chapter's title."""
    seconds = record["seconds"]
    if language.startswith("zh"):
        took = f"{seconds:.0f} 秒" if seconds < 90 else f"{seconds / 60:.1f} 分钟"
        return (
            f'<p class="attnbook-runtime">在 CPU 上从全新内核运行约需 {took}'
            f"（测于 {record['machine']}，{record['date']}）。</p>"
        )
    took = f"{seconds:.0f} seconds" if seconds < 90 else f"{seconds / 60:.1f} minutes"
    return (
        f'<p class="attnbook-runtime">Runs from a fresh kernel in about {took} on a CPU '
        f"(measured on a {record['machine']}, {record['date']}).</p>"
    )


def _add_runtime(app, pagename, templatename, context, doctree):
    if not pagename.startswith("notebooks/") or "body" not in context or not RUNTIMES.exists():
        return
    record = json.loads(RUNTIMES.read_text()).get(pagename.split("/", 1)[1])
    if record:
        note = runtime_note(record, app.config.language or "en")
        context["body"] = context["body"].replace("</h1>", "</h1>\n" + note, 1)


ZH = "zh_CN"  # the Chinese edition's language and its folder under the English book


def language_switch(pagename: str, language: str) -> tuple[str, str]:
    """``(nav, link)``: the English ⇄ 中文 switch shown at the top of the page, and the
    ``<link rel="alternate">`` tag for its ``<head>``; relative URLs only."""
    up = "../" * pagename.count("/")  # from the page to its book's root
    if language.startswith("zh"):
        other, lang = f"{up}../{pagename}.html", "en"
        items = (
            f'<a href="{other}" hreflang="en" lang="en">English</a>',
            '<span aria-current="page">中文</span>',
        )
    else:
        other, lang = f"{up}{ZH}/{pagename}.html", "zh-CN"
        items = (
            '<span aria-current="page">English</span>',
            f'<a href="{other}" hreflang="zh-CN" lang="zh-CN">中文</a>',
        )
    label = "语言" if language.startswith("zh") else "Language"
    nav = f'<nav class="attnbook-language" aria-label="{label}">{items[0]} | {items[1]}</nav>\n'
    return nav, f'<link rel="alternate" hreflang="{lang}" href="{other}" />\n'


def _add_language_switch(app, pagename, templatename, context, doctree):
    if "body" not in context:
        return
    nav, link = language_switch(pagename, app.config.language or "en")
    context["body"] = nav + context["body"]
    context["metatags"] = context.get("metatags", "") + link


def _text(output: dict) -> str:
    """The plain text of one notebook output: printed text, or a result's text/plain."""
    text = (
        output.get("text")
        if output.get("output_type") == "stream"
        else output.get("data", {}).get("text/plain", "")
    )
    return ("".join(text) if isinstance(text, list) else text or "").strip()


def exercises_with_solutions(notebook: dict) -> list[tuple[str, str, str, str]]:
    """``(number, statement, solution code, checker output)`` for every exercise, in order.

    A statement runs from its "**Exercise N.M" to the end of its markdown cell; its solution
    is the next code cell that starts with "# Worked solution".
    """
    found, cells = [], notebook["cells"]

    def text(cell: dict) -> str:
        return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]

    for i, cell in enumerate(cells):
        match = EXERCISE.search(text(cell)) if cell["cell_type"] == "markdown" else None
        if not match:
            continue
        solution = next(
            (c for c in cells[i + 1 :] if c["cell_type"] == "code" and text(c).startswith(SOLUTION)), None
        )
        if solution is None:
            raise ValueError(f"exercise {match.group(1)} has no worked-solution cell")
        output = "\n".join(_text(o) for o in solution.get("outputs", []))
        found.append(
            (match.group(1), text(cell)[match.start() :].strip(), text(solution).strip(), output.strip())
        )
    return found


class ExerciseSolutions(SphinxDirective):
    """``{exercise-solutions} notebooks/NN_name.ipynb``: that chapter's exercises and solutions."""

    required_arguments = 1

    def run(self):
        path = ROOT / self.arguments[0]
        self.env.note_dependency(str(path))
        items = exercises_with_solutions(json.loads(path.read_text(encoding="utf-8")))
        if not items:
            raise self.error(f"no exercises found in {self.arguments[0]}")
        fence = "````"  # longer than any fence inside a statement
        parts = []
        for _, statement, code, output in items:
            parts += [statement, "", f"{fence}python", code, fence, ""]
            if output:
                parts += [f"{fence}text", output, fence, ""]
        node = nodes.container(classes=["attnbook-solutions"])
        self.state.nested_parse(StringList(parts, source=str(path)), self.content_offset, node)
        return [node]


def setup(app):
    app.add_directive("exercise-solutions", ExerciseSolutions)
    app.connect("config-inited", _add_vendor)
    app.connect("html-page-context", _add_runtime)
    app.connect("html-page-context", _add_language_switch)
    app.add_css_file("cjk/cjk.css")
    app.add_css_file("attnbook.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
