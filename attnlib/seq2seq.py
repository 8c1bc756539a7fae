r"""GRU encoder–decoders with and without attention (chapters 1 and 4).

Both models share one encoder and one decoder step; they differ only in the
context vector :math:`c_t` the decoder reads at step :math:`t` (the hook
:meth:`Seq2Seq.attend`):

* :class:`FixedContextSeq2Seq` (Cho et al. 2014): :math:`c_t = c`, the encoder's
  final state, the same at every step: the whole source squeezed into one vector.
* :class:`AttentionSeq2Seq` (Bahdanau et al. 2015): :math:`c_t = \sum_j \alpha_{tj} h_j`,
  with weights from :class:`~attnlib.nn.AdditiveAttention` queried by :math:`s_{t-1}`.

One decoder step, for both:

.. math::

    s_t = \mathrm{GRU}([\operatorname{emb}(y_{t-1}); c_t],\ s_{t-1}), \qquad
    p(y_t) = \mathrm{softmax}\big(W_o [s_t; c_t; \operatorname{emb}(y_{t-1})]\big), \qquad
    s_0 = \tanh(W_b\, c)

Padding never reaches the encoder's final state: the encoder runs on packed
sequences, and attention gives padded positions weight exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ._validate import check_dropout, check_int, check_token_ids
from .model import SequenceModel, SourceReading
from .nn import AdditiveAttention


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Sizes and special tokens of a GRU encoder–decoder."""

    src_vocab: int  # source vocabulary size, special tokens included
    tgt_vocab: int  # target vocabulary size, special tokens included
    embed: int = 32  # token embedding width (source and target)
    hidden: int = 64  # GRU units, per direction in the encoder
    attention_hidden: int = 64  # width of the tanh layer in additive attention
    bidirectional: bool = False  # encoder reads both ways and concatenates (chapter 4)
    dropout: float = 0.0  # dropout on embeddings and before the output layer
    pad_id: int = 0  # padding token, in both vocabularies
    sos_id: int = 1  # start-of-sequence token: the decoder's first input
    eos_id: int = 2  # end-of-sequence token: the decoder's last output

    def __post_init__(self) -> None:
        for name in ("src_vocab", "tgt_vocab", "embed", "hidden", "attention_hidden"):
            check_int(name, getattr(self, name), low=1)
        check_token_ids(self)
        if not isinstance(self.bidirectional, bool):
            raise TypeError(f"bidirectional must be a bool, got {type(self.bidirectional).__name__}")
        check_dropout(self.dropout)

    @property
    def encoder_size(self) -> int:
        """The width of each encoder state h_j (hidden, or 2 * hidden if bidirectional)."""
        return self.hidden * (2 if self.bidirectional else 1)


class Memory(NamedTuple):
    """What the decoder may read about the source."""

    states: torch.Tensor  # (B, T_in, enc) encoder states h_j; zeros on padding
    final: torch.Tensor  # (B, enc) the encoder's last state (both directions if bidirectional)
    mask: torch.Tensor  # (B, T_in) True on real tokens
    projected: torch.Tensor | None  # attention's precomputed keys, or None


class Encoder(nn.Module):
    """Embedding + GRU over packed sequences: src (B, T_in) -> states, final state."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(config.src_vocab, config.embed, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.gru = nn.GRU(config.embed, config.hidden, batch_first=True, bidirectional=config.bidirectional)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return states (B, T_in, enc) and the final state (B, enc)."""
        x = self.dropout(self.embedding(src))  # (B, T_in, embed)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h_n = self.gru(packed)  # h_n: (directions, B, hidden), taken at each real end
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        final = h_n.transpose(0, 1).reshape(src.shape[0], -1)  # (B, directions * hidden)
        return states, final


