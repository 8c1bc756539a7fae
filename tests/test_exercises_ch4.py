"""Chapter 4's exercise checkers accept right answers and explain wrong ones."""

import math

import numpy as np

from attnlib.exercises import check
from attnlib.exercises.ch4 import EX41, additive_step


def test_4_1_one_decoder_step():
    context, weights = additive_step(**EX41)
    np.testing.assert_allclose(weights, [0.641, 0.245, 0.114], atol=1e-3)
    assert check("4.1", (context, weights))
    assert "sum to 1" in check("4.1", (context, weights * 2)).message
    assert "context" in check("4.1", (context + 1, weights)).message
    assert not check("4.1", None)


def test_4_2_jumps_back():
    def right(w):
        top = np.asarray(w).argmax(axis=1)
        return int((np.diff(top) < 0).sum())

    assert check("4.2", right)
    assert not check("4.2", lambda w: int((np.diff(np.asarray(w).argmax(axis=1)) > 0).sum()))
    assert "int" in check("4.2", lambda w: float(right(w))).message
    assert "None" in check("4.2", lambda w: None).message


def test_4_3_brevity_penalty():
    assert check("4.3", lambda c, r: 1.0 if c > r else math.exp(1 - r / c))
    assert "not penalised" in check("4.3", lambda c, r: math.exp(1 - r / c)).message


def test_4_4_parameters():
    assert check("4.4", 49_408)
    assert "bias" in check("4.4", 49_408 - 128).message
    assert not check("4.4", 49_408.0)


def test_4_5_spread_of_a_row():
    def right(w):
        w = np.asarray(w, dtype=float)
        logs = np.log2(np.where(w > 0, w, 1.0))
        return 2.0 ** -(w * logs).sum(axis=1)

    def naive(w):  # 0 * log 0 gives NaN
        with np.errstate(divide="ignore", invalid="ignore"):
            return 2.0 ** -(np.asarray(w) * np.log2(w)).sum(axis=1)

    assert check("4.5", right)
    assert "0 log 0" in check("4.5", naive).message
    assert "shape" in check("4.5", lambda w: right(w).sum()).message
    assert "2 ** H" in check("4.5", lambda w: -(np.asarray(w) * np.log(np.where(w > 0, w, 1))).sum(1)).message
