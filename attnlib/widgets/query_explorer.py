"""QueryExplorer: drag a query among 2-D keys and watch attention's weights and context.

The browser computes (so the static book stays interactive); Python recomputes
with :func:`attnlib.attention` whenever a trait changes, so ``w.weights`` in a
live kernel always holds attnlib's own numbers for what the page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets as t

from .._validate import as_float_array, check_finite, check_temperature
from ..attention import attention
from ..scores import SCORES, Additive, General, ScoreFn
from ._base import BookWidget, read_asset

SCORE_OPTIONS = ("dot", "scaled_dot", "cosine", "general", "additive")

# Fixed, readable parameters for the two learned scores, so the reader can
# compute a score by hand. General: W rotates a key by about 27 degrees and
# shrinks its second coordinate. Additive: a 3-unit hidden layer.
DEFAULT_GENERAL_W = [[1.0, 0.5], [-0.5, 0.5]]
DEFAULT_ADDITIVE = {
    "W_q": [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]],
    "W_k": [[1.0, 0.0], [0.0, 1.0], [-0.7, 0.7]],
    "v": [1.0, 1.0, -0.5],
}


def _points(name: str, x: Any) -> np.ndarray:
    """Check a list of 2-D points: shape (T, 2), finite, at least one point."""
    arr = as_float_array(name, x)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty list of 2-D points, shape (T, 2); got {arr.shape}")
    check_finite(name, arr)
    return arr


class QueryExplorer(BookWidget):
    """Drag a query among labelled keys; see scores, weights and the context vector.

    Parameters
    ----------
    keys : array-like, shape (T, 2)
        The key points (also the values unless ``values`` is given).
    values : array-like, shape (T, 2), optional
        The value points; default: the keys, and the values then follow the keys
        (``values_follow_keys``). The page's "values = keys" box sets that trait: untick it
        and the values (squares) move on their own; tick it and they snap back onto the keys.
    labels : list of T str, optional
        Shown as text, never interpreted as HTML.
    query : array-like, shape (2,)
        Where the query starts.
    score : str
        One of ``"dot"``, ``"scaled_dot"``, ``"cosine"``, ``"general"``, ``"additive"``.
    temperature : float
        Softmax temperature, > 0.
    extent : float
        The plane shows [-extent, extent] on both axes.

    Synced outputs: ``scores (T,)``, ``weights (T,)``, ``context (2,)``.
    """

    _esm = read_asset("_common.js", "query_explorer.js")
    _css = read_asset("_common.css", "query_explorer.css")
    _plain_name = "query explorer"
    _messages = "query"  # its words: the "query." keys of messages.py

    key_points = t.List(t.List(t.Float())).tag(sync=True)  # (T, 2); `keys` is reserved by ipywidgets
    value_points = t.List(t.List(t.Float())).tag(sync=True)  # (T, 2)
    values_follow_keys = t.Bool(True).tag(sync=True)  # values are the keys (the page's "values = keys" box)
    labels = t.List(t.Unicode()).tag(sync=True)  # T labels
    query = t.List(t.Float()).tag(sync=True)  # (2,)
    score = t.Unicode("scaled_dot").tag(sync=True)
    score_options = t.List(t.Unicode(), list(SCORE_OPTIONS)).tag(sync=True)
    temperature = t.Float(1.0).tag(sync=True)
    extent = t.Float(3.0).tag(sync=True)
    general_W = t.List(t.List(t.Float()), DEFAULT_GENERAL_W).tag(sync=True)
    additive_Wq = t.List(t.List(t.Float()), DEFAULT_ADDITIVE["W_q"]).tag(sync=True)
    additive_Wk = t.List(t.List(t.Float()), DEFAULT_ADDITIVE["W_k"]).tag(sync=True)
    additive_v = t.List(t.Float(), DEFAULT_ADDITIVE["v"]).tag(sync=True)
    scores = t.List(t.Float()).tag(sync=True)  # (T,) output
    weights = t.List(t.Float()).tag(sync=True)  # (T,) output
    context = t.List(t.Float()).tag(sync=True)  # (2,) output

    def __init__(
        self,
        keys: Any,
        values: Any = None,
        labels: Sequence[str] | None = None,
        query: Any = (0.0, 0.0),
        score: str = "scaled_dot",
        temperature: float = 1.0,
        extent: float = 3.0,
    ) -> None:
        k = _points("keys", keys)
        v = k if values is None else _points("values", values)
        if v.shape != k.shape:
            raise ValueError(f"values must have the same shape as keys: keys {k.shape}, values {v.shape}")
        labels = [f"k{i + 1}" for i in range(len(k))] if labels is None else list(labels)
        if len(labels) != len(k) or not all(isinstance(s, str) for s in labels):
            raise ValueError(f"labels must be {len(k)} strings, one per key; got {labels!r}")
        q = as_float_array("query", query)
        if q.shape != (2,):
            raise ValueError(f"query must be a 2-D point, shape (2,); got {q.shape}")
        check_finite("query", q)
        super().__init__(
            key_points=k.tolist(),
            value_points=v.tolist(),
            values_follow_keys=values is None,
            labels=labels,
            query=q.tolist(),
            score=score,
            temperature=check_temperature(temperature),
            extent=float(extent),
        )
        self._recompute()

    @t.validate("score")
    def _check_score(self, proposal: dict) -> str:
        if proposal["value"] not in SCORE_OPTIONS:
            raise t.TraitError(f"unknown score {proposal['value']!r}; choose one of {list(SCORE_OPTIONS)}")
        return proposal["value"]

    @t.validate("temperature")
    def _check_temperature(self, proposal: dict) -> float:
        return self.validated(check_temperature, proposal["value"])

    def score_fn(self) -> ScoreFn:
        """The attnlib score function the widget's current ``score`` names."""
        if self.score == "general":
            return General(np.array(self.general_W))
        if self.score == "additive":
            return Additive(np.array(self.additive_Wq), np.array(self.additive_Wk), np.array(self.additive_v))
        return SCORES[self.score]

    @t.observe(
        "query",
        "key_points",
        "value_points",
        "values_follow_keys",
        "score",
        "temperature",
        "general_W",
        "additive_Wq",
        "additive_Wk",
        "additive_v",
    )
    def _on_change(self, change: dict) -> None:
        if not (self.key_points and self.query):  # __init__ is still setting traits
            return
        if (
            change["name"] in ("key_points", "values_follow_keys")
            and self.values_follow_keys
            and self.value_points != self.key_points
        ):
            self.value_points = [list(p) for p in self.key_points]  # observed again: recomputes
            return
        self._recompute()

    def _recompute(self) -> None:
        """Compute scores, weights and context with attnlib (the same recipe as the JS)."""
        k, v, q = np.array(self.key_points), np.array(self.value_points), np.array(self.query)
        if len(v) != len(k):  # keys dragged before values caught up
            return
        fn = self.score_fn()
        context, weights = attention(q, k, v, score=fn, temperature=self.temperature)
        self.scores = np.asarray(fn(q[None, :], k))[0].tolist()
        self.weights = weights.tolist()
        self.context = context.tolist()

    def _repr_summary(self) -> str:
        values = "" if self.values_follow_keys else ", values apart from keys"
        return f"{len(self.key_points)} keys, score={self.score!r}, temperature={self.temperature:g}{values}"
