"""A sweep of every page of the built book, in headless chromium, offline, light and dark.

For each page and each colour scheme:

* it loads with no console or page error beyond the known THEBE one, and asks no host but
  its own for anything;
* every piece of math is typeset by the vendored MathJax, with no MathJax error;
* every image has alt text;
* every widget renders and responds to its main interaction, driven by the keyboard alone,
  and every control in it has an accessible name;
* the text of the page and of its widgets passes WCAG AA contrast (4.5:1, or 3:1 for large
  text) against the background it is drawn on.

Separately, without a browser: every internal link and anchor of every page resolves, and
every local image, script and stylesheet a page refers to exists.
"""

from __future__ import annotations

import html.parser
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from .book import HTML, ROOT, PageLog, build_book, open_page

build_book()
# The Chinese edition (zh_CN/, the same pages in another language) has its own tests: test_zh.py.
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "_panels_static", "zh_CN"}
PAGES = sorted(
    p.relative_to(HTML).as_posix()
    for p in HTML.rglob("*.html")
    if not SKIP_DIRS & set(p.relative_to(HTML).parts)
)
CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]

# Each widget's main interaction, from the keyboard: the control to focus and the key to press.
MAIN_INTERACTION = {
    "aw-qe": (".aw-query", "ArrowRight"),  # move the query
    "aw-fe": ("[aria-checked][tabindex='0']", "ArrowRight"),  # choose the next target word
    "aw-be": (".aw-be-length input", "ArrowRight"),  # a longer input
    "aw-ae": (".aw-ae-next", "Enter"),  # the next decoder step
    "aw-sa": ("[aria-checked][tabindex='0']", "ArrowRight"),  # the next query token
    "aw-os": (".aw-os-step input", "ArrowRight"),  # read the next block of keys
}

# WCAG 2.1 relative luminance and contrast, over the text of the page and its widgets.
# The background of a text element is the first opaque background among its ancestors
# (semi-transparent ones are composed over it); SVG text is measured against the HTML
# background behind the drawing, unless it sits on a <rect> sibling it is drawn on.
CONTRAST_JS = r"""
(root) => {
  const parse = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e instanceof SVGElement && e.tagName !== 'svg') continue;
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) o *= +getComputedStyle(e).opacity;
    return o;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim()) continue;
    seen.add(el);
    const skip = 'mjx-container, script, style, noscript, .visually-hidden, .sr-only, [aria-hidden="true"]';
    if (el.closest(skip)) continue;
    if (el.closest('[disabled], :disabled')) continue;  // WCAG exempts inactive controls
    if (!visible(el)) continue;
    const s = getComputedStyle(el);
    let fg = parse(el instanceof SVGElement ? s.fill : s.color);
    if (!fg) continue;
    let bg = background(el);
    if (el instanceof SVGElement && el.ownerSVGElement) {
      // SVG text is drawn over whatever <rect> was painted before it at the same place.
      const b = el.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
      const under = [...el.ownerSVGElement.querySelectorAll('rect')].filter(r => {
        const rb = r.getBoundingClientRect();
        return (r.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) &&
               rb.left <= x && x <= rb.right && rb.top <= y && y <= rb.bottom;
      });
      for (const r of under) {
        const rs = getComputedStyle(r), f = parse(rs.fill);
        if (f) bg = over([f[0], f[1], f[2], f[3] * +rs.fillOpacity * opacity(r)], bg);
      }
    }
    fg = [fg[0], fg[1], fg[2], fg[3] * opacity(el)];
    const r = ratio(over(fg, bg), bg);
    const px = parseFloat(s.fontSize);
    const bold = +s.fontWeight >= 700 || s.fontWeight === 'bold';
    const large = px >= 24 || (bold && px >= 18.66);
    const need = large ? 3 : 4.5;
    if (r < need) out.push({text: n.textContent.trim().slice(0, 40), ratio: +r.toFixed(2), need,
                            cls: (el.getAttribute('class') || el.tagName), fg: s.color,
                            bg: bg.map(Math.round).join(',')});
  }
  return out;
}
"""

