"""AlignmentExplorer without a kernel: traits, PCA picture, typed sentences, mimebundle, escaping."""

import re

import numpy as np
import pytest
import traitlets
from widget_payload import page_payload

from attnlib.translate import Translation
from attnlib.widgets import AlignmentExplorer
from attnlib.widgets.alignment_explorer import example_from_translation, project_2d

EVIL = "</script><img src=x onerror=alert(1)>"


def fake(source, output, seed=0, d=6):
    """A Translation with random states and softmax weights (what a decoder would give)."""
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(len(source), d))
    e = rng.normal(size=(len(output), len(source))) * 2
    w = np.exp(e - e.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    return Translation(tuple(source), tuple(output), w, w @ states, states, ())


@pytest.fixture()
def examples():
    return [
        fake("我昨天住在他家。", ["i", "stayed", "at", "his", "place", "yesterday", ".", "<eos>"]),
        fake("他很高兴。", ["he", "is", "happy", ".", "<eos>"], seed=1),
    ]


def test_traits_hold_the_current_row(examples):
    w = AlignmentExplorer(examples, references=["I stayed at his place yesterday.", ""])
    assert (w.example, w.step, w.live) == (0, 0, False)
    assert w.examples[0]["source"] == list("我昨天住在他家。")
    assert w.examples[0]["label"] == "我昨天住在他家。"
    np.testing.assert_allclose(w.weights, examples[0].weights[0], atol=1e-4)
    w.step = 5
    np.testing.assert_allclose(w.weights, examples[0].weights[5], atol=1e-4)
    w.example = 1  # step 5 does not exist in a 5-step example: back to step 0
    assert w.step == 0
    np.testing.assert_allclose(w.weights, examples[1].weights[0], atol=1e-4)


def test_context_points_are_the_weighted_average_of_the_source_points(examples):
    w = AlignmentExplorer(examples)
    ex = w.examples[0]
    np.testing.assert_allclose(
        np.array(ex["weights"]) @ np.array(ex["source_points"]), ex["context_points"], atol=1e-3
    )
    assert 0 < ex["explained"] <= 1


def test_project_2d_is_affine_scaled_and_handles_degenerate_states():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(5, 8))
    a = rng.dirichlet(np.ones(5), size=3)
    hp, cp, explained = project_2d(h, a @ h)
    np.testing.assert_allclose(cp, a @ hp, atol=1e-12)
    assert np.isclose(max(np.abs(hp).max(), np.abs(cp).max()), 1.0) and 0 < explained < 1
    hp1, cp1, e1 = project_2d(h[:1], h[:1])  # one state: nothing varies
    assert np.all(hp1 == 0) and np.all(cp1 == 0) and e1 == 1.0
    with pytest.raises(ValueError, match="same width"):
        project_2d(h, np.zeros((2, 3)))


def test_step_and_example_are_validated(examples):
    w = AlignmentExplorer(examples)
    with pytest.raises(traitlets.TraitError, match=r"step must be an index in \[0, 8\)"):
        w.step = 8
    with pytest.raises(traitlets.TraitError, match="example"):
        w.example = 2
    with pytest.raises(traitlets.TraitError, match="int"):
        w.step = True


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ([], {}, "non-empty"),
        ("abc", {}, "non-empty"),
        (
            [Translation(("a",), ("b",), None, np.zeros((1, 2)), np.zeros((1, 2)), ())],
            {},
            "no attention weights",
        ),
        (
            [Translation(("a", "b"), ("x",), np.array([[1.0]]), np.zeros((1, 2)), np.zeros((2, 2)), ())],
            {},
            "shape (T_out, T_in)",
        ),
        (
            [Translation(("a", "b"), ("x",), np.array([[0.7, 0.7]]), np.zeros((1, 2)), np.zeros((2, 2)), ())],
            {},
            "sum to 1",
        ),
        (
            [Translation(("a",), ("x",), np.array([[np.nan]]), np.zeros((1, 2)), np.zeros((1, 2)), ())],
            {},
            "NaN",
        ),
        ([{"label": "x"}], {}, "dict with keys"),
    ],
)
def test_bad_examples_are_refused(args, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        AlignmentExplorer(args, **kwargs)


def test_bad_labels_and_translator(examples):
    with pytest.raises(ValueError, match="labels must be 2 strings"):
        AlignmentExplorer(examples, labels=["one"])
    with pytest.raises(TypeError, match="translator must be callable"):
        AlignmentExplorer(examples, translator="gpt")


def test_example_dicts_round_trip(examples):
    d = example_from_translation(examples[1], "he", reference="He is happy.")
    w = AlignmentExplorer([d])
    assert w.examples[0]["reference"] == "He is happy." and w.examples[0]["label"] == "he"
    with pytest.raises(ValueError, match=re.escape("examples[0]['weights'] must have shape (5, 5)")):
        AlignmentExplorer([{**d, "weights": d["weights"][:2]}])


def test_a_typed_sentence_is_translated_and_shown(examples):
    calls = []

    def translator(text):
        calls.append(text)
        if "坏" in text:
            raise ValueError("no can do")
        return fake(text, ["ok", "<eos>"], seed=2)

    w = AlignmentExplorer(examples, translator=translator)
    assert w.live
    w.step = 3
    w.sentence = "你好。"
    assert calls == ["你好。"] and len(w.examples) == 3 and w.example == 2 and w.step == 0
    assert w.examples[2]["label"] == "your sentence: 你好。" and w.status == "translated: ok <eos>"
    w.sentence = "再见。"  # a second sentence replaces the first, the author's examples stay
    assert len(w.examples) == 3 and w.examples[2]["source"] == list("再见。")
    w.sentence = "坏。"
    assert "could not translate" in w.status and "no can do" in w.status and len(w.examples) == 3
    w.sentence = "长" * 41
    assert w.status.startswith("too long")


def test_without_a_translator_typing_does_nothing(examples):
    w = AlignmentExplorer(examples)
    w.sentence = "你好。"
    assert len(w.examples) == 2 and w.status == ""


def test_static_state_has_no_kernel(examples):
    w = AlignmentExplorer(examples, translator=lambda s: examples[0])
    assert w.live and w.static_state()["live"] is False


def test_repr_and_mimebundle(examples):
    w = AlignmentExplorer(examples, step=2)
    assert repr(w) == "AlignmentExplorer(2 examples, example=0 (8 source, 8 output tokens), step=2)"
    data, _ = w._repr_mimebundle_()
    assert data["text/plain"] == repr(w)
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    html = data["text/html"]
    payload = page_payload(html)
    state = payload["state"]
    assert state["step"] == 2 and state["examples"][0]["output"][5] == "yesterday"
    assert state["live"] is False and "render" in payload["esm"]


def test_tokens_that_look_like_markup_are_escaped():
    ex = fake(["a", EVIL], [EVIL, "<eos>"])
    w = AlignmentExplorer([ex], labels=[EVIL], references=[EVIL])
    html = w.static_html()
    assert EVIL not in html and "<img" not in html
    state = page_payload(html)["state"]
    assert state["examples"][0]["source"][1] == EVIL and state["examples"][0]["label"] == EVIL
