"""How long each of the book's widgets takes to redraw, in the built book, in chromium.

Each widget is driven on its own chapter page (the real page, with the book's CSS and every
other output around it), offline, by events the page dispatches to itself: a drag of the
query, a key press on a row of tokens, a step of a slider. Each interaction is timed in the
page from the event to the end of the redraw: the widget's handler (the recipe, the DOM
updates) plus the style and layout work the browser must do before the next frame, forced
by reading the layout. Painting is not included. The budget: 8 ms at the 95th percentile,
half a frame at 60 frames per second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

from tools.browser import KNOWN_CONSOLE_ERRORS, PageLog, launch, open_page, serve

INTERACTIONS = 240  # per widget and round (the target is at least 200)
ROUNDS = 5  # each widget's figures are the median over this many rounds
BUDGET_MS = 8.0

# After a real mouse-down on the query (Playwright), pointer moves along a spiral:
# QueryExplorer's drag.
DRAG = """([root, n]) => {
  const plane = document.querySelector(root + ' .aw-plane');
  const box = plane.getBoundingClientRect(), cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const at = (x, y) => ({ clientX: x, clientY: y, pointerId: 1, pointerType: 'mouse', bubbles: true });
  const times = [];
  for (let i = 0; i < n; i++) {
    const r = 0.4 * box.width * (i + 1) / n, a = 6 * Math.PI * i / n;
    const ev = new PointerEvent('pointermove', at(cx + r * Math.cos(a), cy + r * Math.sin(a)));
    const t0 = performance.now();
    plane.dispatchEvent(ev);
    document.body.getBoundingClientRect();
    times.push(performance.now() - t0);
  }
  return times;
}"""

# Arrow keys on a focusable element, back and forth so the choice stays in range.
KEYS = """([target, n]) => {
  const node = document.querySelector(target);
  const times = [];
  for (let i = 0; i < n; i++) {
    const key = Math.floor(i / 4) % 2 ? 'ArrowLeft' : 'ArrowRight';
    const active = document.activeElement;
    const focus = active && node.contains(active) ? active : node;
    const ev = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true });
    const t0 = performance.now();
    focus.dispatchEvent(ev);
    document.body.getBoundingClientRect();
    times.push(performance.now() - t0);
  }
  return times;
}"""

# A range slider moved step by step, up then down.
SLIDE = """([target, n]) => {
  const input = document.querySelector(target);
  const lo = +input.min, hi = +input.max, step = +input.step || 1, span = Math.round((hi - lo) / step);
  const times = [];
  for (let i = 0; i < n; i++) {
    const k = i % (2 * span), pos = k < span ? k : 2 * span - k;
    input.value = lo + pos * step;
    const t0 = performance.now();
    input.dispatchEvent(new Event('input', { bubbles: true }));
    document.body.getBoundingClientRect();
    times.push(performance.now() - t0);
  }
  return times;
}"""


# Counts the DOM changes in the widget, so a run whose events changed nothing is caught.
WATCH = """(root) => {
  window.__attnbookMutations = 0;
  new MutationObserver((records) => { window.__attnbookMutations += records.length; })
    .observe(document.querySelector(root),
             { subtree: true, childList: true, attributes: true, characterData: true });
}"""


@dataclass(frozen=True)
class WidgetCase:
    """Where a widget lives and how a reader drives it."""

    name: str  # the widget class
    page: str  # its chapter page, relative to the book's root
    root: str  # CSS selector of its root element
    script: str  # DRAG, KEYS or SLIDE
    target: str  # the element the events go to (KEYS, SLIDE) or the widget root (DRAG)
    focus: str = ""  # an element to focus first (KEYS)
    press: str = ""  # an element to press the mouse on first, released at the end (DRAG)


CASES = (
    WidgetCase(
        "QueryExplorer",
        "notebooks/03_qkv_recipe.html",
        ".aw-qe",
        DRAG,
        ".aw-qe",
        press=".aw-qe .aw-query path",
    ),
    WidgetCase(
        "FocusExplorer",
        "notebooks/02_human_analogy.html",
        ".aw-fe",
        KEYS,
        ".aw-fe-target",
        focus=".aw-fe-word[aria-checked=true]",
    ),
    WidgetCase(
        "BottleneckExplorer", "notebooks/01_bottleneck.html", ".aw-be", SLIDE, ".aw-be input[type=range]"
    ),
    WidgetCase("AlignmentExplorer", "notebooks/04_dynamic_context.html", ".aw-ae", KEYS, ".aw-ae"),
    WidgetCase(
        "SelfAttentionExplorer",
        "notebooks/05_transformer.html",
        ".aw-sa",
        KEYS,
        ".aw-sa-query",
        focus=".aw-sa-word[aria-checked=true]",
    ),
    WidgetCase(
        "OnlineSoftmaxStepper",
        "notebooks/06_attention_today.html",
        ".aw-os",
        SLIDE,
        ".aw-os-step input[type=range]",
    ),
)


@dataclass(frozen=True)
class WidgetRow:
    """Redraw times of one widget, in milliseconds, over several rounds of interactions."""

    name: str
    interactions: int  # per round
    rounds: int
    median: float  # the median over rounds of each round's median
    p95: float  # the median over rounds of each round's 95th percentile
    p95_low: float  # the lowest and highest round's 95th percentile: how much the machine wobbled
    p95_high: float


def _drive(browser, url: str, case: WidgetCase, n: int) -> np.ndarray:
    """One round: open the widget's page, drive it ``n`` times, return the redraw times (ms)."""
    log = PageLog()
    page = open_page(browser, f"{url}/{case.page}", log, viewport={"width": 1200, "height": 900})
    root = page.locator(case.root).first
    root.wait_for()
    root.scroll_into_view_if_needed()
    if case.focus:
        page.locator(case.focus).first.focus()
    elif case.script is KEYS:
        page.locator(case.target).first.focus()
    page.evaluate(WATCH, case.root)
    if case.press:
        box = page.locator(case.press).first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
    times = np.array(page.evaluate(case.script, [case.target, n]))
    if case.press:
        page.mouse.up()
    changed = page.evaluate("() => window.__attnbookMutations") > 0
    page.context.close()
    errors = [e for e in log.page_errors if not any(k in e for k in KNOWN_CONSOLE_ERRORS)]
    if errors or len(times) != n:
        raise RuntimeError(f"{case.name}: the page failed while driven: {errors}")
    if not changed:
        raise RuntimeError(f"{case.name}: the events changed nothing: no redraw was measured")
    return times


def measure(html: Path, cases=CASES, n: int = INTERACTIONS, rounds: int = ROUNDS) -> list[WidgetRow]:
    """Drive every widget ``n`` times per round on its page of the book built in ``html``.

    Rounds are interleaved (every widget once per round, in turn), so a burst of load on the
    machine hits all widgets alike; each figure is the median over the rounds.
    """
    per_round: dict[str, list[np.ndarray]] = {case.name: [] for case in cases}
    with serve(html) as url, sync_playwright() as p:
        browser = launch(p)
        for _ in range(rounds):
            for case in cases:
                per_round[case.name].append(_drive(browser, url, case, n))
        browser.close()
    rows = []
    for case in cases:
        p95s = [float(np.percentile(t, 95)) for t in per_round[case.name]]
        rows.append(
            WidgetRow(
                case.name,
                n,
                rounds,
                float(np.median([np.median(t) for t in per_round[case.name]])),
                float(np.median(p95s)),
                min(p95s),
                max(p95s),
            )
        )
    return rows
