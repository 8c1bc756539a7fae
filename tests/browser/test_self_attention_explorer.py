"""SelfAttentionExplorer in headless chromium: in the built chapter 5 page, and in a bare page."""

import numpy as np
import pytest

from attnlib.widgets import SelfAttentionExplorer
from attnlib.widgets.self_attention_explorer import row_weights

from .book import PageLog, assert_clean, chapter_page, open_page, serve, widget_state

pytestmark = pytest.mark.browser
CH5 = "notebooks/05_transformer.html"
EVIL = "</script><img src=x onerror=alert(1)>"
ROOT = ".attnlib-widget:has(.aw-sa)"


def shown_weights(page):
    """The weights as printed under the key tokens (3 decimals)."""
    texts = page.locator(".aw-sa-weight").all_text_contents()
    return np.array([float(t.replace("\u2212", "-")) for t in texts])


def exact_weights(page):
    """The weights the page computed, at full precision."""
    return np.array(page.locator(".aw-sa-weight").evaluate_all("els => els.map(e => +e.dataset.value)"))


def shown_selected(page):
    checked = page.locator(".aw-sa-word[aria-checked='true']")
    assert checked.count() == 1
    return int(checked.get_attribute("data-index"))


def shown_view(page):
    """(layer, head, causal) as the controls show them."""
    return (
        int(page.locator(".aw-sa-layer").input_value()),
        int(page.locator(".aw-sa-head").input_value()),
        page.locator(".aw-sa-causal").is_checked(),
    )


def expected(state, page):
    layer, head, causal = shown_view(page)
    return row_weights(np.array(state["scores"]), layer, head, shown_selected(page), causal)


@pytest.fixture()
def ch5(browser, book_url):
    with chapter_page(browser, book_url, CH5, ".aw-sa") as (page, log):
        yield page, log


def test_chapter_5_renders_offline_with_math_and_widget(ch5):
    page, log = ch5
    page.wait_for_function("document.querySelectorAll('mjx-container').length > 5", timeout=15000)
    assert page.locator(".aw-sa").count() == 1
    tokens = ["我", "昨", "天", "住", "在", "他", "家", "。"]
    assert page.locator(".aw-sa-token").all_text_contents() == tokens
    assert page.locator(".aw-sa-word").all_text_contents() == tokens
    assert page.locator(".aw-sa-links line").count() == 8
    assert page.locator(".aw-sa-cell").count() == 64
    assert_clean(log)


def test_initial_weights_are_attnlibs(ch5):
    page, _ = ch5
    state = widget_state(page, ROOT)
    assert (state["layer"], state["head"], state["selected"], state["causal"]) == (1, 0, 3, False)
    assert shown_view(page) == (1, 0, False) and shown_selected(page) == 3
    np.testing.assert_allclose(shown_weights(page), expected(state, page), atol=1e-3)
    np.testing.assert_allclose(exact_weights(page), state["weights"], atol=1e-12)
    assert page.locator(".aw-sa-top").text_content().startswith("家 (0.7")


def test_hover_then_focus_a_token_and_read_its_weights(ch5):
    page, log = ch5
    state = widget_state(page, ROOT)
    page.locator(".aw-sa-word").nth(6).hover()  # 家
    assert shown_selected(page) == 6
    assert page.locator(".aw-sa-now").text_content() == "家"
    np.testing.assert_allclose(shown_weights(page), expected(state, page), atol=1e-3)
    page.locator(".aw-sa-word").nth(1).focus()  # 昨, from the keyboard's point of view
    assert shown_selected(page) == 1
    np.testing.assert_allclose(shown_weights(page), expected(state, page), atol=1e-3)
    assert not log.unexpected_console_errors()


