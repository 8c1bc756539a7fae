r"""Chapter 4's Chinese→English translator: data, training batches, translation, BLEU.

The models are chapter 4's (:mod:`attnlib.seq2seq`: a bidirectional-GRU encoder, and a
decoder with or without additive attention), but every function here takes any
:class:`~attnlib.model.SequenceModel` (chapter 5's Transformer too); this module
supplies what a translator needs around them::

    data    = prepare_data(TranslatorSettings())        # split, filter, vocabularies
    model   = build_model("attention", data, settings)  # seeded: same weights every time
    result  = train(model, training_batches(data, settings), settings.train_config(),
                    validation=settings.validation(data))  # keeps the best check's weights
    out     = translate(model, "我昨天住在他家。", data)   # tokens, attention weights, contexts
    score   = bleu(translate_many(model, [p.src for p in data.test], data),
                   [p.tgt for p in data.test])

Trained weights are stored with :func:`save_model` and read back with
:func:`load_model`, which refuses a file made with other settings or another
vocabulary; :func:`load_history` reads the training and validation curves stored
with them.

**Validation.** The corpus is split three ways (see
:func:`~attnlib.data.corpus.split_pairs`). The training pairs fit the weights;
the validation pairs choose which weights to keep (:func:`validation_loss`,
checked every ``settings.eval_every`` steps); the test pairs are only ever used
to report scores.

**BLEU.** :func:`bleu` is sacrebleu's ``corpus_bleu`` (Papineni et al. 2002;
Post 2018) on *our* tokens: lower-cased words and punctuation marks (see
:func:`~attnlib.data.corpus.tokenize_english`) joined by spaces, with sacrebleu's own
tokenizer switched off (``tokenize="none"``). Scores are therefore on
lower-cased, tokenised text and are not comparable with published, detokenised
BLEU (sacrebleu's default ``13a``). :func:`bleu_bootstrap` compares two systems
on the same sentences with sacrebleu's paired bootstrap resampling.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import torch

from ._validate import check_int
from .batch import EOS, Batch
from .data.corpus import (
    SPECIALS,
    UNK,
    Pair,
    Splits,
    Vocab,
    collate,
    encode_pairs,
    filter_by_length,
    load_pairs,
    normalize_chinese,
    split_pairs,
    tokenize_chinese,
)
from .model import SequenceModel
from .resources import data_path
from .seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2SeqConfig
from .train import TrainConfig, TrainResult, Validation, sequence_loss

__all__ = [
    "MODEL_KINDS",
    "WEIGHTS_DIR",
    "BootstrapScore",
    "BucketScore",
    "TrainingHistory",
    "Translation",
    "TranslationData",
    "TranslatorSettings",
    "bleu",
    "bleu_bootstrap",
    "bleu_by_length",
    "bleu_signature",
    "build_model",
    "load_history",
    "load_model",
    "prepare_data",
    "save_model",
    "training_batches",
    "translate",
    "translate_batch",
    "translate_many",
    "validation_loss",
    "vocab_digest",
]

WEIGHTS_DIR = data_path("weights")
MODEL_KINDS = ("attention", "fixed")  # AttentionSeq2Seq, FixedContextSeq2Seq
_MODELS = {"attention": AttentionSeq2Seq, "fixed": FixedContextSeq2Seq}
EOS_TOKEN = SPECIALS[EOS]


@dataclass(frozen=True)
class TranslatorSettings:
    """Every choice behind chapter 4's models: data, sizes, training budget."""

    max_len: int = 10  # keep training/test pairs with at most this many tokens on each side
    vocab_size: int = 1000  # per language, the 4 special tokens included; rarer tokens -> <unk>
    embed: int = 64  # token embedding width
    hidden: int = 128  # GRU units (per direction in the encoder: h_j has 2 * hidden)
    attention_hidden: int = 128  # width of the tanh layer in additive attention
    dropout: float = 0.1  # on embeddings and before the output layer, training only
    batch_size: int = 64  # sentence pairs per step
    steps: int = 3000  # step budget (about 12 passes over the training pairs)
    lr: float = 3e-3  # Adam's learning rate
    seed: int = 0  # seeds the split, the initial weights, the batches and dropout
    eval_every: int = 100  # steps between validation-loss checks; the best check's weights are kept

    def __post_init__(self) -> None:
        for name in (
            "max_len",
            "vocab_size",
            "embed",
            "hidden",
            "attention_hidden",
            "batch_size",
            "steps",
            "eval_every",
        ):
            check_int(name, getattr(self, name), 1)
        if self.vocab_size <= len(SPECIALS):
            raise ValueError(
                f"vocab_size must exceed the {len(SPECIALS)} special tokens, got {self.vocab_size}"
            )

    def model_config(self, data: TranslationData) -> Seq2SeqConfig:
        """The :class:`~attnlib.seq2seq.Seq2SeqConfig` for ``data``'s vocabularies."""
        return Seq2SeqConfig(
            len(data.src_vocab),
            len(data.tgt_vocab),
            embed=self.embed,
            hidden=self.hidden,
            attention_hidden=self.attention_hidden,
            bidirectional=True,
            dropout=self.dropout,
        )

    def train_config(self, steps: int | None = None) -> TrainConfig:
        """The :class:`~attnlib.train.TrainConfig` (1 thread), optionally with fewer ``steps``."""
        return TrainConfig(
            steps=self.steps if steps is None else steps, lr=self.lr, seed=self.seed, threads=1
        )

    def validation(self, data: TranslationData) -> Validation:
        """The :class:`~attnlib.train.Validation` of a full run: :func:`validation_loss` on
        ``data.validation`` every ``eval_every`` steps, keeping the best check's weights."""
        return Validation(
            functools.partial(validation_loss, data=_check_data(data)), every=self.eval_every, keep_best=True
        )