# Controls a keyboard can reach, and whether each has a name a screen reader can announce.
UNNAMED_CONTROLS_JS = r"""
(root) => {
  const controls = root.querySelectorAll(
    'button, input, select, textarea, a[href], [tabindex], [role=slider], [role=button]');
  const named = (el) => {
    if ((el.getAttribute('aria-label') || '').trim()) return true;
    const by = el.getAttribute('aria-labelledby');
    const named = (id) => (document.getElementById(id)?.textContent || '').trim();
    if (by && by.split(/\s+/).some(named)) return true;
    if (el.labels && [...el.labels].some(l => l.textContent.trim())) return true;
    if ((el.getAttribute('title') || '').trim()) return true;
    if (['BUTTON', 'A', 'OPTION'].includes(el.tagName) || el.getAttribute('role') === 'radio')
      return el.textContent.trim().length > 0;
    return false;
  };
  return [...controls].filter(el => !named(el)).map(el => el.outerHTML.slice(0, 120));
}
"""


@pytest.fixture(scope="module", params=["light", "dark"])
def scheme(request):
    return request.param


def load(browser, book_url, path, scheme):
    log = PageLog()
    page = open_page(
        browser, f"{book_url}/{path}", log, color_scheme=scheme, viewport={"width": 1280, "height": 900}
    )
    # The theme follows the reader's system setting (default_mode: auto).
    page.wait_for_function(f"document.documentElement.dataset.theme === '{scheme}'", timeout=10000)
    if page.locator(".math").count():
        page.wait_for_function(
            "[...document.querySelectorAll('.math')].every(m => m.querySelector('mjx-container'))",
            timeout=20000,
        )
    return page, log


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_offline_with_math_alt_text_and_contrast(browser, book_url, path, scheme):
    page, log = load(browser, book_url, path, scheme)
    try:
        assert log.unexpected_console_errors() == [], log.console_errors
        assert [e for e in log.page_errors if "THEBE_JS_URL" not in e] == []
        assert log.external_requests == []
        n_math = page.locator(".math").count()
        assert page.locator("mjx-container").count() >= n_math
        assert page.locator("mjx-merror, .MathJax_Error").count() == 0
        # Sphinx writes the file name as alt when none is given: that is no alt text either.
        no_alt = page.locator("img").evaluate_all(
            "imgs => imgs.filter(i => { const a = (i.getAttribute('alt') || '').trim();"
            "  return !a || /[.](png|jpe?g|svg|gif)$/i.test(a) || a.includes('_images/'); }).map(i => i.src)"
        )
        assert no_alt == [], f"images without alt text: {no_alt}"
        broken = page.locator("img").evaluate_all("imgs => imgs.filter(i => !i.naturalWidth).map(i => i.src)")
        assert broken == []
        low = page.locator("main").evaluate(CONTRAST_JS)
        assert low == [], f"{len(low)} text elements below WCAG AA contrast ({scheme}): {low[:8]}"
    finally:
        page.context.close()


def widget_kinds(page):
    return page.locator(".attnlib-widget").evaluate_all(
        "ws => ws.map(w => [...w.querySelectorAll('[class]')].map(e => [...e.classList]).flat()"
        "                 .find(c => /^aw-[a-z]{2}$/.test(c)) || null)"
    )


@pytest.mark.parametrize("path", CHAPTERS)
def test_every_widget_renders_and_answers_the_keyboard(browser, book_url, path, scheme):
    page, log = load(browser, book_url, path, scheme)
    try:
        kinds = widget_kinds(page)
        assert kinds, "every chapter has at least one widget"
        for i, kind in enumerate(kinds):
            assert kind in MAIN_INTERACTION, f"widget {i} on {path} did not render (kind {kind})"
            root = page.locator(".attnlib-widget").nth(i)
            root.scroll_into_view_if_needed()
            box = root.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100
            assert root.evaluate(UNNAMED_CONTROLS_JS) == []
            selector, key = MAIN_INTERACTION[kind]
            before = root.inner_html()
            root.locator(selector).first.focus()
            page.keyboard.press(key)
            page.wait_for_timeout(100)
            assert root.inner_html() != before, f"{kind} on {path} did not respond to {key}"
            assert root.evaluate("r => r.contains(document.activeElement)"), "focus left the widget"
            low = root.evaluate(CONTRAST_JS)
            assert low == [], f"{kind} text below WCAG AA contrast ({scheme}): {low[:8]}"
        assert log.unexpected_console_errors() == []
        assert [e for e in log.page_errors if "THEBE_JS_URL" not in e] == []
    finally:
        page.context.close()


