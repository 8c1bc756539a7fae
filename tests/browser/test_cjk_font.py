"""Chinese in the built book is drawn with the font the book ships, not as empty boxes.

The machine that runs these tests has no CJK font of its own (Debian's chromium without
``fonts-noto-cjk``), like many readers' machines: every Chinese glyph on the page must come
from the book's web fonts (``_static/cjk/``, ``@font-face`` family ``FAMILY``). Two
independent checks, on prose, code, outputs and widgets of chapters 2 and 4:

* **which font drew it**: chromium's DevTools protocol reports, for each element, the
  fonts that drew the glyphs of its text (``CSS.getPlatformFontsForNode``); every Chinese
  character must be one glyph of the shipped Noto Sans CJK SC web font;
* **no empty boxes**: each Chinese character, drawn on a canvas in the element's own font
  stack, gives a different picture from every other one and from an unassigned code point
  (the "tofu" box a missing glyph is drawn as).

Without a browser: every Chinese character of every built page has a glyph in the font.
"""

from __future__ import annotations

import re

import pytest
from fontTools.ttLib import TTFont

from .book import HTML, ROOT, PageLog, assert_clean, build_book, chapter_page, open_page

pytestmark = pytest.mark.browser
FAMILY = "Noto Sans SC attnbook"  # the CSS family (scripts/make_font_subset.py)
FONT_NAME = "Noto Sans CJK SC"  # the family name inside the font file
CH2 = "notebooks/02_human_analogy.html"
CH4 = "notebooks/04_dynamic_context.html"
# The CJK blocks of scripts/make_font_subset.py, as a character class for Python and JS.
CJK_CLASS = (
    r"\u2E80-\u2FDF\u3000-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF"
    r"\uFE10-\uFE1F\uFE30-\uFE6F\uFF00-\uFFEF"
)
CJK = re.compile(f"[{CJK_CLASS}]")
TOFU = "\u0378"  # an unassigned code point: no font has a glyph for it
RUNNING_EXAMPLE = "我昨天住在他家。"

# Marks every visible element under `selector` whose own text (its direct text nodes) holds
# Chinese with data-cjk-probe="i", and returns those texts in order.
MARK_JS = f"""
(selector) => {{
  const cjk = /[{CJK_CLASS}]/;
  const found = new Set();
  for (const root of document.querySelectorAll(selector))
    for (const el of [root, ...root.querySelectorAll("*")]) {{
      const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join("");
      if (cjk.test(own) && el.checkVisibility()) found.add(el);
    }}
  return [...found].map((el, i) => {{
    el.dataset.cjkProbe = i;
    return [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join("");
  }});
}}
"""

# Draws each character on a canvas in `el`'s font stack; returns one fingerprint per character.
PICTURES_JS = """
(el, chars) => {
  const style = getComputedStyle(el);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  return chars.map((ch) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = `48px ${style.fontFamily}`;
    ctx.textBaseline = "top";
    ctx.fillText(ch, 4, 4);
    const px = ctx.getImageData(0, 0, 64, 64).data;
    let hash = 0, ink = 0;
    for (let i = 3; i < px.length; i += 4) { hash = (hash * 31 + px[i]) >>> 0; ink += px[i] > 0; }
    return `${hash}:${ink}`;
  });
}
"""


def cjk(text: str) -> list[str]:
    return CJK.findall(text)


def wait_for_fonts(page) -> None:
    page.evaluate("document.fonts.ready.then(() => true)")


def face_status(page) -> list[str]:
    """The status of each face of the book's CJK family, as ``document.fonts`` sees them."""
    return page.evaluate(
        "(family) => [...document.fonts].filter((f) => f.family.replace(/\"/g, '')"
        " === family).map((f) => f.status)",
        FAMILY,
    )


