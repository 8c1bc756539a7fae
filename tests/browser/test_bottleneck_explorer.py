"""BottleneckExplorer in headless chromium: in the built chapter 1 page, and in a bare page."""

import re

import pytest
import torch

from attnlib.data import SequenceTask
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2SeqConfig
from attnlib.widgets import BottleneckExplorer
from attnlib.widgets.bottleneck_explorer import default_token_names
from attnlib.widgets.messages import EN, ZH

from .book import PageLog, assert_clean, chapter_page, open_page, serve, widget_state
from .test_query_explorer import EVIL, bare_page

pytestmark = pytest.mark.browser
CH1 = "notebooks/01_bottleneck.html"
DASH = "\u2014"


def shown(page):
    """What the widget displays: length, example index, and per model row its tokens and marks."""
    root = page.locator(".aw-be").first
    length = int(root.locator(".aw-be-length input").input_value())
    assert root.locator(".aw-be-length output").text_content() == str(length)
    example = int(root.locator(".aw-be-which").text_content().split()[1]) - 1
    rows = root.locator(".aw-be-row").evaluate_all("""rows => Object.fromEntries(rows.map(r => [r.dataset.row,
        [...r.querySelectorAll('.aw-tok')].map(c => ({text: c.querySelector('.aw-tok-text').textContent,
          wrong: c.classList.contains('aw-wrong'), cross: !!c.querySelector('.aw-x'),
          label: c.getAttribute('aria-label')}))]))""")
    accs = root.locator(".aw-acc").evaluate_all(
        "els => els.map(e => [+e.dataset.correct, +e.dataset.total, +e.dataset.mean])"
    )
    return length, example, rows, accs


def expected(state, length, example):
    recs = [r for r in state["examples"] if r["length"] == length]
    return recs[example], recs


def check_display(page, state, wrong="wrong"):
    """Every displayed token and mark equals the widget state's precomputed outputs (a wrong
    token's label says ``wrong``: "wrong", or "错误" in Chinese)."""
    length, example, rows, accs = shown(page)
    rec, recs = expected(state, length, example)
    assert [c["text"] for c in rows["input"]] == rec["source"]
    assert [c["text"] for c in rows["target"]] == rec["target"]
    for m, name in enumerate(state["model_names"]):
        out, cells = rec["outputs"][m], rows[f"model-{m}"]
        right = BottleneckExplorer.correct(out, rec["target"])
        assert len(cells) == len(rec["target"])
        assert [c["text"] for c in cells] == out + [DASH] * (len(rec["target"]) - len(out))
        assert [not c["wrong"] for c in cells] == right
        assert [c["cross"] for c in cells] == [not r for r in right]  # a mark that is not colour
        assert all(
            name in c["label"] and (wrong in c["label"]) != r for c, r in zip(cells, right, strict=True)
        )
        total = sum(len(r["target"]) for r in recs)
        mean = sum(sum(BottleneckExplorer.correct(r["outputs"][m], r["target"])) for r in recs) / total
        assert accs[m][:2] == [sum(right), len(rec["target"])]
        assert accs[m][2] == pytest.approx(mean)
    return length, example


@pytest.fixture()
def ch1(browser, book_url):
    with chapter_page(browser, book_url, CH1, ".aw-be") as (page, log):
        yield page, log


def test_chapter_1_renders_offline_with_math_charts_and_widget(ch1):
    page, log = ch1
    page.wait_for_function("document.querySelectorAll('mjx-container').length > 5", timeout=15000)
    images = "imgs => imgs.map(i => [i.complete && i.naturalWidth > 300, i.naturalHeight > 150])"
    for section, count in (
        ("accuracy-against-input-length", 1),
        ("which-words-suffer-most", 2),
        ("what-does-the-vector-remember", 1),
    ):
        loaded = page.locator(f"section#{section} .cell_output img").evaluate_all(images)
        assert loaded == [[True, True]] * count, (section, loaded)
    assert page.locator(".cell_output img").count() == 7
    assert page.locator(".aw-be").count() == 1
    assert_clean(log)


