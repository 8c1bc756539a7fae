"""Parity (numpy vs torch vs torch's SDPA) and invariants of the recipe."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attnlib import Additive, General, attention, cosine, dot, scaled_dot, softmax
from attnlib import functional as F

SHAPES = [  # (batch dims, T_q, T_k, d, d_v)
    ((), 1, 1, 1, 1),
    ((), 3, 5, 4, 2),
    ((2,), 4, 6, 8, 3),
    ((2, 3), 5, 7, 16, 4),
    ((1,), 1, 9, 2, 5),
]


def make(seed, batch, T_q, T_k, d, d_v):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(*batch, T_q, d)),
        rng.normal(size=(*batch, T_k, d)),
        rng.normal(size=(*batch, T_k, d_v)),
    )


def random_mask(seed, batch, T_q, T_k):
    """A boolean mask with at least one True per row (SDPA's rows must not be empty)."""
    rng = np.random.default_rng(seed + 1000)
    m = rng.random((*batch, T_q, T_k)) < 0.6
    m[..., 0] = True
    return m


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("masked", [False, True])
def test_numpy_torch_and_sdpa_agree(shape, seed, masked):
    Q, K, V = make(seed, *shape)
    mask = random_mask(seed, shape[0], shape[1], shape[2]) if masked else None
    c_np, w_np = attention(Q, K, V, mask=mask)

    def t(x):
        return None if x is None else torch.from_numpy(x)

    c_t, w_t = F.attention(t(Q), t(K), t(V), mask=t(mask))
    ref = torch.nn.functional.scaled_dot_product_attention(t(Q), t(K), t(V), attn_mask=t(mask))
    np.testing.assert_allclose(c_np, c_t.numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(w_np, w_t.numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(c_np, ref.numpy(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("score", ["dot", "cosine", "general", "additive"])
def test_numpy_and_torch_agree_for_every_score(score):
    rng = np.random.default_rng(7)
    Q, K, V = make(7, (2,), 3, 5, 4, 2)
    fn = {
        "general": General(rng.normal(size=(4, 4))),
        "additive": Additive(rng.normal(size=(6, 4)), rng.normal(size=(6, 4)), rng.normal(size=6)),
    }.get(score, score)
    c_np, w_np = attention(Q, K, V, score=fn)
    c_t, w_t = F.attention(*(torch.from_numpy(x) for x in (Q, K, V)), score=fn)
    np.testing.assert_allclose(w_np, w_t.numpy(), atol=1e-12)
    np.testing.assert_allclose(c_np, c_t.numpy(), atol=1e-12)


def test_single_query_matches_a_batch_of_one():
    Q, K, V = make(3, (), 1, 6, 4, 3)
    c1, w1 = attention(Q[0], K, V)
    cb, wb = attention(Q, K, V)
    assert c1.shape == (3,) and w1.shape == (6,)
    np.testing.assert_allclose(c1, cb[0]) and np.testing.assert_allclose(w1, wb[0])


def test_score_functions_by_hand():
    q, k = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(dot(q, k), [[11.0, 0.0]])
    np.testing.assert_allclose(scaled_dot(q, k), [[11.0 / np.sqrt(2), 0.0]])
    np.testing.assert_allclose(cosine(q, k), [[11.0 / (np.sqrt(5) * 5), 0.0]])  # zero key -> 0, not NaN
    np.testing.assert_allclose(General(np.eye(2))(q, k), dot(q, k))
    add = Additive(np.eye(2), np.eye(2), np.array([1.0, -1.0]))
    np.testing.assert_allclose(add(q, k), [[np.tanh(4) - np.tanh(6), np.tanh(1) - np.tanh(2)]])


def test_temperature_divides_the_scores():
    s = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(softmax(s, temperature=2.0), softmax(s / 2.0))
    assert softmax(s, temperature=100).max() < 0.4 and softmax(s, temperature=0.01).max() > 0.999


def test_fully_masked_rows_give_zero_weights_and_context():
    Q, K, V = make(4, (2,), 3, 4, 2, 2)
    mask = np.ones((2, 3, 4), bool)
    mask[1, 2] = False
    for c, w in (
        attention(Q, K, V, mask=mask),
        tuple(
            x.numpy()
            for x in F.attention(*(torch.from_numpy(x) for x in (Q, K, V)), mask=torch.from_numpy(mask))
        ),
    ):
        assert np.all(w[1, 2] == 0) and np.all(c[1, 2] == 0)
        np.testing.assert_allclose(w[0].sum(-1), 1.0)


def test_torch_path_is_differentiable_and_masked_keys_get_no_gradient():
    Q, K, V = (torch.tensor(x, requires_grad=True) for x in make(5, (), 2, 4, 3, 2))
    mask = torch.tensor([True, True, False, True])
    c, _w = F.attention(Q, K, V, mask=mask)
    c.sum().backward()
    assert torch.isfinite(Q.grad).all() and torch.all(V.grad[2] == 0) and torch.all(K.grad[2] == 0)


# ---- invariants, over many random inputs (hypothesis) ------------------------

dims = st.integers(1, 6)
scale = st.sampled_from([1e-3, 1.0, 1e2, 1e4])


@st.composite
def problems(draw):
    T_q, T_k, d, d_v = draw(dims), draw(dims), draw(dims), draw(dims)
    seed, s = draw(st.integers(0, 2**32 - 1)), draw(scale)
    rng = np.random.default_rng(seed)
    Q = rng.uniform(-s, s, size=(T_q, d))
    K = rng.uniform(-s, s, size=(T_k, d))
    V = rng.normal(size=(T_k, d_v))
    mask = rng.random((T_q, T_k)) < 0.7
    score = draw(st.sampled_from(["dot", "scaled_dot", "cosine"]))
    return Q, K, V, mask, score, rng


@settings(max_examples=150, deadline=None)
@given(problems())
def test_weights_are_finite_nonnegative_and_sum_to_one_or_zero(p):
    Q, K, V, mask, score, _ = p
    c, w = attention(Q, K, V, mask=mask, score=score)
    assert np.isfinite(w).all() and np.isfinite(c).all() and (w >= 0).all()
    sums = w.sum(axis=-1)
    has_keys = mask.any(axis=-1)
    np.testing.assert_allclose(sums[has_keys], 1.0, atol=1e-9)
    assert np.all(sums[~has_keys] == 0)
    assert np.all(w[~mask] == 0)  # masked weights are exactly zero


@settings(max_examples=100, deadline=None)
@given(problems())
def test_permuting_keys_with_values_leaves_context_unchanged(p):
    Q, K, V, mask, score, rng = p
    perm = rng.permutation(K.shape[0])
    c, w = attention(Q, K, V, mask=mask, score=score)
    c2, w2 = attention(Q, K[perm], V[perm], mask=mask[:, perm], score=score)
    np.testing.assert_allclose(c2, c, atol=1e-9)
    np.testing.assert_allclose(w2, w[:, perm], atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(problems(), st.floats(-1e3, 1e3))
def test_adding_a_constant_to_every_score_changes_nothing(p, const):
    Q, K, V, mask, score, _ = p
    base = attention(Q, K, V, mask=mask, score=score)
    shifted = attention(
        Q,
        K,
        V,
        mask=mask,
        score=lambda q, k: (
            np.asarray({"dot": dot, "scaled_dot": scaled_dot, "cosine": cosine}[score](q, k)) + const
        ),
    )
    np.testing.assert_allclose(shifted[1], base[1], atol=1e-9)
    np.testing.assert_allclose(shifted[0], base[0], atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 8))
def test_torch_matches_sdpa_on_random_masked_batches(seed, T_q, T_k):
    Q, K, V = make(seed, (2,), T_q, T_k, 4, 3)
    mask = random_mask(seed, (2,), T_q, T_k)
    t = torch.from_numpy
    ours, _ = F.attention(t(Q), t(K), t(V), mask=t(mask))
    ref = torch.nn.functional.scaled_dot_product_attention(t(Q), t(K), t(V), attn_mask=t(mask))
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=0)
