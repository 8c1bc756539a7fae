"""Checkers for chapter 2, the human analogy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..kernel_regression import loo_error, sample_curve
from ..softmax import softmax
from . import checker

GLOSSARY_KEYS = ("我", "昨天", "住", "在", "他", "家", "。")  # the source tokens, the soft lookup's keys
STAYED = np.array([0.0, 2.0, 4.0, 0.0, 0.0, 0.0, 0.0])  # the hand-made scores of "stayed"; 住 is index 2
ZHU = 2
NOISE_LEVELS = (0.2, 0.8)  # exercise 2.2: a quiet and a noisy sample of the chapter's curve
EX22_POINTS, EX22_SEED = 100, 5  # exercise 2.2: both samples share these 100 positions
WIDTH_GRID = np.logspace(-2, 1, 151)  # widths the checker of exercise 2.2 tries, 0.01 to 10
LOO_SLACK = 1.02  # exercise 2.2: a width within 2% of the best leave-one-out error is a fit


def overlap(query: str, key: str) -> int:
    """The fuzzy-match score of exercise 2.1: how many distinct characters two strings share."""
    return len(set(query) & set(key))


@checker("2.1")
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


def noisy_curve(noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Exercise 2.2's data: 100 samples of the chapter's curve with this noise, ``(x, y)``.

    Every noise level uses the same positions and the same random draws, only scaled.
    """
    return sample_curve(EX22_POINTS, noise, EX22_SEED)


def best_width(noise: float) -> tuple[float, float]:
    """The width with the lowest leave-one-out error on :func:`noisy_curve`, and that error."""
    x, y = noisy_curve(noise)
    errors = [loo_error(x, y, w) for w in WIDTH_GRID]
    i = int(np.argmin(errors))
    return float(WIDTH_GRID[i]), float(errors[i])


def _one_width(noise: float, answer: Any) -> tuple[bool, str]:
    """Is ``answer`` a width whose leave-one-out error on ``noisy_curve(noise)`` is near the best?"""
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        return False, f"give each width as a number; got {type(answer).__name__}"
    width = float(answer)
    if not math.isfinite(width) or width <= 0:
        return False, f"a kernel width is a finite number > 0; got {answer!r}"
    x, y = noisy_curve(noise)
    best, best_error = best_width(noise)
    error = loo_error(x, y, width)
    if error <= LOO_SLACK * best_error:
        return True, f"noise {noise}: w = {width:.2f}"
    side = "too narrow: it follows the noise" if width < best else "too wide: it flattens the curve"
    return False, (
        f"at noise {noise}, width {width:.3g} has leave-one-out error {error:.3f}, the best is "
        f"{best_error:.3f}; {side}. Run fit_width(*noisy_curve({noise}))"
    )


@checker("2.2")
def _kernel_widths(answer: Any) -> tuple[bool, str]:
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__") or len(answer) != 2:
        return False, f"give two widths, (quiet, noisy), for noise {NOISE_LEVELS[0]} and {NOISE_LEVELS[1]}"
    verdicts = [_one_width(noise, w) for noise, w in zip(NOISE_LEVELS, answer, strict=True)]
    for passed, message in verdicts:
        if not passed:
            return False, message
    return True, (
        f"correct: {verdicts[0][1]}, {verdicts[1][1]}. More noise, a wider kernel: "
        "each prediction must average more points to cancel the noise"
    )


@checker("2.3")
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
            "a gradient flows through the soft weights only"
        )
    if abs(soft - alpha) <= 0.002:
        return False, f"{alpha:.4f} is the weight itself; the question asks how fast it changes"
    return False, (
        "not yet: nudge the score of 住 by a small ε, recompute the soft weight, and "
        "divide the change by ε (or use dα/de = α(1 − α))"
    )


def _sampling_case() -> tuple[np.ndarray, np.ndarray]:
    """Exercise 2.4's test case: the weights of "stayed" at τ = 1 and seven random 3-D values."""
    values = np.random.default_rng(24).normal(size=(len(STAYED), 3))  # (T_x, 3)
    return softmax(STAYED), values


@checker("2.4")
def _sampled_context(fn: Any) -> tuple[bool, str]:
    weights, values = _sampling_case()
    one = fn(weights, values, 1, np.random.default_rng(0))
    if one is None:
        return False, "sampled_context returns None: write its body, then run the cell again"
    one = np.asarray(one, dtype=float)
    if one.shape != (values.shape[1],):
        return False, f"return one vector of width {values.shape[1]} (d_v); got shape {one.shape}"
    if not any(np.allclose(one, v) for v in values):
        return False, "with n = 1 the result must be one of the values: a hard read takes one token whole"
    firsts = {tuple(np.round(fn(weights, values, 1, np.random.default_rng(s)), 9)) for s in range(40)}
    if len(firsts) == 1:
        return False, "every seed reads the same token: draw the token at random, with probabilities α"
    n = 20_000
    mean = np.asarray(fn(weights, values, n, np.random.default_rng(1)), dtype=float)
    soft = weights @ values  # (d_v,) the soft context
    spread = np.sqrt(weights @ (values - soft) ** 2 / n)  # (d_v,) standard error of the mean of n reads
    if np.any(np.abs(mean - soft) > 5 * spread + 1e-12):
        return False, (
            f"the mean of {n} reads is {np.round(mean, 3)}, far from the soft context {np.round(soft, 3)}: "
            "draw token j with probability α_j (rng.choice(len(weights), size=n, p=weights))"
        )
    return True, (
        "correct: one sample reads one token (hard attention), and the average of many reads tends to "
        "the soft context; its error shrinks like 1/√n, the noise a sampled gradient pays for"
    )


def half_focus_temperature() -> float:
    """The τ at which 住 gets exactly half of "stayed"'s attention (exercise 2.5).

    With x = 1/τ and u = e^{2x}: e^{4x} = e^{2x} + 5, so u² − u − 5 = 0, u = (1 + √21)/2.
    """
    return 2.0 / math.log((1.0 + math.sqrt(21.0)) / 2.0)


@checker("2.5")
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
