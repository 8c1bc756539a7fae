"""What the JupyterLab tests expect of each chapter: its widget, how a reader changes it in
the page, and how the page shows it.

Every chapter binds its widget to a name (``explorer`` unless the case says otherwise).
``shown`` is a JavaScript function of the widget's root element that returns the value of
``trait`` as the page shows it, so a test can compare the page with the kernel in both
directions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .lab import NOTEBOOKS


@dataclass(frozen=True)
class WidgetCase:
    """One chapter's widget, as the tests drive it."""

    chapter: str  # the notebook's stem, e.g. "03_qkv_recipe"
    top: str  # the class of the element the widget's render() appends, e.g. ".aw-qe"
    probe: tuple[str, str]  # (an element, its CSS property) drawn in the accent colour
    trait: str  # the trait a click or drag changes
    shown: str  # JS: (root) => the trait's value as the page shows it
    interact: Callable[[Any], None]  # a click or drag on the widget's locator
    new_value: Any  # a value a cell sets the trait to
    weights: str | None = None  # the elements whose data-value are the shown weights
    name: str = "explorer"  # the variable the chapter binds the widget to


def drag_query(widget) -> None:
    """Drag the query star to a point low on the left of the plane (by the mouse)."""
    page = widget.page
    plane = widget.locator(".aw-plane")
    plane.scroll_into_view_if_needed()
    star, box = widget.locator(".aw-query path").bounding_box(), plane.bounding_box()
    sx, sy = star["x"] + star["width"] / 2, star["y"] + star["height"] / 2
    tx, ty = box["x"] + 0.22 * box["width"], box["y"] + 0.8 * box["height"]
    page.mouse.move(sx, sy)
    page.mouse.down()
    for i in range(1, 6):
        page.mouse.move(sx + (tx - sx) * i / 5, sy + (ty - sy) * i / 5)
    page.mouse.up()


def click_slider_end(widget) -> None:
    """Click the right end of the length slider: the longest input."""
    slider = widget.locator(".aw-be-length input")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    widget.page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)


CASES = {
    case.chapter: case
    for case in [
        WidgetCase(
            "01_bottleneck",
            ".aw-be",
            (".aw-be-model .aw-be-label", "color"),
            "length",
            "(root) => +root.querySelector('.aw-be-length input').value",
            click_slider_end,
            5,
        ),
        WidgetCase(
            "02_human_analogy",
            ".aw-fe",
            (".aw-chip-fill", "background-color"),
            "selected",
            "(root) => +root.querySelector(\".aw-fe-word[aria-checked='true']\").dataset.index",
            lambda w: w.locator(".aw-fe-word", has_text="stayed").click(),
            0,
            ".aw-fe-weight",
        ),
        WidgetCase(
            "03_qkv_recipe",
            ".aw-qe",
            (".aw-fill", "background-color"),
            "query",
            "(root) => { const q = root.querySelector('.aw-query').dataset; return [+q.x, +q.y]; }",
            drag_query,
            [-1.5, 0.5],
            ".aw-weight",
        ),
        WidgetCase(
            "04_dynamic_context",
            ".aw-ae",
            (".aw-chip-fill", "background-color"),
            "step",
            "(root) => +root.querySelector('.aw-ae-word.aw-ae-now').dataset.step",
            lambda w: w.locator(".aw-ae-next").click(),
            3,
            ".aw-ae-weight",
        ),
        WidgetCase(
            "05_transformer",
            ".aw-sa",
            (".aw-chip-fill", "background-color"),
            "selected",
            "(root) => +root.querySelector(\".aw-sa-word[aria-checked='true']\").dataset.index",
            lambda w: w.locator(".aw-sa-word").nth(6).click(),
            1,
            ".aw-sa-weight",
        ),
        WidgetCase(
            "06_attention_today",
            ".aw-os",
            (".aw-os-bar", "fill"),
            "step",
            "(root) => +root.querySelector('.aw-os-step input').value",
            lambda w: w.locator(".aw-os-next").click(),
            3,
            name="stepper",
        ),
    ]
}

# Chapters that show library code beside the prose (with attnlib.show_source; in the book's
# first version with Sphinx's {literalinclude}, which JupyterLab cannot show).
SHOWS_CODE = {"01_bottleneck", "03_qkv_recipe", "04_dynamic_context", "05_transformer", "06_attention_today"}


def listing_calls(chapter: str) -> int:
    """How many listings the chapter asks for: ``show_source(...)`` calls in its code cells."""
    cells = json.loads((NOTEBOOKS / f"{chapter}.ipynb").read_text(encoding="utf-8"))["cells"]
    return sum("".join(c["source"]).count("show_source(") for c in cells if c["cell_type"] == "code")


# The accent colour of attnlib's widgets in each JupyterLab theme (_common.css).
ACCENT = {"light": "rgb(11, 99, 197)", "dark": "rgb(88, 166, 255)"}
