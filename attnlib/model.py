r"""The one interface every sequence-to-sequence model of the book has.

Chapter 1's and chapter 4's GRU encoder–decoders (:mod:`attnlib.seq2seq`) and chapter 5's
Transformer (:mod:`attnlib.transformer`) are all a :class:`SequenceModel`, so one training
loop (:func:`attnlib.train.train`), one decoder (:func:`attnlib.train.predict`) and one
translator (:mod:`attnlib.translate`) serve them all::

    logits, attn = model(src, src_lengths, tgt_in)           # teacher forcing: (B, T_out, V)
    tokens, attn = model.greedy_decode(src, src_lengths, 12)  # (B, 12), PAD after the first EOS
    read = model.read_source(src, src_lengths, attn)          # what each step read of the source

``attn`` is whatever attention the model has (``None`` for the fixed-context model, one
``(B, T_out, T_in)`` alignment for Bahdanau's decoder, every layer and head for the
Transformer); :meth:`SequenceModel.read_source` turns it into one alignment matrix per
sentence, the form the chapters plot.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from ._validate import check_int


class SourceReading(NamedTuple):
    """What a decoder read of the source at each output step."""

    states: torch.Tensor  # (B, T_in, d) the encoder states attention reads (keys and values)
    weights: torch.Tensor | None  # (B, T_out, T_in) one alignment row per step, or None
    contexts: torch.Tensor  # (B, T_out, d) the context read at each step; (B, 1, d) if always the same


class SequenceModel(nn.Module):
    """Base class of the book's encoder–decoders: teacher forcing, greedy decoding, alignment.

    ``config`` names the vocabularies and the special ids (``src_vocab``, ``tgt_vocab``,
    ``pad_id``, ``sos_id``, ``eos_id``). Subclasses implement :meth:`forward`,
    :meth:`greedy_decode` and :meth:`read_source`.
    """

    config: Any

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, need_weights: bool = True
    ) -> tuple[torch.Tensor, Any]:
        """Teacher forcing: logits (B, T_out, tgt_vocab) and the model's attention (None with
        ``need_weights=False``, which lets a model skip work nobody reads: training does)."""
        raise NotImplementedError

    def greedy_decode(
        self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int
    ) -> tuple[torch.Tensor, Any]:
        """Feed back the most likely token: tokens (B, max_len) and the model's attention."""
        raise NotImplementedError

    def read_source(self, src: torch.Tensor, src_lengths: torch.Tensor, attention: Any) -> SourceReading:
        """The states, the per-step alignment and the contexts behind ``attention``
        (as returned by :meth:`forward` or :meth:`greedy_decode` for the same source)."""
        raise NotImplementedError

    # -- shared by every model ----------------------------------------------------------
    def check_batch(self, src: torch.Tensor, src_lengths: torch.Tensor) -> None:
        """Raise a clear error unless src (B, T_in) and src_lengths (B,) are valid ids/lengths."""
        for name, x in (("src", src), ("src_lengths", src_lengths)):
            if not isinstance(x, torch.Tensor) or x.dtype != torch.int64:
                raise TypeError(
                    f"{name} must be an int64 torch.Tensor, got {getattr(x, 'dtype', type(x).__name__)}"
                )
        if src.ndim != 2 or src_lengths.shape != (src.shape[0],):
            raise ValueError(
                f"need src (B, T_in) and src_lengths (B,); got src "
                f"{tuple(src.shape)}, src_lengths {tuple(src_lengths.shape)}"
            )
        if len(src_lengths) and (src_lengths.min() < 1 or src_lengths.max() > src.shape[1]):
            raise ValueError(f"src_lengths must lie in [1, T_in={src.shape[1]}], got {src_lengths.tolist()}")
        if src.numel() and (src.min() < 0 or src.max() >= self.config.src_vocab):
            raise ValueError(
                f"src holds ids outside [0, {self.config.src_vocab}): min "
                f"{src.min().item()}, max {src.max().item()}"
            )

    def check_target(self, tgt_in: Any, batch_size: int) -> None:
        """Raise a clear error unless ``tgt_in`` is a (B, T_out) int64 tensor of target ids."""
        if (
            not isinstance(tgt_in, torch.Tensor)
            or tgt_in.dtype != torch.int64
            or tgt_in.ndim != 2
            or len(tgt_in) != batch_size
        ):
            raise ValueError(
                f"tgt_in must be an int64 (B, T_out) tensor with B={batch_size}, "
                f"got {getattr(tgt_in, 'dtype', type(tgt_in).__name__)} "
                f"{tuple(getattr(tgt_in, 'shape', ()))}"
            )
        if tgt_in.numel() and (tgt_in.min() < 0 or tgt_in.max() >= self.config.tgt_vocab):
            raise ValueError(f"tgt_in holds ids outside [0, {self.config.tgt_vocab})")

    def start_tokens(self, src: torch.Tensor, max_len: int) -> torch.Tensor:
        """The decoder's first input, SOS for every sequence: (B,) on ``src``'s device."""
        check_int("max_len", max_len, low=1)
        return torch.full((len(src),), self.config.sos_id, dtype=torch.int64, device=src.device)

    def after_eos(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T) True strictly after each sequence's first EOS: what greedy decoding blanks."""
        is_eos = (tokens == self.config.eos_id).long()
        return (is_eos.cumsum(dim=1) - is_eos) > 0
