r"""Step 2 of the recipe: turn scores into weights that sum to 1.

.. math::

    \alpha_{ij} = \frac{m_{ij}\, \exp\big((e_{ij} - \hat e_i)/\tau\big)}
                       {\sum_{j'} m_{ij'}\, \exp\big((e_{ij'} - \hat e_i)/\tau\big)}

* Subtracting the row's largest allowed score, :math:`\hat e_i = \max_{j:\,m_{ij}} e_{ij}`, changes
  nothing mathematically (it cancels) but keeps :math:`\exp` from overflowing: the largest
  exponent is 0.
* The mask :math:`m_{ij} \in \{0, 1\}` removes keys: a masked key gets weight exactly 0.
* The temperature :math:`\tau > 0` sets the sharpness: large :math:`\tau` flattens the
  weights towards a uniform average, small :math:`\tau` concentrates them on the best key.

**Rows with every key masked.** Such a row has nothing to attend to. Plain softmax
would compute 0/0 = NaN there; ``attnlib`` returns weights of exactly 0 instead, so
the context vector of that row is the zero vector. This is what padding needs: a
fully padded query contributes nothing and never poisons a batch with NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array, check_finite, check_mask, check_temperature


def softmax(scores: Any, mask: Any = None, temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax over the last axis, with optional mask and temperature.

    scores (..., T_k) -> weights (..., T_k); ``mask`` (bool, True = keep) broadcasts
    to ``scores``. Rows with every entry masked get all-zero weights (see module doc).
    """
    s = as_float_array("scores", scores)
    if s.ndim == 0 or s.shape[-1] == 0:
        raise ValueError(f"scores must have at least one entry on the last axis, got shape {s.shape}")
    check_finite("scores", s)
    t = check_temperature(temperature)
    if mask is None:
        keep = np.ones(s.shape, dtype=bool)
    else:
        mask = np.asarray(mask)
        check_mask(mask, s.shape)
        keep = np.broadcast_to(mask, s.shape)
    z = np.where(keep, s / t, -np.inf)  # (..., T_k) masked entries drop out
    top = z.max(axis=-1, keepdims=True)  # (..., 1) the stabilising shift, ê_i / τ
    top = np.where(np.isfinite(top), top, 0.0)  # a fully masked row has max -inf
    e = np.where(keep, np.exp(z - top), 0.0)  # (..., T_k) every exponent <= 0
    total = e.sum(axis=-1, keepdims=True)  # (..., 1) zero only for fully masked rows
    return e / np.where(total > 0, total, 1.0)
