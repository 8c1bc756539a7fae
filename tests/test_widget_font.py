"""The live view's Chinese font, without a kernel: each widget's ``_css`` carries the glyphs
of its Chinese characters (JupyterLab declares no Chinese font); the static page's HTML
does not (the HTML book declares the font for the whole page)."""

import base64
import io
import re

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from attnlib.widgets import FocusExplorer, QueryExplorer, _base

SRC = ["我", "昨天", "住", "在", "他", "家", "。"]
TGT = ["I", "stayed", "at", "his", "place", "yesterday", "."]
FACE = re.compile(
    r'@font-face \{ font-family: "Noto Sans SC attnbook";[^}]*unicode-range: ([^;]+);'
    r' src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\) format\("woff"\); \}'
)


@pytest.fixture(autouse=True)
def fresh_kernel(monkeypatch):
    """Each test starts as a fresh kernel does: no widget has shown a character yet."""
    monkeypatch.setattr(_base, "_live_fonts", {})


def embedded_face(css: str) -> tuple[set[str], TTFont, int]:
    """The characters of the @font-face in ``css``, its font, and the font's size in bytes."""
    faces = FACE.findall(css)
    assert len(faces) == 1, css[:300]
    ranges, data = faces[0]
    chars = {chr(int(c, 16)) for c in re.findall(r"U\+([0-9A-F]+)", ranges)}
    woff = base64.b64decode(data)
    return chars, TTFont(io.BytesIO(woff)), len(woff)


def test_a_widget_carries_exactly_the_glyphs_of_its_chinese_characters():
    w = FocusExplorer(SRC, TGT, np.eye(7))
    chars, font, size = embedded_face(w._css)
    assert chars == set("我昨天住在他家。")
    assert {chr(c) for c in font.getBestCmap()} == chars
    assert font["name"].getDebugName(1) == "Noto Sans CJK SC"
    assert "Open Font License" in font["name"].getDebugName(13)  # the licence travels with it
    assert size < 5000  # a few kB, not the 1 MB font
    assert w._css.endswith(w._page_css)


def test_the_static_page_gets_the_widgets_own_css_only():
    w = FocusExplorer(SRC, TGT, np.eye(7))
    html = w._repr_mimebundle_()[0]["text/html"]
    assert f"<style>{w._page_css}</style>" in html
    assert "@font-face" not in html and "data:font" not in html


def test_new_characters_extend_the_face_for_every_widget_of_the_class():
    """The front end keeps one style element per widget class, the last _css wins: it
    must hold the characters of every widget of that class shown so far."""
    first = FocusExplorer(SRC, TGT, np.eye(7))
    second = FocusExplorer(["狗", "被", "车", "撞", "了", "。", "吗"], TGT, np.eye(7))
    chars, _, _ = embedded_face(second._css)
    assert chars == set("我昨天住在他家。狗被车撞了吗")
    q = QueryExplorer([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], labels=["a", "b", "c"])
    assert q._css == q._page_css  # no Chinese, no font
    q.labels = ["猫", "狗", "c"]  # a trait set later, from Python or the page
    assert embedded_face(q._css)[0] == {"猫", "狗"}
    assert embedded_face(first._css)[0] == set("我昨天住在他家。")  # its own, as it was shown


def test_characters_the_font_lacks_are_left_to_the_readers_fonts():
    assert _base.cjk_font_face("abc") == ""
    assert _base.cjk_font_face("\u9fa6") == ""  # an ideograph outside the book's subset
    assert embedded_face(_base.cjk_font_face("我\u9fa6"))[0] == {"我"}