@dataclass(frozen=True, eq=False)
class TranslationData:
    """The corpus as chapter 4 uses it."""

    splits: Splits  # all pairs, 80/10/10; no Chinese or English sentence in two splits
    train: list[Pair]  # training pairs with at most max_len tokens on each side
    validation: list[Pair]  # validation pairs with at most max_len tokens on each side
    test: list[Pair]  # held-out pairs with at most max_len tokens on each side
    src_vocab: Vocab  # Chinese tokens of the training pairs
    tgt_vocab: Vocab  # English tokens of the training pairs
    max_len: int


def prepare_data(
    settings: TranslatorSettings | None = None, pairs: Sequence[Pair] | None = None
) -> TranslationData:
    """Split ``pairs`` (default: the shipped corpus), keep short pairs, build vocabularies.

    The split is :func:`~attnlib.data.corpus.split_pairs` (connected groups of pairs
    sharing a Chinese or an English sentence stay in one split), with
    ``settings.seed``; every split keeps its pairs of at most ``settings.max_len``
    tokens per side; the vocabularies hold the ``settings.vocab_size`` most
    frequent tokens of the kept training pairs.
    """
    settings = TranslatorSettings() if settings is None else _check_settings(settings)
    pairs = load_pairs() if pairs is None else list(pairs)
    if not pairs or not all(isinstance(p, Pair) for p in pairs):
        raise ValueError("pairs must be a non-empty list of attnlib.data.Pair (from load_pairs)")
    splits = split_pairs(pairs, seed=settings.seed)
    train, validation, test = (filter_by_length(part, settings.max_len, settings.max_len) for part in splits)
    if not train:
        raise ValueError(f"no training pair has at most max_len={settings.max_len} tokens per side")
    src_vocab = Vocab.build((p.src for p in train), max_size=settings.vocab_size)
    tgt_vocab = Vocab.build((p.tgt for p in train), max_size=settings.vocab_size)
    return TranslationData(splits, train, validation, test, src_vocab, tgt_vocab, settings.max_len)


