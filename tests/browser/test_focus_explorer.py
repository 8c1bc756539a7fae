"""FocusExplorer in headless chromium: in the built chapter 2 page, and in a bare page."""

import numpy as np
import pytest

from attnlib import softmax
from attnlib.widgets import FocusExplorer

from .book import PageLog, assert_clean, chapter_page, open_page, serve, widget_state

pytestmark = pytest.mark.browser
CH2 = "notebooks/02_human_analogy.html"
EVIL = "</script><img src=x onerror=alert(1)>"
ROOT = ".attnlib-widget:has(.aw-fe)"


def shown_weights(page):
    """The weights as printed under the source tokens (3 decimals)."""
    texts = page.locator(".aw-fe-weight").all_text_contents()
    return np.array([float(t.replace("\u2212", "-")) for t in texts])


def exact_weights(page):
    """The weights the page computed, at full precision."""
    return np.array(page.locator(".aw-fe-weight").evaluate_all("els => els.map(e => +e.dataset.value)"))


def shown_temperature(page):
    return float(page.locator(".aw-fe-temp output").get_attribute("data-value"))


def shown_selected(page):
    checked = page.locator(".aw-fe-word[aria-checked='true']")
    assert checked.count() == 1
    return int(checked.get_attribute("data-index"))


def focused_index(page):
    return page.evaluate("document.activeElement.dataset.index ?? null")


def expected(state, selected, temperature):
    return softmax(np.array(state["scores"])[selected], temperature=temperature)


def assert_page_matches_attnlib(page, state, atol=1e-3):
    sel, tau = shown_selected(page), shown_temperature(page)
    np.testing.assert_allclose(shown_weights(page), expected(state, sel, tau), atol=atol)
    return sel, tau


@pytest.fixture()
def ch2(browser, book_url):
    with chapter_page(browser, book_url, CH2, ".aw-fe") as (page, log):
        yield page, log


def test_chapter_2_renders_offline_with_widget(ch2):
    page, log = ch2
    page.wait_for_function("document.querySelectorAll('mjx-container').length > 5", timeout=15000)
    assert page.locator(".aw-fe").count() == 1
    assert page.locator(".aw-fe-token").all_text_contents() == ["我", "昨天", "住", "在", "他", "家", "。"]
    assert page.locator(".aw-fe-word").all_text_contents() == [
        "I",
        "stayed",
        "at",
        "his",
        "place",
        "yesterday",
        ".",
    ]
    assert page.locator(".aw-fe-links line").count() == 7
    assert_clean(log)


def test_initial_weights_are_attnlibs(ch2):
    page, _ = ch2
    state = widget_state(page, ROOT)
    sel, tau = assert_page_matches_attnlib(page, state)
    assert (sel, tau) == (state["selected"], state["temperature"]) == (5, 1.0)
    assert page.locator(".aw-fe-top").text_content() == "昨天"
    assert page.locator(".aw-fe-mix").text_content().startswith("0.94·昨天 + ")


def test_click_a_word_then_move_the_slider(ch2):
    page, log = ch2
    state = widget_state(page, ROOT)
    page.locator(".aw-fe-word", has_text="stayed").click()
    assert shown_selected(page) == 1
    assert page.locator(".aw-fe-now").text_content() == "stayed"
    assert_page_matches_attnlib(page, state)
    assert page.locator(".aw-fe-top").text_content() == "住"

    slider = page.locator(".aw-fe-temp input[type=range]")
    slider.focus()
    for _ in range(60):  # 60 steps of 0.01 in log10 τ: τ = 10^0.6 ≈ 3.98
        page.keyboard.press("ArrowRight")
    sel, tau = assert_page_matches_attnlib(page, state)
    assert sel == 1 and tau == pytest.approx(10**0.6, rel=1e-9)
    assert page.locator(".aw-fe-temp output").text_content() == "3.98"

    box = slider.bounding_box()  # a mouse click near the left end: a sharp focus
    page.mouse.click(box["x"] + 0.1 * box["width"], box["y"] + box["height"] / 2)
    sel, tau = assert_page_matches_attnlib(page, state)
    assert tau < 0.2 and shown_weights(page)[2] > 0.99
    assert not log.unexpected_console_errors()


def test_keyboard_selects_target_words(ch2):
    page, _ = ch2
    state = widget_state(page, ROOT)
    page.locator(".aw-fe-temp input[type=range]").focus()
    page.keyboard.press("Shift+Tab")  # roving tabindex: Tab lands on the chosen word
    assert focused_index(page) == "5"
    for key, want in [
        ("ArrowLeft", 4),
        ("ArrowLeft", 3),
        ("End", 6),
        ("Home", 0),
        ("ArrowRight", 1),
        ("ArrowDown", 2),
        ("ArrowUp", 1),
    ]:
        page.keyboard.press(key)
        assert shown_selected(page) == want, key
        assert focused_index(page) == str(want)
        assert_page_matches_attnlib(page, state)
    page.keyboard.press("Home")
    page.keyboard.press("ArrowLeft")  # stays at the first word
    assert shown_selected(page) == 0
    assert page.locator(".aw-fe-word").nth(0).get_attribute("aria-checked") == "true"
    assert page.locator(".aw-fe-word").nth(1).get_attribute("tabindex") == "-1"
    label = page.locator(".aw-fe-chip").nth(0).get_attribute("aria-label")
    assert label.startswith("我: weight 0.9")


def bare_page(tmp_path, widget):
    (tmp_path / "index.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>w</title><body>{widget.static_html()}</body>",
        encoding="utf-8",
    )


def test_js_and_python_compute_the_same_weights(browser, tmp_path):
    rng = np.random.default_rng(7)
    src, tgt = [f"s{j}" for j in range(9)], [f"t{i}" for i in range(5)]
    widget = FocusExplorer(src, tgt, rng.normal(scale=3, size=(5, 9)), selected=2, temperature=0.7)
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-fe").wait_for()
        np.testing.assert_allclose(exact_weights(page), widget.weights, atol=1e-12, rtol=0)
        page.locator(".aw-fe-word").nth(4).click()
        widget.selected = 4
        np.testing.assert_allclose(exact_weights(page), widget.weights, atol=1e-12, rtol=0)
        page.locator(".aw-fe-temp input[type=range]").focus()
        for _ in range(5):
            page.keyboard.press("ArrowLeft")
        widget.temperature = shown_temperature(page)
        assert widget.temperature == pytest.approx(
            10**-0.2, rel=1e-9
        )  # log10(0.7) snaps to -0.15, then 5 steps
        np.testing.assert_allclose(exact_weights(page), widget.weights, atol=1e-12, rtol=0)
        page.context.close()
    assert not log.page_errors and not log.console_errors and not log.external_requests


def test_a_token_that_looks_like_markup_is_shown_as_text_and_runs_nothing(browser, tmp_path):
    widget = FocusExplorer([EVIL, "ok"], ["fine", EVIL], [[2.0, 0.0], [0.0, 1.0]])
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-fe").wait_for()
        page.wait_for_timeout(300)
        assert page.locator(".aw-fe-token").first.text_content() == EVIL
        assert page.locator(".aw-fe-word").nth(1).text_content() == EVIL
        page.locator(".aw-fe-word").nth(1).click()
        assert page.locator(".aw-fe-now").text_content() == EVIL
        assert EVIL in page.locator(".aw-fe-mix").text_content()
        assert page.locator("img").count() == 0
        page.context.close()
    assert not log.page_errors, log.page_errors  # no alert dialog, no script error
