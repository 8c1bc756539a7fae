"""Synthetic sequence tasks for chapter 1: copy or reverse random token sequences.

A source is a random string of ordinary tokens (ids ``FIRST_TOKEN .. vocab_size-1``)
whose length is drawn uniformly from ``[min_len, max_len]``. The target is the
same string (``copy``) or the string backwards (``reverse``), followed by ``EOS``.
With teacher forcing the decoder reads ``SOS`` + target and must predict target + ``EOS``::

    src      7 4 9            (B, T_in),  padded with PAD
    tgt_in   SOS 9 4 7        (B, T_out), T_out = T_in + 1
    tgt_out  9 4 7 EOS        (B, T_out)

Everything is drawn from a numpy ``Generator``, so a seed fixes every batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from .._validate import check_int
from ..batch import EOS, PAD, SOS, Batch

__all__ = ["FIRST_TOKEN", "TASKS", "SequenceTask"]

FIRST_TOKEN = 3  # ordinary tokens are FIRST_TOKEN, ..., vocab_size - 1
TASKS = ("copy", "reverse")


@dataclass(frozen=True)
class SequenceTask:
    """Copy or reverse random sequences; :meth:`sample` draws a :class:`~attnlib.batch.Batch`.

    >>> SequenceTask("reverse", vocab_size=10, min_len=3, max_len=3).sample(1, seed=0).src.shape
    torch.Size([1, 3])
    """

    name: str = "reverse"  # "copy" or "reverse"
    vocab_size: int = 20  # every token id, including PAD, SOS and EOS
    min_len: int = 3  # shortest source
    max_len: int = 10  # longest source

    def __post_init__(self) -> None:
        if self.name not in TASKS:
            raise ValueError(f"task name must be one of {TASKS}, got {self.name!r}")
        check_int("vocab_size", self.vocab_size, FIRST_TOKEN + 1)
        check_int("min_len", self.min_len, 1)
        check_int("max_len", self.max_len, 1)
        if self.min_len > self.max_len:
            raise ValueError(f"min_len ({self.min_len}) must be <= max_len ({self.max_len})")

    def source_positions(self, lengths: torch.Tensor, width: int) -> torch.Tensor:
        """Which source position each target token copies: (B,) lengths -> (B, width).

        ``copy``: target position t copies source position t; ``reverse``: position
        ``L - 1 - t``. Positions at or past the sequence's end (EOS, PAD) get -1.
        """
        t = torch.arange(width).expand(len(lengths), width)  # (B, width)
        L = lengths[:, None]  # (B, 1)
        pos = t if self.name == "copy" else L - 1 - t
        return torch.where(t < L, pos, -1)

    def sample(self, batch_size: int, seed: int | np.random.Generator) -> Batch:
        """Draw ``batch_size`` pairs, padded to the longest source in the batch."""
        check_int("batch_size", batch_size, 1)
        rng = np.random.default_rng(seed)
        lengths = torch.from_numpy(rng.integers(self.min_len, self.max_len + 1, size=batch_size))
        T = int(lengths.max())
        tokens = torch.from_numpy(rng.integers(FIRST_TOKEN, self.vocab_size, size=(batch_size, T)))
        real = torch.arange(T) < lengths[:, None]  # (B, T) True on real tokens
        src = tokens.masked_fill(~real, PAD)  # (B, T_in)
        source_of = self.source_positions(lengths, T)  # (B, T) index into src, -1 past the end
        target = src.gather(1, source_of.clamp(min=0)).masked_fill(~real, PAD)  # (B, T)
        pad_col = torch.full((batch_size, 1), PAD)
        tgt_out = torch.cat([target, pad_col], dim=1)  # (B, T + 1)
        tgt_out[torch.arange(batch_size), lengths] = EOS  # EOS right after the last token
        tgt_in = torch.cat([torch.full((batch_size, 1), SOS), target], dim=1)  # (B, T + 1)
        return Batch(src, lengths, tgt_in, tgt_out)

    def batches(self, batch_size: int, seed: int) -> Iterator[Batch]:
        """An endless, reproducible stream of training batches."""
        rng = np.random.default_rng(seed)
        while True:
            yield self.sample(batch_size, rng)