def test_initial_display_is_the_widget_state(ch1):
    page, _ = ch1
    state = widget_state(page)
    assert check_display(page, state) == (state["length"], 0)
    assert state["model_names"] == ["fixed vector", "attention"]
    assert state["lengths"] == list(range(3, 21)) and state["trained_lengths"] == [3, 15]


def test_dragging_the_slider_changes_the_length(ch1):
    page, _ = ch1
    state = widget_state(page)
    slider = page.locator(".aw-be-length input")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.click(box["x"] + box["width"] - 2, y)  # the right end: the longest input
    assert check_display(page, state) == (20, 0)
    assert "longer than any training input" in page.locator(".aw-be-range").text_content()
    assert page.locator(".aw-be-range").get_attribute("class").endswith("aw-be-beyond")
    page.mouse.down()  # drag the thumb back to the left end
    for i in range(1, 9):
        page.mouse.move(box["x"] + box["width"] * (1 - i / 8), y)
    page.mouse.up()
    assert check_display(page, state) == (3, 0)
    assert "among the training lengths" in page.locator(".aw-be-range").text_content()


def test_keyboard_changes_length_and_example(ch1):
    page, _ = ch1
    state = widget_state(page)
    start = state["length"]
    page.locator(".aw-be-length input").focus()
    page.keyboard.press("ArrowRight")
    assert check_display(page, state) == (start + 1, 0)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert check_display(page, state) == (start - 1, 0)
    page.keyboard.press("End")
    assert check_display(page, state) == (20, 0)
    page.keyboard.press("Tab")  # to the "previous example" button
    page.keyboard.press("Tab")  # to "next example"
    page.keyboard.press("Enter")
    assert check_display(page, state) == (20, 1)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert check_display(page, state) == (20, 2)  # 1 -> 0 -> 2: the examples wrap around
    page.locator(".aw-be-length input").focus()
    page.keyboard.press("Home")
    assert check_display(page, state) == (3, 2)  # the example index is kept


def test_the_fixed_model_fails_where_the_chapter_says(ch1):
    page, _ = ch1
    state = widget_state(page)
    page.locator(".aw-be-length input").focus()
    page.keyboard.press("Home")
    _, _, _, short = shown(page)
    page.keyboard.press("End")
    _, _, _, long = shown(page)
    assert short[0][2] == 1.0 and short[1][2] == 1.0  # length 3: both right
    assert long[0][2] < 0.5 < long[1][2]  # length 20: the fixed vector is lost (the chapter: 0.3-0.4)
    assert page.locator(".aw-be-row[data-row='model-0'] .aw-wrong").count() > 0
    assert state["examples"][-1]["length"] == 20


def weights_shown(page, m=1):
    """The weight row of model ``m``: each cell's number, data-weight, boldness and label."""
    return page.locator(f".aw-be-row[data-row='weights-{m}'] .aw-be-w").evaluate_all(
        """cells => cells.map(c => ({text: c.textContent,
            weight: c.dataset.weight === undefined ? null : +c.dataset.weight,
            top: c.classList.contains('aw-be-wmax'), label: c.getAttribute('aria-label')}))"""
    )


def check_weights(page, state):
    """The weight row shows the attention model's weights for the selected output token."""
    length, example, _, _ = shown(page)
    rec, _ = expected(state, length, example)
    at = min(int(page.locator(".aw-be-output input").input_value()) - 1, length)
    rows = rec["weights"][1]
    cells = weights_shown(page)
    assert len(cells) == length
    if at >= len(rows):  # the model stopped before this token: dashes
        assert all(c["weight"] is None and c["text"] == DASH for c in cells)
        return at, None
    want = rows[at]
    assert [c["weight"] for c in cells] == pytest.approx(want)
    assert [c["text"] for c in cells] == [f"{w:.2f}" for w in want]
    top = max(range(length), key=lambda j: (want[j], -j))  # the first largest, as argmax in the page
    assert [c["top"] for c in cells] == [j == top for j in range(length)]
    assert all(f"input {j + 1} ({rec['source'][j]})" in c["label"] for j, c in enumerate(cells))
    marked = page.locator(".aw-be-row[data-row='model-1'] .aw-be-at")
    assert marked.count() == 1  # the selected output token is framed in the model's row
    assert f"input {top + 1} ({rec['source'][top]})" in page.locator(".aw-be-focus").text_content()
    return at, want


