"""Checkers for chapter 3, the QKV recipe."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..attention import attention
from ..softmax import softmax
from . import checker

EX31_SCORES = np.array([2.0, 1.0, 0.0, 1.0])  # the scores printed in exercise 3.1


def _close(a: Any, b: np.ndarray, atol: float) -> bool:
    a = np.asarray(a, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=atol))


@checker("3.1")
def _weights_by_hand(answer: Any) -> tuple[bool, str]:
    want = softmax(EX31_SCORES)
    got = np.asarray(answer, dtype=float)
    if got.shape != want.shape:
        return False, f"expected {len(want)} weights, one per score; got shape {got.shape}"
    if not np.isclose(got.sum(), 1.0, atol=0.01):
        return False, f"your weights sum to {got.sum():.3f}; softmax weights sum to 1"
    if not _close(got, want, atol=0.005):
        return False, "close, but not softmax: exponentiate each score, then divide by the sum"
    return True, "correct: " + ", ".join(f"{w:.3f}" for w in want)


@checker("3.2")
def _stable_softmax(fn: Any) -> tuple[bool, str]:
    cases = [
        np.array([1.0, 2.0, 3.0]),
        np.array([1000.0, 1001.0, 999.0]),
        np.array([-1000.0, -1000.0]),
        np.array([5.0]),
    ]
    for x in cases:
        out = fn(x)
        if out is None:
            return False, "my_softmax returns None: write its body, then run the cell again"
        got = np.asarray(out, dtype=float)
        if not np.isfinite(got).all():
            return False, (
                f"got {got} for scores {x}: exp(1000) overflows; subtract the "
                "largest score before exponentiating"
            )
        if not _close(got, softmax(x), atol=1e-9):
            return False, f"for scores {x} expected {softmax(x)}, got {got}"
    return True, "correct, and stable for scores in the thousands"


@checker("3.3")
def _attention_one_query(fn: Any) -> tuple[bool, str]:
    rng = np.random.default_rng(3)
    for T, d, d_v in [(1, 2, 2), (4, 3, 5), (7, 8, 2)]:
        q, K, V = rng.normal(size=d), rng.normal(size=(T, d)), rng.normal(size=(T, d_v))
        out = fn(q, K, V)
        if out is None:
            return False, "my_attention returns None: write its body, then run the cell again"
        if not (isinstance(out, tuple) and len(out) == 2):
            return False, "return a pair (context, weights), like attnlib.attention"
        want_c, want_w = attention(q, K, V, score="scaled_dot")
        if not _close(out[1], want_w, atol=1e-8):
            return False, (
                f"weights differ for T={T}, d={d}: expected {np.round(want_w, 4)}, got "
                f"{np.round(np.asarray(out[1], float), 4)}. Did you divide the scores by sqrt(d)?"
            )
        if not _close(out[0], want_c, atol=1e-8):
            return False, "weights are right but the context is not: it is weights @ V"
    return True, "correct: your attention matches attnlib's on random inputs"


@checker("3.4")
def _masked_weights(answer: Any) -> tuple[bool, str]:
    scores, mask = np.array([3.0, 1.0, 2.0, 0.5]), np.array([True, True, False, False])
    want = softmax(scores, mask=mask)
    got = np.asarray(answer, dtype=float)
    if got.shape != (4,):
        return False, f"give all 4 weights, masked ones included; got shape {got.shape}"
    if got[2] != 0 or got[3] != 0:
        return False, "masked keys must get weight exactly 0"
    if not _close(got, want, atol=0.005):
        return False, "the unmasked weights are a softmax over the unmasked scores only"
    return True, "correct: " + ", ".join(f"{w:.3f}" for w in want)


@checker("3.5")
def _dot_variance(answer: Any) -> tuple[bool, str]:
    got = float(answer)
    if np.isclose(got, 64, rtol=0.05):
        return True, "correct: each of the 64 products q_i k_i has variance 1, and variances add"
    if np.isclose(got, 8, rtol=0.05):
        return False, "8 is the standard deviation; the question asks for the variance"
    return False, "each term q_i k_i has mean 0 and variance 1; how many terms are there?"