def _check_type(name: str, value: Any, cls: type, what: str) -> Any:
    """``value`` if it is a ``cls``, else a TypeError: "{name} must be {what}, got ..."."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def _check_settings(settings: object) -> TranslatorSettings:
    return _check_type("settings", settings, TranslatorSettings, "a TranslatorSettings")


def _check_data(data: object) -> TranslationData:
    return _check_type("data", data, TranslationData, "a TranslationData (from prepare_data)")


def training_batches(
    data: TranslationData, settings: TranslatorSettings | None = None, pool: int = 20
) -> Iterator[Batch]:
    """An endless, reproducible stream of training batches of similar lengths.

    Each pass over ``data.train`` shuffles it (``numpy.random.default_rng(settings.seed)``),
    cuts the order into pools of ``pool`` batches, sorts each pool by target and
    source length (so a batch wastes few steps on padding), cuts the pools into
    batches of ``settings.batch_size`` and shuffles the batches. The few pairs left
    over by the last, incomplete batch wait for the next pass.
    """
    settings = TranslatorSettings() if settings is None else _check_settings(settings)
    data = _check_data(data)
    check_int("pool", pool, 1)
    examples = encode_pairs(data.train, data.src_vocab, data.tgt_vocab)
    if len(examples) < settings.batch_size:
        raise ValueError(f"batch_size={settings.batch_size} exceeds the {len(examples)} training pairs")
    return _batch_stream(examples, settings.batch_size, pool, settings.seed)  # checked now, not at next()


def _batch_stream(
    examples: list[tuple[list[int], list[int]]], size: int, pool: int, seed: int
) -> Iterator[Batch]:
    """The generator behind :func:`training_batches`."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(examples))[: len(examples) // size * size]
        batches = []
        for start in range(0, len(order), pool * size):
            chunk = sorted(
                order[start : start + pool * size].tolist(),
                key=lambda i: (len(examples[i][1]), len(examples[i][0])),
            )
            batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
        for b in rng.permutation(len(batches)):
            yield collate([examples[i] for i in batches[b]])


def build_model(
    kind: Literal["attention", "fixed"], data: TranslationData, settings: TranslatorSettings | None = None
) -> SequenceModel:
    """A fresh model, its initial weights drawn with ``torch.manual_seed(settings.seed)``.

    ``kind`` is ``"attention"`` (:class:`~attnlib.seq2seq.AttentionSeq2Seq`) or
    ``"fixed"`` (:class:`~attnlib.seq2seq.FixedContextSeq2Seq`); both have the same
    bidirectional encoder and the same sizes.
    """
    settings = TranslatorSettings() if settings is None else _check_settings(settings)
    if kind not in _MODELS:
        raise ValueError(f"kind must be one of {MODEL_KINDS}, got {kind!r}")
    torch.manual_seed(settings.seed)
    return _MODELS[kind](settings.model_config(_check_data(data)))


@torch.no_grad()
def validation_loss(
    model: SequenceModel, data: TranslationData, pairs: Sequence[Pair] | None = None, batch_size: int = 256
) -> float:
    """Teacher-forced cross-entropy per target token on held-out pairs (default: ``data.validation``).

    The same quantity as the training loss (:func:`~attnlib.train.sequence_loss`:
    each English token and the final ``<eos>`` predicted from the true previous
    tokens), but with dropout off and averaged over every target token of every
    pair, not per batch. The pairs are read in a fixed order, ``batch_size`` at a
    time, and no random number is drawn, so the value is reproducible. The model
    is left in eval mode.
    """
    model, data = _check_model(model), _check_data(data)
    pairs = data.validation if pairs is None else list(pairs)
    if not pairs or not all(isinstance(p, Pair) for p in pairs):
        raise ValueError("pairs must be a non-empty list of attnlib.data.Pair")
    batch_size = check_int("batch_size", batch_size, 1)
    examples = encode_pairs(pairs, data.src_vocab, data.tgt_vocab)
    model.eval()
    total, tokens = 0.0, 0
    for start in range(0, len(examples), batch_size):
        batch = collate(examples[start : start + batch_size])
        logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T_out, V)
        n = int((batch.tgt_out != model.config.pad_id).sum())  # real target tokens, EOS included
        total += sequence_loss(logits, batch.tgt_out, model.config.pad_id).item() * n
        tokens += n
    return total / tokens


