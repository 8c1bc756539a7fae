"""AdditiveAttention: shapes, the equation, masks, gradients, and clear errors."""

import pytest
import torch

from attnlib import Additive, attention
from attnlib.nn import AdditiveAttention

B, T, D_Q, D_K, H = 3, 5, 4, 6, 7


def make(seed=0):
    torch.manual_seed(seed)
    attn = AdditiveAttention(D_Q, D_K, H).double()
    return attn, torch.randn(B, D_Q, dtype=torch.float64), torch.randn(B, T, D_K, dtype=torch.float64)


def test_shapes_and_weights_sum_to_one():
    attn, q, k = make()
    context, weights = attn(q, k)
    assert context.shape == (B, D_K) and weights.shape == (B, T)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, dtype=torch.float64))


def test_matches_the_equation_and_the_numpy_score():
    attn, q, k = make()
    context, weights = attn(q, k)
    W_q, W_k, b, v = attn.W_q.weight, attn.W_k.weight, attn.W_k.bias, attn.v.weight[0]
    e = torch.tanh((q @ W_q.T)[:, None, :] + k @ W_k.T + b) @ v  # (B, T)
    alpha = torch.softmax(e, dim=-1)
    torch.testing.assert_close(weights, alpha)
    torch.testing.assert_close(context, torch.einsum("bt,btd->bd", alpha, k))
    # without the bias, the numpy recipe with scores.Additive gives the same numbers
    with torch.no_grad():
        attn.W_k.bias.zero_()
    c_t, w_t = attn(q, k)
    score = Additive(W_q.detach().numpy(), W_k.detach().numpy(), v.detach().numpy())
    c_np, w_np = attention(q.numpy()[:, None, :], k.numpy(), k.numpy(), score=score)
    torch.testing.assert_close(w_t, torch.from_numpy(w_np[:, 0]))
    torch.testing.assert_close(c_t, torch.from_numpy(c_np[:, 0]))


def test_padded_positions_get_exactly_zero_weight_and_change_nothing():
    attn, q, k = make()
    lengths = torch.tensor([5, 3, 1])
    mask = torch.arange(T) < lengths[:, None]  # (B, T)
    garbage = k.masked_fill(~mask[..., None], 1e3)  # padding holds wild values
    context, weights = attn(q, garbage, mask)
    assert (weights[~mask] == 0).all()
    for i, n in enumerate(lengths):
        c_i, w_i = attn(q[i : i + 1], k[i : i + 1, :n])  # the unpadded sequence alone
        torch.testing.assert_close(weights[i, :n], w_i[0])
        torch.testing.assert_close(context[i], c_i[0])


def test_fully_masked_row_gives_zero_context_not_nan():
    attn, q, k = make()
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[1] = False
    context, weights = attn(q, k, mask)
    assert torch.isfinite(context).all()
    assert (weights[1] == 0).all() and (context[1] == 0).all()


def test_precomputed_keys_give_the_same_result():
    attn, q, k = make()
    c1, w1 = attn(q, k)
    c2, w2 = attn(q, k, projected_keys=attn.project_keys(k))
    torch.testing.assert_close(c1, c2)
    torch.testing.assert_close(w1, w2)


def test_gradients_reach_every_parameter_and_input():
    attn, q, k = make()
    q.requires_grad_(True)
    k.requires_grad_(True)
    context, _ = attn(q, k)
    context.sum().backward()
    for name, p in [*attn.named_parameters(), ("query", q), ("keys", k)]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    "call, error, fragments",
    [
        (lambda a, q, k: a(q[0], k), ValueError, ["query", "(4,)", "(B, d_q)"]),
        (lambda a, q, k: a(q, k[0]), ValueError, ["keys", "(5, 6)"]),
        (lambda a, q, k: a(q[:2], k), ValueError, ["batch", "(2, 4)", "(3, 5, 6)"]),
        (lambda a, q, k: a(q[:, :3], k), ValueError, ["width 4", "(3, 3)"]),
        (lambda a, q, k: a(q, k, torch.ones(B, T + 1, dtype=torch.bool)), ValueError, ["mask", "(3, 6)"]),
        (lambda a, q, k: a(q, k, torch.ones(B, T)), TypeError, ["mask", "bool"]),
        (lambda a, q, k: a(q.long(), k), TypeError, ["query", "int64"]),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, fragments):
    attn, q, k = make()
    with pytest.raises(error) as info:
        call(attn, q, k)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    "sizes, error, match",
    [
        ((0, 4, 4), ValueError, "query_size must be >= 1"),
        ((4, -1, 4), ValueError, "key_size must be >= 1"),
        ((4, 4, 0), ValueError, "hidden_size must be >= 1"),
        ((4.0, 4, 4), TypeError, "query_size must be an int"),
        ((True, 4, 4), TypeError, "query_size must be an int"),
    ],
)
def test_bad_sizes_are_refused(sizes, error, match):
    with pytest.raises(error, match=match):
        AdditiveAttention(*sizes)
