r"""Attention as torch modules, for models that learn their own attention.

:class:`Attention` holds the recipe's steps 2 and 3 (masked softmax, weighted
sum); each subclass supplies step 1, its score, through two hooks:

* ``project_keys(keys)``: work that depends on the keys only, done once per
  sequence (a decoder calls it once and reuses the result at every step);
* ``score(query, projected_keys)``: one score per key, ``(B, T)``.

One query per sequence: ``query (B, d_q)``, ``keys (B, T, d_k)``, ``mask (B, T)``
(bool, True = a real token) give ``context (B, d_k)`` and ``weights (B, T)``.
The keys are also the values, as in an RNN encoder–decoder, where both are the
encoder states :math:`h_j`.
"""

from __future__ import annotations

import torch
from torch import nn

from . import functional as F
from ._validate import check_int, check_tensor


def _check_query_keys(query: torch.Tensor, keys: torch.Tensor, d_q: int, d_k: int) -> None:
    """Raise a clear error unless ``query (B, d_q)`` and ``keys (B, T, d_k)`` fit together."""
    check_tensor("query", query)
    check_tensor("keys", keys)
    if query.ndim != 2 or keys.ndim != 3:
        raise ValueError(
            f"attention needs query (B, d_q) and keys (B, T, d_k); got query "
            f"{tuple(query.shape)}, keys {tuple(keys.shape)}"
        )
    if query.shape[0] != keys.shape[0]:
        raise ValueError(
            f"query and keys must have the same batch size B: query "
            f"{tuple(query.shape)}, keys {tuple(keys.shape)}"
        )
    if query.shape[1] != d_q or keys.shape[2] != d_k:
        raise ValueError(
            f"this attention expects query width {d_q} and key width {d_k}; got "
            f"query {tuple(query.shape)}, keys {tuple(keys.shape)}"
        )


class Attention(nn.Module):
    """Base class: ``weights = softmax(score(q, K), mask)``, ``context = weights @ K``.

    Subclasses override :meth:`score` (and, if some of the work depends on the
    keys only, :meth:`project_keys`).
    """

    def __init__(self, query_size: int, key_size: int) -> None:
        super().__init__()
        self.query_size = check_int("query_size", query_size, 1)
        self.key_size = check_int("key_size", key_size, 1)

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """Hook: the part of the score that depends on the keys only. keys (B, T, d_k)."""
        return keys

    def score(self, query: torch.Tensor, projected_keys: torch.Tensor) -> torch.Tensor:
        """Hook: query (B, d_q), projected keys (B, T, ·) -> scores (B, T)."""
        raise NotImplementedError

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        mask: torch.Tensor | None = None,
        projected_keys: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(context (B, d_k), weights (B, T))``; masked keys get weight exactly 0.

        Pass ``projected_keys = self.project_keys(keys)`` to reuse it across decoder steps.
        """
        _check_query_keys(query, keys, self.query_size, self.key_size)
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        scores = self.score(query, projected_keys)  # (B, T)
        weights = F.softmax(scores, mask=mask)  # (B, T), rows sum to 1 (0 if fully masked)
        context = torch.bmm(weights.unsqueeze(1), keys)  # (B, 1, T) @ (B, T, d_k) -> (B, 1, d_k)
        return context.squeeze(1), weights  # (B, d_k), (B, T)


class AdditiveAttention(Attention):
    r"""Bahdanau's additive attention (Bahdanau, Cho & Bengio 2015, appendix A.1.2).

    .. math::

        e_{tj} = v^\top \tanh(W_q\, s_{t-1} + W_k\, h_j), \qquad
        \alpha_{tj} = \frac{\exp e_{tj}}{\sum_{j'} \exp e_{tj'}}, \qquad
        c_t = \sum_j \alpha_{tj}\, h_j

    The query is the decoder's previous state :math:`s_{t-1}` ``(B, d_q)``; the
    keys (= values) are the encoder states :math:`h_j` ``(B, T, d_k)``.
    :math:`W_k h_j` does not depend on :math:`t`, so :meth:`project_keys`
    computes it once per source sequence. ``hidden_size`` is the width of the
    tanh layer (the paper's :math:`n'`).
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__(query_size, key_size)
        check_int("hidden_size", hidden_size, 1)
        self.W_q = nn.Linear(query_size, hidden_size, bias=False)
        self.W_k = nn.Linear(key_size, hidden_size, bias=True)  # one bias for the sum W_q s + W_k h
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """W_k h_j for every position: keys (B, T, d_k) -> (B, T, hidden)."""
        return self.W_k(keys)

    def score(self, query: torch.Tensor, projected_keys: torch.Tensor) -> torch.Tensor:
        """e_j = v^T tanh(W_q q + W_k h_j): query (B, d_q) -> scores (B, T)."""
        q = self.W_q(query).unsqueeze(1)  # (B, hidden) -> (B, 1, hidden), broadcast over T
        hidden = torch.tanh(q + projected_keys)  # (B, T, hidden)
        return self.v(hidden).squeeze(-1)  # (B, T, 1) -> (B, T)
