r"""SelfAttentionExplorer: a sentence attending to itself, per layer and per head.

Hover over or focus a token (the query :math:`i`) to see its weights over every token of
the same sentence (the keys :math:`j`), for the chosen layer :math:`l` and head :math:`h`:

.. math::

    \alpha_{ij} = \operatorname{softmax}_j\big(e^{(l, h)}_{ij},\ m_{ij}\big), \qquad
    m_{ij} = \begin{cases} j \le i & \text{causal mask on} \\ \text{True} & \text{otherwise} \end{cases}

``scores`` holds the scaled scores :math:`e = q_i^\top k_j / \sqrt{d_k}` *before* the softmax;
the causal toggle re-normalises the same scores with the mask, as :func:`attnlib.softmax`
does in Python. What that shows: in a model's first layer, exactly the weights a causal
layer would compute (its scores come from the embeddings alone); in later layers, only the
stored scores re-normalised, since the vectors behind them have already mixed in later
tokens in the layers below (a model run with the causal mask in every layer, or trained
with it, would give other weights). The browser computes (so the static book stays
interactive); Python recomputes ``weights`` whenever a trait changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets as t

from .._validate import as_float_array, check_finite, check_index, check_tokens
from ..softmax import softmax
from ._base import BookWidget, read_asset


def _scores(scores: Any, n_tokens: int) -> np.ndarray:
    """Check the scores: finite, shape (layers, heads, T, T) with T = len(tokens)."""
    e = as_float_array("scores", scores)
    if e.ndim != 4 or e.shape[2:] != (n_tokens, n_tokens) or 0 in e.shape:
        raise ValueError(
            f"scores must have shape (layers, heads, T, T) with T = {n_tokens} "
            f"tokens: one (T, T) matrix of query-by-key scores per layer and head; "
            f"got {e.shape}"
        )
    check_finite("scores", e)
    return e


def row_weights(scores: np.ndarray, layer: int, head: int, query: int, causal: bool) -> np.ndarray:
    """attnlib's weights of one query: softmax of its scores, keys j > query masked if causal.

    scores (layers, heads, T, T) -> weights (T,).
    """
    row = np.asarray(scores, dtype=np.float64)[layer, head, query]  # (T,)
    mask = np.arange(len(row)) <= query if causal else None  # (T,) True = may attend
    return softmax(row, mask=mask)


class SelfAttentionExplorer(BookWidget):
    """Where each token of a sentence looks in the same sentence, per layer and head.

    Parameters
    ----------
    tokens : list of T str
        The sentence (shown as text, never interpreted as HTML).
    scores : array-like, shape (layers, heads, T, T)
        ``scores[l, h, i, j]``: the scaled score of query ``i`` against key ``j`` in head ``h``
        of layer ``l``, before the softmax (e.g. from
        :meth:`attnlib.transformer.Encoder.self_attention_scores`).
    layer, head, selected : int
        The layer, head and query token shown first.
    causal : bool
        Mask the future: query ``i`` keeps only keys ``j <= i`` of the same scores
        (exact for a first layer; see above for later ones).

    Synced output: ``weights (T,)``, the selected query's weights.
    """

    _esm = read_asset("_common.js", "self_attention_explorer.js")
    _css = read_asset("_common.css", "self_attention_explorer.css")
    _plain_name = "self-attention explorer"
    _messages = "selfattn"  # its words: the "selfattn." keys of messages.py

    tokens = t.List(t.Unicode()).tag(sync=True)  # (T,)
    scores = t.List(t.List(t.List(t.List(t.Float())))).tag(sync=True)  # (layers, heads, T, T)
    layer = t.Int(0).tag(sync=True)  # which layer l
    head = t.Int(0).tag(sync=True)  # which head h
    selected = t.Int(0).tag(sync=True)  # the query token i
    causal = t.Bool(False).tag(sync=True)  # mask keys j > i
    weights = t.List(t.Float()).tag(sync=True)  # (T,) output: the weights of query i

    def __init__(
        self,
        tokens: Sequence[str],
        scores: Any,
        layer: int = 0,
        head: int = 0,
        selected: int = 0,
        causal: bool = False,
    ) -> None:
        toks = check_tokens("tokens", tokens)
        e = _scores(scores, len(toks))
        if not isinstance(causal, bool):
            raise TypeError(f"causal must be a bool, got {type(causal).__name__}")
        super().__init__(
            tokens=toks,
            scores=e.tolist(),
            layer=check_index("layer", layer, e.shape[0]),
            head=check_index("head", head, e.shape[1]),
            selected=check_index("selected", selected, len(toks)),
            causal=causal,
        )
        self._recompute()

    @property
    def n_layers(self) -> int:
        return len(self.scores)

    @property
    def n_heads(self) -> int:
        return len(self.scores[0]) if self.scores else 0

    # -- validation of later changes --------------------------------------------------------
    @t.validate("tokens")
    def _check_tokens(self, proposal: dict) -> list:
        return self.validated(check_tokens, "tokens", proposal["value"])

    @t.validate("scores")
    def _check_scores(self, proposal: dict) -> list:
        return self.validated(_scores, proposal["value"], len(self.tokens)).tolist()

    @t.validate("layer", "head", "selected")
    def _check_index(self, proposal: dict) -> int:
        name = proposal["trait"].name
        size = {"layer": self.n_layers, "head": self.n_heads, "selected": len(self.tokens)}[name]
        return self.validated(check_index, name, proposal["value"], size)

    @t.observe("tokens", "scores", "layer", "head", "selected", "causal")
    def _on_change(self, change: dict) -> None:
        self._recompute()

    def _recompute(self) -> None:
        """weights = softmax(scores[layer, head, selected], causal mask), with attnlib."""
        e = np.array(self.scores, dtype=float)
        T = len(self.tokens)
        if (
            e.ndim != 4
            or e.shape[2:] != (T, T)
            or not (self.layer < e.shape[0] and self.head < e.shape[1] and self.selected < T)
        ):
            return  # tokens changed before scores: wait for the matching scores
        self.weights = row_weights(e, self.layer, self.head, self.selected, self.causal).tolist()

    def _repr_summary(self) -> str:
        word = self.tokens[self.selected] if self.selected < len(self.tokens) else "?"
        return (
            f"{len(self.tokens)} tokens, {self.n_layers} layers × {self.n_heads} heads, "
            f"layer={self.layer}, head={self.head}, selected={self.selected} ({word!r}), "
            f"causal={self.causal}"
        )