# -- translating ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Translation:
    r"""What the decoder did for one source sentence, step by step.

    Step ``t`` writes ``output[t]``; ``output`` ends with ``"<eos>"`` if the decoder
    stopped by itself. ``weights[t]`` are the attention weights it used (a row of
    the alignment matrix) and ``contexts[t]`` the context vector
    :math:`c_t = \sum_j \alpha_{tj} h_j`.
    """

    source: tuple[str, ...]  # the Chinese tokens as read (before <unk> replacement)
    output: tuple[str, ...]  # the tokens written, one per decoder step
    weights: np.ndarray | None  # (T_out, T_in) alignment, or None without attention
    contexts: np.ndarray  # (T_out, enc) the context vector read at each step
    states: np.ndarray  # (T_in, enc) encoder states h_j (the keys and values)
    unknown: tuple[str, ...]  # source tokens not in the vocabulary (read as <unk>)

    @property
    def words(self) -> tuple[str, ...]:
        """``output`` without its final ``<eos>``: the translation itself."""
        return self.output[:-1] if self.output and self.output[-1] == EOS_TOKEN else self.output


def _source_tokens(sentence: str | Sequence[str]) -> tuple[str, ...]:
    """Chinese tokens from a sentence (normalised, one per character) or a token list."""
    if isinstance(sentence, str):
        tokens = tuple(tokenize_chinese(normalize_chinese(sentence)))
    elif isinstance(sentence, Sequence) and all(isinstance(t, str) for t in sentence):
        tokens = tuple(sentence)
    else:
        raise TypeError(
            f"sentence must be a str or a sequence of token strings, got {type(sentence).__name__}"
        )
    if not tokens:
        raise ValueError("sentence is empty: give at least one Chinese character")
    return tokens


def _check_model(model: object) -> SequenceModel:
    return _check_type(
        "model", model, SequenceModel, "an attnlib.model.SequenceModel (e.g. AttentionSeq2Seq, Transformer)"
    )


@torch.no_grad()
def translate(
    model: SequenceModel, sentence: str | Sequence[str], data: TranslationData, max_len: int = 30
) -> Translation:
    """Translate one Chinese sentence greedily; return tokens, weights and context vectors.

    ``sentence`` is raw text (normalised and tokenized like the corpus) or a list of
    tokens. Decoding stops at ``<eos>`` or after ``max_len`` steps.
    """
    return translate_batch(model, [sentence], data, max_len=max_len)[0]


@torch.no_grad()
def translate_batch(
    model: SequenceModel,
    sentences: Sequence[str | Sequence[str]],
    data: TranslationData,
    max_len: int = 30,
    batch_size: int = 256,
) -> list[Translation]:
    """:func:`translate` for many sentences, decoded ``batch_size`` at a time."""
    model, data, max_len = _check_model(model), _check_data(data), check_int("max_len", max_len, 1)
    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise TypeError(f"sentences must be a list of sentences, got {type(sentences).__name__}")
    sources = [_source_tokens(s) for s in sentences]
    model.eval()
    out: list[Translation] = []
    for start in range(0, len(sources), batch_size):
        chunk = sources[start : start + batch_size]
        ids = [data.src_vocab.encode(s) for s in chunk]
        batch = collate([(i, [UNK]) for i in ids])
        tokens, attention = model.greedy_decode(batch.src, batch.src_lengths, max_len=max_len)
        read = model.read_source(batch.src, batch.src_lengths, attention)  # states, weights, contexts
        for b, (source, src_ids) in enumerate(zip(chunk, ids, strict=True)):
            weights = None if read.weights is None else read.weights[b]
            out.append(
                _one_translation(
                    source, src_ids, tokens[b].tolist(), weights, read.states[b], read.contexts[b], data
                )
            )
    return out


def _one_translation(
    source: tuple[str, ...],
    src_ids: list[int],
    out_ids: list[int],
    weights: torch.Tensor | None,
    states: torch.Tensor,
    contexts: torch.Tensor,
    data: TranslationData,
) -> Translation:
    """Cut one decoded row at its first EOS: weights (T_out, T_in), contexts (T_out or 1, enc)."""
    steps = out_ids.index(EOS) + 1 if EOS in out_ids else len(out_ids)
    states = states[: len(source)]  # (T_in, enc) without padding
    w = None if weights is None else weights[:steps, : len(source)]  # (T_out, T_in)
    contexts = contexts[:steps].expand(steps, -1)  # (T_out, enc); one c repeated without attention
    return Translation(
        source=source,
        output=tuple(data.tgt_vocab.decode(out_ids[:steps], strip=False)),
        weights=None if w is None else w.numpy().astype(np.float64),
        contexts=contexts.numpy().astype(np.float64),
        states=states.numpy().astype(np.float64),
        unknown=tuple(t for t, i in zip(source, src_ids, strict=True) if i == UNK and t not in SPECIALS),
    )


