"""Checkers for chapter 6, attention today."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..gqa import kv_cache_bytes
from ..rope import rope_angles, rotate
from ..softmax import softmax
from ..streaming import sliding_window_mask
from . import checker


def _as_numpy(x: Any) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@checker("6.1")
def _cache_bytes(answer: Any) -> tuple[bool, str]:
    want = kv_cache_bytes(layers=32, kv_heads=8, d_k=128, n=4096, bytes_per_value=2)
    got = float(answer)
    if got == want:
        return True, f"correct: 2 × 32 × 8 × 128 × 4096 × 2 bytes = {want:,} bytes = 512 MiB"
    if got == want * 4:
        return (
            False,
            "that counts all 32 heads; with grouped-query attention only the 8 key/value heads are cached",
        )
    if got == want / 2:
        return False, "keys *and* values: the cache holds two tensors per layer"
    if got in (want * 2, want / 4 * 2):
        return False, "check the bytes per number: 16 bits are 2 bytes"
    if got in (512, 0.5):
        return False, "right size, wrong unit: answer in bytes"
    return False, "multiply 2 (keys and values) × layers × key/value heads × d_k × tokens × bytes per number"


@checker("6.2")
def _online_update(fn: Any) -> tuple[bool, str]:
    rng = np.random.default_rng(62)
    for T, d_v, block, scale in [(1, 2, 1, 1.0), (10, 3, 3, 1.0), (17, 4, 5, 50.0), (8, 2, 8, 1000.0)]:
        scores, values = rng.normal(size=T) * scale, rng.normal(size=(T, d_v))
        m, total, acc = -np.inf, 0.0, np.zeros(d_v)
        for start in range(0, T, block):
            out = fn(m, total, acc, scores[start : start + block], values[start : start + block])
            if out is None:
                return False, "my_online_update returns None: write its body, then run the cell again"
            if not (isinstance(out, tuple) and len(out) == 3):
                return False, "return a triple (m, total, acc)"
            m, total, acc = out
        want = softmax(scores) @ values
        if not np.isfinite(np.asarray(acc, dtype=float)).all() or not np.isfinite(float(total)):
            return False, (
                f"with scores up to {np.abs(scores).max():.0f} your sums overflow: subtract the running "
                "maximum before exp, and rescale the old total and acc by exp(m - m_new)"
            )
        if not np.isclose(float(m), scores.max()):
            return False, "m must end as the largest score seen"
        if not np.allclose(np.asarray(acc, dtype=float) / float(total), want, atol=1e-10):
            return False, (
                "acc / total differs from softmax(scores) @ values: when the maximum grows, multiply the old "
                "total and acc by exp(m - m_new) before adding the new block's terms"
            )
    return True, "correct: one pass over the blocks gives exactly softmax(scores) @ values"


def _rotate_back(x: torch.Tensor, p: int) -> torch.Tensor:
    """x (d,) rotated by -p θ_i: the mistake of turning the wrong way."""
    angle = rope_angles(torch.tensor([p]), x.shape[-1])[0]  # (d/2,)
    even, odd = x[0::2], x[1::2]
    return torch.stack(
        [even * angle.cos() + odd * angle.sin(), -even * angle.sin() + odd * angle.cos()], dim=-1
    ).flatten()


@checker("6.3")
def _rope(fn: Any) -> tuple[bool, str]:
    gen = torch.Generator().manual_seed(63)
    for d, p in [(2, 1), (8, 0), (8, 5), (16, 37)]:
        x = torch.randn(d, generator=gen, dtype=torch.float64)
        out = fn(x, p)
        if out is None:
            return False, "my_rotate returns None: write its body, then run the cell again"
        got = torch.as_tensor(out, dtype=torch.float64)
        want = rotate(x[None], p)[0]
        if got.shape != want.shape:
            return False, f"for x of shape {(d,)} return shape {(d,)}, got {tuple(got.shape)}"
        if torch.allclose(got, want, atol=1e-8):
            continue
        if torch.allclose(got, _rotate_back(x, p), atol=1e-8):
            return False, "you rotate the wrong way: (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos)"
        return False, (
            "values differ: pair i = (x[2i], x[2i+1]) turns by p * 10000^(-2i/d); "
            "check the frequencies and that pairs are adjacent dimensions"
        )
    return True, "correct: the rotation of Su et al. (2021), the same as attnlib.rope.rotate"


@checker("6.4")
def _window_mask(fn: Any) -> tuple[bool, str]:
    for T, w in [(1, 1), (5, 2), (8, 3), (6, 10)]:
        out = fn(T, w)
        if out is None:
            return False, "my_window_mask returns None: write its body, then run the cell again"
        got = _as_numpy(out)
        want = sliding_window_mask(T, w).numpy()
        if got.shape != want.shape:
            return False, f"for T = {T} return a {T}-by-{T} table, got shape {got.shape}"
        got = got.astype(bool)
        if np.array_equal(got, want):
            continue
        if np.array_equal(got, want.T):
            return False, "that is the transpose: row i is the query, and it may look at keys i - w + 1 ... i"
        if np.array_equal(got, ~want):
            return False, "True means *may attend*; you marked the forbidden keys"
        if np.array_equal(got, np.tril(np.ones((T, T), bool), 0) & np.triu(np.ones((T, T), bool), -w)):
            return False, "one key too many: the window holds w keys, the query's own included"
        return False, f"for T = {T}, w = {w}: query i may attend to keys j with i - w < j <= i, and no other"
    return True, "correct: causal, and only the last w positions"


@checker("6.5")
def _receptive_field(answer: Any) -> tuple[bool, str]:
    want = 32 * (4096 - 1) + 1
    got = float(answer)
    if got == want:
        return True, f"correct: 32 × 4,095 + 1 = {want:,} positions"
    if got == 32 * 4096:
        return False, "almost: consecutive layers' windows overlap by one position (the query's own)"
    if got == 4096:
        return False, "that is one layer; each layer reaches w - 1 positions further back"
    return False, "each of the 32 layers reaches w - 1 positions further back; then add the position itself"
