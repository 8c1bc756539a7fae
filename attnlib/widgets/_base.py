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

Chinese text in a widget asks first for the book's font, ``FONT_FAMILY`` (in
``_common.css``). The HTML book declares it for the whole page (``book/_vendor/cjk``);
in the live view each widget carries the glyphs of its own Chinese characters in its
``_css`` (:func:`cjk_font_face`, a few kB), so they show on a machine with no Chinese
font too.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .messages import LANGUAGES, message, messages_for

HERE = Path(__file__).parent
_ids = itertools.count()  # one counter per kernel: ids are deterministic for a fresh run
SIGNIFICANT_DIGITS = 6  # floats in a static payload: enough to draw, too few to carry CPU noise

_BOOT = """<script type="module">
const el = document.getElementById("{uid}");
const data = JSON.parse(document.getElementById("{uid}-data").textContent);
const state = data.state, handlers = {{}};
state.language = document.documentElement.lang.toLowerCase().startsWith("zh") ? "zh" : "en";
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
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


FONT_FILE = HERE.parent.parent / "data" / "fonts" / "NotoSansSC-attnlib.otf"  # as in attnlib.plot
FONT_FAMILY = "Noto Sans SC attnbook"  # the CSS family of the book's Chinese font
# Chinese text: the CJK blocks of scripts/make_font_subset.py (ideographs, CJK and full-width
# punctuation, radicals, kana, compatibility forms).
CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\ufe10-\ufe1f\ufe30-\ufe6f\uff00-\uffef\U00020000-\U0003ffff]"
)
_live_fonts: dict[str, tuple[frozenset, str]] = {}  # widget class -> (characters, @font-face)


def cjk_font_face(chars: Iterable[str]) -> str:
    """An ``@font-face`` rule that gives the Chinese ``chars`` their glyphs from the book's
    font: a WOFF subset as a ``data:`` URL, with a ``unicode-range`` of just those characters
    (4.5 kB of CSS for the running example's 8 characters, 11 kB for chapter 4's 37).

    ``""`` if there is no Chinese character in ``chars`` that the font has, or no font
    file or fontTools (then the reader's own fonts draw them, as before).
    """
    codes = {ord(ch) for ch in chars if CJK.fullmatch(ch)}
    if not codes or not FONT_FILE.exists():
        return ""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:
        return ""
    font = TTFont(str(FONT_FILE), recalcTimestamp=False)
    codes &= set(font.getBestCmap())
    if not codes:
        return ""
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the copyright and licence records (SIL OFL 1.1)
    options.layout_features = []
    options.hinting = False
    options.drop_tables += ["vhea", "vmtx", "VORG"]  # horizontal text only
    options.flavor = font.flavor = "woff"  # zlib: no dependency beyond fontTools
    sub = subset.Subsetter(options)
    sub.populate(unicodes=codes)
    sub.subset(font)
    woff = io.BytesIO()
    font.save(woff)
    data = base64.b64encode(woff.getvalue()).decode("ascii")
    ranges = ", ".join(f"U+{c:X}" for c in sorted(codes))
    return (
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-style: normal; font-weight: 400; '
        f'unicode-range: {ranges}; src: url(data:font/woff;base64,{data}) format("woff"); }}\n'
    )


class BookWidget(anywidget.AnyWidget):
    """An anywidget that also renders, fully interactive, in a static HTML page.

    Subclasses set ``_esm = read_asset("_common.js", "<name>.js")`` and
    ``_css = read_asset("_common.css", "<name>.css")`` and define synced traits.
    """

    _plain_name = "widget"  # shown in the noscript text
    _messages = "common"  # the prefix of this widget's keys in attnlib/widgets/messages.py

    # The language of the widget's words, "en" or "zh" (in the static book, the page's <html lang>).
    language = traitlets.Unicode("en").tag(sync=True)
    # Every word the widget shows, {"en": {key: text}, "zh": {...}} (attnlib/widgets/messages.py).
    messages = traitlets.Dict().tag(sync=True)

    @traitlets.default("messages")
    def _default_messages(self) -> dict[str, dict[str, str]]:
        return messages_for(self._messages)

    @traitlets.validate("language")
    def _check_language(self, proposal: dict) -> str:
        if proposal["value"] not in LANGUAGES:
            raise traitlets.TraitError(
                f"language must be one of {list(LANGUAGES)}; got {proposal['value']!r}"
            )
        return proposal["value"]

    def message(self, key: str, **args: object) -> str:
        """The text of message ``key`` in the widget's language (``{placeholders}`` filled)."""
        return message(self.language, key, **args)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page_css = self._css  # the widget's own CSS: what the static page embeds
        self._add_cjk_glyphs()
        self.observe(self._add_cjk_glyphs, names=sorted(self.static_state()))

    def _add_cjk_glyphs(self, change: dict | None = None) -> None:
        """Live view: put the glyphs of the widget's Chinese characters in its ``_css``.

        The front end keeps one style element per widget class (keyed by
        ``_anywidget_id``) and each widget's ``_css`` replaces it, so the rule covers every
        character that widgets of this class have shown in this kernel.
        """
        seen, face = _live_fonts.get(self._anywidget_id, (frozenset(), ""))
        state = self.static_state()
        state["messages"] = state.get("messages", {}).get(self.language, {})  # only the words it shows
        chars = seen | set(CJK.findall(json.dumps(state, ensure_ascii=False)))
        if chars != seen:
            face = cjk_font_face(chars)
            _live_fonts[self._anywidget_id] = (frozenset(chars), face)
        css = face + self._page_css
        if self._css != css:
            self._css = css

    def _repr_summary(self) -> str:
        """One deterministic line for ``repr`` (nbval compares it between runs)."""
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._repr_summary()})"

    @staticmethod
    def validated(check: Callable[..., Any], *args: Any) -> Any:
        """``check(*args)``, its TypeError or ValueError turned into a ``traitlets.TraitError``.

        The one way a widget validates a trait a reader sets later: the same check (from
        ``attnlib._validate``) and the same message as at construction.
        """
        try:
            return check(*args)
        except (TypeError, ValueError) as err:
            raise traitlets.TraitError(str(err)) from None

    def static_state(self) -> dict[str, Any]:
        """The synced, public traits: what the page's JS needs to draw the widget."""
        names = self.trait_names(sync=True)
        skip = {"layout", "tabbable", "tooltip", "comm", "keys", "log"}
        return {n: getattr(self, n) for n in sorted(names) if not n.startswith("_") and n not in skip}

    def static_html(self) -> str:
        """The self-contained HTML fallback: container, JSON payload, boot script."""
        state = rounded(self.static_state())
        payload = json_for_html({"state": state, "esm": str(self._esm)})
        digest = hashlib.sha1(payload.encode()).hexdigest()[:10]
        uid = f"attnlib-{type(self).__name__.lower()}-{digest}-{next(_ids)}"
        noscript = "".join(
            f'<p class="attnlib-noscript" lang="{tag}">'
            + html.escape(message(lang, "common.noscript", name=message(lang, f"{self._messages}.name")))
            + "</p>"
            for lang, tag in (("en", "en"), ("zh", "zh-CN"))
        )
        return (
            f"<style>{self._page_css}</style>\n"
            f'<div class="attnlib-widget" id="{uid}">{noscript}</div>\n'
            f'<script type="application/json" id="{uid}-data">{payload}</script>\n' + _BOOT.format(uid=uid)
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/html"] = self.static_html()
        return data, metadata
