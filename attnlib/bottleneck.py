r"""Chapter 1's experiment: one fixed context vector against attention, on copy and reverse tasks.

The models are :mod:`attnlib.seq2seq`'s (a one-way GRU encoder; a decoder that reads the
encoder's final state, or attends over all its states); the tasks are
:class:`~attnlib.data.synthetic.SequenceTask`'s. This module fixes every other choice in one
place, :class:`BottleneckSettings`, so the chapter's live runs, the long runs of
``scripts/train_ch1.py`` and the tests all train and measure the same way::

    settings = BottleneckSettings(task="copy", hidden=64)
    model, result = train_model("fixed", settings, seed=0, steps=300)
    m = measure(model, settings, seed=10_000)     # accuracy by input length, by source position

**Cached runs.** Training the fixed-vector model until its loss stops falling takes
thousands of steps, too long for a page that runs in seconds. ``scripts/train_ch1.py``
does those runs, for several hidden sizes, both tasks and three seeds, and stores what
they measured (:func:`load_runs`) and the weights of the 64-unit models
(:func:`load_model`) in ``data/ch1/`` (see ``data/ch1/README.md``).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._validate import check_int, check_positive
from .data.synthetic import TASKS, SequenceTask
from .resources import data_path
from .seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2Seq, Seq2SeqConfig
from .train import (
    TrainConfig,
    TrainResult,
    Validation,
    accuracy_by_length,
    accuracy_by_position,
    predict,
    seed_everything,
    sequence_loss,
    train,
)

__all__ = [
    "KINDS",
    "RESULTS_DIR",
    "BottleneckSettings",
    "Measurement",
    "Run",
    "accuracy_by_input_length",
    "accuracy_by_source_position",
    "build_model",
    "load_model",
    "load_runs",
    "measure",
    "parameter_count",
    "round_weights",
    "save_runs",
    "seed_spread",
    "train_model",
    "training_batches",
    "validation_loss",
]

RESULTS_DIR = data_path("ch1")
RUNS_FILE = "runs.pt"  # every run's curves and measurements
WEIGHTS_FILE = "weights.pt"  # the weights of the runs that keep them (float16)
KINDS = ("fixed", "attention")
_MODELS = {"fixed": FixedContextSeq2Seq, "attention": AttentionSeq2Seq}


@dataclass(frozen=True)
class BottleneckSettings:
    """Every choice behind one of chapter 1's training runs, except the model kind and the seed."""

    task: str = "copy"  # "copy" or "reverse" (attnlib.data.SequenceTask)
    vocab_size: int = 30  # token ids, PAD SOS EOS included: 27 ordinary tokens
    min_len: int = 3  # shortest input, in training and in the test
    max_len: int = 15  # longest training input
    test_max_len: int = 20  # longest test input: longer than any seen in training
    embed: int = 32  # token embedding width
    hidden: int = 64  # GRU units: the fixed context vector c has this many numbers
    attention_hidden: int = 64  # width of the tanh layer of additive attention
    batch: int = 128  # sequences per training step
    lr: float = 5e-3  # Adam's learning rate
    clip: float = 1.0  # the gradient's global norm is clipped to this
    steps: int = 4000  # step budget of a long (cached) run
    measure_every: int = 250  # steps between the measurements of a long run
    n_test: int = 2000  # test sequences of lengths min_len..test_max_len
    n_position: int = 500  # test sequences of length max_len, for accuracy by source position
    n_validation: int = 1000  # held-out sequences of the training lengths (validation loss)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        for name in ("vocab_size", "min_len", "max_len", "test_max_len", "embed", "hidden"):
            check_int(name, getattr(self, name), 1)
        for name in (
            "attention_hidden",
            "batch",
            "steps",
            "measure_every",
            "n_test",
            "n_position",
            "n_validation",
        ):
            check_int(name, getattr(self, name), 1)
        check_positive("lr", self.lr)
        check_positive("clip", self.clip)
        if not self.min_len <= self.max_len <= self.test_max_len:
            raise ValueError(
                f"need min_len <= max_len <= test_max_len, got {self.min_len}, {self.max_len}, "
                f"{self.test_max_len}"
            )
        self.train_task()  # SequenceTask checks vocab_size

    def train_task(self) -> SequenceTask:
        """Inputs of ``min_len..max_len`` tokens: what the models train on."""
        return SequenceTask(self.task, self.vocab_size, self.min_len, self.max_len)

    def test_task(self) -> SequenceTask:
        """Inputs of ``min_len..test_max_len`` tokens: the trained lengths and longer ones."""
        return SequenceTask(self.task, self.vocab_size, self.min_len, self.test_max_len)

    def model_config(self) -> Seq2SeqConfig:
        """The :class:`~attnlib.seq2seq.Seq2SeqConfig` of both model kinds."""
        return Seq2SeqConfig(
            self.vocab_size,
            self.vocab_size,
            embed=self.embed,
            hidden=self.hidden,
            attention_hidden=self.attention_hidden,
        )

    def train_config(self, seed: int, steps: int | None = None) -> TrainConfig:
        """The :class:`~attnlib.train.TrainConfig` of a run (1 thread), optionally shorter."""
        return TrainConfig(
            steps=self.steps if steps is None else steps, lr=self.lr, clip=self.clip, seed=seed, threads=1
        )


