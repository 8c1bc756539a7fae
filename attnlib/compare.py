"""Chapter 5's head-to-head on chapter 1's copy task: a GRU with attention against a Transformer.

One run trains both models on the same batches, with the same optimiser, learning rate,
step budget and seed, then scores them on the same held-out sequences. One run is one
draw: which model wins it may be luck (the initial weights, the order of the batches),
so :func:`run_copy_comparison` is meant to be called for several seeds, and a claim
rests on all of them::

    config = CopyComparison()
    runs = [run_copy_comparison(config, seed) for seed in range(5)]   # a few minutes
    save_copy_runs("data/weights/ch5_copy.json", config, runs)
    config, runs = load_copy_runs("data/weights/ch5_copy.json")

``scripts/train_ch5.py`` makes the file the chapter reads; training is deterministic
(seeded, one thread, a step budget), so the stored curves can be checked by retraining.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ._validate import check_int, check_positive
from .data import SequenceTask
from .model import SequenceModel
from .seq2seq import AttentionSeq2Seq, Seq2SeqConfig
from .train import (
    TrainConfig,
    accuracy_by_length,
    exact_match,
    predict,
    seed_everything,
    token_accuracy,
    train,
)
from .transformer import Transformer, TransformerConfig

__all__ = [
    "MODELS",
    "CopyComparison",
    "CopyRun",
    "first_step_below",
    "load_copy_runs",
    "run_copy_comparison",
    "save_copy_runs",
]

MODELS = ("GRU + attention", "Transformer")


@dataclass(frozen=True)
class CopyComparison:
    """The task, the two models' sizes and the training budget of one comparison."""

    vocab_size: int = 30  # tokens of the copy task, the 3 special tokens included
    min_len: int = 3  # shortest training (and test) sequence
    max_len: int = 15  # longest training sequence
    test_max_len: int = 20  # longest test sequence: 16..20 were never seen in training
    test_size: int = 1000  # held-out sequences (seed + 10_000)
    gru_hidden: int = 64  # GRU units per direction (bidirectional encoder, as in chapter 1)
    d_model: int = 64  # Transformer width
    heads: int = 4  # Transformer attention heads
    d_ff: int = 128  # Transformer feed-forward width
    layers: int = 1  # Transformer blocks: one encoder and one decoder block
    steps: int = 300  # Adam steps for each model
    batch_size: int = 64  # sequences per step
    lr: float = 5e-3  # Adam's learning rate, both models

    def __post_init__(self) -> None:
        for name in ("vocab_size", "min_len", "max_len", "test_max_len", "test_size", "gru_hidden"):
            check_int(name, getattr(self, name), 1)
        for name in ("d_model", "heads", "d_ff", "layers", "steps", "batch_size"):
            check_int(name, getattr(self, name), 1)
        check_positive("lr", self.lr)
        if not self.min_len <= self.max_len <= self.test_max_len:
            raise ValueError(
                f"need min_len <= max_len <= test_max_len, got {self.min_len}, {self.max_len}, "
                f"{self.test_max_len}"
            )

    def task(self, max_len: int | None = None) -> SequenceTask:
        """The copy task, with sequences of ``min_len`` to ``max_len`` (default: training) tokens."""
        return SequenceTask(
            "copy", self.vocab_size, self.min_len, self.max_len if max_len is None else max_len
        )

    def make(self, name: str) -> SequenceModel:
        """A fresh model ``name`` (one of ``MODELS``); seed torch first for its initial weights."""
        V = self.vocab_size
        if name == "GRU + attention":
            return AttentionSeq2Seq(
                Seq2SeqConfig(
                    V, V, hidden=self.gru_hidden, attention_hidden=self.gru_hidden, bidirectional=True
                )
            )
        if name == "Transformer":
            return Transformer(
                TransformerConfig(
                    V, V, d_model=self.d_model, heads=self.heads, d_ff=self.d_ff, layers=self.layers
                )
            )
        raise ValueError(f"name must be one of {MODELS}, got {name!r}")


