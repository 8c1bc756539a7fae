"""The checkers of chapters 2 and 3: right answers pass, typical mistakes get a useful hint."""

import numpy as np
import pytest

from attnlib import attention, softmax
from attnlib.exercises import check
from attnlib.exercises.ch2 import NOISE_LEVELS, half_focus_temperature, noisy_curve
from attnlib.exercises.ch3 import KEYS, QUERY, WORDS
from attnlib.kernel_regression import fit_width


def passes(exercise, answer):
    feedback = check(exercise, answer)
    assert feedback.passed and feedback.message.startswith("correct"), feedback
    return feedback


def fails(exercise, answer, hint):
    feedback = check(exercise, answer)
    assert not feedback.passed and hint in feedback.message, feedback
    return feedback


def test_2_1_soft_lookup():
    def soft_lookup(query, keys, temperature):
        scores = np.array([len(set(query) & set(k)) for k in keys], dtype=float)
        return softmax(scores, temperature=temperature)

    passes("2.1", soft_lookup)
    fails("2.1", lambda q, k, t: softmax(np.array([len(set(q) & set(x)) for x in k], float)), "temperature")


def test_2_2_kernel_widths_from_gradient_descent_pass_and_bad_widths_say_which_way():
    widths = [fit_width(*noisy_curve(noise)).width for noise in NOISE_LEVELS]
    assert widths[1] > 2 * widths[0]  # more noise, a wider kernel
    passes("2.2", widths)
    fails("2.2", (0.01, widths[1]), "too narrow")
    fails("2.2", (widths[0], 5.0), "too wide")
    fails("2.2", 0.3, "two widths")


def test_2_3_slopes():
    a = softmax(np.array([0.0, 2.0, 4.0, 0, 0, 0, 0]))[2]
    passes("2.3", (a * (1 - a), 0.0))
    fails("2.3", (a, 0.0), "the weight itself")
    fails("2.3", (a * (1 - a), 1.0), "slope is 0")


def test_2_4_sampled_hard_attention():
    def sampled_context(weights, values, n, rng):
        return values[rng.choice(len(weights), size=n, p=weights)].mean(axis=0)

    passes("2.4", sampled_context)
    fails("2.4", lambda w, v, n, rng: w @ v, "one of the values")
    fails("2.4", lambda w, v, n, rng: v[np.argmax(w)], "at random")
    fails("2.4", lambda w, v, n, rng: v[rng.integers(len(w), size=n)].mean(axis=0), "probability")


def test_2_5_half_focus_temperature():
    passes("2.5", half_focus_temperature())
    fails("2.5", 1.0, "too sharp")
    fails("2.5", 5.0, "too flat")


def test_3_1_and_3_2_softmax_and_attention():
    def my_softmax(scores):
        z = np.exp(scores - scores.max())
        return z / z.sum()

    passes("3.1", my_softmax)
    with np.errstate(over="ignore", invalid="ignore"):
        fails("3.1", lambda s: np.exp(s) / np.exp(s).sum(), "overflows")

    def my_attention(q, K, V):
        w = my_softmax(K @ q / np.sqrt(len(q)))
        return w @ V, w

    passes("3.2", my_attention)
    fails("3.2", lambda q, K, V: (my_softmax(K @ q) @ V, my_softmax(K @ q)), "sqrt(d)")


def test_3_3_additive_weights_with_different_widths():
    def additive_weights(s, H, W_q, W_k, b, v):
        return my_softmax(np.tanh(W_q @ s + H @ W_k.T + b) @ v)

    def my_softmax(e):
        z = np.exp(e - e.max())
        return z / z.sum()

    passes("3.3", additive_weights)
    fails("3.3", lambda s, H, W_q, W_k, b, v: np.tanh(W_q @ s + H @ W_k.T + b) @ v, "softmax")
    fails("3.3", lambda s, H, W_q, W_k, b, v: my_softmax(np.tanh(W_q @ s + H @ W_k.T) @ v), "bias")


def test_3_4_masked_weights():
    w = np.array([np.exp(3), np.exp(1), 0, 0])
    passes("3.4", w / w.sum())
    fails("3.4", softmax(np.array([3.0, 1.0, 2.0, 0.5])), "exactly 0")


def test_3_5_a_long_key_wins_a_dot_product_contest():
    passes("3.5", (3.0, 3.0))
    fails("3.5", (-2.0, 2.0), "length")
    fails("3.5", (10.0, 10.0), "plane")


def test_3_6_a_value_moves_the_context_and_not_the_weights():
    _, a = attention(QUERY, KEYS, KEYS, score="scaled_dot")
    j = WORDS.index("昨天")
    rest = a @ KEYS - a[j] * KEYS[j]  # what the other values contribute
    value = (KEYS[WORDS.index("我")] - rest) / a[j]
    passes("3.6", value)
    fails("3.6", KEYS[WORDS.index("我")], "away from")


@pytest.mark.parametrize(
    "exercise", ["2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]
)
def test_no_answer_yet_is_not_an_error(exercise):
    assert "no answer yet" in repr(check(exercise, None))