def _check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


def _check_settings(settings: Any) -> BottleneckSettings:
    if not isinstance(settings, BottleneckSettings):
        raise TypeError(f"settings must be a BottleneckSettings, got {type(settings).__name__}")
    return settings


def build_model(kind: str, settings: BottleneckSettings, seed: int) -> Seq2Seq:
    """A fresh model of ``kind`` ("fixed" or "attention"): seeded, so the same weights every time."""
    config = _check_settings(settings).model_config()
    seed_everything(check_int("seed", seed, 0))
    return _MODELS[_check_kind(kind)](config)


def parameter_count(model: torch.nn.Module) -> int:
    """The number of trained numbers (weights and biases) in ``model``."""
    return sum(p.numel() for p in model.parameters())


def training_batches(settings: BottleneckSettings, seed: int):
    """The endless, seeded stream of training batches of a run (the same for both kinds)."""
    return _check_settings(settings).train_task().batches(settings.batch, seed=check_int("seed", seed, 0))


def train_model(
    kind: str,
    settings: BottleneckSettings,
    seed: int,
    steps: int | None = None,
    progress: bool | None = None,
    validation: Validation | None = None,
) -> tuple[Seq2Seq, TrainResult]:
    """Build and train one model; ``steps`` (default ``settings.steps``) cuts the run short.

    The first ``n`` steps of a run are the same whatever its budget: a 300-step run is the
    beginning of the cached 4,000-step one (on the same CPU numerics).
    """
    model = build_model(kind, settings, seed)
    result = train(
        model, training_batches(settings, seed), settings.train_config(seed, steps), progress, validation
    )
    return model, result


@dataclass(frozen=True, eq=False)
class Measurement:
    """What :func:`measure` finds: greedy accuracy by input length, and by source position."""

    by_length: np.ndarray  # (test_max_len + 1,) token accuracy of the inputs of each length; NaN < min_len
    by_position: np.ndarray  # (max_len,) greedy accuracy at each source position, inputs of max_len tokens
    by_position_forced: np.ndarray  # (max_len,) the same with teacher forcing (true previous tokens)


@torch.no_grad()
def accuracy_by_input_length(model: Seq2Seq, settings: BottleneckSettings, seed: int) -> np.ndarray:
    """Greedy token accuracy (``EOS`` included) by input length: (test_max_len + 1,), NaN below min_len.

    Measured on ``n_test`` fresh inputs of ``min_len..test_max_len`` tokens drawn with ``seed``.
    """
    test = _check_settings(settings).test_task().sample(settings.n_test, seed=check_int("seed", seed, 0))
    pred, _ = predict(model, test)
    return accuracy_by_length(pred, test.tgt_out, test.src_lengths)


