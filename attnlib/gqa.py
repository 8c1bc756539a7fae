r"""Multi-query and grouped-query attention: fewer key/value heads than query heads.

Chapter 5's multi-head attention gives each of its :math:`h` heads its own queries, keys and
values. Generation keeps every past key and value in memory (the KV cache, :mod:`attnlib.gpt`),
and for long texts and large batches that cache, not the arithmetic, sets the limit
(Pope et al. 2022). So:

* **multi-query attention** (MQA; Shazeer 2019): all :math:`h` query heads share **one** key
  head and one value head;
* **grouped-query attention** (GQA; Ainslie et al. 2023): the :math:`h` query heads form
  :math:`g` groups, and each group shares one key and one value head.

With :math:`g` key/value heads the cache shrinks by :math:`h / g`:
:math:`g = h` is multi-head attention, :math:`g = 1` multi-query attention.
Head :math:`a` (counting from 0) reads key/value head :math:`j = \lfloor a\, g / h \rfloor`:

.. math::

    \text{head}_a = \operatorname{softmax}\!\Big(\frac{(Q W^Q_a)(K W^K_j)^\top}{\sqrt{d_k}}\Big)\,
    V W^V_j, \qquad j = \lfloor a\, g / h \rfloor .
"""

from __future__ import annotations

import torch
from torch import nn

from . import functional as F
from ._validate import check_int
from .scores import scaled_dot
from .transformer import MultiHeadAttention

__all__ = ["GroupedQueryAttention", "kv_cache_bytes"]


def kv_cache_bytes(
    layers: int, kv_heads: int, d_k: int, n: int, bytes_per_value: int = 4, batch: int = 1
) -> int:
    """Memory of a KV cache: 2 (keys and values) × layers × kv_heads × d_k × n × bytes × batch."""
    for name, value in (
        ("layers", layers),
        ("kv_heads", kv_heads),
        ("d_k", d_k),
        ("bytes_per_value", bytes_per_value),
        ("batch", batch),
    ):
        check_int(name, value, 1)
    check_int("n", n, 0)
    return 2 * layers * kv_heads * d_k * n * bytes_per_value * batch


class GroupedQueryAttention(MultiHeadAttention):
    """Attention with ``heads`` query heads and ``kv_heads`` key/value heads (``kv_heads``
    divides ``heads``): multi-head when they are equal, multi-query when ``kv_heads = 1``.

    The query and output projections are chapter 5's; the key and value projections are
    narrower, ``(d_model, kv_heads · d_k)``. query (B, T_q, d_model), key and value
    (B, T_k, d_model), ``mask`` (True = may attend) broadcastable to (B, T_q, T_k)
    -> output (B, T_q, d_model), weights (B, h, T_q, T_k).
    """

    def __init__(
        self, d_model: int, heads: int, kv_heads: int, dropout: float = 0.0, bias: bool = True
    ) -> None:
        super().__init__(d_model, heads, dropout, bias)
        kv_heads = check_int("kv_heads", kv_heads, 1, heads)
        if heads % kv_heads:
            raise ValueError(
                f"kv_heads={kv_heads} must divide heads={heads} (each key/value head "
                f"serves heads / kv_heads query heads)"
            )
        self.kv_heads = kv_heads
        self.W_k = nn.Linear(d_model, kv_heads * self.d_k, bias=bias)
        self.W_v = nn.Linear(d_model, kv_heads * self.d_k, bias=bias)

    def split_kv(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, kv_heads · d_k) -> (B, kv_heads, T, d_k)."""
        B, T, _ = x.shape
        x = x.view(B, T, self.kv_heads, self.d_k)  # (B, T, g, d_k)
        return x.transpose(1, 2)  # (B, g, T, d_k)

    def repeat_kv(self, x: torch.Tensor) -> torch.Tensor:
        """Give every query head its group's keys or values: (B, g, T, d_k) -> (B, h, T, d_k).

        Key/value head ``j`` serves query heads ``j·h/g`` ... ``(j+1)·h/g - 1``.
        """
        if self.kv_heads == self.heads:
            return x  # multi-head attention: nothing to share
        return x.repeat_interleave(self.heads // self.kv_heads, dim=1)  # (B, h, T, d_k)

    def scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """Scaled scores for every query head: (B, T_q, d), (B, T_k, d) -> (B, h, T_q, T_k)."""
        q = self.split_heads(self.W_q(query))  # (B, h, T_q, d_k)
        k = self.repeat_kv(self.split_kv(self.W_k(key)))  # (B, h, T_k, d_k)
        return scaled_dot(q, k)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return ``(output (B, T_q, d_model), weights (B, h, T_q, T_k) or None)``."""
        mask = self.checked_mask(query, key, value, mask)  # (B, 1, T_q, T_k) or None
        q = self.split_heads(self.W_q(query))  # (B, h, T_q, d_k)
        k = self.repeat_kv(self.split_kv(self.W_k(key)))  # (B, h, T_k, d_k)
        v = self.repeat_kv(self.split_kv(self.W_v(value)))  # (B, h, T_k, d_k)
        return self.attend(q, k, v, mask, need_weights)

    def attend(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        mask: torch.Tensor | None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Chapter 3's three steps on every head, then the output projection.

        q (B, h, T_q, d_k), k and v (B, h, T_k, d_k), mask broadcastable to (B, h, T_q, T_k)
        -> output (B, T_q, d_model), weights (B, h, T_q, T_k) (None with ``need_weights=False``:
        torch's fused kernel, which never stores them).
        """
        if not need_weights:
            p = self.dropout.p if self.training else 0.0
            context = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
            return self.W_o(self.merge_heads(context)), None  # (B, T_q, d_model)
        scores = scaled_dot(q, k)  # 1. (B, h, T_q, T_k)
        weights = F.softmax(scores, mask=mask)  # 2. (B, h, T_q, T_k)
        context = self.dropout(weights) @ v  # 3. (B, h, T_q, d_k)
        return self.W_o(self.merge_heads(context)), weights  # (B, T_q, d_model)

    @classmethod
    def from_multi_head(cls, mha: MultiHeadAttention) -> GroupedQueryAttention:
        """The same layer as a :class:`GroupedQueryAttention` with ``kv_heads = heads``."""
        if not isinstance(mha, MultiHeadAttention):
            raise TypeError(f"mha must be a MultiHeadAttention, got {type(mha).__name__}")
        d_model = mha.heads * mha.d_k
        gqa = cls(d_model, mha.heads, mha.heads, mha.dropout.p, bias=mha.W_q.bias is not None)
        gqa = gqa.to(mha.W_q.weight.dtype)  # first, so that no digit is lost in the copy
        gqa.load_state_dict(mha.state_dict())
        return gqa
