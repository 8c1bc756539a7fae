r"""OnlineSoftmaxStepper: step through one query's keys block by block, as FlashAttention does.

After reading blocks :math:`1 \dots j` of the keys, the online softmax holds a running maximum
:math:`m`, a running sum :math:`\ell = \sum_{\text{read}} e^{s - m}` and a running output
:math:`o / \ell`; every key read so far has the provisional weight :math:`e^{s_k - m} / \ell`.
When the last block is read they are exactly the full softmax's weights and output
(:mod:`attnlib.online_softmax`). The browser computes (so the static book stays interactive);
Python recomputes with :func:`attnlib.online_softmax.online_steps` whenever a trait changes,
so ``w.output`` in a live kernel holds attnlib's numbers for what the page shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets as t

from .._validate import as_float_array, check_finite, check_int, check_tokens
from ..online_softmax import online_steps
from ..softmax import softmax
from ._base import BookWidget, read_asset

MAX_DIMS = 32  # value dimensions the chart has room for


def _scores(scores: Any, n: int) -> np.ndarray:
    s = as_float_array("scores", scores)
    if s.shape != (n,):
        raise ValueError(f"scores must have shape (T,) = ({n},): one per token, got {s.shape}")
    check_finite("scores", s)
    return s


def _values(values: Any, n: int) -> np.ndarray:
    v = as_float_array("values", values)
    if v.ndim != 2 or v.shape[0] != n or not 1 <= v.shape[1] <= MAX_DIMS:
        raise ValueError(
            f"values must have shape (T, d_v) = ({n}, d_v) with 1 <= d_v <= {MAX_DIMS}, got {v.shape}"
        )
    check_finite("values", v)
    return v


def _blocks(n: int, block: int) -> int:
    return math.ceil(n / block)


class OnlineSoftmaxStepper(BookWidget):
    """One query's attention, computed block by block with a running maximum and sum.

    Parameters
    ----------
    tokens : list of T str
        Labels of the keys (shown as text, never interpreted as HTML).
    scores : array-like, shape (T,)
        The query's scores against the T keys.
    values : array-like, shape (T, d_v)
        The keys' value vectors (d_v <= 32).
    block : int
        Keys per block, 1 .. T.
    step : int
        Blocks read so far, 0 .. ceil(T / block).

    Synced outputs: ``weights (T,)``, each read key's weight so far (0 for keys not read yet),
    and ``output (d_v,)``, the normalised weighted sum of the values read so far.
    """

    _esm = read_asset("_common.js", "online_softmax_stepper.js")
    _css = read_asset("_common.css", "online_softmax_stepper.css")
    _plain_name = "online softmax stepper"
    _messages = "online"  # its words: the "online." keys of messages.py

    tokens = t.List(t.Unicode()).tag(sync=True)  # (T,)
    scores = t.List(t.Float()).tag(sync=True)  # (T,)
    values = t.List(t.List(t.Float())).tag(sync=True)  # (T, d_v)
    block = t.Int(4).tag(sync=True)  # keys per block
    step = t.Int(0).tag(sync=True)  # blocks read
    weights = t.List(t.Float()).tag(sync=True)  # (T,) output: e^(s - m) / l for read keys, else 0
    output = t.List(t.Float()).tag(sync=True)  # (d_v,) output: o / l over the keys read

    def __init__(
        self, tokens: Sequence[str], scores: Any, values: Any, block: int = 4, step: int = 0
    ) -> None:
        toks = check_tokens("tokens", tokens)
        s, v = _scores(scores, len(toks)), _values(values, len(toks))
        block = check_int("block", block, 1, len(toks))
        step = check_int("step", step, 0, _blocks(len(toks), block))
        super().__init__(tokens=toks, scores=s.tolist(), values=v.tolist(), block=block)
        self.step = step  # after the block size, which restarts the pass
        self._recompute()

    # -- validation of later changes --------------------------------------------------------
    @t.validate("tokens")
    def _check_tokens(self, proposal: dict) -> list:
        return self.validated(check_tokens, "tokens", proposal["value"])

    @t.validate("scores")
    def _check_scores(self, proposal: dict) -> list:
        return self.validated(_scores, proposal["value"], len(self.tokens)).tolist()

    @t.validate("values")
    def _check_values(self, proposal: dict) -> list:
        return self.validated(_values, proposal["value"], len(self.tokens)).tolist()

    @t.validate("block")
    def _check_block(self, proposal: dict) -> int:
        return self.validated(check_int, "block", proposal["value"], 1, len(self.tokens))

    @t.validate("step")
    def _check_step(self, proposal: dict) -> int:
        return self.validated(
            check_int, "step", proposal["value"], 0, _blocks(len(self.tokens), max(1, self.block))
        )

    @t.observe("block")
    def _restart(self, change: dict) -> None:
        self.step = 0  # a new block size starts the pass again

    @t.observe("tokens", "scores", "values", "block", "step")
    def _on_change(self, change: dict) -> None:
        self._recompute()

    # -- the numbers ------------------------------------------------------------------------
    def states(self) -> list:
        """Every :class:`~attnlib.online_softmax.OnlineState` of the pass, one per block."""
        return online_steps(np.array(self.scores), np.array(self.values), self.block)

    @property
    def full_weights(self) -> list[float]:
        """The weights once every key is read, ``softmax(scores)``."""
        return softmax(np.array(self.scores)).tolist()

    def _recompute(self) -> None:
        """weights and output after ``step`` blocks, with attnlib (the same loop as the JS)."""
        n, d = len(self.tokens), len(self.values[0]) if self.values else 0
        if len(self.scores) != n or len(self.values) != n or self.step > _blocks(n, self.block):
            return  # tokens changed before scores and values: wait for them
        if self.step == 0:
            self.weights, self.output = [0.0] * n, [0.0] * d
            return
        state = self.states()[self.step - 1]
        s = np.array(self.scores)
        read = np.arange(n) < state.seen
        self.weights = np.where(read, np.exp(s - state.maximum) / state.total, 0.0).tolist()
        self.output = state.output.tolist()

    def _repr_summary(self) -> str:
        blocks = _blocks(len(self.tokens), self.block)
        return (
            f"{len(self.tokens)} keys, d_v={len(self.values[0]) if self.values else 0}, "
            f"block={self.block}, step={self.step} of {blocks}"
        )
