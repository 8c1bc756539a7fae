"""OnlineSoftmaxStepper in headless chromium: in the built chapter 6 page, and in a bare page."""

import math

import numpy as np
import pytest

from attnlib import softmax
from attnlib.online_softmax import online_steps
from attnlib.widgets import OnlineSoftmaxStepper
from attnlib.widgets._base import rounded

from .book import PageLog, assert_clean, chapter_page, open_page, serve, widget_state

pytestmark = pytest.mark.browser
CH6 = "notebooks/06_attention_today.html"
ROOT = ".attnlib-widget:has(.aw-os)"
EVIL = "</script><img src=x onerror=alert(1)>"


def shown(page, selector):
    """The exact numbers the page computed (data-value of each matching element)."""
    return np.array(page.locator(selector).evaluate_all("els => els.map(e => +e.dataset.value)"))


def shown_step(page):
    return int(page.locator(".aw-os-step output").get_attribute("data-value"))


def expected(state, block, step):
    """Python's weights so far and output after `step` blocks of `block` keys."""
    scores, values = np.array(state["scores"]), np.array(state["values"])
    if step == 0:
        return np.zeros(len(scores)), np.zeros(values.shape[1])
    st = online_steps(scores, values, block)[step - 1]
    read = np.arange(len(scores)) < st.seen
    return np.where(read, np.exp(scores - st.maximum) / st.total, 0.0), st.output


def assert_page_matches_attnlib(page, state, block, step, atol=1e-9):
    weights, output = expected(state, block, step)
    np.testing.assert_allclose(shown(page, ".aw-os-weight"), weights, atol=atol)
    full = softmax(np.array(state["scores"])) @ np.array(state["values"])
    gap = float(page.locator(".aw-os-gap").get_attribute("data-value"))
    assert gap == pytest.approx(np.abs(output - full).max(), abs=atol)
    return weights


@pytest.fixture()
def ch6(browser, book_url):
    with chapter_page(browser, book_url, CH6, ".aw-os") as (page, log):
        yield page, log


def test_chapter_6_renders_offline_with_the_stepper(ch6):
    page, log = ch6
    state = widget_state(page, ROOT)
    assert page.locator(".aw-os").count() == 1
    tokens = page.locator(".aw-os-token").all_text_contents()
    assert tokens == state["tokens"] and tokens[0] == "\u23ce" and len(tokens) == 33
    assert "".join(tokens[1:]).replace("\u2423", " ") == "I stayed at his place yesterday."
    assert page.locator(".aw-os-group").count() == math.ceil(33 / state["block"])
    assert (state["block"], state["step"]) == (8, 1) and shown_step(page) == 1
    assert_page_matches_attnlib(page, state, 8, 1)
    assert page.locator(".aw-os-trace tbody tr").count() == 1
    assert_clean(log)


def test_keyboard_reads_every_block_and_ends_at_full_attention(ch6):
    page, log = ch6
    state = widget_state(page, ROOT)
    page.locator(".aw-os-step input").focus()
    for step in range(2, 6):
        page.keyboard.press("ArrowRight")
        assert shown_step(page) == step
        assert_page_matches_attnlib(page, state, 8, step)
        assert page.locator(".aw-os-trace tbody tr").count() == step
    page.keyboard.press("ArrowRight")  # already at the end
    assert shown_step(page) == 5
    np.testing.assert_allclose(shown(page, ".aw-os-weight"), softmax(np.array(state["scores"])), atol=1e-12)
    assert float(page.locator(".aw-os-gap").get_attribute("data-value")) < 1e-12
    assert "exactly full attention" in page.locator(".aw-os-verdict").text_content()
    assert page.locator(".aw-os-next").is_disabled()
    page.keyboard.press("Home")
    assert shown_step(page) == 0 and (shown(page, ".aw-os-weight") == 0).all()
    assert page.locator(".aw-os-m").text_content() == "\u2212\u221e"
    assert_clean(log)


def test_buttons_and_a_new_block_size(ch6):
    page, _ = ch6
    state = widget_state(page, ROOT)
    page.locator(".aw-os-next").click()
    assert shown_step(page) == 2
    page.locator(".aw-os-block-size input").focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")  # 8 -> 5 keys per block
    assert page.locator(".aw-os-block-size output").text_content() == "5"
    assert shown_step(page) == 0 and page.locator(".aw-os-group").count() == 7
    page.locator(".aw-os-next").click()
    page.locator(".aw-os-next").click()
    assert_page_matches_attnlib(page, state, 5, 2)
    rescale = float(page.locator(".aw-os-rescale").get_attribute("data-value"))
    assert rescale == pytest.approx(
        online_steps(np.array(state["scores"]), np.array(state["values"]), 5)[1].rescale
    )
    page.locator(".aw-os-reset").click()
    assert shown_step(page) == 0
    label = page.locator(".aw-os-chip").nth(1).get_attribute("aria-label")
    assert label.startswith("I: score ") and "not read yet" in label


def bare_page(tmp_path, widget):
    (tmp_path / "index.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>w</title><body>{widget.static_html()}</body>",
        encoding="utf-8",
    )


def test_js_and_python_compute_the_same_numbers(browser, tmp_path):
    rng = np.random.default_rng(3)
    # numbers the page carries exactly (it rounds to 6 significant digits), so both sides read the same
    scores, values = (
        rounded(rng.normal(scale=4, size=11).tolist()),
        rounded(rng.normal(size=(11, 3)).tolist()),
    )
    widget = OnlineSoftmaxStepper([f"k{j}" for j in range(11)], scores, values, block=3, step=2)
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-os").wait_for()
        for step in (2, 3, 4):
            widget.step = step
            if step > 2:
                page.locator(".aw-os-next").click()
            np.testing.assert_allclose(shown(page, ".aw-os-weight"), widget.weights, atol=1e-12, rtol=0)
            st = widget.states()[step - 1]
            assert float(page.locator(".aw-os-m").get_attribute("data-value")) == pytest.approx(
                st.maximum, abs=1e-12
            )
            assert float(page.locator(".aw-os-l").get_attribute("data-value")) == pytest.approx(
                st.total, rel=1e-12
            )
        page.context.close()
    assert not log.page_errors and not log.console_errors and not log.external_requests


def test_a_token_that_looks_like_markup_is_shown_as_text_and_runs_nothing(browser, tmp_path):
    widget = OnlineSoftmaxStepper([EVIL, "ok"], [2.0, 0.0], [[1.0], [0.0]], block=1, step=1)
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-os").wait_for()
        page.wait_for_timeout(300)
        assert page.locator(".aw-os-token").first.text_content() == EVIL
        assert page.locator("img").count() == 0
        page.context.close()
    assert not log.page_errors, log.page_errors
