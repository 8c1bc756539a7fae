"""The online softmax and blocked attention: exactly full attention, for any blocks, masks, values."""

from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnlib import attention, softmax
from attnlib.online_softmax import blocked_attention, online_softmax, online_steps, traced_peak_bytes


@settings(max_examples=60, deadline=None)
@given(
    T_q=st.integers(1, 9),
    T_k=st.integers(1, 40),
    d=st.integers(1, 8),
    d_v=st.integers(1, 5),
    block=st.integers(1, 50),
    scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3]),
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_blocked_attention_is_full_attention(T_q, T_k, d, d_v, block, scale, masked, seed):
    rng = np.random.default_rng(seed)
    Q, K, V = (
        rng.normal(size=(2, T_q, d)),
        scale * rng.normal(size=(2, T_k, d)),
        rng.normal(size=(2, T_k, d_v)),
    )
    mask = rng.random((2, T_q, T_k)) < 0.5 if masked else None
    context, lse = blocked_attention(Q, K, V, block=block, mask=mask)
    want, weights = attention(Q, K, V, mask=mask)
    np.testing.assert_allclose(context, want, atol=1e-12 * max(1.0, np.abs(V).max()), rtol=0)
    assert np.isfinite(context).all()
    # the log-sum-exp gives the weights back: exp(s - lse)
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d)
    keep = np.ones_like(s, bool) if mask is None else mask
    with np.errstate(invalid="ignore", over="ignore"):  # rows with no key: lse = -inf
        back = np.where(keep, np.exp(s - lse[..., None]), 0.0)
    np.testing.assert_allclose(back, weights, atol=1e-9, rtol=0)


def test_fully_masked_rows_get_zero_context_and_minus_infinity():
    rng = np.random.default_rng(0)
    Q, K, V = rng.normal(size=(3, 4)), rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    mask = np.ones((3, 6), bool)
    mask[1] = False
    context, lse = blocked_attention(Q, K, V, block=2, mask=mask)
    assert (context[1] == 0).all() and lse[1] == -np.inf and np.isfinite(lse[[0, 2]]).all()
    np.testing.assert_allclose(context, attention(Q, K, V, mask=mask)[0], atol=1e-12)


def test_huge_scores_do_not_overflow():
    Q = np.array([[1.0, 0.0]])
    K = np.array([[1e4, 0.0], [2e4, 0.0], [-1e4, 0.0]])
    V = np.eye(3)[:, :2]
    context, lse = blocked_attention(Q, K, V, block=1)
    np.testing.assert_allclose(context, [[0.0, 1.0]], atol=1e-12)
    assert np.isclose(lse[0], 2e4 / np.sqrt(2))


@pytest.mark.parametrize("block", [1, 3, 8, 100])
def test_online_softmax_and_steps_match_the_softmax(block):
    rng = np.random.default_rng(block)
    s, v = rng.normal(size=(4, 17)) * 20, rng.normal(size=(17, 3))
    np.testing.assert_allclose(online_softmax(s, block), softmax(s), atol=1e-15)
    mask = rng.random((4, 17)) < 0.5
    mask[2] = False
    np.testing.assert_allclose(online_softmax(s, block, mask=mask), softmax(s, mask=mask), atol=1e-15)
    states = online_steps(s[0], v, block)
    assert len(states) == -(-17 // block) and states[-1].seen == 17
    np.testing.assert_allclose(states[-1].output, softmax(s[0]) @ v, atol=1e-12)
    for state in states:  # each intermediate state is the softmax over the keys seen so far
        seen = state.seen
        np.testing.assert_allclose(state.output, softmax(s[0, :seen]) @ v[:seen], atol=1e-12)
        assert state.maximum == s[0, :seen].max() and 0 <= state.rescale <= 1
    assert states[0].rescale == 0.0  # nothing before the first block


def test_masked_steps_and_a_row_with_nothing_yet():
    s, v = np.array([3.0, 1.0, 2.0]), np.eye(3)
    states = online_steps(s, v, block=1, mask=np.array([False, True, True]))
    assert states[0].maximum == -np.inf and states[0].total == 0 and (states[0].output == 0).all()
    np.testing.assert_allclose(states[-1].output, softmax(s, mask=np.array([False, True, True])) @ v)


def test_peak_memory_grows_like_n_squared_against_n():
    rng = np.random.default_rng(0)
    peaks = {}
    for n in (128, 256, 512):
        Q, K, V = (rng.normal(size=(n, 8)) for _ in range(3))
        peaks[n] = (
            traced_peak_bytes(partial(attention, Q, K, V)),
            traced_peak_bytes(partial(blocked_attention, Q, K, V, block=32)),
        )
    assert 3.5 < peaks[512][0] / peaks[256][0] < 4.5  # full: n^2
    assert 1.7 < peaks[512][1] / peaks[256][1] < 2.3  # blocked: n
    assert peaks[512][0] > 6 * peaks[512][1]


def test_bad_input_is_refused():
    Q, K, V = np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2))
    with pytest.raises(ValueError, match="block"):
        blocked_attention(Q, K, V, block=0)
    with pytest.raises(ValueError, match="same width"):
        blocked_attention(Q, np.ones((4, 2)), V)
    with pytest.raises(ValueError, match="NaN"):
        blocked_attention(Q * np.nan, K, V)
    with pytest.raises(ValueError, match="mask"):
        blocked_attention(Q, K, V, mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match="T_q, d"):
        blocked_attention(np.ones(3), K, V)
    with pytest.raises(ValueError, match="scores"):
        online_steps(np.ones(3), np.ones((4, 2)), 2)
    with pytest.raises(TypeError, match="callable"):
        traced_peak_bytes(3)
