r"""Sliding-window attention and attention sinks: attention on a fixed budget.

**Sliding windows** (Child et al. 2019; Beltagy et al. 2020). A causal query at position
:math:`i` may look at the last :math:`w` positions only, itself included:

.. math::

    m_{ij} = [\, i - w < j \le i \,] .

One layer then costs :math:`O(n w)` instead of :math:`O(n^2)`, and a KV cache never holds
more than :math:`w` keys per layer. Information still travels further than :math:`w`: each
layer passes it on by up to :math:`w - 1` positions, so after :math:`L` layers output
:math:`i` depends on inputs :math:`i - L(w - 1) \dots i`. :func:`input_gradients` measures
this, as chapter 5 measured path lengths: the gradient of one output with respect to every
input is exactly zero outside the receptive field.

**Attention sinks** (Xiao et al. 2023). Trained language models often pour much of their
attention onto the first token, whatever it is, as if parking the weight that a softmax must
put somewhere; drop that token from a sliding window and the model falls apart.
:func:`share_of_weight` and :func:`uniform_share` measure how much weight lands on chosen
keys (the first position, separators, punctuation) against what a uniform spread would give.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ._validate import check_int, check_tensor

__all__ = [
    "input_gradients",
    "share_of_weight",
    "sliding_window_mask",
    "uniform_share",
    "weight_by_kind",
    "window_mask",
]


def window_mask(
    query_positions: torch.Tensor,
    key_positions: torch.Tensor,
    window: int | None = None,
    sinks: int = 0,
) -> torch.Tensor:
    """Query at position i may see key j iff j <= i and (no window, or j > i - window, or j < sinks).

    ``sinks`` keeps the first positions visible to every query, as StreamingLLM keeps its
    attention sinks beside the window. query_positions (T_q,), key_positions (T_k,)
    -> mask (T_q, T_k), True = may attend.
    """
    for name, p in (("query_positions", query_positions), ("key_positions", key_positions)):
        if not isinstance(p, torch.Tensor) or p.ndim != 1 or p.dtype.is_floating_point:
            raise TypeError(
                f"{name} must be a 1-D integer tensor, got "
                f"{getattr(p, 'dtype', type(p).__name__)} {tuple(getattr(p, 'shape', ()))}"
            )
    i, j = query_positions[:, None], key_positions[None, :]  # (T_q, 1), (1, T_k)
    mask = j <= i  # (T_q, T_k) causal: never the future
    if window is not None:  # and only the last `window` positions, plus the first `sinks`
        mask &= (j > i - check_int("window", window, 1)) | (j < check_int("sinks", sinks, 0))
    return mask


def sliding_window_mask(
    T: int, window: int, sinks: int = 0, device: torch.device | str | None = None
) -> torch.Tensor:
    """(T, T): query i sees keys i - window + 1 ... i (and the first ``sinks``). ``window >= T``
    is the causal mask."""
    positions = torch.arange(check_int("T", T, 1), device=device)
    return window_mask(positions, positions, window, sinks)


def input_gradients(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, position: int, seed: int = 0
) -> np.ndarray:
    r"""How much output ``position`` (i) moves with each input j:
    :math:`\lVert \partial (u^\top y_i) / \partial x_j \rVert`.

    ``fn`` maps x (1, n, d) to y (1, n, d); ``u`` is a fixed random unit vector (``seed``).
    Returns (n,), one norm per input position j; exactly 0 where y_i cannot see x_j.
    """
    check_tensor("x", x)
    if x.ndim != 3 or x.shape[0] != 1:
        raise ValueError(f"x must be (1, n, d), got {tuple(x.shape)}")
    position = check_int("position", position, 0, x.shape[1] - 1)
    x = x.detach().clone().requires_grad_(True)
    y = fn(x)  # (1, n, d)
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    u = torch.randn(y.shape[-1], generator=gen, dtype=y.dtype)
    (grad,) = torch.autograd.grad(y[0, position] @ (u / u.norm()), x)  # (1, n, d)
    return grad[0].norm(dim=-1).detach().numpy()  # (n,)


def share_of_weight(weights: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """The weight each query puts on the chosen keys: weights (..., T_q, T_k), keys (..., T_k)
    bool (broadcastable) -> (..., T_q)."""
    check_tensor("weights", weights)
    if not isinstance(keys, torch.Tensor) or keys.dtype != torch.bool:
        raise TypeError(
            f"keys must be a bool tensor (True = a chosen key), got "
            f"{getattr(keys, 'dtype', type(keys).__name__)}"
        )
    return (weights * keys[..., None, :].to(weights.dtype)).sum(dim=-1)  # (..., T_q)


def uniform_share(keys: torch.Tensor) -> torch.Tensor:
    """What a causal query would put on the chosen keys if it spread its weight evenly:
    query i sees keys 0 .. i, so keys (..., T) bool -> (..., T), count(keys[:i+1]) / (i + 1)."""
    if not isinstance(keys, torch.Tensor) or keys.dtype != torch.bool:
        raise TypeError(f"keys must be a bool tensor, got {getattr(keys, 'dtype', type(keys).__name__)}")
    seen = torch.arange(1, keys.shape[-1] + 1, dtype=torch.float64)  # (T,) keys visible to query i
    return keys.to(torch.float64).cumsum(dim=-1) / seen  # (..., T)


def weight_by_kind(
    weights: list[torch.Tensor], kinds: dict[str, torch.Tensor], first_query: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """How much weight every head of a causal model puts on each kind of key, on average.

    ``weights``: one (B, h, T, T) tensor per layer; ``kinds``: name -> (B, T) bool, the keys of
    that kind in each sequence; queries ``first_query ... T - 1`` are averaged (the first few
    see too few keys to say much). Returns ``(share, ratio)``, both (kinds, layers · h): the
    mean weight on that kind of key, and the same divided by :func:`uniform_share`, what an
    even spread over the keys each query sees would give (1 = no preference).
    """
    if not weights or any(not isinstance(w, torch.Tensor) or w.ndim != 4 for w in weights):
        raise ValueError("weights must be a non-empty list of (B, h, T, T) tensors, one per layer")
    B, h, T, _ = weights[0].shape
    first_query = check_int("first_query", first_query, 0, T - 1)
    share = np.zeros((len(kinds), len(weights) * h))
    ratio = np.zeros_like(share)
    for i, keys in enumerate(kinds.values()):
        if not isinstance(keys, torch.Tensor) or keys.shape != (B, T) or keys.dtype != torch.bool:
            raise ValueError(f"each kind must be a bool tensor of shape (B, T) = ({B}, {T})")
        even = uniform_share(keys)[:, first_query:].mean().item()  # (B, T) -> one number
        for layer, w in enumerate(weights):
            got = share_of_weight(w, keys[:, None, :])[..., first_query:].mean(dim=(0, 2))  # (h,)
            share[i, layer * h : (layer + 1) * h] = got.numpy()
        ratio[i] = share[i] / even
    return share, ratio
