"""Local Sphinx extension for the book.

Vendored assets (MathJax) live in ``book/_vendor``. Jupyter Book 1 adds a
``<script>`` tag for every ``.js`` file under a ``_static/`` folder it knows of,
which would load all of MathJax's extensions on every page; adding the vendor
folder to ``html_static_path`` here, at ``config-inited``, copies the files
without that side effect.
"""
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "_vendor"


def _add_vendor(app, config):
    config.html_static_path.append(str(VENDOR))


def setup(app):
    app.connect("config-inited", _add_vendor)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