@torch.no_grad()
def translate_many(
    model: SequenceModel,
    sources: Sequence[str | Sequence[str]],
    data: TranslationData,
    max_len: int = 30,
    batch_size: int = 256,
) -> list[list[str]]:
    """Greedy translations (word lists, no ``<eos>``) of many sentences, in batches."""
    return [list(t.words) for t in translate_batch(model, sources, data, max_len, batch_size)]


# -- BLEU --------------------------------------------------------------------------------------


def _sentences(name: str, sentences: object) -> list[str]:
    """Token lists -> space-joined strings, with a clear error for anything else."""
    if isinstance(sentences, (str, bytes)) or not isinstance(sentences, Sequence):
        raise TypeError(f"{name} must be a list of token lists, got {type(sentences).__name__}")
    out = []
    for i, s in enumerate(sentences):
        if isinstance(s, str) or not isinstance(s, Sequence) or not all(isinstance(t, str) for t in s):
            raise TypeError(
                f"{name}[{i}] must be a list of token strings (e.g. tokenize_english(text)), got {s!r}"
            )
        out.append(" ".join(s))
    return out


def _bleu_metric():
    """sacrebleu's corpus BLEU as this module uses it: our tokens, its tokenizer off."""
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize="none", force=True)


def bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU (0–100) of tokenized hypotheses against one tokenized reference each.

    sacrebleu's ``corpus_bleu`` on the tokens joined by spaces, ``tokenize="none"``
    (the text is already tokenised and lower-cased by :mod:`attnlib.data.corpus`).
    """
    hyps, refs = _sentences("hypotheses", hypotheses), _sentences("references", references)
    if len(hyps) != len(refs):
        raise ValueError(f"need one reference per hypothesis: {len(hyps)} hypotheses, {len(refs)} references")
    if not hyps:
        raise ValueError("BLEU of an empty corpus is undefined: give at least one sentence")
    return float(_bleu_metric().corpus_score(hyps, [refs]).score)


def bleu_signature() -> str:
    """sacrebleu's signature of :func:`bleu`'s settings, e.g. ``nrefs:1|case:mixed|...|tok:none|...``."""
    metric = _bleu_metric()
    metric.corpus_score(["a"], [["a"]])  # the signature needs one evaluation (to count references)
    return str(metric.get_signature())


class BucketScore(NamedTuple):
    """BLEU of the sentences whose source length lies in ``[low, high]``."""

    low: int
    high: int
    sentences: int
    bleu: float  # NaN if the bucket is empty

    @property
    def label(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


def bleu_by_length(
    hypotheses: Sequence[Sequence[str]],
    references: Sequence[Sequence[str]],
    source_lengths: Sequence[int],
    buckets: Sequence[tuple[int, int]],
) -> list[BucketScore]:
    """Corpus BLEU within each source-length bucket ``(low, high)`` (both ends included)."""
    hyps, refs = list(hypotheses), list(references)
    lengths = np.asarray(source_lengths)
    if not len(hyps) == len(refs) == len(lengths):
        raise ValueError(
            f"hypotheses, references and source_lengths must have the same length; "
            f"got {len(hyps)}, {len(refs)}, {len(lengths)}"
        )
    scores = []
    for bucket in buckets:
        if (
            not isinstance(bucket, Sequence)
            or len(bucket) != 2
            or not all(isinstance(b, (int, np.integer)) for b in bucket)
            or bucket[0] > bucket[1]
        ):
            raise ValueError(
                f"each bucket must be a pair of ints (low, high) with low <= high, got {bucket!r}"
            )
        low, high = int(bucket[0]), int(bucket[1])
        idx = np.flatnonzero((lengths >= low) & (lengths <= high))
        score = bleu([hyps[i] for i in idx], [refs[i] for i in idx]) if len(idx) else float("nan")
        scores.append(BucketScore(low, high, len(idx), score))
    return scores


class BootstrapScore(NamedTuple):
    """One system's BLEU in a paired bootstrap test against a baseline (see :func:`bleu_bootstrap`)."""

    bleu: float  # corpus BLEU on all the sentences
    mean: float  # mean BLEU over the bootstrap resamples
    ci: tuple[float, float]  # 95% interval: mean ± sacrebleu's half-width (2.5%–97.5% quantiles)
    p_value: float | None  # vs the baseline (None for the baseline itself)


