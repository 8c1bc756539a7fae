"""What every sequence-to-sequence model, task and corpus in the book shares: the special
token ids and the padded :class:`Batch`.

Every vocabulary of the book starts with the same three special tokens, so one model
class reads chapter 1's synthetic tasks and chapter 4's corpus alike::

    src      7 4 9 PAD        (B, T_in)   source ids, padded
    tgt_in   SOS 9 4 7        (B, T_out)  what the decoder reads (teacher forcing)
    tgt_out  9 4 7 EOS        (B, T_out)  what it must write
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["EOS", "PAD", "SOS", "Batch"]

PAD = 0  # padding; never a real token, ignored by the loss and the metrics
SOS = 1  # start of sequence: the decoder's first input
EOS = 2  # end of sequence: the decoder's last expected output


@dataclass(frozen=True, eq=False)
class Batch:
    """A padded batch of source/target pairs (all int64 tensors)."""

    src: torch.Tensor  # (B, T_in) source tokens, PAD after each sequence's end
    src_lengths: torch.Tensor  # (B,) number of real tokens in each source
    tgt_in: torch.Tensor  # (B, T_out) decoder input: SOS + target, then PAD
    tgt_out: torch.Tensor  # (B, T_out) decoder output: target + EOS, then PAD

    def __len__(self) -> int:
        return self.src.shape[0]

    def to(self, device: torch.device | str) -> Batch:
        """The same batch on ``device``."""
        return Batch(
            *(getattr(self, name).to(device) for name in ("src", "src_lengths", "tgt_in", "tgt_out"))
        )
