"""Checkers for chapter 2, the human analogy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..softmax import softmax
from . import checker

EX21_SCORES, EX21_TAU = np.array([2.0, 0.0, 0.0]), 0.5  # exercise 2.1
GLOSSARY_KEYS = ("我", "昨天", "住", "在", "他", "家", "。")  # the source tokens, the soft lookup's keys
STAYED = np.array([0.0, 2.0, 4.0, 0.0, 0.0, 0.0, 0.0])  # the hand-made scores of "stayed"; 住 is index 2
ZHU = 2


def _as_weights(answer: Any, n: int) -> tuple[np.ndarray | None, str]:
    """The answer as a float vector of n weights, or None and what is wrong with it."""
    got = np.asarray(answer, dtype=float)
    if got.shape != (n,):
        return None, f"expected {n} weights, one per token; got shape {got.shape}"
    if not np.isfinite(got).all():
        return None, f"your weights contain NaN or inf: {got}"
    if not np.isclose(got.sum(), 1.0, atol=0.01):
        return None, f"your weights sum to {got.sum():.3f}; softmax weights sum to 1"
    return got, ""


@checker("2.1")
def _weights_at_a_temperature(answer: Any) -> tuple[bool, str]:
    got, problem = _as_weights(answer, len(EX21_SCORES))
    if got is None:
        return False, problem
    want = softmax(EX21_SCORES, temperature=EX21_TAU)
    if np.allclose(got, want, atol=0.005):
        return True, "correct: " + ", ".join(f"{w:.3f}" for w in want) + " (τ = 0.5 doubles every score)"
    if np.allclose(got, softmax(EX21_SCORES * EX21_TAU), atol=0.005):
        return False, "you multiplied the scores by τ; the temperature divides them: e / τ"
    if np.allclose(got, softmax(EX21_SCORES), atol=0.005):
        return False, "these are the weights at τ = 1; divide the scores by τ = 0.5 first"
    return False, "not yet: divide each score by τ, exponentiate, then divide by the sum"


def overlap(query: str, key: str) -> int:
    """The fuzzy-match score of exercise 2.2: how many distinct characters two strings share."""
    return len(set(query) & set(key))


@checker("2.2")
def _soft_lookup(fn: Any) -> tuple[bool, str]:
    cases = [("昨晚", 0.25), ("他家", 1.0), ("他家", 0.1), ("昨天", 2.0), ("xyz", 1.0)]
    for query, tau in cases:
        out = fn(query, list(GLOSSARY_KEYS), tau)
        if out is None:
            return False, "soft_lookup returns None: write its body, then run the cell again"
        got = np.asarray(out, dtype=float)
        want = softmax(np.array([overlap(query, k) for k in GLOSSARY_KEYS], dtype=float), temperature=tau)
        if got.shape != want.shape:
            return False, f"return one weight per key ({len(want)}); got shape {got.shape} for {query!r}"
        if not np.allclose(got, want, atol=1e-6):
            hint = (
                "; a query that shares nothing with any key should get the uniform average"
                if query == "xyz"
                else "; did you divide the scores by the temperature?"
            )
            return False, (
                f"for query {query!r} at τ = {tau} expected {np.round(want, 3)}, got {np.round(got, 3)}{hint}"
            )
    return True, "correct: an exact match, a fuzzy match and no match at all, all handled by one softmax"


def half_focus_temperature() -> float:
    """The τ at which 住 gets exactly half of "stayed"'s attention (exercise 2.3).

    With x = 1/τ and u = e^{2x}: e^{4x} = e^{2x} + 5, so u² − u − 5 = 0, u = (1 + √21)/2.
    """
    return 2.0 / math.log((1.0 + math.sqrt(21.0)) / 2.0)


@checker("2.3")
def _half_focus(answer: Any) -> tuple[bool, str]:
    try:
        tau = float(answer)
    except (TypeError, ValueError):
        return False, f"give the temperature as one number; got {answer!r}"
    if not math.isfinite(tau) or tau <= 0:
        return False, f"a temperature is a finite number > 0; got {answer!r}"
    weight = softmax(STAYED, temperature=tau)[ZHU]
    want = half_focus_temperature()
    if abs(tau - want) <= 0.01:
        return True, f"correct: τ ≈ {want:.3f}, where 住 gets {softmax(STAYED, temperature=want)[ZHU]:.3f}"
    side = "too sharp: raise τ" if weight > 0.5 else "too flat: lower τ"
    return False, f"at τ = {tau:g} 住 gets {weight:.3f} of the attention, {side}"


@checker("2.4")
def _slopes(answer: Any) -> tuple[bool, str]:
    try:
        soft, hard = (float(x) for x in answer)
    except (TypeError, ValueError):
        return False, "give a pair of numbers: (soft_slope, hard_slope)"
    alpha = softmax(STAYED)[ZHU]
    want = alpha * (1 - alpha)  # d alpha_j / d e_j at τ = 1
    if hard != 0:
        return False, (
            "the hard weight of 住 is 1 for every score near 4: a small nudge does not "
            "change it, so its slope is 0"
        )
    if abs(soft - want) <= 0.002:
        return True, (
            f"correct: soft slope α(1 − α) = {want:.4f}, hard slope 0; "
            "gradient descent can only learn through the soft one"
        )
    if abs(soft - alpha) <= 0.002:
        return False, f"{alpha:.4f} is the weight itself; the question asks how fast it changes"
    return False, (
        "not yet: nudge the score of 住 by a small ε, recompute the soft weight, and "
        "divide the change by ε (or use dα/de = α(1 − α))"
    )
