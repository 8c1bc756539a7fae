"""attnlib.alignment: focus, moves, entropies, baselines and their summary."""

import numpy as np
import pytest

from attnlib.alignment import (
    context_moves,
    diagonal,
    effective_tokens,
    focus,
    focus_moves,
    focus_stats,
    move_histogram,
    row_entropy,
    shuffled,
)


def random_alignment(rng, n_out, n_in):
    return rng.dirichlet(np.ones(n_in) * 0.5, size=n_out)  # (n_out, n_in), rows sum to 1


def test_focus_and_moves_follow_the_argmax():
    w = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1]])
    assert focus(w).tolist() == [0, 2, 1, 1]
    assert focus_moves(w).tolist() == [2, -1, 0]
    assert focus_moves(w[:1]).tolist() == []  # one step: no move
    assert focus(np.full((1, 4), 0.25)).tolist() == [0]  # ties: the first position


def test_row_entropy_is_zero_for_one_hot_and_log2_n_for_uniform():
    w = np.array([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0.0, 0.0]])
    np.testing.assert_allclose(row_entropy(w), [0.0, 2.0, 1.0])
    np.testing.assert_allclose(effective_tokens(w), [1.0, 4.0, 2.0])
    assert (row_entropy(w) >= 0).all() and not np.signbit(row_entropy(w)[0])
    rng = np.random.default_rng(0)
    a = random_alignment(rng, 5, 6)
    want = -(a * np.log2(a)).sum(axis=1)
    np.testing.assert_allclose(row_entropy(a), want, rtol=1e-12)
    assert ((effective_tokens(a) >= 1) & (effective_tokens(a) <= 6)).all()


@pytest.mark.parametrize(("n_out", "n_in"), [(1, 1), (1, 5), (4, 4), (7, 8), (9, 5), (3, 12)])
def test_diagonal_runs_from_first_to_last_token_without_going_back(n_out, n_in):
    d = diagonal(n_out, n_in)
    assert d.shape == (n_out, n_in) and np.array_equal(d.sum(axis=1), np.ones(n_out))
    f = focus(d)
    assert f[0] == 0 and (n_out == 1 or f[-1] == n_in - 1)
    moves = np.diff(f)
    assert (moves >= 0).all() and (moves <= int(np.ceil((n_in - 1) / max(n_out - 1, 1)))).all()
    if n_out == n_in:
        assert np.array_equal(d, np.eye(n_in))


def test_shuffled_keeps_each_sentence_rows_and_is_seeded():
    rng = np.random.default_rng(1)
    mats = [random_alignment(rng, n, m) for n, m in [(6, 7), (3, 3), (9, 10)]]
    a, b, c = shuffled(mats, seed=3), shuffled(mats, seed=3), shuffled(mats, seed=4)
    for original, x, y in zip(mats, a, b, strict=True):
        assert x.shape == original.shape and np.array_equal(x, y)
        assert sorted(map(tuple, x)) == sorted(map(tuple, original))  # the same rows, reordered
    assert any(not np.array_equal(x, z) for x, z in zip(a, c, strict=True))


def test_move_histogram_bins_and_clips():
    counts = move_histogram(np.array([-5, -3, -1, 0, 0, 1, 2, 3, 7]), far=3)
    assert counts.tolist() == [2, 0, 1, 2, 1, 1, 2]  # ≤-3, -2, -1, 0, +1, +2, ≥+3
    assert move_histogram(np.array([0, 1]), far=1).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="whole numbers"):
        move_histogram(np.array([0.5]))


def test_focus_stats_on_known_alignments():
    stats = focus_stats([np.eye(4), np.eye(3)[::-1]], far=2)
    # moves: +1, +1, +1 (the diagonal) and -1, -1 (the reversed one)
    assert (stats.rows, stats.moves, stats.far) == (7, 5, 2)
    np.testing.assert_allclose(stats.histogram, [0, 2 / 5, 0, 3 / 5, 0])
    assert (stats.stay, stats.next, stats.forward, stats.back, stats.jump) == (0.0, 0.6, 0.6, 0.4, 0.0)
    assert stats.entropy == 0.0 and stats.relative_entropy == 0.0 and stats.effective == 1.0
    assert stats.peak == 1.0 and stats.source_tokens == pytest.approx((4 * 4 + 3 * 3) / 7)
    uniform = focus_stats([np.full((3, 4), 0.25), np.full((2, 1), 1.0)])
    assert uniform.stay == 1.0 and uniform.forward == 1.0  # ties: the focus sits on the first token
    # relative entropy: 1 for the uniform rows over 4 tokens, 0 for the rows over one token
    assert uniform.relative_entropy == pytest.approx(3 / 5) and uniform.effective == pytest.approx(14 / 5)


def test_the_diagonal_baseline_is_monotone_and_shuffling_is_not():
    rng = np.random.default_rng(2)
    shapes = [(int(rng.integers(4, 10)), int(rng.integers(4, 10))) for _ in range(200)]
    diag = focus_stats([diagonal(*s) for s in shapes])
    assert diag.forward == 1.0 and diag.back == 0.0 and diag.entropy == 0.0
    assert focus_stats(shuffled([diagonal(*s) for s in shapes], seed=0)).back > 0.3


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.ones(3) / 3, ValueError, r"\(T_y, T_x\)"),
        (np.zeros((0, 3)), ValueError, "non-empty"),
        (np.array([[0.5, 0.6]]), ValueError, "sum to 1"),
        (np.array([[1.5, -0.5]]), ValueError, "non-negative"),
        (np.array([[np.nan, 1.0]]), ValueError, "NaN"),
        (np.array([["a", "b"]]), TypeError, "real numbers"),
    ],
)
def test_bad_weights_get_clear_errors(bad, error, match):
    with pytest.raises(error, match=match):
        focus(bad)
    with pytest.raises(error, match=match):
        focus_stats([np.eye(2), bad])


def test_bad_arguments_get_clear_errors():
    with pytest.raises(TypeError, match="list of"):
        focus_stats(np.eye(3))
    with pytest.raises(TypeError, match="list of"):
        focus_stats([])
    with pytest.raises(ValueError, match="no moves"):
        focus_stats([np.eye(3)[:1]])
    with pytest.raises(ValueError, match="n_in must be >= 1"):
        diagonal(3, 0)
    with pytest.raises(TypeError, match="far must be an int"):
        focus_stats([np.eye(3)], far=1.5)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        shuffled([np.eye(3)], seed=-1)


def test_context_moves_are_scaled_by_the_spread_of_the_states():
    h = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])  # mean 0; distances 1, 1, 2, 2
    c = np.array([[0.0, 0.0], [1.5, 0.0], [1.5, 0.0], [1.5, 3.0]])
    np.testing.assert_allclose(context_moves(c, h), [1.0, 0.0, 2.0])  # moves 1.5, 0, 3 over a spread of 1.5
    assert context_moves(np.tile([0.3, 0.4], (5, 1)), h).tolist() == [0.0] * 4  # a fixed context
    np.testing.assert_allclose(context_moves(c, np.ones((3, 2))), [1.5, 0.0, 3.0])  # no spread: unscaled
    with pytest.raises(ValueError, match="same width"):
        context_moves(c, np.ones((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        context_moves(c, np.full((3, 2), np.nan))
