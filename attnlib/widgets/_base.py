"""The machinery every widget in the book shares.

A :class:`BookWidget` is an ``anywidget.AnyWidget`` whose JavaScript does all the
computing, so the page stays interactive without a kernel. It is displayed two ways:

* **live** (JupyterLab, Binder): the usual widget view; traits sync with Python,
  so ``w.weights`` in the kernel matches what the page shows;
* **static** (the HTML book): the display output also carries a self-contained
  ``text/html`` fallback: a ``<div>``, the widget's state and ES module as JSON,
  and a short module script that imports the code from a blob URL and hands it a
  model stand-in with anywidget's ``get/set/on/off/save_changes``. No kernel, no
  network, no saved widget state needed. ``_config.yml`` tells the book to prefer
  this fallback over the widget view.

Each widget is one Python file and one JS module in this folder; the JS module is
concatenated after ``_common.js`` (math and DOM helpers shared by all widgets),
and its CSS after ``_common.css``.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Callable

import anywidget
import traitlets

HERE = Path(__file__).parent
_ids = itertools.count()  # one counter per kernel: ids are deterministic for a fresh run
SIGNIFICANT_DIGITS = 6  # floats in a static payload: enough to draw, too few to carry CPU noise

_BOOT = """<script type="module">
const el = document.getElementById("{uid}");
const data = JSON.parse(document.getElementById("{uid}-data").textContent);
const state = data.state, handlers = {{}};
const model = {{
  get: (name) => state[name],
  set: (name, value) => {{ state[name] = value;
    for (const f of handlers["change:" + name] || []) f({{ new: value }}); }},
  on: (event, f) => {{ (handlers[event] ||= []).push(f); }},
  off: (event, f) => {{ handlers[event] = f ? (handlers[event] || []).filter((g) => g !== f) : []; }},
  save_changes: () => {{}}, send: () => {{}},
}};
const url = URL.createObjectURL(new Blob([data.esm], {{ type: "text/javascript" }}));
const mod = (await import(url)).default;
el.replaceChildren();
(mod.render ?? mod)({{ model, el }});
</script>"""


def read_asset(*names: str) -> str:
    """Concatenate asset files from this folder (JS modules or CSS)."""
    return "\n".join((HERE / name).read_text(encoding="utf-8") for name in names)


def rounded(obj: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """``obj`` with every float rounded to ``digits`` significant digits (lists, dicts walked).

    Two CPUs can compute the same weight up to its last bit (numpy's vectorised ``exp``
    differs between instruction sets); rounded, the payload, and the page id derived
    from it, are the same on both.
    """
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v, digits) for v in obj]
    return obj


def json_for_html(obj: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes, so no string in the
    data (a token like ``</script><img src=x onerror=alert(1)>``) can close the
    element or start markup; the JSON parser turns them back into characters.
    """
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


class BookWidget(anywidget.AnyWidget):
    """An anywidget that also renders, fully interactive, in a static HTML page.

    Subclasses set ``_esm = read_asset("_common.js", "<name>.js")`` and
    ``_css = read_asset("_common.css", "<name>.css")`` and define synced traits.
    """

    _plain_name = "widget"  # shown in the noscript text

    def _repr_summary(self) -> str:
        """One deterministic line for ``repr`` (nbval compares it between runs)."""
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._repr_summary()})"

    @staticmethod
    def validated(check: Callable[..., Any], *args: Any) -> Any:
        """``check(*args)``, its TypeError or ValueError turned into a ``traitlets.TraitError``.

        The one way a widget validates a trait a reader sets later: the same check (from
        :mod:`attnlib._validate`) and the same message as at construction.
        """
        try:
            return check(*args)
        except (TypeError, ValueError) as err:
            raise traitlets.TraitError(str(err)) from None

    def static_state(self) -> dict[str, Any]:
        """The synced, public traits: what the page's JS needs to draw the widget."""
        names = self.trait_names(sync=True)
        skip = {"layout", "tabbable", "tooltip", "comm", "keys", "log"}
        return {n: getattr(self, n) for n in sorted(names)
                if not n.startswith("_") and n not in skip}

    def static_html(self) -> str:
        """The self-contained HTML fallback: container, JSON payload, boot script."""
        state = rounded(self.static_state())
        payload = json_for_html({"state": state, "esm": str(self._esm)})
        digest = hashlib.sha1(payload.encode()).hexdigest()[:10]
        uid = f"attnlib-{type(self).__name__.lower()}-{digest}-{next(_ids)}"
        return (f'<style>{self._css}</style>\n'
                f'<div class="attnlib-widget" id="{uid}">'
                f'<p class="attnlib-noscript">Interactive {self._plain_name}: it needs '
                f'JavaScript (open the HTML book or run the notebook).</p></div>\n'
                f'<script type="application/json" id="{uid}-data">{payload}</script>\n'
                + _BOOT.format(uid=uid))

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/html"] = self.static_html()
        return data, metadata
