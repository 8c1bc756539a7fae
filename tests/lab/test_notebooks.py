"""Every chapter notebook in a real JupyterLab, driven by Playwright in Debian's chromium.

For each chapter (opened and run once by the ``chapter`` fixture, Kernel > Restart Kernel
and Run All Cells): no cell fails; the live widget is styled in the light and the dark
theme, with the kernel's own CSS (and so its Chinese glyphs); a click or drag in the page
reaches the kernel, and a cell that sets a trait redraws the page; every library listing is
a visible cell output; no MyST syntax shows as raw text (jupyterlab-myst renders it).

Run: ``python -m pytest tests/lab -p no:cacheprovider``.
``ATTNBOOK_LAB_PYTHON=.venv-binder/bin/python`` runs JupyterLab and the kernels in the
Binder environment; ``ATTNBOOK_LAB_SHOTS=/tmp/lab-shots`` saves a screenshot of every widget
in both themes; ``ATTNBOOK_LAB_PARALLEL=1`` runs one chapter at a time (default: two).
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from .chapters import ACCENT, SHOWS_CODE, listing_calls
from .lab import (
    error_outputs,
    eventually_kernel_value,
    kernel_value,
    listings,
    log_since,
    raw_markup,
    run_code,
    set_theme,
    unexecuted_cells,
)

pytestmark = pytest.mark.lab
SHOTS = os.environ.get("ATTNBOOK_LAB_SHOTS")
TRANSPARENT = "rgba(0, 0, 0, 0)"

# What the styled check reads off a widget's root: colours resolved from CSS variables
# (a probe element inside the root, removed again) and the probe element's own colour.
STYLE_JS = """(root, [probe, property]) => {
  const resolve = (value) => {
    const span = document.createElement('span');
    span.style.color = value;
    root.append(span);
    const colour = getComputedStyle(span).color;
    span.remove();
    return colour;
  };
  const node = root.querySelector(probe);
  const style = getComputedStyle(root);
  return { accent: resolve('var(--aw-accent)'), defined: style.getPropertyValue('--aw-accent'),
    colour: style.color, themeColour: resolve('var(--jp-ui-font-color0)'), fontSize: style.fontSize,
    probe: node && getComputedStyle(node).getPropertyValue(property) };
}"""


def widget(chapter):
    """The locator of the chapter's live widget: anywidget's element, inside an output."""
    root = chapter.nb.root.locator(f".jp-OutputArea-output .attnlib-widget:has(> {chapter.case.top})")
    root.wait_for()
    assert root.count() == 1, f"{root.count()} live {chapter.case.top} widgets"
    return root


def shown(root, case):
    """The trait's value as the page shows it."""
    return root.evaluate(case.shown)


def wait_shown(root, case, value) -> None:
    """Wait until the page shows ``value`` for the trait."""
    root.page.wait_for_function(
        f"([root, want]) => JSON.stringify(({case.shown})(root)) === JSON.stringify(want)",
        arg=[root.element_handle(), value],
        timeout=30_000,
    )


def shown_weights(root, case) -> np.ndarray:
    """The weights the page shows (full precision, from each number's data-value)."""
    return np.array(root.locator(case.weights).evaluate_all("els => els.map((e) => +e.dataset.value)"))


def same(a, b) -> bool:
    """Equal values, numbers to within 1e-9."""
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=0, atol=1e-9)