@torch.no_grad()
def accuracy_by_source_position(
    model: Seq2Seq, settings: BottleneckSettings, seed: int, teacher_forcing: bool = False
) -> np.ndarray:
    """Accuracy of the output token that copies each source position: (max_len,).

    Measured on ``n_position`` fresh inputs of exactly ``max_len`` tokens drawn with ``seed``;
    for ``reverse`` the token copying source position j is output ``max_len + 1 - j``. Greedy
    decoding, or with ``teacher_forcing`` the true previous tokens (each position judged alone).
    """
    settings = _check_settings(settings)
    longest = SequenceTask(settings.task, settings.vocab_size, settings.max_len, settings.max_len)
    batch = longest.sample(settings.n_position, seed=check_int("seed", seed, 0))
    source_pos = longest.source_positions(batch.src_lengths, batch.tgt_out.shape[1])  # (B, max_len + 1)
    pred, _ = predict(model, batch, teacher_forcing=teacher_forcing)
    return accuracy_by_position(pred, batch.tgt_out, positions=source_pos)


@torch.no_grad()
def validation_loss(model: Seq2Seq, settings: BottleneckSettings, seed: int) -> float:
    """Teacher-forced cross-entropy per target token on ``n_validation`` held-out sequences of the
    training lengths drawn with ``seed`` (the training loss, on sequences training never saw)."""
    batch = (
        _check_settings(settings).train_task().sample(settings.n_validation, seed=check_int("seed", seed, 0))
    )
    was_training = model.training
    model.eval()
    try:
        logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in, need_weights=False)  # (B, T_out, V)
        return sequence_loss(logits, batch.tgt_out, model.config.pad_id).item()
    finally:
        model.train(was_training)


def measure(model: Seq2Seq, settings: BottleneckSettings, seed: int) -> Measurement:
    """All three measurements; the position tests use ``seed + 1``."""
    return Measurement(
        accuracy_by_input_length(model, settings, seed),
        accuracy_by_source_position(model, settings, seed + 1),
        accuracy_by_source_position(model, settings, seed + 1, teacher_forcing=True),
    )


