"""Checkers for chapter 5, the Transformer."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import functional as F
from ..complexity import weights_bytes
from ..transformer import MultiHeadAttention, causal_mask, sinusoidal_encoding
from . import checker


def _as_numpy(x: Any) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@checker("5.1")
def _causal_mask_by_hand(answer: Any) -> tuple[bool, str]:
    want = causal_mask(4).numpy()
    got = _as_numpy(answer)
    if got.shape != (4, 4):
        return False, f"give a 4 × 4 table, one row per query; got shape {got.shape}"
    got = got.astype(bool)
    if np.array_equal(got, want.T):
        return False, "that is the transpose: row i is the query, and it may look at keys j <= i"
    if np.array_equal(got, ~want):
        return False, "True means *may attend* here (attnlib's convention); you marked the forbidden keys"
    if not np.array_equal(got, want):
        return False, "query i may attend to keys 0 .. i (itself included) and to nothing later"
    return True, "correct: a lower triangle, diagonal included"


@checker("5.2")
def _weights_memory(answer: Any) -> tuple[bool, str]:
    want = int(weights_bytes(4096, heads=8))
    got = float(answer)
    if got == want:
        return True, f"correct: 8 × 4096² × 4 bytes = {want:,} bytes = 512 MiB"
    if got == want / 8:
        return False, "that is one head; every head keeps its own (n, n) matrix"
    if got == want / 4:
        return False, "that is the number of weights; each float32 takes 4 bytes"
    if got in (512, 0.5):
        return False, "right size, wrong unit: answer in bytes"
    return False, "count the numbers in a (h, n, n) tensor, then multiply by 4 bytes"


@checker("5.3")
def _split_heads(fn: Any) -> tuple[bool, str]:
    gen = torch.Generator().manual_seed(5)
    for B, T, d, h in [(1, 3, 4, 2), (2, 5, 12, 3), (3, 7, 16, 4)]:
        x = torch.randn(B, T, d, generator=gen)
        out = fn(x, h)
        if out is None:
            return False, "my_split_heads returns None: write its body, then run the cell again"
        want = MultiHeadAttention(d, h).split_heads(x)
        if tuple(out.shape) != tuple(want.shape):
            return (
                False,
                f"for x of shape {(B, T, d)} and h = {h} expected shape {tuple(want.shape)}, "
                f"got {tuple(out.shape)}",
            )
        if not torch.equal(torch.as_tensor(out), want):
            return False, (
                "right shape, wrong contents: view x as (B, T, h, d_k) first, then swap the T and h "
                "axes; viewing it directly as (B, h, T, d_k) mixes tokens across heads"
            )
    return True, "correct: the same as MultiHeadAttention.split_heads"


@checker("5.4")
def _positional_encoding(fn: Any) -> tuple[bool, str]:
    for max_len, d in [(10, 4), (50, 16), (7, 64)]:
        out = fn(max_len, d)
        if out is None:
            return False, "my_positional_encoding returns None: write its body, then run the cell again"
        got = _as_numpy(out).astype(float)
        want = sinusoidal_encoding(max_len, d).double().numpy()
        if got.shape != want.shape:
            return False, f"expected shape {want.shape} for max_len={max_len}, d_model={d}; got {got.shape}"
        if np.allclose(got[:, 0::2], want[:, 1::2], atol=1e-4):
            return False, "sines and cosines are swapped: sines go in the even columns (0, 2, ...)"
        if not np.allclose(got, want, atol=1e-4):
            return False, (
                "values differ: the angle is p / 10000^(2i / d_model), where 2i is the even column "
                "index, the same for columns 2i and 2i + 1"
            )
    return True, "correct: the table of Vaswani et al. (2017), section 3.5"


@checker("5.5")
def _causal_self_attention(fn: Any) -> tuple[bool, str]:
    gen = torch.Generator().manual_seed(55)
    for T, d, d_k in [(1, 3, 2), (4, 6, 3), (6, 8, 8)]:
        x = torch.randn(T, d, generator=gen, dtype=torch.float64)
        W = [torch.randn(d, d_k, generator=gen, dtype=torch.float64) for _ in range(3)]
        out = fn(x, *W)
        if out is None:
            return False, "my_causal_self_attention returns None: write its body, then run the cell again"
        if not (isinstance(out, tuple) and len(out) == 2):
            return False, "return a pair (context, weights)"
        want_c, want_w = F.attention(x @ W[0], x @ W[1], x @ W[2], mask=causal_mask(T))
        got_w = torch.as_tensor(out[1], dtype=torch.float64)
        if got_w.shape != want_w.shape:
            return False, f"weights must be (T, T) = {tuple(want_w.shape)}, got {tuple(got_w.shape)}"
        if got_w.triu(diagonal=1).abs().max() > 0:
            return False, "a query gives weight to later keys: mask every j > i before the softmax"
        if not torch.allclose(got_w, want_w, atol=1e-8):
            return False, (
                "the weights differ from attnlib's: scores are q·k / sqrt(d_k), then a softmax over "
                "each row's allowed keys"
            )
        if not torch.allclose(torch.as_tensor(out[0], dtype=torch.float64), want_c, atol=1e-8):
            return False, "the weights are right but the context is not: it is weights @ (x @ W_v)"
    return True, "correct: your causal head matches attnlib on random inputs"