def test_runs_from_a_fresh_kernel_without_errors(chapter):
    errors = error_outputs(chapter.nb)
    assert not errors, "\n\n".join(errors)
    assert not chapter.not_run, f"Run All stopped before cells {chapter.not_run}"
    assert not unexecuted_cells(chapter.nb), "cells that did not run even one by one"
    page_errors, external_requests = log_since(chapter.log, chapter.log_mark)
    assert not page_errors, page_errors
    assert not external_requests, external_requests


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_widget_is_styled(chapter, theme):
    set_theme(chapter.nb.page, theme)
    root = widget(chapter)
    root.scroll_into_view_if_needed()
    style = root.evaluate(STYLE_JS, list(chapter.case.probe))
    assert style["defined"].strip(), "the root has no --aw-accent: _common.css does not apply"
    assert style["accent"] == ACCENT[theme], style
    assert style["colour"] == style["themeColour"], "text colour is not JupyterLab's theme colour"
    assert style["fontSize"] == "14px", style
    assert style["probe"] == ACCENT[theme] != TRANSPARENT, f"{chapter.case.probe}: {style}"
    if SHOTS:
        root.page.evaluate("document.fonts.ready.then(() => null)")
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        root.screenshot(path=str(Path(SHOTS) / f"lab-{chapter.name}-{theme}.png"))


def test_live_widget_uses_the_kernels_css(chapter):
    """anywidget keeps one style element per widget class, and it must hold this kernel's
    ``_css``: not a copy from widget state saved in the notebook, which JupyterLab restores
    over it (stale styles, no Chinese glyphs). Chinese tokens get the font face in it."""
    root = widget(chapter)
    name = chapter.case.name
    anywidget_id, css = kernel_value(chapter.nb, f"[{name}._anywidget_id, {name}._css]")
    shown = root.page.evaluate("(id) => document.getElementById(id)?.textContent ?? null", anywidget_id)
    assert shown == css, (
        f"the page styles {anywidget_id} with another copy of its CSS ({len(shown or '')} "
        f"characters, the kernel's has {len(css)}): widget state saved in the notebook?"
    )
    if "@font-face" in css:
        root.page.wait_for_function(
            "[...document.fonts].some((f) => f.family.includes('attnbook') && f.status === 'loaded')",
            timeout=10_000,
        )


def test_a_click_or_drag_reaches_the_kernel(chapter):
    nb, case = chapter.nb, chapter.case
    root = widget(chapter)
    root.scroll_into_view_if_needed()
    before = kernel_value(nb, f"{case.name}.{case.trait}")
    assert same(shown(root, case), before), "page and kernel disagree before any change"
    case.interact(root)
    now = shown(root, case)
    assert not same(now, before), f"the page still shows {case.trait} = {now}"
    eventually_kernel_value(nb, f"{case.name}.{case.trait}", lambda v: same(v, now))
    if case.weights:
        page = shown_weights(root, case)
        eventually_kernel_value(nb, f"{case.name}.weights", lambda v: same(v, page))


def test_a_cell_setting_a_trait_redraws_the_page(chapter):
    nb, case = chapter.nb, chapter.case
    root = widget(chapter)
    assert not same(shown(root, case), case.new_value), "pick a new_value the page does not show yet"
    run_code(nb, f"{case.name}.{case.trait} = {json.dumps(case.new_value)}")
    wait_shown(root, case, case.new_value)
    if case.weights:
        kernel = kernel_value(nb, f"{case.name}.weights")
        assert same(shown_weights(root, case), kernel), "the page's weights are not the kernel's"


def test_no_raw_myst_markup(chapter):
    """No MyST syntax shows as text ({term}, :::{admonition}, directive options):
    jupyterlab-myst (pinned in requirements.txt) renders it."""
    found = raw_markup(chapter.nb)
    assert not found, f"{len(found)} places show raw MyST markup:\n" + "\n".join(found[:12])


def test_library_listings_are_outputs(chapter):
    """The library code a chapter shows is visible in JupyterLab too: each show_source(...) call
    displays its listing as a cell output (Sphinx's {literalinclude} showed nothing here)."""
    shown = listings(chapter.nb)
    want = listing_calls(chapter.name)
    assert want or chapter.name not in SHOWS_CODE, "this chapter shows library code: with show_source"
    assert shown.count() == want, f"{shown.count()} listings shown as outputs, {want} show_source calls"
    for listing in shown.all():
        text = listing.inner_text()
        assert listing.is_visible() and ("def " in text or "class " in text), text[:200]
