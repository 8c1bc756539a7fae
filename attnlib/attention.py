r"""The whole recipe in numpy: scores, softmax, weighted sum.

.. math::

    \alpha = \operatorname{softmax}\big(\operatorname{score}(Q, K) / \tau\big),
    \qquad c = \alpha V

Shapes. One query: ``query (d,)``, ``keys (T_k, d)``, ``values (T_k, d_v)``
give ``context (d_v,)`` and ``weights (T_k,)``. A batch: ``query (..., T_q, d)``,
``keys (..., T_k, d)``, ``values (..., T_k, d_v)`` give ``context (..., T_q, d_v)``
and ``weights (..., T_q, T_k)``. The mask is boolean, True where a query may look
at a key, and broadcasts to ``(..., T_q, T_k)`` (one query: ``(T_k,)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array, check_finite, check_mask, check_qkv, check_temperature
from .scores import Score, get_score
from .softmax import softmax


def attention(
    query: Any,
    keys: Any,
    values: Any,
    mask: Any = None,
    score: Score = "scaled_dot",
    temperature: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Attend from ``query`` over ``keys``; return ``(context, weights)``.

    1. scores  ``e = score(query, keys)``            (..., T_q, T_k)
    2. weights ``α = softmax(e / temperature, mask)`` (..., T_q, T_k), rows sum to 1
    3. context ``c = α @ values``                    (..., T_q, d_v)

    ``score`` is a name from :data:`attnlib.scores.SCORES` (``"dot"``,
    ``"scaled_dot"``, ``"cosine"``), a :class:`~attnlib.scores.General` or
    :class:`~attnlib.scores.Additive` instance, or any callable with the same shapes.
    A query row whose keys are all masked gets zero weights and a zero context.
    """
    q, k, v, mask, score_fn = checked_inputs(query, keys, values, mask, score, temperature)
    single = q.ndim == 1
    if single:
        q = q[None, :]  # (d,) -> (1, d): one query row
    scores = np.asarray(score_fn(q, k))  # 1. (..., T_q, T_k)
    weights = softmax(scores, mask=mask, temperature=temperature)  # 2. (..., T_q, T_k)
    context = weights @ v  # 3. (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    if single:
        return context[0], weights[0]  # (d_v,), (T_k,)
    return context, weights


def checked_inputs(
    query: Any, keys: Any, values: Any, mask: Any, score: Score, temperature: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any, Any]:
    """Every check :func:`attention` makes before it computes, in one place.

    Returns query, keys and values as float arrays, the mask as an array (or None) and the
    score function; raises a ``TypeError`` or ``ValueError`` that names the bad argument.
    """
    q = as_float_array("query", query)
    k = as_float_array("keys", keys)
    v = as_float_array("values", values)
    batch = check_qkv(q, k, v)
    for name, arr in (("query", q), ("keys", k), ("values", v)):
        check_finite(name, arr)
    score_fn = get_score(score)
    check_temperature(temperature)
    if mask is not None:
        mask = np.asarray(mask)
        check_mask(mask, (k.shape[-2],) if q.ndim == 1 else (*batch, q.shape[-2], k.shape[-2]))
    return q, k, v, mask, score_fn
