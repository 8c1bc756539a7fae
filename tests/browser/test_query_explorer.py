"""QueryExplorer in headless chromium: in the built chapter 3 page, and in a bare page."""

import numpy as np
import pytest

from attnlib.widgets import QueryExplorer

from .book import PageLog, assert_clean, chapter_page, open_page, serve, widget_state

pytestmark = pytest.mark.browser
CH3 = "notebooks/03_qkv_recipe.html"
EVIL = "</script><img src=x onerror=alert(1)>"


def shown_weights(page):
    texts = page.locator(".aw-weight").all_text_contents()
    return np.array([float(t.replace("\u2212", "-")) for t in texts])


def shown_query(page):
    q = page.locator(".aw-query")
    return np.array([float(q.get_attribute("data-x")), float(q.get_attribute("data-y"))])


def expected_weights(state, query, score=None, temperature=None):
    w = QueryExplorer(
        state["key_points"],
        values=None if state["values_follow_keys"] else state["value_points"],
        labels=state["labels"],
        query=list(query),
        score=score or state["score"],
        temperature=temperature or state["temperature"],
        extent=state["extent"],
    )
    return np.array(w.weights)


def drag_query_to(page, fx, fy):
    """Drag the star to the point at fractions (fx, fy) of the plane's box."""
    page.locator(".aw-plane").scroll_into_view_if_needed()
    star = page.locator(".aw-query path").bounding_box()
    plane = page.locator(".aw-plane").bounding_box()
    sx, sy = star["x"] + star["width"] / 2, star["y"] + star["height"] / 2
    page.mouse.move(sx, sy)
    page.mouse.down()
    tx, ty = plane["x"] + fx * plane["width"], plane["y"] + fy * plane["height"]
    for i in range(1, 6):
        page.mouse.move(sx + (tx - sx) * i / 5, sy + (ty - sy) * i / 5)
    page.mouse.up()


@pytest.fixture()
def ch3(browser, book_url):
    with chapter_page(browser, book_url, CH3, ".aw-qe") as (page, log):
        yield page, log


def test_chapter_3_renders_offline_with_math_and_widget(ch3):
    page, log = ch3
    page.wait_for_function("document.querySelectorAll('mjx-container').length > 5", timeout=15000)
    assert page.locator(".aw-plane").count() == 1
    assert page.locator(".aw-key").count() == 7
    assert page.locator(".aw-key text").first.text_content() == "我"
    assert_clean(log)


def test_initial_weights_are_attnlibs(ch3):
    page, _ = ch3
    state = widget_state(page)
    np.testing.assert_allclose(shown_weights(page), expected_weights(state, state["query"]), atol=1e-3)


def test_dragging_the_query_changes_weights_to_attnlibs(ch3):
    page, _ = ch3
    state = widget_state(page)
    before = shown_weights(page)
    drag_query_to(page, 0.2, 0.8)  # lower left, towards 他 and 家
    q = shown_query(page)
    assert q[0] < -0.5 and q[1] < -0.5, q
    after = shown_weights(page)
    assert np.abs(after - before).max() > 0.1
    np.testing.assert_allclose(after, expected_weights(state, q), atol=1e-3)


def test_arrow_keys_move_the_query(ch3):
    page, _ = ch3
    state = widget_state(page)
    start = shown_query(page)
    page.locator(".aw-query").focus()
    for key in ["ArrowLeft"] * 3 + ["Shift+ArrowDown"]:
        page.keyboard.press(key)
    q = shown_query(page)
    np.testing.assert_allclose(q, [*start, -0.3, -0.5], atol=1e-9)
    np.testing.assert_allclose(shown_weights(page), expected_weights(state, q), atol=1e-3)
    assert "query at" in page.locator(".aw-query").get_attribute("aria-label")


def test_keys_can_be_moved_with_the_keyboard(ch3):
    page, _ = ch3
    key = page.locator(".aw-key").nth(4)  # 他
    before = shown_weights(page)[4]
    key.focus()
    for _ in range(8):
        page.keyboard.press("Shift+ArrowUp")
        page.keyboard.press("Shift+ArrowRight")
    assert shown_weights(page)[4] > before + 0.2


def bare_page(tmp_path, widget):
    (tmp_path / "index.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>w</title><body>{widget.static_html()}</body>",
        encoding="utf-8",
    )


@pytest.mark.parametrize("score", ["dot", "scaled_dot", "cosine", "general", "additive"])
def test_js_and_python_compute_the_same_weights(browser, tmp_path, score):
    keys = [[1.0, 0.5], [-1.5, 2.0], [0.3, -2.2], [2.5, 2.5], [-0.7, -0.4]]
    widget = QueryExplorer(keys, query=[0.8, -0.3], score=score, temperature=0.7)
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-qe").wait_for()
        data = page.locator(".aw-weight").evaluate_all("els => els.map(e => +e.dataset.value)")
        np.testing.assert_allclose(data, widget.weights, atol=1e-12)
        page.locator(".aw-query").focus()
        page.keyboard.press("ArrowUp")
        widget.query = [0.8, -0.2]
        data = page.locator(".aw-weight").evaluate_all("els => els.map(e => +e.dataset.value)")
        np.testing.assert_allclose(data, widget.weights, atol=1e-12)
        page.context.close()
    assert not log.page_errors and not log.console_errors and not log.external_requests


def test_a_label_that_looks_like_markup_is_shown_as_text_and_runs_nothing(browser, tmp_path):
    widget = QueryExplorer([[1.0, 0.0], [0.0, 1.0]], labels=[EVIL, "ok"])
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-qe").wait_for()
        page.wait_for_timeout(300)
        assert page.locator(".aw-key text").first.text_content() == EVIL
        assert page.locator(".aw-label").first.text_content() == EVIL
        assert page.locator("img").count() == 0
        page.context.close()
    assert not log.page_errors, log.page_errors  # no alert dialog, no script error