def seed_spread(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, lowest and highest over the first axis (one row per seed): (S, ...) -> 3 x (...)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim < 1 or len(arr) == 0:
        raise ValueError(f"values must hold one row per seed, got shape {arr.shape}")
    return arr.mean(axis=0), arr.min(axis=0), arr.max(axis=0)


def round_weights(model: Seq2Seq) -> Seq2Seq:
    """Round ``model``'s weights to float16 and back, in place: what :func:`load_model` reads."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


# -- cached runs ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Run:
    """One cached training run of ``scripts/train_ch1.py``: its curves and measurements."""

    settings: BottleneckSettings  # the run's settings (task, hidden size, step budget, ...)
    kind: str  # "fixed" or "attention"
    seed: int  # seeds the initial weights and the batches
    params: int  # parameter count
    losses: np.ndarray  # (steps,) training loss per step (cross-entropy per target token)
    measured_at: np.ndarray  # (checks,) steps after which the run was measured
    val_losses: np.ndarray  # (checks,) validation loss at each check (held-out sequences)
    by_length: np.ndarray  # (checks, test_max_len + 1) greedy accuracy by input length at each check
    kept_step: int  # the check with the lowest validation loss: the weights the run keeps
    final: Measurement  # of the kept weights, rounded to float16
    seconds: float  # wall time of the training loop (depends on the machine and its load)
    has_weights: bool  # whether weights.pt holds this run's weights

    @property
    def name(self) -> str:
        """``"copy-fixed-h64-seed0"``: the run's key in the weights file."""
        return run_name(self.settings, self.kind, self.seed)


def run_name(settings: BottleneckSettings, kind: str, seed: int) -> str:
    """The key of a run: task, kind, hidden size and seed."""
    return f"{settings.task}-{_check_kind(kind)}-h{settings.hidden}-seed{seed}"


def save_runs(folder: str | os.PathLike, runs: list[dict]) -> None:
    """Write ``runs.pt`` and ``weights.pt`` in ``folder`` (the script's records, see :func:`load_runs`).

    Each record holds ``settings`` (a dict), ``kind``, ``seed``, ``params``, ``losses``,
    ``measured_at``, ``val_losses``, ``by_length``, ``kept_step``, ``final`` (three arrays),
    ``seconds`` and optionally
    ``state_dict`` (stored in float16 in ``weights.pt``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table, weights = [], {}
    for rec in runs:
        settings = BottleneckSettings(**rec["settings"])
        name = run_name(settings, rec["kind"], rec["seed"])
        state = rec.get("state_dict")
        if state is not None:
            weights[name] = {k: v.detach().to(torch.float16) for k, v in state.items()}
        table.append(
            {
                "settings": asdict(settings),
                "kind": rec["kind"],
                "seed": int(rec["seed"]),
                "params": int(rec["params"]),
                "losses": torch.as_tensor(np.asarray(rec["losses"]), dtype=torch.float32),
                "measured_at": torch.as_tensor(np.asarray(rec["measured_at"]), dtype=torch.int64),
                "val_losses": torch.as_tensor(np.asarray(rec["val_losses"]), dtype=torch.float32),
                "kept_step": int(rec["kept_step"]),
                "by_length": torch.as_tensor(np.asarray(rec["by_length"]), dtype=torch.float32),
                "final": {
                    k: torch.as_tensor(np.asarray(v), dtype=torch.float32) for k, v in rec["final"].items()
                },
                "seconds": float(rec["seconds"]),
                "has_weights": state is not None,
            }
        )
    torch.save(table, folder / RUNS_FILE)
    torch.save(weights, folder / WEIGHTS_FILE)


def _read(folder: Path, name: str) -> Any:
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(f"no cached runs at {path}; make them with `python scripts/train_ch1.py`")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_runs(folder: str | os.PathLike = RESULTS_DIR, **where: Any) -> list[Run]:
    """The cached runs, optionally only those whose fields match ``where``.

    ``where`` names a :class:`Run` field (``kind``, ``seed``) or a settings field
    (``task``, ``hidden``): ``load_runs(task="copy", kind="fixed", hidden=64)``.
    """
    runs = []
    for rec in _read(Path(folder), RUNS_FILE):
        settings = BottleneckSettings(**rec["settings"])
        final = Measurement(
            *(rec["final"][k].double().numpy() for k in ("by_length", "by_position", "by_position_forced"))
        )
        runs.append(
            Run(
                settings,
                rec["kind"],
                rec["seed"],
                rec["params"],
                rec["losses"].double().numpy(),
                rec["measured_at"].numpy(),
                rec["val_losses"].double().numpy(),
                rec["by_length"].double().numpy(),
                rec["kept_step"],
                final,
                rec["seconds"],
                rec["has_weights"],
            )
        )
    fields = {"kind", "seed", "params", "kept_step", "has_weights"}
    settings_fields = set(asdict(BottleneckSettings()))
    for key in where:
        if key not in fields | settings_fields:
            raise ValueError(f"cannot select runs by {key!r}; use one of {sorted(fields | settings_fields)}")

    def matches(run: Run) -> bool:
        return all(
            (getattr(run, k) if k in fields else getattr(run.settings, k)) == v for k, v in where.items()
        )

    return [run for run in runs if matches(run)]


def load_model(run: Run, folder: str | os.PathLike = RESULTS_DIR) -> Seq2Seq:
    """The trained model of a cached ``run`` (float16 weights read back as float32), in eval mode."""
    if not isinstance(run, Run):
        raise TypeError(f"run must be a Run from load_runs, got {type(run).__name__}")
    if not run.has_weights:
        raise ValueError(f"the cache keeps no weights for run {run.name}; only its measurements")
    state = _read(Path(folder), WEIGHTS_FILE)[run.name]
    model = build_model(run.kind, run.settings, run.seed)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.eval()
