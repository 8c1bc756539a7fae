r"""FlashAttention's idea on a CPU: attention over blocks of keys with an online softmax.

Full attention writes the whole score matrix :math:`S = QK^\top/\sqrt{d}`, :math:`(T_q, T_k)`,
to memory, then its softmax, then multiplies by :math:`V`. Memory :math:`O(n^2)`. But a
softmax can be computed **online**, in one pass over the scores, keeping only a running
maximum :math:`m` and a running sum :math:`\ell` (Milakov & Gimelshein 2018), and the weighted
sum of the values can ride along in the same pass (Rabe & Staats 2021; Dao et al. 2022).
For each block :math:`j` of keys and values, every query row does

.. math::

    S_j &= Q K_j^\top / \sqrt{d} && \text{scores of this block only, } (T_q, b)\\
    m' &= \max\big(m,\ \operatorname{rowmax} S_j\big) && \text{the new running maximum}\\
    \ell &\leftarrow \ell\, e^{m - m'} + \operatorname{rowsum} e^{S_j - m'} && \text{rescale, then add}\\
    o &\leftarrow o\, e^{m - m'} + e^{S_j - m'} V_j && \text{the same for the weighted sum of values}\\
    m &\leftarrow m'

and at the end :math:`C = o / \ell`, exactly the full attention's :math:`\operatorname{softmax}(S) V`:
the factor :math:`e^{m - m'}` corrects everything summed so far whenever a larger score
turns up. Memory: the block's :math:`(T_q, b)` scores, never the :math:`(T_q, T_k)` matrix.

FlashAttention (Dao et al. 2022) is this loop as one GPU kernel, with tiles of queries and
keys held in the GPU's small, fast on-chip memory; its speed comes from reading and writing
the slow main memory far less. numpy on a CPU shows the arithmetic and the memory, not the
speed.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import as_float_array, check_finite, check_int, check_mask, check_qkv

__all__ = ["OnlineState", "blocked_attention", "online_softmax", "online_steps", "traced_peak_bytes"]


@dataclass(frozen=True)
class OnlineState:
    """The running state of one query after some blocks of keys (see the module's equations)."""

    seen: int  # keys processed so far
    maximum: float  # m: the largest score seen (-inf before any unmasked key)
    total: float  # l: sum of exp(score - m) over the keys seen
    output: np.ndarray  # (d_v,) o / l: the weighted sum of the values seen, normalised
    rescale: float  # e^(m_old - m): the factor this block applied to what came before


def _block(block: Any) -> int:
    return check_int("block", block, 1)


def online_steps(scores: Any, values: Any, block: int, mask: Any = None) -> list[OnlineState]:
    """Run the online softmax for one query, block by block, and keep every intermediate state.

    scores (T_k,), values (T_k, d_v), ``mask`` (T_k,) bool (True = may attend) -> one
    :class:`OnlineState` per block. The last state's ``output`` is softmax(scores) @ values.
    """
    s, v = as_float_array("scores", scores), as_float_array("values", values)
    if s.ndim != 1 or v.ndim != 2 or len(v) != len(s) or not len(s):
        raise ValueError(
            f"need scores (T_k,) and values (T_k, d_v) with T_k >= 1, got {s.shape} and {v.shape}"
        )
    check_finite("scores", s)
    check_finite("values", v)
    keep = np.ones(len(s), bool) if mask is None else np.asarray(mask)
    if mask is not None:
        check_mask(keep, s.shape)
    m, total, acc, states = -np.inf, 0.0, np.zeros(v.shape[1]), []
    for start in range(0, len(s), _block(block)):
        z = np.where(keep[start : start + block], s[start : start + block], -np.inf)  # (b,) masked: -inf
        new_m = max(m, z.max())  # the running maximum
        scale = np.exp(m - new_m) if np.isfinite(new_m) else 1.0  # e^(m - m'); exp(-inf) = 0 at first
        p = np.exp(z - new_m) if np.isfinite(new_m) else np.zeros_like(z)  # (b,) e^(s - m')
        total = total * scale + p.sum()  # l
        acc = acc * scale + p @ v[start : start + block]  # (d_v,) o
        m = new_m
        out = acc / total if total > 0 else np.zeros_like(acc)
        states.append(OnlineState(min(start + block, len(s)), float(m), float(total), out, float(scale)))
    return states


def online_softmax(scores: Any, block: int, mask: Any = None) -> np.ndarray:
    """softmax over the last axis, normalised in one online pass over blocks (then a second
    pass writes the weights): scores (..., T_k) -> weights (..., T_k). Fully masked rows: zeros."""
    s = as_float_array("scores", scores)
    if s.ndim == 0 or s.shape[-1] == 0:
        raise ValueError(f"scores must have at least one entry on the last axis, got shape {s.shape}")
    check_finite("scores", s)
    keep = np.ones(s.shape, bool) if mask is None else np.asarray(mask)
    if mask is not None:
        check_mask(keep, s.shape)
    keep = np.broadcast_to(keep, s.shape)
    z = np.where(keep, s, -np.inf)  # (..., T_k)
    m, total = np.full(s.shape[:-1], -np.inf), np.zeros(s.shape[:-1])  # (...,) running max and sum
    for start in range(0, s.shape[-1], _block(block)):
        zb = z[..., start : start + block]  # (..., b)
        new_m = np.maximum(m, zb.max(axis=-1))  # (...,)
        safe = np.where(np.isfinite(new_m), new_m, 0.0)  # rows with nothing yet: shift by 0
        total = total * np.exp(m - safe) + np.exp(zb - safe[..., None]).sum(axis=-1)  # exp(-inf) = 0
        m = new_m
    safe = np.where(np.isfinite(m), m, 0.0)[..., None]  # (..., 1)
    return np.exp(z - safe) / np.where(total > 0, total, 1.0)[..., None]


def blocked_attention(
    query: Any, keys: Any, values: Any, block: int = 64, mask: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Scaled dot-product attention over blocks of ``block`` keys, with an online softmax.

    query (..., T_q, d), keys (..., T_k, d), values (..., T_k, d_v), ``mask`` (True = may
    attend) broadcastable to (..., T_q, T_k) -> ``(context (..., T_q, d_v), log_sum_exp (..., T_q))``.

    The weights are never formed, which is the point; the second result, the log of the
    softmax's denominator :math:`m + \ln \ell`, is what FlashAttention keeps instead (the
    weights are :math:`e^{s_{ij} - \text{lse}_i}`, recomputed when needed). A query whose keys
    are all masked gets a zero context and ``-inf``, as :func:`attnlib.softmax` gives zero weights.
    """
    q, k, v = (as_float_array(n, x) for n, x in (("query", query), ("keys", keys), ("values", values)))
    if q.ndim < 2:
        raise ValueError(f"query must be (..., T_q, d), got shape {q.shape}")
    check_qkv(q, k, v)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"query and keys must have the same width d, got {q.shape} and {k.shape}")
    for name, x in (("query", q), ("keys", k), ("values", v)):
        check_finite(name, x)
    if mask is not None:
        mask = np.asarray(mask)
        check_mask(mask, (*np.broadcast_shapes(q.shape[:-1], (*k.shape[:-2], 1)), k.shape[-2]))
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    m = np.full((*batch, q.shape[-2]), -np.inf)  # (..., T_q) running maximum
    total = np.zeros_like(m)  # (..., T_q) running sum l
    acc = np.zeros((*batch, q.shape[-2], v.shape[-1]))  # (..., T_q, d_v) running o
    scale = 1.0 / np.sqrt(q.shape[-1])
    for start in range(0, k.shape[-2], _block(block)):
        stop = start + block
        s = (q @ np.swapaxes(k[..., start:stop, :], -1, -2)) * scale  # (..., T_q, b) this block only
        if mask is not None:
            s = np.where(mask[..., start:stop], s, -np.inf)  # masked keys: exp(-inf) = 0
        new_m = np.maximum(m, s.max(axis=-1))  # (..., T_q)
        safe = np.where(np.isfinite(new_m), new_m, 0.0)  # rows that have seen no key yet
        rescale = np.exp(m - safe)  # (..., T_q) e^(m - m'); 0 while m = -inf
        p = np.exp(s - safe[..., None])  # (..., T_q, b)
        total = total * rescale + p.sum(axis=-1)
        acc = acc * rescale[..., None] + p @ v[..., start:stop, :]  # (..., T_q, d_v)
        m = new_m
    context = acc / np.where(total > 0, total, 1.0)[..., None]  # (..., T_q, d_v)
    with np.errstate(divide="ignore"):
        lse = np.where(total > 0, m + np.log(total), -np.inf)  # (..., T_q)
    return context, lse


def traced_peak_bytes(fn: Callable[[], object]) -> int:
    """The peak of memory allocated through Python and numpy while ``fn()`` runs, in bytes
    (``tracemalloc``; numpy reports its array buffers to it), above what was in use before."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return peak - before
