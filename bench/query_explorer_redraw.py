"""Benchmark: how long a QueryExplorer takes to redraw after the query moves.

Drags the query of an 8-key QueryExplorer through 240 positions in headless
chromium (offline, a bare local page) and measures, in the page, the time from
the pointer event to the end of the redraw (scores, softmax, context, SVG and bar
updates, plus the style and layout work the browser does before the next frame;
painting is not included).
Prints the median and 95th percentile in milliseconds. Target: p95 < 16 ms, i.e.
a redraw fits in one frame at 60 frames per second.

Run: .venv/bin/python bench/query_explorer_redraw.py
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from attnlib.widgets import QueryExplorer
from tests.browser.book import PageLog, launch, open_page, serve

N_POSITIONS = 240
# After a real mouse-down on the query (Playwright), the page itself dispatches
# pointermove events along a spiral and times each one synchronously: dispatchEvent
# runs the widget's handler (recipe + SVG and bar updates), then reading the layout
# forces the browser's style and layout work for the new frame.
SPIRAL = """([cx, cy, radius, n]) => {
  const plane = document.querySelector('.aw-plane');
  const times = [];
  for (let i = 0; i < n; i++) {
    const r = radius * (i + 1) / n, a = 6 * Math.PI * i / n;
    const ev = new PointerEvent('pointermove', { clientX: cx + r * Math.cos(a), clientY: cy + r * Math.sin(a),
      pointerId: 1, pointerType: 'mouse', bubbles: true });
    const t0 = performance.now();
    plane.dispatchEvent(ev);
    document.body.getBoundingClientRect();
    times.push(performance.now() - t0);
  }
  return times;
}"""


def main() -> None:
    angles = np.linspace(0, 2 * math.pi, 8, endpoint=False)
    keys = np.c_[2.2 * np.cos(angles), 2.2 * np.sin(angles)]
    widget = QueryExplorer(keys, labels=[f"key {i}" for i in range(8)], query=[0, 0])
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as url, sync_playwright() as p:
        Path(tmp, "index.html").write_text(
            f"<!doctype html><meta charset=utf-8><body>{widget.static_html()}</body>", encoding="utf-8"
        )
        browser = launch(p)
        page = open_page(browser, f"{url}/index.html", PageLog(), viewport={"width": 1000, "height": 800})
        page.locator(".aw-qe").wait_for()
        star = page.locator(".aw-query path").bounding_box()
        plane = page.locator(".aw-plane").bounding_box()
        cx, cy = plane["x"] + plane["width"] / 2, plane["y"] + plane["height"] / 2
        page.mouse.move(star["x"] + star["width"] / 2, star["y"] + star["height"] / 2)
        page.mouse.down()
        times = np.array(page.evaluate(SPIRAL, [cx, cy, 0.4 * plane["width"], N_POSITIONS]))
        moved = page.locator(".aw-query").get_attribute("data-x")
        page.mouse.up()
        browser.close()
    assert float(moved) != 0.0, "the drag did not move the query: nothing was measured"
    print(f"QueryExplorer, 8 keys, {len(times)} drag updates in headless chromium")
    print(
        f"redraw time: median {np.median(times):.2f} ms, p95 {np.percentile(times, 95):.2f} ms, "
        f"max {times.max():.2f} ms (target p95 < 16 ms)"
    )


if __name__ == "__main__":
    main()
