"""Local Sphinx extension for the book.

* Vendored assets (MathJax) live in ``book/_vendor``. Jupyter Book 1 adds a
  ``<script>`` tag for every ``.js`` file under a ``_static/`` folder it knows of,
  which would load all of MathJax's extensions on every page; adding the vendor
  folder to ``html_static_path`` here, at ``config-inited``, copies the files
  without that side effect.
* Each chapter page gets a line under its title with the time the notebook took to
  run from a fresh kernel, as measured by ``scripts/execute_notebooks.py`` and
  recorded in ``notebooks/runtimes.json``.
"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE.parent / "_vendor"
ASSETS = HERE.parent / "_assets"  # the book's own CSS
RUNTIMES = HERE.parent.parent / "notebooks" / "runtimes.json"


def _add_vendor(app, config):
    config.html_static_path.extend([str(VENDOR), str(ASSETS)])


def runtime_note(record: dict) -> str:
    """The HTML line shown under a chapter's title."""
    seconds = record["seconds"]
    took = f"{seconds:.0f} seconds" if seconds < 90 else f"{seconds / 60:.1f} minutes"
    return (f'<p class="attnbook-runtime">Runs from a fresh kernel in about {took} on a CPU '
            f'(measured on a {record["machine"]}, {record["date"]}).</p>')


def _add_runtime(app, pagename, templatename, context, doctree):
    if not pagename.startswith("notebooks/") or "body" not in context or not RUNTIMES.exists():
        return
    record = json.loads(RUNTIMES.read_text()).get(pagename.split("/", 1)[1])
    if record:
        context["body"] = context["body"].replace("</h1>", "</h1>\n" + runtime_note(record), 1)


def setup(app):
    app.connect("config-inited", _add_vendor)
    app.connect("html-page-context", _add_runtime)
    app.add_css_file("attnbook.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