class _Refs(html.parser.HTMLParser):
    """Collect the ids of a page and the local addresses it refers to."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.resources: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in ("id", "name"):
            if a.get(name):
                self.ids.add(a[name])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for attr in ("src",) if tag in ("img", "script") else ("href",) if tag == "link" else ():
            if a.get(attr):
                self.resources.append(a[attr])


def _parse(path: Path) -> _Refs:
    refs = _Refs()
    refs.feed(path.read_text(encoding="utf-8"))
    return refs


def _local(url: str) -> bool:
    parsed = urlparse(url)
    return not parsed.scheme and not parsed.netloc and not url.startswith("//")


def test_every_internal_link_and_anchor_resolves():
    assert len(PAGES) >= 10 and len(CHAPTERS) == 6
    parsed = {p: _parse(HTML / p) for p in PAGES}
    broken, checked = [], 0
    for page, refs in parsed.items():
        here = posixpath.dirname(page)
        for url in refs.links + refs.resources:
            if not _local(url):
                continue
            path, _, fragment = url.partition("#")
            path = unquote(path.split("?")[0])
            target = posixpath.normpath(posixpath.join(here, path)) if path else page
            if target.startswith("zh_CN/") and not (HTML / "zh_CN").is_dir():
                continue  # the language switch, to a Chinese edition not built here (test_zh.py)
            if target.endswith("/") or (HTML / target).is_dir():
                target = posixpath.join(target, "index.html")
            checked += 1
            if not (HTML / target).is_file():
                broken.append(f"{page}: {url} (no file {target})")
            elif fragment and target.endswith(".html"):
                ids = parsed[target].ids if target in parsed else _parse(HTML / target).ids
                if unquote(fragment) not in ids:
                    broken.append(f"{page}: {url} (no anchor #{fragment} in {target})")
    assert checked > 500
    assert broken == [], "\n".join(broken[:30])


@pytest.mark.parametrize("path", CHAPTERS)
def test_every_chapter_launches_its_own_notebook_on_binder_and_colab(path):
    # the repository address is the one setting in _config.yml
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    slug = repo["url"].removeprefix("https://github.com/")
    notebook = path.replace(".html", ".ipynb")
    links = set(_parse(HTML / path).links)
    assert f"https://mybinder.org/v2/gh/{slug}/{repo['branch']}?urlpath=lab/tree/{notebook}" in links
    assert f"https://colab.research.google.com/github/{slug}/blob/{repo['branch']}/{notebook}" in links
    # the Colab set-up cell runs on Colab only and is not shown in the book
    assert "google.colab" not in (HTML / path).read_text(encoding="utf-8")


def test_the_solutions_appendix_holds_every_exercise_with_a_passing_solution():
    numbers = []
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        text = nb.read_text(encoding="utf-8")
        found = set(re.findall(r"\*\*Exercise (\d+\.\d+)", text))
        numbers += sorted(found, key=lambda n: [int(x) for x in n.split(".")])
    page = (HTML / "book" / "solutions.html").read_text(encoding="utf-8")
    shown = re.findall(r"<strong>Exercise (\d+\.\d+)", page)
    assert len(numbers) >= 15 and shown == numbers
    assert len(re.findall(r'class="highlight-python', page)) == len(numbers)  # one solution each
    assert len(re.findall(r"✓ Exercise \d+\.\d+: correct", page)) == len(numbers)  # each one passes
