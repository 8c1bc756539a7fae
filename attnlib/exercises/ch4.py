"""Checkers for chapter 4, the dynamic context."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..softmax import softmax
from . import checker

# Exercise 4.1: one decoder step with additive attention, on numbers small enough to do by hand.
EX41 = {
    "s_prev": np.array([1.0, 0.0]),  # the query s_{t-1}, (d_q,) = (2,)
    "H": np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 1.0]]),  # encoder states h_j, (T, d_k) = (3, 2)
    "W_q": np.array([[1.0, 0.0], [0.0, 1.0]]),  # (n', d_q)
    "W_k": np.array([[1.0, 0.0], [0.0, -1.0]]),  # (n', d_k)
    "v": np.array([1.0, 1.0]),  # (n',)
}
# Exercise 4.4: the sizes of chapter 4's attention module.
EX44 = {"query": 128, "key": 256, "hidden": 128}


def additive_step(
    s_prev: np.ndarray, H: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reference for 4.1: (context (d_k,), weights (T,)) of one additive-attention step."""
    scores = np.tanh(W_q @ s_prev + H @ W_k.T) @ v  # (T, n') @ (n',) -> (T,)
    weights = softmax(scores)  # (T,)
    return weights @ H, weights  # (d_k,), (T,)


def _pair(out: Any) -> tuple[np.ndarray, np.ndarray] | None:
    if not (isinstance(out, tuple) and len(out) == 2):
        return None
    return np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)


@checker("4.1")
def _one_step(answer: Any) -> tuple[bool, str]:
    want_c, want_w = additive_step(**EX41)
    got = _pair(answer)
    if got is None:
        return False, "give a pair (context, weights), like attnlib.attention"
    c, w = got
    if w.shape != want_w.shape:
        return False, f"expected {len(want_w)} weights, one per encoder state; got shape {w.shape}"
    if not np.isclose(w.sum(), 1.0, atol=0.01):
        return False, f"your weights sum to {w.sum():.3f}; after the softmax they sum to 1"
    if not np.allclose(w, want_w, atol=0.005):
        return False, (
            "the weights are off: score each h_j with v·tanh(W_q s + W_k h_j), "
            "then take the softmax of the three scores"
        )
    if c.shape != want_c.shape or not np.allclose(c, want_c, atol=0.005):
        return False, "the weights are right but the context is not: c = Σ_j α_j h_j"
    return True, (
        f"correct: α = ({', '.join(f'{x:.3f}' for x in want_w)}), "
        f"c = ({', '.join(f'{x:.3f}' for x in want_c)})"
    )


def jumps_back(weights: Any) -> int:
    """Reference for 4.2: steps whose largest weight lies left of the previous step's."""
    top = np.asarray(weights, dtype=float).argmax(axis=1)  # (T_out,)
    return int((np.diff(top) < 0).sum())


@checker("4.2")
def _jumps_back(fn: Any) -> tuple[bool, str]:
    rng = np.random.default_rng(4)
    cases = [
        np.eye(4),
        np.eye(4)[::-1],
        np.array([[0.2, 0.8]]),
        np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]),
    ]
    cases += [rng.dirichlet(np.ones(n), size=m) for n, m in [(5, 6), (8, 7), (3, 9)]]
    for A in cases:
        got = fn(A)
        if got is None:
            return False, "jumps_back returns None: write its body, then run the cell again"
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return False, f"return a whole number (an int), got {type(got).__name__}"
        if got != jumps_back(A):
            return False, (
                f"for the matrix\n{np.round(A, 2)}\nexpected {jumps_back(A)}, got {got}: "
                "compare each step's argmax with the previous step's"
            )
    return True, "correct: a diagonal alignment has 0 jumps back; a reversed one has one per step"


def brevity_penalty(hyp_len: int, ref_len: int) -> float:
    """Reference for 4.3: BLEU's brevity penalty (Papineni et al. 2002)."""
    return 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)


@checker("4.3")
def _brevity_penalty(fn: Any) -> tuple[bool, str]:
    for c, r in [(10, 10), (12, 10), (5, 10), (9, 10), (1, 3), (30, 7)]:
        got = fn(c, r)
        if got is None:
            return False, "brevity_penalty returns None: write its body, then run the cell again"
        want = brevity_penalty(c, r)
        if not isinstance(got, (int, float, np.floating)) or not math.isclose(got, want, rel_tol=1e-6):
            hint = (
                "a hypothesis longer than the reference is not penalised"
                if c > r
                else "for a short hypothesis, BP = exp(1 − r/c)"
            )
            return False, f"for c = {c}, r = {r} expected {want:.4f}, got {got!r}: {hint}"
    return True, "correct: only translations shorter than their references are penalised"


def attention_parameters(query: int, key: int, hidden: int) -> int:
    """Reference for 4.4: parameters of AdditiveAttention (W_q, W_k with its bias, v)."""
    return query * hidden + key * hidden + hidden + hidden


@checker("4.4")
def _parameters(answer: Any) -> tuple[bool, str]:
    want = attention_parameters(**EX44)
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
        return False, f"give a whole number, got {type(answer).__name__}"
    if answer == want - EX44["hidden"]:
        return False, "almost: W_k has a bias too (one bias serves the sum W_q s + W_k h)"
    if answer != want:
        return False, ("count W_q (hidden × query), W_k (hidden × key) and its bias (hidden), and v (hidden)")
    return True, f"correct: {want:,} parameters"
