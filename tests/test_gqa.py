"""Grouped-query and multi-query attention: parity with multi-head attention, sharing, sizes."""

import re

import pytest
import torch

from attnlib.gqa import GroupedQueryAttention, kv_cache_bytes
from attnlib.transformer import MultiHeadAttention, causal_mask, padding_mask


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("d_model, heads", [(8, 1), (16, 4), (24, 3)])
@pytest.mark.parametrize("masked", ["none", "padding", "causal"])
def test_as_many_groups_as_heads_is_multi_head_attention(seed, d_model, heads, masked):
    torch.manual_seed(seed)
    mha = MultiHeadAttention(d_model, heads).double()
    gqa = GroupedQueryAttention.from_multi_head(mha)
    q, kv = torch.randn(2, 5, d_model, dtype=torch.float64), torch.randn(2, 7, d_model, dtype=torch.float64)
    mask = {"none": None, "padding": padding_mask(torch.tensor([7, 3]), 7), "causal": causal_mask(7)[:5]}[
        masked
    ]
    out_m, w_m = mha(q, kv, kv, mask)
    out_g, w_g = gqa(q, kv, kv, mask)
    assert torch.equal(out_m, out_g) and torch.equal(w_m, w_g)
    fused, none = gqa(q, kv, kv, mask, need_weights=False)
    assert none is None
    torch.testing.assert_close(fused, out_g, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kv_heads", [1, 2, 4])
def test_each_group_of_query_heads_reads_one_key_value_head(kv_heads):
    torch.manual_seed(0)
    gqa = GroupedQueryAttention(32, 8, kv_heads).double()
    x = torch.randn(2, 6, 32, dtype=torch.float64)
    k = gqa.split_kv(gqa.W_k(x))  # (B, g, T, d_k)
    assert k.shape == (2, kv_heads, 6, 4)
    repeated = gqa.repeat_kv(k)  # (B, h, T, d_k)
    for a in range(8):
        assert torch.equal(repeated[:, a], k[:, a * kv_heads // 8])
    out, w = gqa(x, x, x, causal_mask(6))
    assert out.shape == (2, 6, 32) and w.shape == (2, 8, 6, 6)
    # the same as doing each query head by hand with its group's keys and values
    q = gqa.split_heads(gqa.W_q(x))
    for a in range(8):
        g = a * kv_heads // 8
        s = q[:, a] @ k[:, g].transpose(-1, -2) / 2.0
        s = s.masked_fill(~causal_mask(6), float("-inf"))
        torch.testing.assert_close(w[:, a], torch.softmax(s, -1), rtol=0, atol=1e-12)


def test_fewer_key_value_heads_mean_fewer_weights():
    sizes = {g: sum(p.numel() for p in GroupedQueryAttention(64, 8, g).parameters()) for g in (1, 2, 8)}
    assert sizes[8] == sum(p.numel() for p in MultiHeadAttention(64, 8).parameters())
    assert sizes[1] < sizes[2] < sizes[8]
    assert sizes[8] - sizes[1] == 2 * (64 * 64 + 64) - 2 * (64 * 8 + 8)


def test_cache_bytes_formula():
    assert (
        kv_cache_bytes(layers=2, kv_heads=4, d_k=16, n=48, bytes_per_value=4, batch=2)
        == 2 * 2 * 4 * 16 * 48 * 4 * 2
    )
    assert kv_cache_bytes(48, 25, 64, 1024, bytes_per_value=2) == 300 * 2**20
    assert kv_cache_bytes(1, 1, 1, 0) == 0
    with pytest.raises(ValueError, match="kv_heads"):
        kv_cache_bytes(2, 0, 16, 10)
    with pytest.raises(TypeError, match="n must be an int"):
        kv_cache_bytes(2, 1, 16, 1.5)


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((16, 4, 3), ValueError, "kv_heads=3 must divide heads=4"),
        ((16, 4, 0), ValueError, "kv_heads"),
        ((16, 4, 8), ValueError, "kv_heads"),
        ((16, 3, 1), ValueError, "divisible"),
    ],
)
def test_bad_sizes_are_refused(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        GroupedQueryAttention(*args)


def test_bad_inputs_are_refused():
    gqa = GroupedQueryAttention(16, 4, 2)
    with pytest.raises(ValueError, match="d_model=16"):
        gqa(torch.randn(1, 3, 8), torch.randn(1, 3, 8), torch.randn(1, 3, 8))
    with pytest.raises(TypeError, match="MultiHeadAttention"):
        GroupedQueryAttention.from_multi_head(torch.nn.Linear(2, 2))
