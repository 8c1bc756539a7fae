"""AlignmentExplorer in headless chromium: in the built chapter 4 page, and in a bare page."""

import numpy as np
import pytest

from attnlib.translate import Translation
from attnlib.widgets import AlignmentExplorer

from .book import PageLog, assert_clean, chapter_page, open_page, serve, widget_state

pytestmark = pytest.mark.browser
CH4 = "notebooks/04_dynamic_context.html"
EVIL = "</script><img src=x onerror=alert(1)>"
ROOT = ".aw-ae"


def shown_weights(page):
    """The weights the page shows on the source tokens: exact values and the printed text."""
    values = page.locator(".aw-ae-weight").evaluate_all("els => els.map(e => +e.dataset.value)")
    texts = page.locator(".aw-ae-weight").all_text_contents()
    return np.array(values), np.array([float(t.replace("\u2212", "-")) for t in texts])


def current_step(page):
    return int(page.locator(".aw-ae-word.aw-ae-now").get_attribute("data-step"))


def assert_shows(page, example, t):
    """The page highlights step t of ``example``: its weights, its word, its context point."""
    values, texts = shown_weights(page)
    np.testing.assert_allclose(values, example["weights"][t], atol=1e-12)
    np.testing.assert_allclose(texts, example["weights"][t], atol=5e-4)
    assert current_step(page) == t
    assert page.locator(".aw-ae-word.aw-ae-now").text_content() == example["output"][t]
    assert page.locator(".aw-ae-word[aria-current='step']").count() == 1
    ctx = page.locator(".aw-ae-ctx")
    assert [float(ctx.get_attribute("data-x")), float(ctx.get_attribute("data-y"))] == example[
        "context_points"
    ][t]
    assert page.locator(".aw-ae-range").input_value() == str(t)


@pytest.fixture()
def ch4(browser, book_url):
    with chapter_page(browser, book_url, CH4, ROOT) as (page, log):
        yield page, log


def test_chapter_4_renders_offline_with_math_figures_and_widget(ch4):
    page, log = ch4
    page.wait_for_function("document.querySelectorAll('mjx-container').length > 5", timeout=15000)
    state = widget_state(page)
    ex = state["examples"][0]
    assert page.locator(ROOT).count() == 1
    assert page.locator(".aw-ae-chip .aw-ae-token").all_text_contents() == list("我昨天住在他家。")
    assert page.locator(".aw-ae-word").all_text_contents() == ex["output"]
    assert page.locator(".aw-ae-select option").count() == len(state["examples"]) >= 5
    assert page.locator(".aw-ae-cell").count() == len(ex["output"]) * len(ex["source"])
    assert page.locator("img[alt]").count() + page.locator("img").count() >= 4  # the figures
    assert_clean(log)


def test_the_static_page_disables_the_sentence_box(ch4):
    page, _ = ch4
    assert widget_state(page)["live"] is False
    assert page.locator(".aw-ae-input").is_disabled() and page.locator(".aw-ae-go").is_disabled()
    assert "kernel" in page.locator(".aw-ae-note").text_content()


def test_buttons_step_through_the_decoder(ch4):
    page, _ = ch4
    ex = widget_state(page)["examples"][0]
    assert_shows(page, ex, 0)
    assert page.locator(".aw-ae-prev").is_disabled()
    for t in range(1, len(ex["output"])):
        page.locator(".aw-ae-next").click()
        assert_shows(page, ex, t)
    assert page.locator(".aw-ae-next").is_disabled()
    page.locator(".aw-ae-prev").click()
    assert_shows(page, ex, len(ex["output"]) - 2)


def test_keyboard_steps_through_the_decoder(ch4):
    page, _ = ch4
    ex = widget_state(page)["examples"][0]
    page.locator(ROOT).focus()
    for key, t in [
        ("ArrowRight", 1),
        ("ArrowRight", 2),
        ("ArrowLeft", 1),
        ("End", len(ex["output"]) - 1),
        ("ArrowRight", len(ex["output"]) - 1),
        ("Home", 0),
        ("ArrowLeft", 0),
        ("ArrowDown", 1),
    ]:
        page.keyboard.press(key)
        assert_shows(page, ex, t)