def test_causal_mask_zeroes_the_future_exactly(ch5):
    page, _ = ch5
    state = widget_state(page, ROOT)
    page.locator(".aw-sa-word").nth(2).hover()  # 天, the third token
    page.locator(".aw-sa-causal").check()
    w = exact_weights(page)
    assert (w[3:] == 0).all() and w.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(shown_weights(page), expected(state, page), atol=1e-3)
    assert page.locator(".aw-sa-chip.aw-sa-masked").count() == 5
    assert page.locator(".aw-sa-cell.aw-sa-masked").count() == 28  # the strict upper triangle
    assert "5 later tokens masked" in page.locator(".aw-sa-facts").text_content()
    for i in range(8):  # every query: keys after it get exactly 0
        page.locator(".aw-sa-word").nth(i).hover()
        w = exact_weights(page)
        assert (w[i + 1 :] == 0).all()
        np.testing.assert_allclose(w, expected(state, page), atol=1e-3)
    page.locator(".aw-sa-causal").uncheck()
    assert page.locator(".aw-sa-chip.aw-sa-masked").count() == 0
    np.testing.assert_allclose(shown_weights(page), expected(state, page), atol=1e-3)


def test_layers_heads_and_keyboard(ch5):
    page, _ = ch5
    state = widget_state(page, ROOT)
    page.locator(".aw-sa-layer").select_option("0")
    page.locator(".aw-sa-head").select_option("2")
    assert shown_view(page) == (0, 2, False)
    assert "layer 1, head 3" in page.locator(".aw-sa-facts").text_content()
    np.testing.assert_allclose(shown_weights(page), expected(state, page), atol=1e-3)
    page.locator(".aw-sa-head").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the causal checkbox: onto the chosen query (roving tabindex)
    assert page.evaluate("document.activeElement.dataset.index") == str(shown_selected(page))
    for key, want in [("Home", 0), ("ArrowRight", 1), ("ArrowRight", 2), ("End", 7), ("ArrowLeft", 6)]:
        page.keyboard.press(key)
        assert shown_selected(page) == want, key
        np.testing.assert_allclose(shown_weights(page), expected(state, page), atol=1e-3)
    label = page.locator(".aw-sa-chip").nth(0).get_attribute("aria-label")
    assert label.startswith("我: weight ")


def bare_page(tmp_path, widget):
    (tmp_path / "index.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>w</title><body>{widget.static_html()}</body>",
        encoding="utf-8",
    )


def test_js_and_python_compute_the_same_weights(browser, tmp_path):
    rng = np.random.default_rng(11)
    tokens = [f"t{i}" for i in range(6)]
    widget = SelfAttentionExplorer(
        tokens, rng.normal(scale=3, size=(3, 2, 6, 6)), layer=2, head=1, selected=4
    )
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-sa").wait_for()
        np.testing.assert_allclose(exact_weights(page), widget.weights, atol=1e-12, rtol=0)
        for action, trait, value in [
            (lambda: page.locator(".aw-sa-word").nth(1).hover(), "selected", 1),
            (lambda: page.locator(".aw-sa-causal").check(), "causal", True),
            (lambda: page.locator(".aw-sa-layer").select_option("0"), "layer", 0),
            (lambda: page.locator(".aw-sa-word").nth(5).hover(), "selected", 5),
            (lambda: page.locator(".aw-sa-head").select_option("0"), "head", 0),
        ]:
            action()
            setattr(widget, trait, value)
            np.testing.assert_allclose(exact_weights(page), widget.weights, atol=1e-12, rtol=0)
        page.context.close()
    assert not log.page_errors and not log.console_errors and not log.external_requests


def test_a_token_that_looks_like_markup_is_shown_as_text_and_runs_nothing(browser, tmp_path):
    widget = SelfAttentionExplorer([EVIL, "ok", "<b>x</b>"], np.zeros((1, 1, 3, 3)), selected=0)
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-sa").wait_for()
        page.wait_for_timeout(300)
        assert page.locator(".aw-sa-token").first.text_content() == EVIL
        assert page.locator(".aw-sa-word").nth(2).text_content() == "<b>x</b>"
        assert page.locator(".aw-sa-now").text_content() == EVIL
        assert page.locator(".aw-sa-matrix text").first.text_content() == EVIL
        assert page.locator("img").count() == 0 and page.locator(".aw-sa b").count() == 0
        page.context.close()
    assert not log.page_errors, log.page_errors  # no alert dialog, no script error
