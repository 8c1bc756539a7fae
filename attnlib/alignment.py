r"""Measuring where a decoder looks: focus moves, row entropy and baselines (chapter 4).

A translator with attention writes one alignment matrix per sentence,
:math:`A \in \mathbb{R}^{T_y \times T_x}`: row :math:`t` holds the weights
:math:`\alpha_{tj}` the decoder used to write target word :math:`t`, and sums to 1.
The source notes say the focus "moves smoothly along the source as the translation
proceeds". This module turns that sentence into numbers:

* the **focus** of step :math:`t` is the source position with the largest weight,
  :math:`f_t = \arg\max_j \alpha_{tj}` (:func:`focus`);
* a **move** is :math:`\Delta_t = f_t - f_{t-1}` (:func:`focus_moves`): 0 means the focus
  stayed, +1 that it stepped to the next token, a negative value that it went back;
* a row's **entropy** :math:`H_t = -\sum_j \alpha_{tj} \log_2 \alpha_{tj}` (bits,
  :func:`row_entropy`) says how spread the weights are: 0 bits for a row that puts
  everything on one token, :math:`\log_2 T_x` for the uniform row; :math:`2^{H_t}`
  (:func:`effective_tokens`) reads it as "the weight is spread as if evenly over this
  many tokens";
* :func:`focus_stats` sums these up over many sentences (:class:`FocusStats`), and
  two baselines give them a scale: :func:`diagonal` (a focus that slides at a constant
  pace from the first source token to the last, what "moves smoothly along the
  source" would look like) and :func:`shuffled` (the model's own rows in a random
  order: the same positions, with no order left);
* :func:`context_moves` measures the same thing on the context vectors: how far
  :math:`c_t` moves from :math:`c_{t-1}`, on the scale of the encoder states. A model
  without attention reads the same vector at every step: its context never moves.

Everything here is numpy and takes plain arrays, so it works on any model's
weights (``Translation.weights`` from :mod:`attnlib.translate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import as_float_array, check_finite, check_int

__all__ = [
    "FocusStats",
    "context_moves",
    "diagonal",
    "effective_tokens",
    "focus",
    "focus_moves",
    "focus_stats",
    "move_histogram",
    "row_entropy",
    "shuffled",
]


def _alignment(name: str, weights: Any) -> np.ndarray:
    """``weights`` as a float (T_y, T_x) array of non-negative rows that sum to 1, or a clear error."""
    w = as_float_array(name, weights)
    if w.ndim != 2 or 0 in w.shape:
        raise ValueError(
            f"{name} must be a non-empty (T_y, T_x) matrix, one row per output step; got {w.shape}"
        )
    check_finite(name, w)
    if (w < 0).any() or not np.allclose(w.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(f"each row of {name} must be non-negative and sum to 1 (a row of attention weights)")
    return w


def _alignments(alignments: Any) -> list[np.ndarray]:
    """A non-empty list of alignment matrices, each checked by :func:`_alignment`."""
    if isinstance(alignments, np.ndarray) or not isinstance(alignments, Sequence) or not alignments:
        raise TypeError("alignments must be a non-empty list of (T_y, T_x) weight matrices, one per sentence")
    return [_alignment(f"alignments[{i}]", a) for i, a in enumerate(alignments)]


def focus(weights: Any) -> np.ndarray:
    r"""The focus of each step, :math:`f_t = \arg\max_j \alpha_{tj}`: (T_y, T_x) -> (T_y,) ints.

    On a tie the first (leftmost) position wins, as with ``numpy.argmax``.
    """
    return _alignment("weights", weights).argmax(axis=1)


def focus_moves(weights: Any) -> np.ndarray:
    r"""How the focus moves from step to step, :math:`\Delta_t = f_t - f_{t-1}`: (T_y, T_x) -> (T_y - 1,).

    0: it stayed; +1: it went on to the next source token; < 0: it went back.
    """
    return np.diff(focus(weights))


def row_entropy(weights: Any) -> np.ndarray:
    r"""The entropy of each row in bits, :math:`H_t = -\sum_j \alpha_{tj} \log_2 \alpha_{tj}`: (T_y,).

    0 for a row with all its weight on one token; :math:`\log_2 T_x` for the uniform
    row; weights of exactly 0 contribute 0 (the limit of :math:`x \log x`).
    """
    w = _alignment("weights", weights)
    terms = np.where(w > 0, w * np.log2(np.where(w > 0, w, 1.0)), 0.0)  # (T_y, T_x), 0 log 0 = 0
    return np.maximum(-terms.sum(axis=1), 0.0)  # rounding can give -0.0 for a one-hot row


def effective_tokens(weights: Any) -> np.ndarray:
    r""":math:`2^{H_t}`, the number of tokens a row's weight is spread over as if evenly: (T_y,).

    1 for a one-hot row, :math:`T_x` for the uniform row (the row's *perplexity*).
    """
    return 2.0 ** row_entropy(weights)


def diagonal(n_out: int, n_in: int) -> np.ndarray:
    r"""The alignment that slides at a constant pace: (n_out, n_in), one-hot rows.

    Step :math:`t` (0-based) looks only at source position
    :math:`\operatorname{round}(t\,(n_{in} - 1) / (n_{out} - 1))`: the first step at the
    first token, the last step at the last, evenly in between (a single step looks
    at the first token). It is the baseline for "the focus moves smoothly along the
    source": every move is 0, +1 or, when the source is longer than the output, +2.
    """
    n_out, n_in = check_int("n_out", n_out, 1), check_int("n_in", n_in, 1)
    t = np.arange(n_out)
    positions = np.rint(t * (n_in - 1) / max(n_out - 1, 1)).astype(int)  # (n_out,)
    return np.eye(n_in)[positions]  # (n_out, n_in)


def shuffled(alignments: Sequence[Any], seed: int = 0) -> list[np.ndarray]:
    """Each alignment with its rows in a random order: the same foci and entropies, no order.

    The baseline for "the focus moves in order": whatever the model's positions are,
    this is how they would move if the steps came in a random order. Row order is
    drawn with ``numpy.random.default_rng(seed)``, one permutation per sentence.
    """
    rng = np.random.default_rng(check_int("seed", seed, 0))
    return [a[rng.permutation(len(a))] for a in _alignments(alignments)]


def move_histogram(moves: Any, far: int = 3) -> np.ndarray:
    r"""Counts of the moves :math:`\Delta` in the bins ``<= -far, ..., -1, 0, +1, ..., >= +far``.

    Returns ``2 * far + 1`` counts; index ``far + d`` counts the moves equal to ``d``
    (the two end bins also count everything beyond them).
    """
    far = check_int("far", far, 1)
    d = as_float_array("moves", moves)
    if d.ndim != 1 or (d != np.round(d)).any():
        raise ValueError(f"moves must be a 1-D array of whole numbers (focus_moves), got shape {d.shape}")
    return np.bincount((np.clip(d, -far, far) + far).astype(int), minlength=2 * far + 1)


@dataclass(frozen=True, eq=False)
class FocusStats:
    """How a set of alignments moves and spreads its focus (see :func:`focus_stats`)."""

    rows: int  # output steps (rows) counted
    moves: int  # moves counted: rows minus one per sentence
    far: int  # a move of at least this many tokens, either way, counts as a jump
    histogram: np.ndarray  # (2 * far + 1,) share of moves with Δ = -far .. +far (ends: beyond, too)
    stay: float  # share of moves with Δ = 0: the focus stayed on the same token
    next: float  # share with Δ = +1: on to the next token
    forward: float  # share with Δ >= 0: the focus did not go back (monotone steps)
    back: float  # share with Δ < 0
    jump: float  # share with |Δ| >= far, forward or back
    entropy: float  # mean row entropy, bits
    relative_entropy: float  # mean of H_t / log2(T_x): 0 = one token, 1 = uniform (rows with T_x = 1: 0)
    effective: float  # mean of 2^H_t: tokens the weight is spread over, as if evenly
    source_tokens: float  # mean T_x over the rows: what the uniform row would spread over
    peak: float  # mean largest weight of a row


def focus_stats(alignments: Sequence[Any], far: int = 3) -> FocusStats:
    """Moves and spread of the focus over many sentences, one (T_y, T_x) alignment each.

    Moves are counted within each sentence (a sentence of one row has none) and
    pooled; entropies are averaged over all rows. See the module docstring for the
    definitions.
    """
    far = check_int("far", far, 1)
    mats = _alignments(alignments)
    moves = np.concatenate([np.diff(a.argmax(axis=1)) for a in mats])  # (moves,)
    if len(moves) == 0:
        raise ValueError("the alignments have no moves: every sentence has a single output step")
    entropy = np.concatenate([row_entropy(a) for a in mats])  # (rows,)
    n_in = np.concatenate([np.full(len(a), a.shape[1]) for a in mats])  # (rows,) T_x of each row
    relative = np.divide(entropy, np.log2(n_in), out=np.zeros_like(entropy), where=n_in > 1)
    share = lambda mask: float(np.mean(mask))  # noqa: E731
    return FocusStats(
        rows=len(entropy),
        moves=len(moves),
        far=far,
        histogram=move_histogram(moves, far) / len(moves),
        stay=share(moves == 0),
        next=share(moves == 1),
        forward=share(moves >= 0),
        back=share(moves < 0),
        jump=share(np.abs(moves) >= far),
        entropy=float(entropy.mean()),
        relative_entropy=float(relative.mean()),
        effective=float((2.0**entropy).mean()),
        source_tokens=float(n_in.mean()),
        peak=float(np.concatenate([a.max(axis=1) for a in mats]).mean()),
    )


def context_moves(contexts: Any, states: Any) -> np.ndarray:
    r"""How far the context moves per step, on the scale of the encoder states: (T_y - 1,).

    .. math::

        m_t = \frac{\lVert c_t - c_{t-1} \rVert}{\tfrac{1}{T_x} \sum_j \lVert h_j - \bar h \rVert}

    ``contexts`` (T_y, d) are the :math:`c_t` read at each step, ``states`` (T_x, d) the
    encoder states :math:`h_j`, :math:`\bar h` their mean. 1 means the context moved as
    far as a typical state lies from the centre of the states; 0 that it stayed put
    (always, for a model without attention: its :math:`c_t` is one vector). If the
    states do not vary, the moves are returned unscaled.
    """
    c, h = as_float_array("contexts", contexts), as_float_array("states", states)
    if c.ndim != 2 or h.ndim != 2 or c.shape[1] != h.shape[1] or 0 in c.shape or 0 in h.shape:
        raise ValueError(
            f"need contexts (T_y, d) and states (T_x, d) of the same width d; got {c.shape} and {h.shape}"
        )
    check_finite("contexts", c)
    check_finite("states", h)
    spread = np.linalg.norm(h - h.mean(axis=0), axis=1).mean()  # typical distance of an h_j from the mean
    moves = np.linalg.norm(np.diff(c, axis=0), axis=1)  # (T_y - 1,)
    return moves / spread if spread > 0 else moves
