"""Step 1 of the recipe: score every key against the query.

A score function maps queries ``q (..., T_q, d_q)`` and keys ``k (..., T_k, d_k)``
to a table of scores ``(..., T_q, T_k)``: row ``i`` says how relevant each key is
to query ``i``. Five classic choices live here:

* ``dot``: :math:`q^\\top k` (Luong et al. 2015)
* ``scaled_dot``: :math:`q^\\top k / \\sqrt{d}` (Vaswani et al. 2017)
* ``cosine``: :math:`q^\\top k / (\\lVert q\\rVert \\lVert k\\rVert)` (Graves et al. 2014)
* ``General``: :math:`q^\\top W k` (Luong et al. 2015)
* ``Additive``: :math:`v^\\top \\tanh(W_q q + W_k k)` (Bahdanau et al. 2015)

The functions are written once for both numpy arrays and torch tensors: they
only use ``@``, ``swapaxes``, ``tanh`` and ``sum``, which the two libraries share.
``General`` and ``Additive`` have learned parameters, so they are small frozen
dataclasses that hold them; pass an instance as ``score=`` to ``attention``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import as_float_array, check_finite, is_torch

ScoreFn = Callable[[Any, Any], Any]


def _same_width(name: str, q: Any, k: Any) -> None:
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"score '{name}' needs query and keys of the same width d: "
            f"query has shape {tuple(q.shape)}, keys {tuple(k.shape)}"
        )


def _sum_last(x: Any) -> Any:
    """Sum over the last axis, keeping it: (..., d) -> (..., 1)."""
    return x.sum(dim=-1, keepdim=True) if is_torch(x) else x.sum(axis=-1, keepdims=True)


def _tanh(x: Any) -> Any:
    return x.tanh() if is_torch(x) else np.tanh(x)


def _like(param: np.ndarray, x: Any) -> Any:
    """Return a parameter in the backend and dtype of ``x``."""
    if is_torch(x):
        import torch

        return torch.as_tensor(param, dtype=x.dtype, device=x.device)
    return param.astype(x.dtype, copy=False)


def dot(q: Any, k: Any) -> Any:
    """Dot-product score, :math:`e_{ij} = q_i^\\top k_j`.

    q (..., T_q, d), k (..., T_k, d) -> scores (..., T_q, T_k)
    """
    _same_width("dot", q, k)
    return q @ k.swapaxes(-1, -2)  # (..., T_q, d) @ (..., d, T_k) -> (..., T_q, T_k)


def scaled_dot(q: Any, k: Any) -> Any:
    """Scaled dot-product score, :math:`e_{ij} = q_i^\\top k_j / \\sqrt{d}`.

    Dividing by :math:`\\sqrt{d}` keeps the scores' variance near 1 whatever
    the width ``d`` (chapter 3 measures this).
    q (..., T_q, d), k (..., T_k, d) -> scores (..., T_q, T_k)
    """
    _same_width("scaled_dot", q, k)
    return dot(q, k) / float(np.sqrt(q.shape[-1]))


def cosine(q: Any, k: Any, eps: float = 1e-12) -> Any:
    """Cosine similarity, :math:`e_{ij} = q_i^\\top k_j / (\\lVert q_i\\rVert\\,\\lVert k_j\\rVert)`.

    A zero vector has no direction; ``eps`` keeps its scores at 0 instead of NaN.
    Scores lie in [-1, 1], so softmax over them is never sharp unless the
    temperature is low.
    q (..., T_q, d), k (..., T_k, d) -> scores (..., T_q, T_k)
    """
    _same_width("cosine", q, k)
    q_len = _sum_last(q * q) ** 0.5 + eps  # (..., T_q, 1)
    k_len = _sum_last(k * k) ** 0.5 + eps  # (..., T_k, 1)
    return dot(q / q_len, k / k_len)


@dataclass(frozen=True, eq=False)
class General:
    """Luong's "general" (bilinear) score, :math:`e_{ij} = q_i^\\top W k_j`.

    W (d_q, d_k). With ``W = I`` it is the plain dot product.
    q (..., T_q, d_q), k (..., T_k, d_k) -> scores (..., T_q, T_k)
    """

    W: np.ndarray  # (d_q, d_k) learned bilinear form

    def __post_init__(self) -> None:
        W = as_float_array("General.W", self.W)
        if W.ndim != 2:
            raise ValueError(f"General.W must be 2-D (d_q, d_k), got shape {W.shape}")
        check_finite("General.W", W)
        object.__setattr__(self, "W", W)

    def __call__(self, q: Any, k: Any) -> Any:
        d_q, d_k = self.W.shape
        if q.shape[-1] != d_q or k.shape[-1] != d_k:
            raise ValueError(
                f"General score with W of shape {self.W.shape} needs query width "
                f"{d_q} and key width {d_k}; got query {tuple(q.shape)}, "
                f"keys {tuple(k.shape)}"
            )
        return (q @ _like(self.W, q)) @ k.swapaxes(-1, -2)  # (..., T_q, d_k) @ (..., d_k, T_k)


@dataclass(frozen=True, eq=False)
class Additive:
    """Bahdanau's additive score, :math:`e_{ij} = v^\\top \\tanh(W_q q_i + W_k k_j)`.

    A one-hidden-layer network scores each (query, key) pair, so query and
    keys may have different widths.
    W_q (h, d_q), W_k (h, d_k), v (h,).
    q (..., T_q, d_q), k (..., T_k, d_k) -> scores (..., T_q, T_k)
    """

    W_q: np.ndarray  # (h, d_q) projects the query into the hidden layer
    W_k: np.ndarray  # (h, d_k) projects each key into the hidden layer
    v: np.ndarray  # (h,) reads one number out of the hidden layer

    def __post_init__(self) -> None:
        for name in ("W_q", "W_k", "v"):
            arr = as_float_array(f"Additive.{name}", getattr(self, name))
            check_finite(f"Additive.{name}", arr)
            object.__setattr__(self, name, arr)
        if self.W_q.ndim != 2 or self.W_k.ndim != 2 or self.v.ndim != 1:
            raise ValueError(
                f"Additive needs W_q (h, d_q), W_k (h, d_k), v (h,); got shapes "
                f"{self.W_q.shape}, {self.W_k.shape}, {self.v.shape}"
            )
        h = self.v.shape[0]
        if self.W_q.shape[0] != h or self.W_k.shape[0] != h:
            raise ValueError(
                f"Additive's hidden sizes disagree: W_q {self.W_q.shape}, "
                f"W_k {self.W_k.shape}, v {self.v.shape} (all must share h)"
            )

    def __call__(self, q: Any, k: Any) -> Any:
        d_q, d_k = self.W_q.shape[1], self.W_k.shape[1]
        if q.shape[-1] != d_q or k.shape[-1] != d_k:
            raise ValueError(
                f"Additive score expects query width {d_q} and key width {d_k} "
                f"(from W_q {self.W_q.shape}, W_k {self.W_k.shape}); got query "
                f"{tuple(q.shape)}, keys {tuple(k.shape)}"
            )
        hq = q @ _like(self.W_q, q).swapaxes(0, 1)  # (..., T_q, h)
        hk = k @ _like(self.W_k, k).swapaxes(0, 1)  # (..., T_k, h)
        hidden = _tanh(hq[..., :, None, :] + hk[..., None, :, :])  # (..., T_q, T_k, h)
        return hidden @ _like(self.v, q)  # (..., T_q, T_k)


Score = str | ScoreFn

SCORES: dict[str, ScoreFn] = {"dot": dot, "scaled_dot": scaled_dot, "cosine": cosine}
"""The score functions that need no parameters, by name."""


def get_score(score: Score) -> ScoreFn:
    """Turn a score name or a callable into a score function.

    >>> get_score("scaled_dot") is scaled_dot
    True
    """
    if callable(score):
        return score
    if not isinstance(score, str):
        raise TypeError(f"score must be a name or a callable, got {type(score).__name__}")
    if score in SCORES:
        return SCORES[score]
    if score in ("general", "additive"):
        cls = "General(W)" if score == "general" else "Additive(W_q, W_k, v)"
        raise ValueError(
            f"score '{score}' has learned parameters: pass an instance, e.g. score=attnlib.scores.{cls}"
        )
    raise ValueError(
        f"unknown score {score!r}; choose one of {sorted(SCORES)} or pass General(W) / Additive(W_q, W_k, v)"
    )