def test_slider_and_clicking_a_word_choose_the_step(ch4):
    page, _ = ch4
    ex = widget_state(page)["examples"][0]
    page.locator(".aw-ae-range").evaluate("el => { el.value = 4; el.dispatchEvent(new Event('input')); }")
    assert_shows(page, ex, 4)
    page.locator(".aw-ae-range").focus()
    page.keyboard.press("ArrowRight")  # the slider's own keys
    assert_shows(page, ex, 5)
    page.locator(".aw-ae-word").nth(2).click()
    assert_shows(page, ex, 2)


def test_the_outline_follows_the_step(ch4):
    page, _ = ch4
    y0 = float(page.locator(".aw-ae-outline").get_attribute("y"))
    page.locator(".aw-ae-next").click()
    page.locator(".aw-ae-next").click()
    y2 = float(page.locator(".aw-ae-outline").get_attribute("y"))
    cell = float(page.locator(".aw-ae-cell").first.get_attribute("height")) + 1
    assert y2 - y0 == pytest.approx(2 * cell)


def test_play_advances_and_pause_stops(ch4):
    page, _ = ch4
    ex = widget_state(page)["examples"][0]
    play = page.locator(".aw-ae-play")
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    page.wait_for_function("+document.querySelector('.aw-ae-range').value >= 2", timeout=5000)
    play.click()
    assert play.get_attribute("aria-pressed") == "false"
    t = current_step(page)
    page.wait_for_timeout(1200)
    assert current_step(page) == t >= 2
    assert_shows(page, ex, t)
    page.locator(ROOT).focus()
    page.keyboard.press("p")  # the keyboard plays too, and stops by itself at the last step
    page.wait_for_function(
        f"+document.querySelector('.aw-ae-range').value == {len(ex['output']) - 1}", timeout=15000
    )
    page.wait_for_timeout(1100)
    assert play.get_attribute("aria-pressed") == "false"


def test_the_selector_switches_sentences(ch4):
    page, _ = ch4
    examples = widget_state(page)["examples"]
    page.locator(".aw-ae-next").click()
    for i in (len(examples) - 1, 1):
        page.locator(".aw-ae-select").select_option(str(i))
        ex = examples[i]
        assert page.locator(".aw-ae-token").all_text_contents() == ex["source"]
        assert page.locator(".aw-ae-cell").count() == len(ex["output"]) * len(ex["source"])
        assert_shows(page, ex, 0)
        page.locator(".aw-ae-next").click()
        assert_shows(page, ex, 1)


def fake(source, output, seed=0):
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(len(source), 4))
    w = rng.dirichlet(np.ones(len(source)), size=len(output))
    return Translation(tuple(source), tuple(output), w, w @ states, states, ())


def bare_page(tmp_path, widget):
    (tmp_path / "index.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>w</title><body>{widget.static_html()}</body>",
        encoding="utf-8",
    )


def test_a_token_that_looks_like_markup_is_shown_as_text_and_runs_nothing(browser, tmp_path):
    widget = AlignmentExplorer([fake(["a", EVIL, "b"], [EVIL, "<eos>"])], labels=[EVIL], references=[EVIL])
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(ROOT).wait_for()
        page.wait_for_timeout(300)
        assert page.locator(".aw-ae-token").nth(1).text_content() == EVIL
        assert page.locator(".aw-ae-word").first.text_content() == EVIL
        assert page.locator(".aw-ae-select option").first.text_content() == EVIL
        assert page.locator(".aw-ae-dot text").nth(1).text_content() == EVIL
        assert page.locator(".aw-ae-reference").text_content() == f"reference: {EVIL}"
        assert page.locator("img").count() == 0
        page.context.close()
    assert not log.page_errors and not log.console_errors and not log.external_requests


def test_a_bare_page_steps_and_switches_examples(browser, tmp_path):
    widget = AlignmentExplorer(
        [fake("我很好。", ["i'm", "fine", ".", "<eos>"]), fake("他来了", ["he", "came", "<eos>"], seed=1)],
        step=1,
    )
    bare_page(tmp_path, widget)
    state = widget.static_state()
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(ROOT).wait_for()
        assert_shows(page, state["examples"][0], 1)
        page.locator(ROOT).focus()
        page.keyboard.press("End")
        assert_shows(page, state["examples"][0], 3)
        page.locator(".aw-ae-select").select_option("1")
        assert_shows(page, state["examples"][1], 0)
        page.context.close()
    assert not log.page_errors and not log.console_errors and not log.external_requests
