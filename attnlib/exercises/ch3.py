"""Checkers for chapter 3, the QKV recipe."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..attention import attention
from ..scores import Additive
from ..softmax import softmax
from . import checker

# The plane of the chapter's hand computation (and of its widget): one key per source word.
WORDS = ("我", "昨天", "住", "在", "他", "家", "。")
KEYS = np.array([[-2.0, 1.0], [1.5, 2.0], [2.0, -1.0], [1.0, -2.0], [-2.0, -0.5], [-0.5, -2.0], [0.0, 0.3]])
QUERY = np.array([1.0, 1.5])  # the query before writing "yesterday"
EXTENT = 3.0  # the widget's plane shows [-3, 3] on both axes


def _close(a: Any, b: np.ndarray, atol: float) -> bool:
    a = np.asarray(a, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=atol))


def _point(answer: Any) -> np.ndarray | None:
    """The answer as a finite 2-D point, or None."""
    try:
        p = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None
    return p if p.shape == (2,) and np.isfinite(p).all() else None


@checker("3.1")
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


@checker("3.2")
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


@checker("3.3")
def _additive_weights(fn: Any) -> tuple[bool, str]:
    rng = np.random.default_rng(33)
    for T, d_q, d_k, h in [(5, 3, 4, 6), (8, 16, 32, 10), (3, 2, 7, 3)]:
        s, H = rng.normal(size=d_q), rng.normal(size=(T, d_k))
        W_q, W_k = rng.normal(size=(h, d_q)), rng.normal(size=(h, d_k))
        b, v = rng.normal(size=h), rng.normal(size=h)
        out = fn(s, H, W_q, W_k, b, v)
        if out is None:
            return False, "additive_weights returns None: write its body, then run the cell again"
        got = np.asarray(out, dtype=float)
        scores = Additive(W_q, W_k, v, b)(s[None, :], H)[0]  # (T,)
        want = softmax(scores)
        if got.shape != want.shape:
            return False, f"return one weight per key ({T}) for H of shape {H.shape}; got shape {got.shape}"
        if _close(got, want, atol=1e-8):
            continue
        if _close(got, scores, atol=1e-8):
            return False, "these are the scores e_j; step 2 turns them into weights with a softmax"
        if _close(got, softmax(Additive(W_q, W_k, v)(s[None, :], H)[0]), atol=1e-8):
            return False, "close: the bias b goes inside the tanh, tanh(W_q s + W_k h_j + b)"
        return False, (
            f"for d_q={d_q}, d_k={d_k}: expected {np.round(want, 4)}, got {np.round(got, 4)}. "
            "e_j = v · tanh(W_q s + W_k h_j + b), then softmax"
        )
    return True, (
        "correct: W_q and W_k bring query and keys, of different widths, into one h-wide space "
        "before they meet; steps 2 and 3 do not care how the scores were made"
    )


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
def _make_he_win(answer: Any) -> tuple[bool, str]:
    key = _point(answer)
    if key is None:
        return False, f"give the new key of 他 as one 2-D point, e.g. (1.0, -0.5); got {answer!r}"
    if np.abs(key).max() > EXTENT:
        return False, f"keep the key inside the widget's plane, both coordinates in [-{EXTENT:g}, {EXTENT:g}]"
    K = KEYS.copy()
    K[WORDS.index("他")] = key
    _, weights = attention(QUERY, K, K, score="dot")
    w = weights[WORDS.index("他")]
    if w <= 0.5:
        score = float(key @ QUERY)
        return False, (
            f"with that key 他 scores q·k = {score:.2f} and gets weight {w:.3f}; 昨天 scores 4.50. "
            "A dot-product score grows with the key's length along the query's direction"
        )
    return True, (
        f"correct: 他 now gets {w:.3f} of the weight. The query never moved: a dot product rewards a "
        "long key in roughly the right direction, which is why it is a similarity only up to length"
    )


@checker("3.6")
def _read_what_you_did_not_look_at(answer: Any) -> tuple[bool, str]:
    value = _point(answer)
    if value is None:
        return False, f"give the new value of 昨天 as one 2-D point; got {answer!r}"
    target = KEYS[WORDS.index("我")]
    V = KEYS.copy()
    V[WORDS.index("昨天")] = value
    context, weights = attention(QUERY, KEYS, V, score="scaled_dot")
    miss = float(np.linalg.norm(context - target))
    if miss > 0.05:
        return False, (
            f"with that value the context is ({context[0]:.3f}, {context[1]:.3f}), {miss:.2f} away from "
            f"({target[0]:g}, {target[1]:g}); it must come within 0.05. The weights do not change when a "
            "value moves: solve Σ_j α_j v_j = target for the value of 昨天"
        )
    return True, (
        f"correct: the context is ({context[0]:.3f}, {context[1]:.3f}), 我's point, while the weights stayed "
        f"{weights[WORDS.index('昨天')]:.3f} on 昨天: the keys decide where attention looks, "
        "the values decide what it reads"
    )