@contextlib.contextmanager
def _sacrebleu_seed(seed: int) -> Iterator[None]:
    """Set ``$SACREBLEU_SEED`` (where sacrebleu's significance tests read their seed) for a while."""
    old = os.environ.get("SACREBLEU_SEED")
    os.environ["SACREBLEU_SEED"] = str(seed)
    try:
        yield
    finally:
        if old is None:
            del os.environ["SACREBLEU_SEED"]
        else:
            os.environ["SACREBLEU_SEED"] = old


def bleu_bootstrap(
    system: Sequence[Sequence[str]],
    baseline: Sequence[Sequence[str]],
    references: Sequence[Sequence[str]],
    samples: int = 1000,
    seed: int = 12345,
) -> tuple[BootstrapScore, BootstrapScore]:
    """Paired bootstrap resampling (Koehn 2004) of two systems' BLEU; return ``(system, baseline)``.

    Is ``system`` better than ``baseline`` on these sentences, or did the test set
    happen to favour it? The test draws ``samples`` resamples of the sentence
    indices (with replacement, the *same* draws for both systems: that is what
    makes it paired), scores both systems on each, and reports each system's
    mean and 95% interval, and a p-value for the observed difference. It is
    sacrebleu's ``PairedTest(..., test_type="bs")`` (sacrebleu 2.x, the Moses
    script's method) with :func:`bleu`'s settings (our tokens, ``tokenize="none"``):
    the p-value is the share of resamples whose difference, centred on its
    bootstrap mean, exceeds the observed one in absolute value (two-sided),
    with +1 smoothing, so it is never below ``1 / (samples + 1)``. Beware one
    corner of that rule: two *identical* outputs also get ``1 / (samples + 1)``
    (no resample exceeds a difference of 0), so a small p means something only
    when the outputs differ. The interval is sacrebleu's: the bootstrap mean ±
    half the distance between the 2.5% and 97.5% quantiles.

    Inputs are token lists, one per sentence, aligned across the three arguments.
    ``seed`` fixes the resamples; it must be >= 1, because sacrebleu treats a seed
    of 0 as "no seed" for the compared system (its draws would then be random).
    """
    hyps, base = _sentences("system", system), _sentences("baseline", baseline)
    refs = _sentences("references", references)
    if not len(hyps) == len(base) == len(refs):
        raise ValueError(
            f"system, baseline and references must have one sentence each per "
            f"source: got {len(hyps)}, {len(base)}, {len(refs)}"
        )
    if not hyps:
        raise ValueError("a bootstrap of an empty corpus is undefined: give at least one sentence")
    samples, seed = check_int("samples", samples, 1), check_int("seed", seed, 1)
    from sacrebleu.significance import PairedTest

    with _sacrebleu_seed(seed):
        test = PairedTest(
            [("baseline", base), ("system", hyps)],
            {"BLEU": _bleu_metric()},
            references=[refs],
            test_type="bs",
            n_samples=samples,
        )
        _, results = test()
    baseline_result, system_result = results["BLEU"]
    return _bootstrap_score(system_result), _bootstrap_score(baseline_result)


def _bootstrap_score(result: Any) -> BootstrapScore:
    """A sacrebleu ``significance.Result`` as a :class:`BootstrapScore`."""
    mean, half = float(result.mean), float(result.ci)
    p = None if result.p_value is None else float(result.p_value)
    return BootstrapScore(float(result.score), mean, (mean - half, mean + half), p)


# -- weights on disk ----------------------------------------------------------------------------