def test_the_attention_weights_follow_the_selected_output_token(ch1):
    page, _ = ch1
    state = widget_state(page)
    assert state["model_names"] == ["fixed vector", "attention"]
    assert page.locator(".aw-be-row[data-row='weights-0']").count() == 0  # no weights without attention
    at, want = check_weights(page, state)
    assert at == state["output"] and abs(sum(want) - 1) < 0.01
    out = page.locator(".aw-be-output input")
    out.focus()
    page.keyboard.press("ArrowRight")
    assert check_weights(page, state)[0] == at + 1
    page.keyboard.press("Home")
    at, want = check_weights(page, state)
    assert at == 0 and max(want) == want[0]  # the copy model looks at input 1 to write output 1
    page.keyboard.press("End")
    assert check_weights(page, state)[0] == state["length"]  # the last output token: EOS
    page.locator(".aw-be-row[data-row='model-1'] .aw-tok").nth(3).click()  # a click picks output 4
    assert check_weights(page, state)[0] == 3
    assert out.input_value() == "4"


def test_a_shorter_input_clamps_the_selected_output_token(ch1):
    page, _ = ch1
    state = widget_state(page)
    page.locator(".aw-be-output input").focus()
    page.keyboard.press("End")
    page.locator(".aw-be-length input").focus()
    page.keyboard.press("Home")  # 3 tokens: outputs 1, 2, 3 and the end
    at, _ = check_weights(page, state)
    assert at == 3 and page.locator(".aw-be-output output").text_content() == "end"
    page.keyboard.press("End")  # back to 20 tokens: the page clamped the choice, it did not change it
    assert check_weights(page, state)[0] == state["length"]


def test_markup_in_tokens_is_shown_as_text_and_runs_nothing(browser, tmp_path):
    config = Seq2SeqConfig(8, 8, embed=4, hidden=4, attention_hidden=4)
    torch.manual_seed(0)
    names = default_token_names(8)
    names[3] = EVIL
    widget = BottleneckExplorer(
        {EVIL: FixedContextSeq2Seq(config)},
        SequenceTask("copy", 8, 2, 3),
        lengths=[2, 3],
        examples_per_length=4,
        token_names=names,
        length=2,
    )
    assert any(EVIL in r["source"] for r in widget.records(2))
    bare_page(tmp_path, widget)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        page.locator(".aw-be").wait_for()
        page.wait_for_timeout(300)
        state = widget.static_state()
        check_display(page, state)
        for _ in range(4):  # visit every example of length 2 until one shows the markup token
            if EVIL in page.locator(".aw-be-row[data-row='input'] .aw-tok-text").all_text_contents():
                break
            page.locator(".aw-be-next").click()
        assert EVIL in page.locator(".aw-be-row[data-row='input'] .aw-tok-text").all_text_contents()
        assert page.locator(".aw-be-label").nth(3).text_content() == EVIL  # the model's name
        check_display(page, state)
        assert page.locator("img").count() == 0
        page.context.close()
    assert not log.page_errors, log.page_errors  # no alert dialog, no script error
    assert not log.console_errors and not log.external_requests


def small_explorer() -> BottleneckExplorer:
    """Two small untrained models (no cached weights needed): a fixed vector and attention."""
    config = Seq2SeqConfig(8, 8, embed=4, hidden=8, attention_hidden=4)
    models = {}
    for seed, (name, Model) in enumerate(
        (("fixed vector", FixedContextSeq2Seq), ("attention", AttentionSeq2Seq))
    ):
        torch.manual_seed(seed)
        models[name] = Model(config).eval()
    return BottleneckExplorer(models, SequenceTask("copy", 8, 2, 4), lengths=range(2, 7), length=4, output=0)


def page_in(tmp_path, widget, lang):
    """A bare page whose ``<html lang>`` is ``lang``, as the English and the Chinese book set it."""
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="{lang}"><meta charset=utf-8><title>w</title>'
        f"<body>{widget.static_html()}</body></html>",
        encoding="utf-8",
    )


