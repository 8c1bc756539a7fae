"""Checkers for chapter 1, the bottleneck."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..batch import EOS, PAD
from ..bottleneck import load_model, load_runs
from ..data.synthetic import SequenceTask
from ..seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2SeqConfig
from ..train import token_accuracy
from . import checker

EX11 = {"hidden": 64, "tokens": 40}  # exercise 1.1: a bidirectional encoder, 64 units per direction
EX14 = {"length": 15, "threshold": 0.5}  # exercise 1.4: accuracy on inputs of this length reaching this
EX15 = {"length": 12, "n": 300, "seed": 15}  # exercise 1.5: inputs of this length, how many, their seed


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
    return True, (
        f"correct: c has {2 * h} numbers for any T; the {T} states hold {T * 2 * h}. "
        "c = [→h_T; ←h_1] joins the two directions' final states, so it is none of the h_j"
    )


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


@checker("1.2")
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


@checker("1.3")
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


def first_step_reaching(runs: list, length: int, threshold: float) -> int | None:
    """The first measured step at which the seeds' mean accuracy on ``length``-token inputs
    reaches ``threshold`` (None if it never does)."""
    steps = runs[0].measured_at
    mean = np.mean([r.by_length[:, length] for r in runs], axis=0)  # (checks,)
    hit = np.flatnonzero(mean >= threshold)
    return int(steps[hit[0]]) if len(hit) else None


def _sizes() -> dict[int, list]:
    runs = load_runs(task="copy", kind="fixed")
    return {h: [r for r in runs if r.settings.hidden == h] for h in sorted({r.settings.hidden for r in runs})}


@checker("1.4")
def _steps_to_learn(answer: Any) -> tuple[bool, str]:
    n, threshold = EX14["length"], EX14["threshold"]
    want = {h: first_step_reaching(rs, n, threshold) for h, rs in _sizes().items()}
    if not isinstance(answer, dict):
        return False, "give a dict {units: step}, e.g. {32: None, 64: 2000, 128: 500}"
    if sorted(answer) != sorted(want):
        return False, f"give one step for each size of the cached fixed-vector runs: {sorted(want)}"
    for h, step in want.items():
        got = answer[h]
        if got != step:
            hint = "it never gets there: None" if step is None else "the first step whose mean reaches it"
            return False, (
                f"{h} units: you give {got}; look at the mean over the seeds of "
                f"run.by_length[:, {n}] at each step of run.measured_at ({hint})"
            )
    reached = {h: s for h, s in want.items() if s is not None}
    summary = ", ".join(f"{h} units: {'never' if s is None else f'step {s:,}'}" for h, s in want.items())
    return True, f"correct: {summary}. More units reach the same accuracy in fewer steps" + (
        "" if len(reached) == len(want) else ", and the smallest never does within the runs"
    )


def on_source_share(model: Any, batch: Any, task: SequenceTask) -> float:
    """The checker's own answer to exercise 1.5."""
    tokens, weights = model.greedy_decode(batch.src, batch.src_lengths, max_len=batch.tgt_out.shape[1])
    source = task.source_positions(batch.src_lengths, tokens.shape[1])  # (B, T_out): -1 at EOS and after
    is_eos = (tokens == EOS).long()
    written = ((is_eos.cumsum(dim=1) - is_eos) == 0) & (tokens != EOS) & (source >= 0)  # before EOS
    peak = weights.argmax(dim=-1)  # (B, T_out)
    return ((peak == source) & written).sum().item() / written.sum().item()


@checker("1.5")
def _where_attention_looks(fn: Any) -> tuple[bool, str]:
    shares = {}
    for name in ("copy", "reverse"):
        run = load_runs(task=name, kind="attention", hidden=64, seed=0)[0]
        model = load_model(run)
        task = SequenceTask(name, run.settings.vocab_size, EX15["length"], EX15["length"])
        batch = task.sample(EX15["n"], seed=EX15["seed"])
        with torch.no_grad():
            out = fn(model, batch, task)
        if out is None:
            return False, "share_on_source returns None: write its body, then run the cell again"
        got, want = float(out), on_source_share(model, batch, task)
        if not np.isclose(got, want, atol=1e-9):
            return False, (
                f"on the {name} task expected {want:.4f}, got {got:.4f}: count only the tokens written "
                "before EOS, and compare each step's argmax weight with task.source_positions"
            )
        shares[name] = want
    return True, (
        f"correct: the largest weight falls on the token being written for {shares['copy']:.0%} of the "
        f"copy outputs but only {shares['reverse']:.0%} of the reverse outputs. The keys are encoder "
        "states, not tokens: writing x_j backwards, the reverse model looks mostly at h_(j+1), the "
        "left-to-right state that read x_j one step before (shift the comparison by one and see)"
    )
