"""The Chinese edition (``_build/html/zh_CN``, built by ``scripts/i18n.py build``), offline.

A few pages in headless chromium: ``<html lang="zh-CN">``, nothing asked of another host, no
console error, math typeset; the language switch leads to the same English page and back; the
widgets speak Chinese there and English in the English book; Chinese is drawn with the book's
own font. Without a browser: every internal link and anchor of the Chinese pages resolves, and
the glossary's terms keep their English ids (chapters link to ``glossary.html#term-…``).
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

import pytest

from attnlib.widgets.messages import EN, ZH

from .book import HTML, PageLog, assert_clean, build_zh_book, open_page
from .book import ZH as ZH_DIR
from .test_cjk_font import assert_drawn_with_shipped_font
from .test_sweep import SKIP_DIRS, _local, _parse

pytestmark = pytest.mark.browser
build_zh_book()
ZH_HTML = HTML / ZH_DIR
CH2 = "notebooks/02_human_analogy.html"
CH3 = "notebooks/03_qkv_recipe.html"
GLOSSARY = "book/glossary.html"
PAGES = sorted(
    p.relative_to(ZH_HTML).as_posix()
    for p in ZH_HTML.rglob("*.html")
    if not (SKIP_DIRS - {ZH_DIR}) & set(p.relative_to(ZH_HTML).parts)
)


def open_zh(browser, book_url: str, path: str):
    log = PageLog()
    page = open_page(browser, f"{book_url}/{ZH_DIR}/{path}", log)
    return page, log


def wait_for_math(page) -> None:
    page.wait_for_function(
        "[...document.querySelectorAll('.math')].every(m => m.querySelector('mjx-container'))", timeout=20000
    )


@pytest.mark.parametrize("path", ["book/intro.html", CH3, GLOSSARY])
def test_a_chinese_page_loads_offline_in_chinese_with_its_math(browser, book_url, path):
    page, log = open_zh(browser, book_url, path)
    try:
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        switch = page.locator("nav.attnbook-language")
        assert switch.count() == 1 and switch.locator("[aria-current]").inner_text() == "中文"
        if page.locator(".math").count():
            wait_for_math(page)
            assert page.locator("mjx-merror, .MathJax_Error").count() == 0
        if path == CH3:
            assert page.locator("mjx-container").count() > 20
            assert "在 CPU 上从全新内核运行约需" in page.locator(".attnbook-runtime").inner_text()
        page.wait_for_load_state("networkidle")
        assert_clean(log)
    finally:
        page.context.close()


def test_the_language_switch_leads_to_the_same_english_page_and_back(browser, book_url):
    page, log = open_zh(browser, book_url, CH3)
    try:
        page.locator("nav.attnbook-language a[hreflang='en']").click()
        page.wait_for_load_state("load")
        assert page.url == f"{book_url}/{CH3}"
        assert page.evaluate("document.documentElement.lang") == "en"
        page.locator("nav.attnbook-language a[hreflang='zh-CN']").click()
        page.wait_for_load_state("load")
        assert page.url == f"{book_url}/{ZH_DIR}/{CH3}"
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        assert_clean(log)
    finally:
        page.context.close()


def test_the_switch_works_from_file_urls_too(browser):
    page = browser.new_page()  # no routing: open_page lets only 127.0.0.1 through
    page.goto((ZH_HTML / CH3).as_uri(), wait_until="domcontentloaded")
    try:
        page.locator("nav.attnbook-language a[hreflang='en']").click()
        page.wait_for_load_state("load")
        assert page.url == (HTML / CH3).as_uri()
    finally:
        page.context.close()


@pytest.mark.parametrize(("prefix", "lang"), [("", "en"), (f"{ZH_DIR}/", "zh")])
def test_widgets_speak_the_pages_language(browser, book_url, prefix, lang):
    table = {"en": EN, "zh": ZH}[lang]
    log = PageLog()
    page = open_page(browser, f"{book_url}/{prefix}{CH3}", log)
    try:
        widget = page.locator(".attnlib-widget:has(.aw-qe)").first
        widget.wait_for()
        assert widget.get_attribute("lang") == {"en": "en", "zh": "zh-CN"}[lang]
        assert widget.locator(".aw-help").inner_text() == table["query.help"]
        assert widget.locator("select").get_attribute("aria-label") == table["query.scoreFunction"]
        assert table["query.followKeys"] in widget.locator(".aw-controls").inner_text()
        readout = widget.locator(".aw-readout").inner_text()
        assert table["query.largest"].split("{")[0].strip() in readout
        widget.locator(".aw-query").focus()
        page.keyboard.press("ArrowRight")
        assert widget.locator(".aw-readout").inner_text() != readout
        assert_clean(log)
    finally:
        page.context.close()


def test_chinese_prose_and_widget_labels_use_the_shipped_font(browser, book_url):
    page, log = open_zh(browser, book_url, CH2)
    try:
        page.locator(".aw-fe").first.wait_for()
        page.locator(".aw-fe").first.scroll_into_view_if_needed()
        labels = assert_drawn_with_shipped_font(
            page, ".aw-fe .aw-help, .aw-fe-ends, .aw-fe .aw-stage-caption", at_least=4
        )
        assert ZH["focus.ends"] in labels and ZH["focus.help"] in labels, labels
        assert_drawn_with_shipped_font(page, "nav.attnbook-language")
        assert_drawn_with_shipped_font(page, "article p", at_least=1)
        assert_clean(log)
    finally:
        page.context.close()


def test_every_internal_link_and_anchor_of_the_chinese_edition_resolves():
    assert len(PAGES) >= 10
    parsed = {f"{ZH_DIR}/{p}": _parse(ZH_HTML / p) for p in PAGES}
    broken, checked, ids = [], 0, {p: refs.ids for p, refs in parsed.items()}  # ids: parsed once a page
    for page, refs in parsed.items():
        here = posixpath.dirname(page)
        for url in refs.links + refs.resources:
            if not _local(url):
                continue
            path, _, fragment = url.partition("#")
            target = posixpath.normpath(posixpath.join(here, unquote(path.split("?")[0]))) if path else page
            if (HTML / target).is_dir():
                target = posixpath.join(target, "index.html")
            checked += 1
            if not (HTML / target).is_file():
                broken.append(f"{page}: {url} (no file {target})")
            elif fragment and target.endswith(".html"):
                if target not in ids:
                    ids[target] = _parse(HTML / target).ids  # an English page (the switch)
                if unquote(fragment) in ids[target]:
                    continue
                broken.append(f"{page}: {url} (no anchor #{fragment} in {target})")
    assert checked > 500
    assert broken == [], "\n".join(broken[:30])


def test_glossary_terms_and_sections_keep_their_english_ids():
    def ids(path):
        text = path.read_text(encoding="utf-8")
        return set(re.findall(r'<dt id="(term-[^"]+)"', text)), set(
            re.findall(r'<section id="([^"]+)"', text)
        )

    english, chinese = ids(HTML / GLOSSARY), ids(ZH_HTML / GLOSSARY)
    assert len(english[0]) > 40
    assert chinese == english
    for chapter in ("01_bottleneck", "03_qkv_recipe", "05_transformer"):
        en = set(
            re.findall(r'id="([^"]+)"', (HTML / "notebooks" / f"{chapter}.html").read_text(encoding="utf-8"))
        )
        zh = set(
            re.findall(
                r'id="([^"]+)"', (ZH_HTML / "notebooks" / f"{chapter}.html").read_text(encoding="utf-8")
            )
        )
        assert {i for i in en if not i.startswith("attnlib-")} <= zh, chapter
