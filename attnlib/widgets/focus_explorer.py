r"""FocusExplorer: click a target word and see where it looks in the source sentence.

For the selected target word :math:`t` the weights over the source tokens are

.. math::

    \alpha_{t} = \operatorname{softmax}(e_{t} / \tau),

where ``scores`` :math:`e` is a ``(T_y, T_x)`` matrix (one row per target word, one
column per source token) and :math:`\tau` is the temperature: small :math:`\tau`
focuses on one token (hard attention), large :math:`\tau` spreads the weights
towards a uniform average. The browser computes (so the static book stays
interactive); Python recomputes with :func:`attnlib.softmax` whenever a trait
changes, so ``w.weights`` in a live kernel holds attnlib's numbers for what the
page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets as t

from .._validate import as_float_array, check_finite, check_index, check_temperature, check_tokens
from ..softmax import softmax
from ._base import BookWidget, read_asset


def _scores(scores: Any, n_target: int, n_source: int) -> np.ndarray:
    """Check the score matrix: finite, shape (T_y, T_x) = (target tokens, source tokens)."""
    e = as_float_array("scores", scores)
    if e.shape != (n_target, n_source):
        raise ValueError(
            f"scores must have shape (T_y, T_x) = ({n_target}, {n_source}): one row "
            f"per target token, one column per source token; got {e.shape}"
        )
    check_finite("scores", e)
    return e


class FocusExplorer(BookWidget):
    """Where each target word looks in the source sentence, and how sharply.

    Parameters
    ----------
    source_tokens : list of T_x str
        The source sentence (shown as text, never interpreted as HTML).
    target_tokens : list of T_y str
        The target sentence; the reader clicks one of these words.
    scores : array-like, shape (T_y, T_x)
        ``scores[t, j]``: how relevant source token ``j`` is to target word ``t``.
    selected : int
        Index of the target word shown first.
    temperature : float
        Softmax temperature :math:`\\tau > 0`.

    Synced output: ``weights (T_x,) = softmax(scores[selected], temperature=temperature)``.
    """

    _esm = read_asset("_common.js", "focus_explorer.js")
    _css = read_asset("_common.css", "focus_explorer.css")
    _plain_name = "focus explorer"
    _messages = "focus"  # its words: the "focus." keys of messages.py

    source_tokens = t.List(t.Unicode()).tag(sync=True)  # (T_x,)
    target_tokens = t.List(t.Unicode()).tag(sync=True)  # (T_y,)
    scores = t.List(t.List(t.Float())).tag(sync=True)  # (T_y, T_x)
    selected = t.Int(0).tag(sync=True)  # target index t
    temperature = t.Float(1.0).tag(sync=True)  # τ > 0
    weights = t.List(t.Float()).tag(sync=True)  # (T_x,) output: softmax(scores[t] / τ)

    def __init__(
        self,
        source_tokens: Sequence[str],
        target_tokens: Sequence[str],
        scores: Any,
        selected: int = 0,
        temperature: float = 1.0,
    ) -> None:
        src = check_tokens("source_tokens", source_tokens)
        tgt = check_tokens("target_tokens", target_tokens)
        e = _scores(scores, len(tgt), len(src))
        super().__init__(
            source_tokens=src,
            target_tokens=tgt,
            scores=e.tolist(),
            selected=check_index("selected", selected, len(tgt)),
            temperature=check_temperature(temperature),
        )
        self._recompute()

    # -- validation of later changes (cross-checks run after hold_trait_notifications) --
    @t.validate("temperature")
    def _check_temperature(self, proposal: dict) -> float:
        return self.validated(check_temperature, proposal["value"])

    @t.validate("selected")
    def _check_selected(self, proposal: dict) -> int:
        return self.validated(check_index, "selected", proposal["value"], len(self.target_tokens))

    @t.validate("scores")
    def _check_scores(self, proposal: dict) -> list:
        n_y, n_x = len(self.target_tokens), len(self.source_tokens)
        return self.validated(_scores, proposal["value"], n_y, n_x).tolist()

    @t.validate("source_tokens", "target_tokens")
    def _check_tokens(self, proposal: dict) -> list:
        return self.validated(check_tokens, proposal["trait"].name, proposal["value"])

    @t.observe("scores", "selected", "temperature", "source_tokens", "target_tokens")
    def _on_change(self, change: dict) -> None:
        self._recompute()

    def _recompute(self) -> None:
        """weights = softmax(scores[selected] / τ), with attnlib (the same recipe as the JS)."""
        n_y, n_x = len(self.target_tokens), len(self.source_tokens)
        e = np.array(self.scores, dtype=float)
        if e.shape != (n_y, n_x) or not 0 <= self.selected < n_y:  # tokens changed before scores
            return
        self.weights = softmax(e[self.selected], temperature=self.temperature).tolist()

    def _repr_summary(self) -> str:
        word = self.target_tokens[self.selected] if self.selected < len(self.target_tokens) else "?"
        return (
            f"{len(self.target_tokens)} target × {len(self.source_tokens)} source tokens, "
            f"selected={self.selected} ({word!r}), temperature={self.temperature:g}"
        )
