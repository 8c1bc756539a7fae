"""Checkers for chapter 1, the bottleneck."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..batch import EOS, PAD
from ..data.synthetic import SequenceTask
from ..seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2SeqConfig
from ..train import token_accuracy
from . import checker

EX11 = {"hidden": 64, "tokens": 40}  # exercise 1.1: a bidirectional encoder, 64 units per direction
EX12 = {"p": 0.9, "tokens": 10}  # exercise 1.2: per-token accuracy, sequence length


def _number(answer: Any) -> float:
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        raise TypeError(f"expected a number, got {type(answer).__name__}")
    return float(answer)


@checker("1.1")
def _context_size(answer: Any) -> tuple[bool, str]:
    h, T = EX11["hidden"], EX11["tokens"]
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        return False, "give two numbers: (numbers in c, numbers in all the states h_1..h_T)"
    c, states = (_number(a) for a in answer)
    if c == h:
        return False, f"{h} is one direction; a bidirectional encoder's final state joins both directions"
    if c != 2 * h:
        return False, "c is the encoder's final state: both directions, concatenated"
    if states == T * h:
        return False, "each state h_j joins both directions too"
    if states != T * 2 * h:
        return False, "an attention decoder can read one state per source token"
    return True, f"correct: c has {2 * h} numbers for any T; the {T} states hold {T * 2 * h}"


@checker("1.2")
def _all_right(answer: Any) -> tuple[bool, str]:
    p, n = EX12["p"], EX12["tokens"]
    got, want = _number(answer), p**n
    if np.isclose(got, p, atol=0.005):
        return False, f"{p} is the chance of one token; all {n} must be right"
    if np.isclose(got, p * n, atol=0.05) or np.isclose(got, 1 - (1 - p) ** n, atol=0.005):
        return False, "independent events that must all happen: multiply their probabilities"
    if not np.isclose(got, want, atol=0.005):
        return False, f"not quite: the chance that all {n} independent tokens are right is p × p × ... × p"
    return True, f"correct: {p}^{n} = {want:.3f}, only about one sequence in three"


def _random_case(rng: np.random.Generator, B: int, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    """pred (B, T) and target (B, T): target padded with PAD after a random length (possibly 0)."""
    target = torch.from_numpy(rng.integers(1, 8, size=(B, T)))
    lengths = rng.integers(1, T + 1, size=B)
    lengths[0] = T
    pad = torch.arange(T) >= torch.from_numpy(lengths)[:, None]
    target = target.masked_fill(pad, PAD)
    pred = torch.where(
        torch.from_numpy(rng.random((B, T)) < 0.6), target, torch.from_numpy(rng.integers(0, 8, size=(B, T)))
    )
    return pred, target


@checker("1.3")
def _token_accuracy(fn: Any) -> tuple[bool, str]:
    rng = np.random.default_rng(13)
    for B, T in [(1, 4), (5, 7), (16, 21)]:
        pred, target = _random_case(rng, B, T)
        out = fn(pred, target)
        if out is None:
            return False, "my_token_accuracy returns None: write its body, then run the cell again"
        got, want = float(out), token_accuracy(pred, target, pad_id=PAD)
        if np.isclose(got, float((pred == target).float().mean()), atol=1e-9) and not np.isclose(got, want):
            return False, (
                "you count the padding: a PAD in the target is not a token to predict; "
                "compare only where target != PAD"
            )
        if not np.isclose(got, want, atol=1e-9):
            return False, f"for a ({B}, {T}) batch expected {want:.4f}, got {got:.4f}"
    return True, "correct: your accuracy matches attnlib.train.token_accuracy"


def _tiny_models() -> list:
    """Two small untrained models (fixed weights) and a batch to decode."""
    config = Seq2SeqConfig(12, 12, embed=8, hidden=16, attention_hidden=8)
    with torch.random.fork_rng():  # leave the reader's random state alone
        models = []
        for i, Model in enumerate((FixedContextSeq2Seq, AttentionSeq2Seq)):
            torch.manual_seed(100 + i)
            models.append(Model(config).eval())
    return models


@checker("1.4")
def _greedy_decode(fn: Any) -> tuple[bool, str]:
    batch = SequenceTask("copy", 12, 2, 6).sample(8, seed=4)
    max_len = batch.tgt_out.shape[1]
    for model in _tiny_models():
        want, _ = model.greedy_decode(batch.src, batch.src_lengths, max_len=max_len)  # (B, max_len)
        with torch.no_grad():
            out = fn(model, batch.src, batch.src_lengths, max_len)
        if out is None:
            return False, "my_greedy_decode returns None: write its body, then run the cell again"
        got = torch.as_tensor(out)
        if got.shape != want.shape:
            return (
                False,
                f"return one row per sequence and max_len columns: expected {tuple(want.shape)}, "
                f"got {tuple(got.shape)}",
            )
        is_eos = (want == EOS).long()
        upto_eos = (is_eos.cumsum(dim=1) - is_eos) == 0  # up to and including the first EOS
        if not torch.equal(got[upto_eos], want[upto_eos]):
            name = type(model).__name__
            return False, (
                f"your tokens differ from {name}.greedy_decode: start from s0 of "
                "model.encode, feed SOS first, then feed back each step's argmax"
            )
    return True, "correct: your loop matches greedy_decode for both models"
