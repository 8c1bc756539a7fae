"""Widgets without a kernel: traits, recomputation, mimebundle and escaping."""

import json
import re

import numpy as np
import pytest
import traitlets
from widget_payload import page_payload

from attnlib import attention
from attnlib.widgets import QueryExplorer
from attnlib.widgets._base import json_for_html, rounded

KEYS = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
EVIL = "</script><img src=x onerror=alert(1)>"


def test_initial_traits_hold_attnlib_numbers():
    w = QueryExplorer(KEYS, labels=["a", "b", "c"], query=[0.5, 0.2])
    c, a = attention(np.array([0.5, 0.2]), np.array(KEYS), np.array(KEYS))
    np.testing.assert_allclose(w.weights, a)
    np.testing.assert_allclose(w.context, c)
    assert w.value_points == KEYS and w.values_follow_keys


@pytest.mark.parametrize("score", ["dot", "scaled_dot", "cosine", "general", "additive"])
def test_changing_a_trait_recomputes(score):
    w = QueryExplorer(KEYS)
    w.score = score
    w.query = [2.0, -1.0]
    w.temperature = 0.5
    c, a = attention(np.array(w.query), np.array(KEYS), np.array(KEYS), score=w.score_fn(), temperature=0.5)
    np.testing.assert_allclose(w.weights, a)
    np.testing.assert_allclose(w.context, c)


def test_moving_a_key_moves_its_value_when_values_follow_keys():
    w = QueryExplorer(KEYS)
    w.key_points = [[2.0, 2.0], [0.0, 1.0], [-1.0, -1.0]]
    assert w.value_points[0] == [2.0, 2.0]
    np.testing.assert_allclose(
        w.weights, attention(np.zeros(2), np.array(w.key_points), np.array(w.key_points))[1]
    )


def test_separate_values_stay_put():
    vals = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    w = QueryExplorer(KEYS, values=vals)
    w.key_points = [[2.0, 2.0], [0.0, 1.0], [-1.0, -1.0]]
    assert w.value_points == vals and not w.values_follow_keys


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(keys=[[1, 2, 3]]), "(T, 2)"),
        (dict(keys=[]), "(T, 2)"),
        (dict(keys=KEYS, labels=["a"]), "3 strings"),
        (dict(keys=KEYS, values=[[0, 0]]), "same shape"),
        (dict(keys=KEYS, query=[1, 2, 3]), "query"),
        (dict(keys=KEYS, temperature=0), "temperature"),
        (dict(keys=[[np.nan, 0]]), "NaN"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        QueryExplorer(**kwargs)


def test_bad_trait_values_are_refused():
    w = QueryExplorer(KEYS)
    with pytest.raises(traitlets.TraitError, match="unknown score"):
        w.score = "euclid"
    with pytest.raises(traitlets.TraitError, match="temperature"):
        w.temperature = -1.0


def test_mimebundle_has_widget_view_and_self_contained_html():
    w = QueryExplorer(KEYS, labels=["a", "b", "c"])
    data, _ = w._repr_mimebundle_()
    assert data["text/plain"] == "QueryExplorer(3 keys, score='scaled_dot', temperature=1)"
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    html = data["text/html"]
    state = page_payload(html)
    assert state["state"]["labels"] == ["a", "b", "c"]
    assert state["state"]["weights"] == rounded(w.weights)
    assert "export default" in state["esm"] and "function softmax" in state["esm"]
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from a network


def test_html_escapes_labels_that_look_like_markup():
    w = QueryExplorer(KEYS, labels=[EVIL, "b", "c"])
    html = w._repr_mimebundle_()[0]["text/html"]
    assert "<img" not in html and html.count("</script>") == 2  # only our own two scripts close
    payload = re.search(r'id="[^"]+-data">(.*?)</script>', html, re.S).group(1)
    assert json.loads(payload)["state"]["labels"][0] == EVIL  # the text survives intact


def test_json_for_html_round_trips_awkward_strings():
    s = {"x": "<!-- </script> & \u2028 '\"", "n": [1.5, -2.0]}
    out = json_for_html(s)
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == s


def test_repr_and_ids_are_deterministic_between_fresh_widgets():
    a, b = QueryExplorer(KEYS), QueryExplorer(KEYS)
    assert repr(a) == repr(b)
    ha, hb = a.static_html(), b.static_html()
    id_a = re.search(r'id="(attnlib-[^"]+)"', ha).group(1)
    id_b = re.search(r'id="(attnlib-[^"]+)"', hb).group(1)
    assert id_a.rsplit("-", 1)[0] == id_b.rsplit("-", 1)[0] and id_a != id_b  # same hash, new counter


def test_static_payload_rounds_floats_so_cpu_noise_cannot_change_it():
    assert rounded(0.1 + 0.2) == 0.3 and rounded([1 / 3, {"x": (2 / 3,)}]) == [0.333333, {"x": [0.666667]}]
    assert rounded(True) is True and rounded("0.123456789") == "0.123456789" and rounded(7) == 7
    w = QueryExplorer([[1, 0], [0, 1], [-1, 0]], query=[0.3, 0.2])
    nudged = QueryExplorer([[1, 0], [0, 1], [-1, 0]], query=[0.3, 0.2 + 1e-12])  # CPU-noise sized
    assert w.weights != nudged.weights  # the float traits differ in their last digits ...

    def digest(w):
        return re.search(r'id="(attnlib-queryexplorer-[0-9a-f]+)-\d+"', w.static_html()).group(1)

    assert digest(w) == digest(nudged)  # ... the page, and its id, do not
    assert page_payload(w.static_html()) == page_payload(nudged.static_html())