class Seq2Seq(SequenceModel):
    """Shared encoder–decoder; subclasses choose the context with :meth:`attend`."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        if not isinstance(config, Seq2SeqConfig):
            raise TypeError(f"config must be a Seq2SeqConfig, got {type(config).__name__}")
        self.config = config
        c, enc = config, config.encoder_size
        self.encoder = Encoder(config)
        self.bridge = nn.Linear(enc, c.hidden)  # W_b: final encoder state -> s_0
        self.embedding = nn.Embedding(c.tgt_vocab, c.embed, padding_idx=c.pad_id)
        self.cell = nn.GRUCell(c.embed + enc, c.hidden)
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.hidden + enc + c.embed, c.tgt_vocab)  # W_o

    # -- hooks ------------------------------------------------------------
    def project(self, states: torch.Tensor) -> torch.Tensor | None:
        """Hook: precompute what :meth:`attend` needs from the states, once per source."""
        return None

    def attend(self, state: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Hook: the context c_t (B, enc) from s_{t-1} (B, hidden), and weights (B, T_in) or None."""
        raise NotImplementedError

    # -- shared machinery -------------------------------------------------
    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[Memory, torch.Tensor]:
        """Run the encoder; return the decoder's memory and initial state s_0 (B, hidden)."""
        self.check_batch(src, src_lengths)
        states, final = self.encoder(src, src_lengths)
        mask = torch.arange(src.shape[1], device=src.device) < src_lengths[:, None]  # (B, T_in)
        s0 = torch.tanh(self.bridge(final))  # (B, hidden)
        return Memory(states, final, mask, self.project(states)), s0

    def step(
        self, y_prev: torch.Tensor, state: torch.Tensor, memory: Memory
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One decoder step: y_{t-1} (B,), s_{t-1} (B, hidden) -> logits (B, V), s_t, weights."""
        e = self.dropout(self.embedding(y_prev))  # (B, embed)
        context, weights = self.attend(state, memory)  # (B, enc), (B, T_in) or None
        state = self.cell(torch.cat([e, context], dim=-1), state)  # (B, hidden)
        features = torch.cat([state, context, e], dim=-1)  # (B, hidden + enc + embed)
        return self.out(self.dropout(features)), state, weights

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, need_weights: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher forcing: logits (B, T_out, V) and weights (B, T_out, T_in) or None
        (always None without attention, or with ``need_weights=False``)."""
        memory, state = self.encode(src, src_lengths)
        self.check_target(tgt_in, len(src))
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            step_logits, state, w = self.step(tgt_in[:, t], state, memory)
            logits.append(step_logits)
            weights.append(w)
        logits = torch.stack(logits, dim=1)  # (B, T_out, V)
        return logits, _stack_weights(weights) if need_weights else None

    @torch.no_grad()
    def greedy_decode(
        self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Feed back the most likely token; return tokens (B, max_len) and weights or None.

        After a sequence's first EOS its tokens are PAD and its weights are 0.
        """
        y = self.start_tokens(src, max_len)  # (B,) SOS
        memory, state = self.encode(src, src_lengths)
        tokens, weights = [], []
        for _ in range(max_len):
            step_logits, state, w = self.step(y, state, memory)
            y = step_logits.argmax(dim=-1)  # (B,)
            tokens.append(y)
            weights.append(w)
        tokens = torch.stack(tokens, dim=1)  # (B, max_len)
        after_eos = self.after_eos(tokens)  # (B, max_len)
        weights = _stack_weights(weights)
        if weights is not None:
            weights = weights.masked_fill(after_eos[..., None], 0.0)
        return tokens.masked_fill(after_eos, self.config.pad_id), weights

    @torch.no_grad()
    def read_source(
        self, src: torch.Tensor, src_lengths: torch.Tensor, attention: torch.Tensor | None
    ) -> SourceReading:
        """The encoder states, the weights (B, T_out, T_in) or None, and each step's context:
        the weighted average of the states, or the one vector c at every step without attention."""
        memory, _ = self.encode(src, src_lengths)
        if attention is None:  # the fixed vector: c at every step
            return SourceReading(memory.states, None, memory.final[:, None, :])  # (B, 1, enc)
        contexts = attention @ memory.states  # (B, T_out, T_in) @ (B, T_in, enc) -> (B, T_out, enc)
        return SourceReading(memory.states, attention, contexts)


def _stack_weights(weights: list[torch.Tensor | None]) -> torch.Tensor | None:
    """Per-step weights [(B, T_in)] * T_out -> (B, T_out, T_in), or None without attention."""
    return None if weights[0] is None else torch.stack(weights, dim=1)


class FixedContextSeq2Seq(Seq2Seq):
    """The bottleneck: every step reads the same vector c, the encoder's final state."""

    def attend(self, state: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, None]:
        return memory.final, None  # (B, enc); no weights: nothing is attended to


class AttentionSeq2Seq(Seq2Seq):
    """Bahdanau's decoder: c_t = attention(query s_{t-1}, keys = values = encoder states)."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__(config)
        self.attention = AdditiveAttention(config.hidden, config.encoder_size, config.attention_hidden)

    def project(self, states: torch.Tensor) -> torch.Tensor:
        return self.attention.project_keys(states)  # (B, T_in, attention_hidden), once per source

    def attend(self, state: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        return self.attention(state, memory.states, memory.mask, memory.projected)
