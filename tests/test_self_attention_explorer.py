"""SelfAttentionExplorer without a kernel: traits, recomputation, mimebundle, escaping, bad input."""

import re

import numpy as np
import pytest
import torch
import traitlets
from widget_payload import page_payload

from attnlib import functional as F
from attnlib import softmax
from attnlib.widgets import SelfAttentionExplorer
from attnlib.widgets._base import rounded
from attnlib.widgets.self_attention_explorer import row_weights

TOKENS = ["我", "昨", "天", "住", "在", "他", "家", "。"]
SCORES = np.random.default_rng(5).normal(size=(2, 3, 8, 8)) * 2  # (layers, heads, T, T)
EVIL = "</script><img src=x onerror=alert(1)>"


def payload(widget):
    html = widget._repr_mimebundle_()[0]["text/html"]
    return html, page_payload(html)


def test_initial_traits_hold_attnlibs_weights():
    w = SelfAttentionExplorer(TOKENS, SCORES, layer=1, head=2, selected=3)
    assert w.tokens == TOKENS and w.scores == SCORES.tolist()
    assert (w.layer, w.head, w.selected, w.causal) == (1, 2, 3, False)
    assert (w.n_layers, w.n_heads) == (2, 3)
    np.testing.assert_allclose(w.weights, softmax(SCORES[1, 2, 3]), atol=1e-15)


@pytest.mark.parametrize("layer", [0, 1])
@pytest.mark.parametrize("head", [0, 2])
@pytest.mark.parametrize("selected", range(8))
def test_causal_weights_renormalise_the_same_scores(layer, head, selected):
    w = SelfAttentionExplorer(TOKENS, SCORES, layer=layer, head=head, selected=selected, causal=True)
    weights = np.array(w.weights)
    assert (weights[selected + 1 :] == 0).all() and np.isclose(weights.sum(), 1.0)
    open_weights = softmax(SCORES[layer, head, selected])
    np.testing.assert_allclose(
        weights[: selected + 1], open_weights[: selected + 1] / open_weights[: selected + 1].sum()
    )
    mask = np.arange(8) <= selected
    np.testing.assert_array_equal(weights, softmax(SCORES[layer, head, selected], mask=mask))
    row = torch.tensor(SCORES[layer, head, selected])
    np.testing.assert_allclose(
        weights, F.softmax(row, mask=torch.arange(8) <= selected).numpy(), rtol=0, atol=1e-15
    )


def test_changing_a_trait_recomputes():
    w = SelfAttentionExplorer(TOKENS, SCORES)
    w.selected = 5
    np.testing.assert_allclose(w.weights, softmax(SCORES[0, 0, 5]))
    w.head = 1
    w.layer = 1
    np.testing.assert_allclose(w.weights, softmax(SCORES[1, 1, 5]))
    w.causal = True
    np.testing.assert_allclose(w.weights, row_weights(SCORES, 1, 1, 5, True))
    new = SCORES.copy()
    new[1, 1, 5, 0] = 30.0
    w.scores = new.tolist()
    assert np.argmax(w.weights) == 0 and w.weights[0] > 0.99


def test_sentences_and_scores_can_be_replaced_together():
    w = SelfAttentionExplorer(TOKENS, SCORES, selected=7)
    with w.hold_trait_notifications():
        w.selected = 0
        w.tokens = ["a", "b"]
        w.scores = np.zeros((1, 1, 2, 2)).tolist()
    assert w.weights == [0.5, 0.5] and w.n_layers == 1


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(tokens="我昨天", scores=SCORES), TypeError, "list of strings"),
        (dict(tokens=[], scores=SCORES), ValueError, "empty"),
        (dict(tokens=[*TOKENS[:-1], 7], scores=SCORES), TypeError, "only strings"),
        (dict(tokens=TOKENS[:5], scores=SCORES), ValueError, "(layers, heads, T, T)"),
        (dict(tokens=TOKENS, scores=SCORES[0]), ValueError, "(layers, heads, T, T)"),
        (dict(tokens=TOKENS, scores=np.full((1, 1, 8, 8), np.nan)), ValueError, "NaN"),
        (dict(tokens=TOKENS, scores=[["x"]]), TypeError, "real numbers"),
        (dict(tokens=TOKENS, scores=SCORES, layer=2), ValueError, "layer must be an index in [0, 2)"),
        (dict(tokens=TOKENS, scores=SCORES, head=-1), ValueError, "head must be an index in [0, 3)"),
        (dict(tokens=TOKENS, scores=SCORES, selected=8), ValueError, "selected must be an index in [0, 8)"),
        (dict(tokens=TOKENS, scores=SCORES, selected=1.0), TypeError, "selected must be an int"),
        (dict(tokens=TOKENS, scores=SCORES, causal="yes"), TypeError, "causal must be a bool"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        SelfAttentionExplorer(**kwargs)


def test_bad_trait_values_are_refused_and_change_nothing():
    w = SelfAttentionExplorer(TOKENS, SCORES, selected=2)
    before = list(w.weights)
    for name, value, message in [
        ("selected", 99, "selected"),
        ("layer", 5, "layer"),
        ("head", 3, "head"),
        ("scores", [[[[1.0]]]], "(layers, heads, T, T)"),
        ("tokens", [], "empty"),
    ]:
        with pytest.raises(traitlets.TraitError, match=re.escape(message)):
            setattr(w, name, value)
    assert w.weights == before and w.selected == 2


def test_mimebundle_has_widget_view_deterministic_repr_and_self_contained_html():
    w = SelfAttentionExplorer(TOKENS, SCORES, selected=4)
    data, _ = w._repr_mimebundle_()
    assert data["text/plain"] == (
        "SelfAttentionExplorer(8 tokens, 2 layers × 3 heads, layer=0, head=0, "
        "selected=4 ('在'), causal=False)"
    )
    assert repr(w) == data["text/plain"] == repr(SelfAttentionExplorer(TOKENS, SCORES, selected=4))
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    html, state = payload(w)
    assert state["state"]["tokens"] == TOKENS and state["state"]["weights"] == rounded(w.weights)
    assert state["state"]["scores"] == rounded(SCORES.tolist()) and state["state"]["causal"] is False
    assert "export default" in state["esm"] and "function softmax" in state["esm"]
    assert "queryWeights" in state["esm"] and ".aw-sa-stage" in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_html_escapes_tokens_that_look_like_markup():
    w = SelfAttentionExplorer([EVIL, "b", "&amp;"], np.zeros((1, 1, 3, 3)))
    html, state = payload(w)
    assert "<img" not in html and html.count("</script>") == 2  # only our own two scripts close
    assert state["state"]["tokens"] == [EVIL, "b", "&amp;"]  # the text survives intact


def test_js_renders_tokens_as_text_only():
    js = SelfAttentionExplorer._esm
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js