@dataclass(frozen=True, eq=False)
class CopyRun:
    """One model's run for one seed."""

    seed: int  # seeds the initial weights, the training batches and the test set
    parameters: int  # trainable parameters
    losses: np.ndarray  # (steps,) training loss per step
    token_accuracy: float  # greedy decoding, test sequences of training lengths (min_len..max_len)
    exact_match: float  # share of those test sequences copied without a single error
    by_length: np.ndarray  # (test_max_len - min_len + 1,) token accuracy per input length


def run_copy_comparison(config: CopyComparison, seed: int) -> dict[str, CopyRun]:
    """Train both models for ``config.steps`` steps on the same batches; score them on the same test set.

    Each model starts from ``seed_everything(seed)``, trains on ``task.batches(batch_size, seed)``
    with Adam (``attnlib.train.train``, one thread) and is scored by greedy decoding on
    ``test_size`` sequences of up to ``test_max_len`` tokens drawn with ``seed + 10_000``.
    """
    if not isinstance(config, CopyComparison):
        raise TypeError(f"config must be a CopyComparison, got {type(config).__name__}")
    seed = check_int("seed", seed, 0)
    test = config.task(config.test_max_len).sample(config.test_size, seed=seed + 10_000)
    seen = test.src_lengths <= config.max_len  # (N,) the lengths it was trained on
    runs = {}
    for name in MODELS:
        seed_everything(seed)  # the same initial weights on every run of this seed
        model = config.make(name)
        result = train(
            model,
            config.task().batches(config.batch_size, seed=seed),
            TrainConfig(steps=config.steps, lr=config.lr, seed=seed, threads=1),
            progress=False,
        )
        pred, _ = predict(model, test)  # greedy decoding, (N, T_out)
        by_length = accuracy_by_length(pred, test.tgt_out, test.src_lengths)[config.min_len :]
        runs[name] = CopyRun(
            seed,
            sum(p.numel() for p in model.parameters()),
            result.losses,
            token_accuracy(pred[seen], test.tgt_out[seen]),
            exact_match(pred[seen], test.tgt_out[seen]),
            by_length,
        )
    return runs


def first_step_below(losses: np.ndarray, threshold: float, window: int = 20) -> int | None:
    """The first step after which the mean of the last ``window`` losses is below ``threshold``.

    losses (steps,) -> a step number (1-based, at least ``window``), or None if never. The
    moving average smooths the step-to-step noise of the batches, so one lucky batch does
    not count as having learned.
    """
    curve = np.asarray(losses, dtype=float)
    window = check_int("window", window, 1)
    if curve.ndim != 1 or len(curve) < window:
        raise ValueError(f"losses must be 1-D with at least window={window} values, got shape {curve.shape}")
    running = np.convolve(curve, np.ones(window) / window, mode="valid")  # (steps - window + 1,)
    below = np.flatnonzero(running < threshold)
    return int(below[0]) + window if len(below) else None


def save_copy_runs(path: str | os.PathLike, config: CopyComparison, runs: list[dict[str, CopyRun]]) -> None:
    """Write the config and every run as JSON (plain numbers, readable in a diff)."""
    record = {
        "config": asdict(config),
        "runs": [
            {
                name: {
                    "seed": r.seed,
                    "parameters": r.parameters,
                    "losses": [float(x) for x in r.losses],
                    "token_accuracy": r.token_accuracy,
                    "exact_match": r.exact_match,
                    "by_length": [float(x) for x in r.by_length],
                }
                for name, r in seed_runs.items()
            }
            for seed_runs in runs
        ],
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def load_copy_runs(path: str | os.PathLike) -> tuple[CopyComparison, list[dict[str, CopyRun]]]:
    """Read what :func:`save_copy_runs` wrote: ``(config, [{model name: CopyRun}, one per seed])``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no copy-task runs at {path}; make them with `python scripts/train_ch5.py`")
    record = json.loads(path.read_text(encoding="utf-8"))
    runs = [
        {
            name: CopyRun(
                r["seed"],
                r["parameters"],
                np.array(r["losses"]),
                r["token_accuracy"],
                r["exact_match"],
                np.array(r["by_length"]),
            )
            for name, r in seed_runs.items()
        }
        for seed_runs in record["runs"]
    ]
    return CopyComparison(**record["config"]), runs