def fonts_of_marked(page) -> list[list[dict]]:
    """For each element marked by MARK_JS, the fonts chromium drew its own text with."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    document = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    found = []
    for i in range(page.locator("[data-cjk-probe]").count()):
        node = cdp.send("DOM.querySelector", {"nodeId": document, "selector": f'[data-cjk-probe="{i}"]'})
        found.append(cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"])
    cdp.detach()
    return found


def assert_drawn_with_shipped_font(page, selector: str, at_least: int = 1) -> list[str]:
    """Every Chinese character in the text under ``selector`` is a glyph of the shipped web
    font, and draws as a real glyph, not a box. Returns the texts checked."""
    wait_for_fonts(page)
    page.evaluate(
        "() => document.querySelectorAll('[data-cjk-probe]').forEach((e) => delete e.dataset.cjkProbe)"
    )
    texts = page.evaluate(MARK_JS, selector)
    assert len(texts) >= at_least, f"{selector}: expected Chinese text, found {texts}"
    for text, fonts in zip(texts, fonts_of_marked(page), strict=True):
        shipped = sum(f["glyphCount"] for f in fonts if f["isCustomFont"] and f["familyName"] == FONT_NAME)
        # at least one glyph per Chinese character (full-width punctuation beside them may come
        # from the same face); the pictures below check that none is a box
        assert shipped >= len(cjk(text)), (
            f"{selector}: {text!r} has {len(cjk(text))} Chinese characters but the shipped font "
            f"drew {shipped} glyphs; chromium used {fonts}"
        )
    for i, text in enumerate(texts):
        chars = sorted(set(cjk(text)))
        el = page.locator(f'[data-cjk-probe="{i}"]')
        pictures = el.evaluate(PICTURES_JS, [*chars, TOFU])
        tofu = pictures.pop()
        assert tofu not in pictures, f"{selector}: {text!r} draws as empty boxes"
        assert len(set(pictures)) == len(chars), f"{selector}: {chars} do not all draw differently"
    return texts


@pytest.fixture()
def ch2(browser, book_url):
    with chapter_page(browser, book_url, CH2, ".aw-fe") as (page, log):
        yield page, log


@pytest.fixture()
def ch4(browser, book_url):
    with chapter_page(browser, book_url, CH4, ".aw-ae") as (page, log):
        yield page, log


def test_prose_code_outputs_and_widget_of_chapter_2_use_the_shipped_font(ch2):
    page, log = ch2
    prose = assert_drawn_with_shipped_font(page, "article p", at_least=3)
    assert any("昨天" in t for t in prose)
    code = assert_drawn_with_shipped_font(page, "div.cell_input pre")
    assert {"我", "昨天", "家"} <= {t.strip('"') for t in code}
    output = assert_drawn_with_shipped_font(page, "div.cell_output pre")
    assert any(RUNNING_EXAMPLE in t for t in output)
    tokens = assert_drawn_with_shipped_font(page, ".attnlib-widget", at_least=7)
    assert {"我", "昨天", "住", "在", "他", "家", "。"} <= set(tokens)
    assert_clean(log)


def test_chapter_4_widget_and_its_outputs_use_the_shipped_font(ch4):
    page, log = ch4
    tokens = assert_drawn_with_shipped_font(page, ".aw-ae", at_least=8)
    assert set(RUNNING_EXAMPLE) <= set(tokens)
    page.locator(".aw-ae-select").select_option(index=1)  # another sentence, other characters
    assert_drawn_with_shipped_font(page, ".aw-ae", at_least=5)
    assert_drawn_with_shipped_font(page, "div.cell_output pre")
    assert_clean(log)


def test_pages_fetch_the_small_face_and_a_new_character_the_corpus_face(browser, book_url):
    """The chapters need only the book's own characters (a ~20 kB file); a Chinese character
    they do not show yet, from the corpus, comes from the larger face, fetched only then."""
    log, fetched = PageLog(), []
    page = open_page(browser, "about:blank", log)
    page.on("request", lambda r: r.url.endswith(".woff2") and fetched.append(r.url.rsplit("/", 1)[1]))
    page.goto(f"{book_url}/{CH2}", wait_until="load")
    page.locator(".aw-fe").first.wait_for()
    wait_for_fonts(page)
    assert "noto-sans-sc-book.woff2" in fetched and "noto-sans-sc-corpus.woff2" not in fetched
    assert face_status(page) == ["unloaded", "loaded"]  # corpus, book: in cjk.css's order
    css = (HTML / "_static" / "cjk" / "cjk.css").read_text(encoding="utf-8")
    book_range = css.rsplit("unicode-range:", 1)[1].split(";")[0]
    in_book = set()
    for lo, hi in re.findall(r"U\+([0-9A-F]+)(?:-([0-9A-F]+))?", book_range):
        in_book |= set(range(int(lo, 16), int(hi or lo, 16) + 1))
    corpus = (ROOT / "data" / "cmn-eng" / "cmn.txt").read_text(encoding="utf-8")
    new = next(ch for ch in corpus if CJK.match(ch) and ord(ch) not in in_book)
    page.evaluate(
        "(text) => { const p = document.createElement('p'); p.id = 'cjk-new';"
        " p.textContent = text; document.querySelector('article').prepend(p); }",
        new * 3,
    )
    page.wait_for_function("[...document.fonts].every((f) => f.status !== 'loading')")
    assert_drawn_with_shipped_font(page, "#cjk-new")
    assert "noto-sans-sc-corpus.woff2" in fetched
    assert face_status(page) == ["loaded", "loaded"]
    assert_clean(log)
    page.context.close()


def test_every_chinese_character_of_the_built_book_has_a_glyph():
    """The web fonts are the CJK part of data/fonts/NotoSansSC-attnlib.otf (the corpus and
    the book's own text): a character outside it would show as a box."""
    build_book()
    font = set(TTFont(ROOT / "data" / "fonts" / "NotoSansSC-attnlib.otf").getBestCmap())
    missing = {}
    for path in sorted(HTML.rglob("*.html")):
        chars = {ch for ch in cjk(path.read_text(encoding="utf-8")) if ord(ch) not in font}
        if chars:
            missing[path.relative_to(HTML).as_posix()] = "".join(sorted(chars))
    assert not missing, (
        f"no glyph for these characters; add them to the font with scripts/make_font_subset.py: {missing}"
    )