@pytest.mark.parametrize(("lang", "table"), [("en", EN), ("zh-CN", ZH)])
def test_the_widget_speaks_the_pages_language_and_works_by_keyboard(browser, tmp_path, lang, table):
    def t(key, **args):
        return table[key].format(**args)

    widget = small_explorer()
    page_in(tmp_path, widget, lang)
    log = PageLog()
    with serve(tmp_path) as url:
        page = open_page(browser, f"{url}/index.html", log)
        root = page.locator(".aw-be")
        root.wait_for()
        assert page.locator(".attnlib-widget").get_attribute("lang") == lang
        state = widget.static_state()
        wrong = "错误" if lang == "zh-CN" else "wrong"
        check_display(page, state, wrong)
        assert root.locator(".aw-help").inner_text() == t("bottleneck.help", cross="\u2717", dash=DASH) + t(
            "bottleneck.helpWeights"
        )
        labels = {"length": "bottleneck.length", "output": "bottleneck.outputToken"}
        for cls, key in labels.items():
            control = root.locator(f".aw-be-{cls}")
            assert control.locator("input").get_attribute("aria-label") == table[key]
            assert control.inner_text().startswith(table[key])
        assert root.locator(".aw-be-prev").get_attribute("aria-label") == table["bottleneck.previous"]
        assert root.locator(".aw-be-next").get_attribute("aria-label") == table["bottleneck.next"]
        assert root.locator(".aw-be-examples").get_attribute("aria-label") == table["bottleneck.example"]
        assert root.locator(".aw-be-label").all_inner_texts()[:3] == [
            table["bottleneck.position"],
            table["bottleneck.input"],
            table["bottleneck.expected"],
        ]
        assert root.locator(".aw-be-weights .aw-be-label").inner_text() == t(
            "bottleneck.weightsRow", name="attention"
        )
        assert root.locator(".aw-be-range").inner_text() == t("bottleneck.inside", L=4, lo=2, hi=4)
        assert root.locator(".aw-be-which").inner_text() == t("bottleneck.which", k=1, n=3)
        rec, at = widget.selected(), 0
        output = t("bottleneck.outputN", i=at + 1)
        w = widget.attention_row("attention")
        j = max(range(len(w)), key=lambda i: (w[i], -i))
        focus = t(
            "bottleneck.focus",
            name="attention",
            output=output,
            token=rec["outputs"][1][at],
            weight=f"{w[j]:.2f}",
            i=j + 1,
            source=rec["source"][j],
        )
        assert root.locator(".aw-be-focus").inner_text() == focus.strip()
        assert root.locator(".aw-be-grid").get_attribute("aria-label") == t("bottleneck.grid", L=4)
        cell = root.locator(".aw-be-row[data-row='input'] .aw-tok").first
        assert cell.get_attribute("aria-label") == t("bottleneck.inputCell", i=1, token=rec["source"][0])
        # every visible word is the page's language: what is left in Latin letters is data
        words = set(
            re.findall("[A-Za-z]{3,}", root.inner_text().replace("fixed vector", "").replace("attention", ""))
        )
        if lang == "zh-CN":
            assert words <= {"PAD", "SOS", "EOS", "Home", "End"}, words  # tokens, key names

        # keyboard: the output-token slider, the length slider, the example buttons
        root.locator(".aw-be-output input").focus()
        page.keyboard.press("End")
        end = table["bottleneck.end"]
        assert root.locator(".aw-be-output output").inner_text() == end
        assert root.locator(".aw-be-output input").get_attribute("aria-valuetext") == end
        assert t("bottleneck.outputEnd") in root.locator(".aw-be-weights .aw-tok").first.get_attribute(
            "aria-label"
        )
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")  # the "next example" button
        assert root.locator(".aw-be-which").inner_text() == t("bottleneck.which", k=2, n=3)
        root.locator(".aw-be-length input").focus()
        page.keyboard.press("End")
        assert root.locator(".aw-be-range").inner_text() == t("bottleneck.beyond", L=6, lo=2, hi=4)
        assert check_display(page, state, wrong) == (6, 1)
        page.context.close()
    assert not log.page_errors and not log.console_errors and not log.external_requests
