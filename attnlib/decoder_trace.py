r"""What a trained attention decoder asks and reads at each step, for checking by hand.

:func:`attnlib.translate.translate` returns what a decoder wrote, its weights and its context
vectors. To redo one step of attention by hand (chapter 3) we also need the **query** of each
step, the decoder's previous state :math:`s_{t-1}`, and the model's own **scores**
:math:`e_{tj}` before the softmax. :func:`trace_decoder` replays the greedy translation one
step at a time and records them:

.. math::

    e_{tj} = v^\top \tanh(W_q s_{t-1} + W_k h_j + b), \qquad
    \alpha_t = \operatorname{softmax}(e_t), \qquad
    c_t = \sum_j \alpha_{tj} h_j
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .batch import SOS
from .seq2seq import AttentionSeq2Seq
from .translate import TranslationData, translate


@dataclass(frozen=True, eq=False)
class DecoderTrace:
    """One greedy translation, step by step: what the decoder asked and what it read."""

    source: tuple[str, ...]  # the source tokens, as read
    output: tuple[str, ...]  # the tokens written, one per step (the last is "<eos>" if it stopped)
    queries: np.ndarray  # (T_out, d_q) s_{t-1}: the decoder state that asks at step t
    states: np.ndarray  # (T_in, d_k) encoder states h_j: the keys, and the values
    scores: np.ndarray  # (T_out, T_in) the model's scores e_tj
    weights: np.ndarray  # (T_out, T_in) the model's weights α_tj
    contexts: np.ndarray  # (T_out, d_k) the model's context vectors c_t


@torch.no_grad()
def trace_decoder(
    model: AttentionSeq2Seq, sentence: str | Sequence[str], data: TranslationData, max_len: int = 30
) -> DecoderTrace:
    """Translate ``sentence`` greedily and record every step's query, scores, weights and context.

    The weights and contexts are the model's own (from :func:`~attnlib.translate.translate`);
    the queries and scores come from replaying the same steps through the model's encoder,
    attention and decoder cell. Raises ``TypeError`` unless ``model`` is an
    :class:`~attnlib.seq2seq.AttentionSeq2Seq` (only it has one query per step).
    """
    if not isinstance(model, AttentionSeq2Seq):
        raise TypeError(f"model must be an attnlib.seq2seq.AttentionSeq2Seq, got {type(model).__name__}")
    read = translate(model, sentence, data, max_len=max_len)  # validates the other arguments
    src = torch.tensor([data.src_vocab.encode(read.source)])  # (1, T_in)
    memory, state = model.encode(src, torch.tensor([src.shape[1]]))  # state: s_0, (1, d_q)
    out_ids = data.tgt_vocab.encode(list(read.output))  # the tokens greedy decoding wrote, <eos> included
    y = torch.tensor([SOS])  # (1,) the first input
    queries, scores = [], []
    for token_id in out_ids:
        queries.append(state[0])  # s_{t-1}, (d_q,)
        scores.append(model.attention.score(state, memory.projected)[0])  # e_t, (T_in,)
        _, state, _ = model.step(y, state, memory)  # s_t
        y = torch.tensor([token_id])  # feed back the token greedy decoding wrote
    return DecoderTrace(
        source=read.source,
        output=read.output,
        queries=torch.stack(queries).double().numpy(),  # (T_out, d_q)
        states=read.states,
        scores=torch.stack(scores).double().numpy(),  # (T_out, T_in)
        weights=read.weights,
        contexts=read.contexts,
    )


__all__ = ["DecoderTrace", "trace_decoder"]
