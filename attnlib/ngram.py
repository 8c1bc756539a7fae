r"""The losses to beat: unigram and bigram models of the next character.

A language model's loss is its cross-entropy, the mean of :math:`-\ln p(y_t \mid x_{\le t})`
over the characters it predicts, in nats (divide by :math:`\ln 2` for bits). Two models
need no training at all, only counting:

* **unigram**: :math:`p(y_t) = c(y_t) / N`, how often each character occurs; it ignores
  the context entirely;
* **bigram**: :math:`p(y_t \mid x_t) = c(x_t\, y_t) / c(x_t)`, how often each character
  follows the current one; it sees one character of context.

Both are counted on the training stream with add-:math:`\alpha` smoothing (so a pair never
seen still has a small probability) and scored on the same ``(x, y)`` windows as the
network, so the three numbers are comparable. A model with attention over 64 characters
of context should beat both.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validate import check_int, check_positive

__all__ = ["bigram_loss", "bigram_probs", "unigram_loss", "unigram_probs"]


def _ids(name: str, ids: object, vocab_size: int) -> np.ndarray:
    """``ids`` as a numpy int array of ids in [0, vocab_size), or a clear error."""
    arr = ids.numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    if arr.dtype.kind not in "iu" or arr.size == 0:
        raise TypeError(
            f"{name} must be a non-empty array of integer ids, got dtype {arr.dtype} and shape {arr.shape}"
        )
    if arr.min() < 0 or arr.max() >= vocab_size:
        raise ValueError(f"{name} holds ids outside [0, {vocab_size}): min {arr.min()}, max {arr.max()}")
    return arr


def unigram_probs(train_ids: object, vocab_size: int, alpha: float = 1.0) -> np.ndarray:
    """p(c) = (count(c) + α) / (N + α V): (V,)."""
    vocab_size = check_int("vocab_size", vocab_size, 1)
    ids = _ids("train_ids", train_ids, vocab_size).ravel()
    counts = np.bincount(ids, minlength=vocab_size) + check_positive("alpha", alpha)  # (V,)
    return counts / counts.sum()


def bigram_probs(train_ids: object, vocab_size: int, alpha: float = 1.0) -> np.ndarray:
    """p(b | a) = (count(a b) + α) / (count(a ·) + α V): (V, V), row a sums to 1."""
    vocab_size = check_int("vocab_size", vocab_size, 1)
    ids = _ids("train_ids", train_ids, vocab_size).ravel()
    counts = np.full((vocab_size, vocab_size), check_positive("alpha", alpha))  # (V, V)
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)  # count every neighbouring pair
    return counts / counts.sum(axis=1, keepdims=True)


def unigram_loss(train_ids: object, y: object, vocab_size: int, alpha: float = 1.0) -> float:
    """Mean -ln p(y_t) over the targets ``y`` (any shape), in nats."""
    p = unigram_probs(train_ids, vocab_size, alpha)
    return float(-np.log(p[_ids("y", y, vocab_size)]).mean())


def bigram_loss(train_ids: object, x: object, y: object, vocab_size: int, alpha: float = 1.0) -> float:
    """Mean -ln p(y_t | x_t) over windows ``x, y`` of the same shape (y = x shifted by one), in nats."""
    x_ids, y_ids = _ids("x", x, vocab_size), _ids("y", y, vocab_size)
    if x_ids.shape != y_ids.shape:
        raise ValueError(f"x and y must have the same shape, got {x_ids.shape} and {y_ids.shape}")
    p = bigram_probs(train_ids, vocab_size, alpha)
    return float(-np.log(p[x_ids, y_ids]).mean())
