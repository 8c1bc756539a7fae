"""FocusExplorer without a kernel: traits, recomputation, mimebundle, escaping, bad input."""

import re

import numpy as np
import pytest
import traitlets
from widget_payload import page_payload

from attnlib import softmax
from attnlib.widgets import FocusExplorer
from attnlib.widgets._base import rounded

SRC = ["我", "昨天", "住", "在", "他", "家", "。"]
TGT = ["I", "stayed", "at", "his", "place", "yesterday", "."]
SCORES = np.array(
    [
        [4.0, 0, 0, 0, 0, 0, 0],
        [0, 2.0, 4.0, 0, 0, 0, 0],
        [0, 0, 1.5, 4.0, 0, 0, 0],
        [0, 0, 0, 0, 4.0, 1.0, 0],
        [0, 0, 0, 0, 1.5, 4.0, 0],
        [0, 4.5, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 4.0],
    ]
)
EVIL = "</script><img src=x onerror=alert(1)>"


def payload(widget):
    html = widget._repr_mimebundle_()[0]["text/html"]
    return html, page_payload(html)


def test_initial_traits():
    w = FocusExplorer(SRC, TGT, SCORES, selected=5, temperature=1.0)
    assert w.source_tokens == SRC and w.target_tokens == TGT
    assert w.scores == SCORES.tolist() and w.selected == 5 and w.temperature == 1.0
    np.testing.assert_allclose(w.weights, softmax(SCORES[5]))
    assert np.argmax(w.weights) == 1  # "yesterday" looks at 昨天


@pytest.mark.parametrize("selected", range(7))
@pytest.mark.parametrize("temperature", [0.03, 0.5, 1.0, 3.7, 30.0])
def test_weights_are_attnlibs_softmax(selected, temperature):
    w = FocusExplorer(SRC, TGT, SCORES, selected=selected, temperature=temperature)
    np.testing.assert_allclose(w.weights, softmax(SCORES[selected], temperature=temperature), atol=0, rtol=0)
    assert np.isclose(sum(w.weights), 1.0)


def test_changing_a_trait_recomputes():
    w = FocusExplorer(SRC, TGT, SCORES)
    w.selected = 1
    np.testing.assert_allclose(w.weights, softmax(SCORES[1]))
    w.temperature = 0.25
    np.testing.assert_allclose(w.weights, softmax(SCORES[1], temperature=0.25))
    new = SCORES.copy()
    new[1, 0] = 9.0
    w.scores = new.tolist()
    np.testing.assert_allclose(w.weights, softmax(new[1], temperature=0.25))
    assert np.argmax(w.weights) == 0


def test_sentences_can_be_replaced_together():
    w = FocusExplorer(SRC, TGT, SCORES, selected=6)
    with w.hold_trait_notifications():
        w.source_tokens = ["a", "b"]
        w.target_tokens = ["x", "y", "z"]
        w.scores = [[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]
        w.selected = 2
    np.testing.assert_allclose(w.weights, [0.5, 0.5])


def test_temperature_limits_are_hard_and_uniform():
    hard = FocusExplorer(SRC, TGT, SCORES, selected=1, temperature=0.01)
    flat = FocusExplorer(SRC, TGT, SCORES, selected=1, temperature=1000.0)
    np.testing.assert_allclose(hard.weights, np.eye(7)[2], atol=1e-12)  # all on 住
    np.testing.assert_allclose(flat.weights, np.full(7, 1 / 7), atol=1e-3)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(scores=SCORES[:, :6]), ValueError, "(T_y, T_x) = (7, 7)"),
        (dict(scores=SCORES[0]), ValueError, "shape"),
        (dict(scores=np.where(SCORES > 4, np.nan, SCORES)), ValueError, "NaN"),
        (dict(scores=[["a"] * 7] * 7), TypeError, "scores"),
        (dict(source_tokens=[]), ValueError, "source_tokens is empty"),
        (dict(source_tokens="我昨天住在他家。"), TypeError, "list of strings"),
        (dict(target_tokens=[1, 2, 3, 4, 5, 6, 7]), TypeError, "only strings"),
        (dict(selected=7), ValueError, "[0, 7)"),
        (dict(selected=-1), ValueError, "[0, 7)"),
        (dict(selected=1.0), TypeError, "int"),
        (dict(selected=True), TypeError, "int"),
        (dict(temperature=0), ValueError, "temperature"),
        (dict(temperature=float("inf")), ValueError, "temperature"),
        (dict(temperature="hot"), TypeError, "temperature"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    args = dict(source_tokens=SRC, target_tokens=TGT, scores=SCORES) | kwargs
    with pytest.raises(error, match=re.escape(message)):
        FocusExplorer(**args)


def test_bad_trait_values_are_refused_and_leave_the_widget_intact():
    w = FocusExplorer(SRC, TGT, SCORES, selected=3)
    before = list(w.weights)
    for name, value, message in [
        ("selected", 9, "[0, 7)"),
        ("temperature", -1.0, "temperature"),
        ("scores", [[1.0, 2.0]], "shape"),
        ("target_tokens", [], "empty"),
    ]:
        with pytest.raises(traitlets.TraitError, match=re.escape(message)):
            setattr(w, name, value)
    assert w.selected == 3 and w.weights == before


def test_mimebundle_has_widget_view_and_self_contained_html():
    w = FocusExplorer(SRC, TGT, SCORES, selected=5)
    data, _ = w._repr_mimebundle_()
    assert (
        data["text/plain"]
        == "FocusExplorer(7 target × 7 source tokens, selected=5 ('yesterday'), temperature=1)"
    )
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    html, state = payload(w)
    assert state["state"]["source_tokens"] == SRC and state["state"]["target_tokens"] == TGT
    assert state["state"]["scores"] == rounded(SCORES.tolist()) and state["state"]["selected"] == 5
    assert state["state"]["weights"] == rounded(w.weights)
    assert "export default" in state["esm"] and "function softmax" in state["esm"]
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_html_escapes_tokens_that_look_like_markup():
    w = FocusExplorer([EVIL, "b"], ["x", EVIL], [[1.0, 0.0], [0.0, 1.0]])
    html, state = payload(w)
    assert "<img" not in html and html.count("</script>") == 2  # only our own two scripts close
    assert state["state"]["source_tokens"][0] == EVIL and state["state"]["target_tokens"][1] == EVIL


def test_repr_is_deterministic():
    a, b = FocusExplorer(SRC, TGT, SCORES), FocusExplorer(SRC, TGT, SCORES)
    assert repr(a) == repr(b) and "0x" not in repr(a)
