"""OnlineSoftmaxStepper without a kernel: traits, the online pass, mimebundle, escaping, bad input."""

import re

import numpy as np
import pytest
import traitlets
from widget_payload import page_payload

from attnlib import softmax
from attnlib.online_softmax import online_steps
from attnlib.widgets import OnlineSoftmaxStepper
from attnlib.widgets._base import rounded

TOKENS = list("⏎I␣stayed")
rng = np.random.default_rng(6)
SCORES = rng.normal(scale=2, size=len(TOKENS))
VALUES = rng.normal(size=(len(TOKENS), 4))
EVIL = "</script><img src=x onerror=alert(1)>"


def test_initial_traits():
    w = OnlineSoftmaxStepper(TOKENS, SCORES, VALUES, block=3, step=1)
    assert w.tokens == TOKENS and w.block == 3 and w.step == 1
    state = online_steps(SCORES, VALUES, 3)[0]
    np.testing.assert_allclose(w.output, state.output)
    want = np.where(np.arange(9) < 3, np.exp(SCORES - state.maximum) / state.total, 0)
    np.testing.assert_allclose(w.weights, want)
    np.testing.assert_allclose(w.full_weights, softmax(SCORES))


@pytest.mark.parametrize("block", [1, 2, 4, 9])
def test_the_last_step_is_full_attention(block):
    w = OnlineSoftmaxStepper(TOKENS, SCORES, VALUES, block=block)
    assert w.step == 0 and w.weights == [0.0] * 9 and w.output == [0.0] * 4
    w.step = -(-9 // block)
    np.testing.assert_allclose(w.weights, softmax(SCORES), atol=1e-15)
    np.testing.assert_allclose(w.output, softmax(SCORES) @ VALUES, atol=1e-12)


def test_a_new_block_size_restarts_the_pass():
    w = OnlineSoftmaxStepper(TOKENS, SCORES, VALUES, block=2, step=4)
    w.block = 5
    assert w.step == 0 and w.weights == [0.0] * 9
    w.step = 1
    np.testing.assert_allclose(w.output, softmax(SCORES[:5]) @ VALUES[:5])


def test_everything_can_be_replaced_together():
    w = OnlineSoftmaxStepper(TOKENS, SCORES, VALUES, block=3, step=2)
    with w.hold_trait_notifications():
        w.tokens = ["a", "b"]
        w.scores = [0.0, 1.0]
        w.values = [[1.0], [0.0]]
        w.block = 1
    w.step = 2
    np.testing.assert_allclose(w.output, softmax(np.array([0.0, 1.0])) @ np.array([[1.0], [0.0]]))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(scores=SCORES[:5]), ValueError, "(T,) = (9,)"),
        (dict(values=VALUES[:3]), ValueError, "(T, d_v) = (9, d_v)"),
        (dict(values=np.ones((9, 40))), ValueError, "d_v <= 32"),
        (dict(scores=np.where(SCORES > 1, np.inf, SCORES)), ValueError, "NaN or inf"),
        (dict(tokens=[]), ValueError, "tokens is empty"),
        (dict(tokens="abc"), TypeError, "list of strings"),
        (dict(block=0), ValueError, "block must be in [1, 9]"),
        (dict(block=10), ValueError, "block must be in [1, 9]"),
        (dict(block=4, step=4), ValueError, "step must be in [0, 3]"),
        (dict(step=1.0), TypeError, "step must be an int"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    args = dict(tokens=TOKENS, scores=SCORES, values=VALUES) | kwargs
    with pytest.raises(error, match=re.escape(message)):
        OnlineSoftmaxStepper(**args)


def test_bad_trait_values_are_refused_and_leave_the_widget_intact():
    w = OnlineSoftmaxStepper(TOKENS, SCORES, VALUES, block=3, step=2)
    before = list(w.output)
    for name, value, message in [
        ("step", 4, "[0, 3]"),
        ("block", 0, "[1, 9]"),
        ("scores", [1.0], "shape"),
        ("tokens", [], "empty"),
    ]:
        with pytest.raises(traitlets.TraitError, match=re.escape(message)):
            setattr(w, name, value)
    assert w.step == 2 and w.output == before


def test_mimebundle_has_widget_view_and_self_contained_html():
    w = OnlineSoftmaxStepper(TOKENS, SCORES, VALUES, block=4, step=1)
    data, _ = w._repr_mimebundle_()
    assert data["text/plain"] == "OnlineSoftmaxStepper(9 keys, d_v=4, block=4, step=1 of 3)"
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    html = data["text/html"]
    state = page_payload(html)["state"]
    assert state["tokens"] == TOKENS and state["block"] == 4 and state["step"] == 1
    assert state["scores"] == rounded(SCORES.tolist()) and state["output"] == rounded(w.output)
    assert (
        "export default" in page_payload(html)["esm"] and "function onlineSteps" in page_payload(html)["esm"]
    )
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_html_escapes_tokens_that_look_like_markup():
    w = OnlineSoftmaxStepper([EVIL, "b"], [1.0, 0.0], [[1.0], [0.0]], block=1)
    html = w._repr_mimebundle_()[0]["text/html"]
    assert "<img" not in html and html.count("</script>") == 2
    assert page_payload(html)["state"]["tokens"][0] == EVIL


def test_repr_is_deterministic():
    a, b = (OnlineSoftmaxStepper(TOKENS, SCORES, VALUES) for _ in range(2))
    assert repr(a) == repr(b) and "0x" not in repr(a)
