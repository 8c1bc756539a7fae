r"""Rotary position embeddings (RoPE; Su et al. 2021): positions as rotations of q and k.

Chapter 5 *adds* a position vector to each token before the projections. RoPE instead
*rotates* each query and key after the projections, by an angle proportional to the
position. Cut a vector of width :math:`d` into :math:`d/2` pairs; pair :math:`i` of the
vector at position :math:`p` turns by :math:`p\,\theta_i`, with
:math:`\theta_i = \text{base}^{-2i/d}` (the frequencies of chapter 5's sinusoids):

.. math::

    \begin{pmatrix} x'_{2i} \\ x'_{2i+1} \end{pmatrix} =
    \begin{pmatrix} \cos p\theta_i & -\sin p\theta_i \\ \sin p\theta_i & \cos p\theta_i \end{pmatrix}
    \begin{pmatrix} x_{2i} \\ x_{2i+1} \end{pmatrix} .

A rotation by :math:`m\theta` followed by the transpose of one by :math:`n\theta` is a
rotation by :math:`(n - m)\theta`, so the score of a query at position :math:`m` and a key
at position :math:`n` depends on the positions only through their offset:

.. math::

    (R_m q)^\top (R_n k) = q^\top R_m^\top R_n\, k = q^\top R_{n - m}\, k .

This module rotates adjacent pairs ``(0, 1), (2, 3), ...`` as the paper writes it. Much code
(GPT-NeoX, Llama) pairs dimension ``i`` with ``i + d/2`` instead ("rotate half"): the same
idea with the dimensions permuted, so weights trained one way do not load the other way.
"""

from __future__ import annotations

import torch

from ._validate import check_int, check_positive, check_tensor

__all__ = ["rope_angles", "rotate"]


def rope_angles(positions: torch.Tensor, d: int, base: float = 10000.0) -> torch.Tensor:
    r"""The angles :math:`p\,\theta_i`: positions (T,) -> (T, d/2), in float64."""
    d = check_int("d", d, 2)
    if d % 2:
        raise ValueError(f"d must be even (RoPE rotates pairs of dimensions), got {d}")
    base = check_positive("base", base)
    if not isinstance(positions, torch.Tensor) or positions.ndim != 1:
        raise TypeError(
            f"positions must be a 1-D tensor (T,), got "
            f"{type(positions).__name__} {tuple(getattr(positions, 'shape', ()))}"
        )
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,) θ_i = base^(-2i/d)
    return positions.to(torch.float64)[:, None] * theta  # (T, d/2)


def rotate(x: torch.Tensor, start: int = 0, base: float = 10000.0) -> torch.Tensor:
    """Rotate every pair of ``x`` by its position's angle: (..., T, d) -> (..., T, d).

    Row ``t`` of ``x`` is at position ``start + t`` (``start`` > 0 when a KV cache already
    holds the earlier positions).
    """
    check_tensor("x", x)
    start = check_int("start", start, 0)
    T, d = x.shape[-2], x.shape[-1]
    angle = rope_angles(torch.arange(start, start + T), d, base)  # (T, d/2)
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)  # (T, d/2) each
    even, odd = x[..., 0::2], x[..., 1::2]  # (..., T, d/2) each: the two halves of every pair
    turned = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)  # (..., T, d/2, 2)
    return turned.flatten(-2)  # (..., T, d): pairs back in place