def vocab_digest(vocab: Vocab) -> str:
    """A short sha256 of a vocabulary's tokens, to tie saved weights to their vocabulary."""
    return hashlib.sha256("\n".join(vocab.tokens).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class TrainingHistory:
    """The curves stored with trained weights (:func:`save_model`, :func:`load_history`)."""

    losses: np.ndarray  # (steps,) training loss per step (teacher-forced, with dropout)
    val_steps: np.ndarray  # (checks,) steps after which the validation loss was measured
    val_losses: np.ndarray  # (checks,) validation loss per target token (validation_loss)
    kept_step: int  # the step whose weights the file holds (the best check, or the last step)


def save_model(
    path: str | os.PathLike,
    model: SequenceModel,
    kind: str,
    data: TranslationData,
    settings: TranslatorSettings,
    losses: np.ndarray | TrainResult,
) -> None:
    """Write a model's weights with what made them: settings, vocabulary digests, curves.

    ``losses`` is the :class:`~attnlib.train.TrainResult` of the run (its training
    and validation curves and the step whose weights the model holds are stored),
    or just a training-loss curve (then the weights are taken to be the last step's).
    The weights are stored in half precision (float16), which halves the file; the
    model read back by :func:`load_model` computes in float32 with the rounded weights.
    """
    if kind not in _MODELS or not isinstance(_check_model(model), _MODELS[kind]):
        raise ValueError(
            f"kind must name the model's class, one of {MODEL_KINDS}; got {kind!r} "
            f"for a {type(model).__name__}"
        )
    history = _as_history(losses)
    record = {
        "kind": kind,
        "settings": asdict(_check_settings(settings)),
        "src_vocab": vocab_digest(data.src_vocab),
        "tgt_vocab": vocab_digest(data.tgt_vocab),
        "losses": torch.as_tensor(history.losses, dtype=torch.float64),
        "val_steps": torch.as_tensor(history.val_steps, dtype=torch.int64),
        "val_losses": torch.as_tensor(history.val_losses, dtype=torch.float64),
        "kept_step": history.kept_step,
        "state_dict": {
            k: v.detach().to(torch.float16) if v.is_floating_point() else v.detach().clone()
            for k, v in model.state_dict().items()
        },
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(record, path)


def _as_history(losses: np.ndarray | TrainResult) -> TrainingHistory:
    """The curves to store: from a TrainResult, or a bare training-loss curve (kept step = last)."""
    if isinstance(losses, TrainResult):
        return TrainingHistory(losses.losses, losses.val_steps, losses.val_losses, losses.kept_step)
    curve = np.asarray(losses, dtype=np.float64)
    if curve.ndim != 1 or len(curve) == 0:
        raise ValueError(f"losses must be a TrainResult or a non-empty 1-D curve, got shape {curve.shape}")
    return TrainingHistory(curve, np.zeros(0, dtype=np.int64), np.zeros(0), len(curve))


def _read_record(path: str | os.PathLike) -> dict:
    """The dictionary :func:`save_model` wrote at ``path``, or FileNotFoundError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no trained weights at {path}; make them with `python scripts/train_ch4.py`")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_model(
    path: str | os.PathLike, data: TranslationData, settings: TranslatorSettings | None = None
) -> tuple[SequenceModel, np.ndarray]:
    """Read weights written by :func:`save_model`; return ``(model in eval mode, loss curve)``.

    Raises ``FileNotFoundError`` if the file is missing and ``ValueError`` if it was
    made with other settings or vocabularies than ``settings`` and ``data``. The
    validation curve and the kept step are read by :func:`load_history`.
    """
    settings = TranslatorSettings() if settings is None else _check_settings(settings)
    record = _read_record(path)
    if record.get("settings") != asdict(settings):
        raise ValueError(
            f"{path} was trained with settings {record.get('settings')}, not "
            f"{asdict(settings)}; re-run scripts/train_ch4.py"
        )
    for side in ("src_vocab", "tgt_vocab"):
        if record.get(side) != vocab_digest(getattr(_check_data(data), side)):
            raise ValueError(
                f"{path} was trained with another {side} than data's; re-run scripts/train_ch4.py"
            )
    model = build_model(record["kind"], data, settings)
    model.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in record["state_dict"].items()}
    )
    model.eval()
    return model, record["losses"].numpy()


def load_history(path: str | os.PathLike) -> TrainingHistory:
    """The training curve, validation curve and kept step stored by :func:`save_model`."""
    record = _read_record(path)
    return TrainingHistory(
        record["losses"].numpy(),
        record["val_steps"].numpy(),
        record["val_losses"].numpy(),
        int(record["kept_step"]),
    )
