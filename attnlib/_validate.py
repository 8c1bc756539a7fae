"""Input checks shared by the numpy and torch code paths.

Every public function in ``attnlib`` calls these before it computes anything,
so a reader who passes the wrong thing gets a message that names the argument
and its shape, not a NaN or a traceback from deep inside numpy.
The checks only look at shapes, dtypes and values, so they work the same for
numpy arrays and torch tensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (``high=None``: no upper bound), else a clear error.

    ``bool`` is refused even though it is an ``int`` subclass: ``steps=True`` is a bug.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)


def check_index(name: str, value: Any, size: int) -> int:
    """``value`` as an index into a sequence of ``size`` items (an int in ``[0, size)``)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int (an index), got {type(value).__name__}")
    if not 0 <= value < size:
        raise ValueError(f"{name} must be an index in [0, {size}), got {value}")
    return int(value)


def check_tokens(name: str, tokens: Any) -> list[str]:
    """``tokens`` as a list of strings: a non-empty sequence (not a str) of str."""
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(f"{name} must be a list of strings, got {type(tokens).__name__}")
    bad = [tok for tok in tokens if not isinstance(tok, str)]
    if bad:
        raise TypeError(f"{name} must hold only strings; got {type(bad[0]).__name__} {bad[0]!r}")
    if not tokens:
        raise ValueError(f"{name} is empty: give at least one token")
    return list(tokens)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a float, or a clear error unless it is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return x


def check_dropout(value: Any) -> float:
    """A dropout probability: a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"dropout must be a number, got {type(value).__name__}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {value!r}")
    return float(value)


def check_token_ids(config: Any) -> None:
    """``config.pad_id``, ``sos_id`` and ``eos_id`` are ids in both ``config.src_vocab`` and
    ``config.tgt_vocab`` (the special tokens every sequence-to-sequence config names)."""
    for name in ("pad_id", "sos_id", "eos_id"):
        check_int(name, getattr(config, name), 0)
        if getattr(config, name) >= min(config.src_vocab, config.tgt_vocab):
            raise ValueError(
                f"{name}={getattr(config, name)} is not an id in vocabularies "
                f"of sizes {config.src_vocab} (src) and {config.tgt_vocab} (tgt)"
            )


def is_torch(x: Any) -> bool:
    """True if ``x`` is a torch tensor (without importing torch when unused)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _kind(x: Any) -> str:
    """A short name for the dtype of ``x``: 'float', 'int', 'bool', 'complex' or 'other'."""
    if is_torch(x):
        if x.dtype.is_floating_point:
            return "float"
        if x.dtype.is_complex:
            return "complex"
        return "bool" if str(x.dtype) == "torch.bool" else "int"
    k = x.dtype.kind
    return {"f": "float", "i": "int", "u": "int", "b": "bool", "c": "complex"}.get(k, "other")


def as_float_array(name: str, x: Any) -> np.ndarray:
    """Return ``x`` as a float numpy array, or raise ``TypeError`` naming ``name``.

    Integers are promoted to float64; booleans, complex numbers, strings and
    objects are refused, because none of them is a meaningful vector.
    """
    if is_torch(x):
        raise TypeError(
            f"{name} is a torch tensor; use attnlib.functional for tensors, or pass a numpy array here"
        )
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers; could not convert it: {err}") from None
    kind = _kind(arr)
    if kind == "int":
        return arr.astype(np.float64)
    if kind != "float":
        raise TypeError(f"{name} must hold real numbers (float or int), got dtype {arr.dtype}")
    return arr


def check_tensor(name: str, x: Any) -> None:
    """Raise ``TypeError`` unless ``x`` is a floating-point torch tensor."""
    if not is_torch(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if _kind(x) != "float":
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")


def check_finite(name: str, x: Any) -> None:
    """Raise ``ValueError`` if ``x`` holds a NaN or an infinity."""
    finite = x.isfinite().all().item() if is_torch(x) else bool(np.isfinite(x).all())
    if not finite:
        raise ValueError(
            f"{name} contains NaN or inf (shape {tuple(x.shape)}); attention needs finite inputs"
        )


def check_temperature(temperature: Any) -> float:
    """Return ``temperature`` as a float, or raise if it is not a finite number > 0."""
    return check_positive("temperature", temperature)


def check_qkv(query: Any, keys: Any, values: Any) -> tuple[int, ...]:
    """Check the shapes of query, keys and values; return the broadcast batch shape.

    Accepted layouts:

    * one query: ``query (d,)``, ``keys (T_k, d)``, ``values (T_k, d_v)``;
    * batches:   ``query (..., T_q, d)``, ``keys (..., T_k, d)``, ``values (..., T_k, d_v)``,
      with the leading ``...`` dimensions broadcastable.

    The query and key widths are *not* compared here: the score function decides
    (dot products need equal widths, additive scores do not).
    """
    q, k, v = tuple(query.shape), tuple(keys.shape), tuple(values.shape)
    if len(q) == 0:
        raise ValueError("query must have at least 1 dimension (d,), got a scalar")
    want = 2 if len(q) == 1 else len(q)
    for name, shape in (("keys", k), ("values", v)):
        if len(shape) != want:
            layout = "(T_k, d)" if len(q) == 1 else f"{len(q)}-D (..., T_k, d)"
            raise ValueError(
                f"{name} must be {layout} to match query of shape {q}, got {name} of shape {shape}"
            )
    if k[-2] != v[-2]:
        raise ValueError(
            f"keys and values must have the same number of positions T_k: "
            f"keys {k} has {k[-2]}, values {v} has {v[-2]}"
        )
    if k[-2] == 0:
        raise ValueError(f"keys is an empty sequence (shape {k}): attention needs at least one key")
    if len(q) >= 2 and q[-2] == 0:
        raise ValueError(f"query has no rows (shape {q}): nothing to attend from")
    for name, shape in (("query", q), ("keys", k), ("values", v)):
        if shape[-1] == 0:
            raise ValueError(f"{name} has zero features (shape {shape})")
    if len(q) == 1:
        return ()
    try:
        return tuple(np.broadcast_shapes(q[:-2], k[:-2], v[:-2]))
    except ValueError:
        raise ValueError(
            f"the batch dimensions of query {q}, keys {k} and values {v} "
            f"do not broadcast: {q[:-2]} vs {k[:-2]} vs {v[:-2]}"
        ) from None


def check_mask(mask: Any, scores_shape: tuple[int, ...]) -> None:
    """Check that ``mask`` is boolean and broadcasts to the scores' shape.

    ``mask[..., i, j]`` is True where query ``i`` may look at key ``j``
    (the same convention as ``torch.nn.functional.scaled_dot_product_attention``).
    """
    if _kind(mask) != "bool":
        raise TypeError(
            f"mask must be boolean (True = may attend), got dtype {mask.dtype}; "
            "for example pass mask.astype(bool) or lengths-based masks"
        )
    m = tuple(mask.shape)
    try:
        out = tuple(np.broadcast_shapes(m, scores_shape))
    except ValueError:
        out = None
    if out != tuple(scores_shape):
        raise ValueError(
            f"mask of shape {m} does not broadcast to the scores' shape {tuple(scores_shape)} (..., T_q, T_k)"
        )
