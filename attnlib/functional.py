"""The recipe in torch, with the same signatures as the numpy functions.

``softmax`` and ``attention`` here accept torch tensors, are differentiable, and
agree with :mod:`attnlib.attention` and with
``torch.nn.functional.scaled_dot_product_attention`` (the tests check both).
The score functions are shared with numpy: see :mod:`attnlib.scores`.
"""

from __future__ import annotations

from typing import Any

import torch

from ._validate import check_finite, check_mask, check_qkv, check_temperature, check_tensor
from .scores import Score, get_score


def softmax(scores: torch.Tensor, mask: torch.Tensor | None = None, temperature: float = 1.0) -> torch.Tensor:
    """Stable masked softmax over the last axis; fully masked rows give zeros.

    scores (..., T_k) -> weights (..., T_k). See :mod:`attnlib.softmax` for the equation.
    """
    check_tensor("scores", scores)
    if scores.ndim == 0 or scores.shape[-1] == 0:
        raise ValueError(
            f"scores must have at least one entry on the last axis, got shape {tuple(scores.shape)}"
        )
    check_finite("scores", scores)
    t = check_temperature(temperature)
    if mask is None:
        keep = torch.ones_like(scores, dtype=torch.bool)
    else:
        if not isinstance(mask, torch.Tensor):
            raise TypeError(f"mask must be a torch.Tensor of dtype bool, got {type(mask).__name__}")
        check_mask(mask, tuple(scores.shape))
        keep = mask.expand(scores.shape)
    z = (scores / t).masked_fill(~keep, float("-inf"))  # (..., T_k)
    top = z.amax(dim=-1, keepdim=True)  # (..., 1)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    e = torch.exp(z - top).masked_fill(~keep, 0.0)  # (..., T_k)
    total = e.sum(dim=-1, keepdim=True)  # (..., 1)
    return e / torch.where(total > 0, total, torch.ones_like(total))


def attention(
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor | None = None,
    score: Score = "scaled_dot",
    temperature: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Torch version of :func:`attnlib.attention.attention`; returns ``(context, weights)``.

    query (d,) or (..., T_q, d); keys (..., T_k, d); values (..., T_k, d_v).
    """
    score_fn = checked_inputs(query, keys, values, mask, score, temperature)
    single = query.ndim == 1
    q = query[None, :] if single else query  # (d,) -> (1, d)
    scores = score_fn(q, keys)  # 1. (..., T_q, T_k)
    weights = softmax(scores, mask=mask, temperature=temperature)  # 2. (..., T_q, T_k)
    context = weights @ values  # 3. (..., T_q, d_v)
    if single:
        return context[0], weights[0]  # (d_v,), (T_k,)
    return context, weights


def checked_inputs(
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor | None,
    score: Score,
    temperature: float,
) -> Any:
    """Every check :func:`attention` makes before it computes; returns the score function."""
    for name, x in (("query", query), ("keys", keys), ("values", values)):
        check_tensor(name, x)
    batch = check_qkv(query, keys, values)
    if len({query.dtype, keys.dtype, values.dtype}) != 1:
        raise TypeError(
            f"query, keys and values must share a dtype, got {query.dtype}, {keys.dtype}, {values.dtype}"
        )
    for name, x in (("query", query), ("keys", keys), ("values", values)):
        check_finite(name, x)
    score_fn = get_score(score)
    check_temperature(temperature)
    if mask is not None:
        if not isinstance(mask, torch.Tensor):
            raise TypeError(f"mask must be a torch.Tensor of dtype bool, got {type(mask).__name__}")
        T_k = keys.shape[-2]
        check_mask(mask, (T_k,) if query.ndim == 1 else (*batch, query.shape[-2], T_k))
    return score_fn
