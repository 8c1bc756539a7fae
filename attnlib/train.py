"""A deterministic training loop and the metrics the chapters report.

Determinism: :func:`seed_everything` fixes Python's, numpy's and torch's random
generators, and :func:`train` runs on a fixed number of threads (restored after).
Seed *before* building the model (its initial weights are random), then train on a
seeded batch stream: the same seed gives the same loss curve, bit for bit, on the
same CPU, as long as the run stops on its step budget. A time budget
(``TrainConfig.time_budget``) depends on the machine's speed, so runs that hit it are
not reproducible. Any :class:`~attnlib.model.SequenceModel` trains here: the GRUs of
chapters 1 and 4 and the Transformer of chapter 5.

Validation: give :func:`train` a :class:`Validation` and it measures the model on
held-out data every ``every`` steps (and after the last one), records that curve,
and with ``keep_best`` ends with the weights of the check with the lowest loss.
The checks leave the training run itself untouched: the model goes back to
training mode and torch's random state (dropout) is restored after each check,
so the training losses are the same, bit for bit, with or without validation.

Metrics compare predicted tokens ``pred (B, T)`` with the targets ``target (B, T)``
position by position, ignoring the target's padding.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._validate import check_int, check_positive
from .batch import Batch
from .model import SequenceModel


@dataclass(frozen=True)
class TrainConfig:
    """How long and how fast to train."""

    steps: int = 1000  # step budget: the number of batches (one Adam step each)
    lr: float = 3e-3  # Adam's learning rate
    clip: float = 1.0  # clip the gradient's global L2 norm to this
    seed: int = 0  # seeds Python, numpy and torch (dropout) at the start of training
    threads: int = 1  # torch.set_num_threads; fixed, so floating-point sums are reproducible
    time_budget: float | None = None  # seconds; stop early when exceeded (not reproducible)

    def __post_init__(self) -> None:
        check_int("steps", self.steps, 1)
        check_int("seed", self.seed, 0)
        check_int("threads", self.threads, 1)
        for name in ("lr", "clip") + (("time_budget",) if self.time_budget is not None else ()):
            check_positive(name, getattr(self, name))


@dataclass(frozen=True)
class Validation:
    """How :func:`train` checks the model on held-out data while it trains."""

    loss: Callable[[SequenceModel], float]  # the model's held-out loss; must not update it
    every: int = 100  # steps between checks; the last step is always checked
    keep_best: bool = True  # end with the weights of the check with the lowest loss

    def __post_init__(self) -> None:
        if not callable(self.loss):
            raise TypeError(f"loss must be a function model -> float, got {type(self.loss).__name__}")
        check_int("every", self.every, 1)
        if not isinstance(self.keep_best, bool):
            raise TypeError(f"keep_best must be a bool, got {type(self.keep_best).__name__}")


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What a training run did."""

    losses: np.ndarray  # (steps,) mean cross-entropy per target token, one per step
    steps: int  # steps taken (fewer than TrainConfig.steps if the time budget ran out)
    seconds: float  # wall time of the loop
    val_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (checks,)
    val_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (checks,) held-out loss
    kept_step: int = 0  # the step whose weights the model holds at the end (= steps without keep_best)


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global random generators."""
    check_int("seed", seed, 0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block on ``threads`` torch threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(check_int("threads", threads, 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def progress_bar(total: int, progress: bool | None = None) -> tqdm:
    """A tqdm bar over ``total`` steps. ``progress=None`` draws one in a notebook or on a
    terminal, unless the environment sets ``TQDM_DISABLE`` (tqdm's own switch)."""
    if progress is None and ("ipykernel" in sys.modules or sys.stderr.isatty()):
        return tqdm(total=total, leave=False)  # tqdm applies TQDM_DISABLE itself
    return tqdm(total=total, leave=False, disable=not progress)


def sequence_loss(logits: torch.Tensor, target: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Mean cross-entropy over real target tokens: logits (B, T, V), target (B, T) -> ()."""
    return nn.functional.cross_entropy(
        logits.flatten(0, 1),
        target.flatten(),  # (B*T, V), (B*T,)
        ignore_index=pad_id,
    )


def train(
    model: SequenceModel,
    batches: Iterable[Batch],
    config: TrainConfig = TrainConfig(),
    progress: bool | None = None,
    validation: Validation | None = None,
) -> TrainResult:
    """Train ``model`` with Adam on up to ``config.steps`` batches; return the loss curve.

    Each step: teacher-forced forward pass, cross-entropy, backward pass, clip the
    gradient norm to ``config.clip``, Adam update. Runs on ``config.threads`` torch
    threads (the previous count is restored afterwards). With ``validation``, the model is
    also checked every ``validation.every`` steps and after the last step (see
    :class:`Validation`); with ``validation.keep_best`` it ends with the weights of
    the best check (the earliest, on a tie) and ``kept_step`` says which step that was.
    """
    check_model(model)
    if validation is not None and not isinstance(validation, Validation):
        raise TypeError(
            f"validation must be an attnlib.train.Validation or None, got {type(validation).__name__}"
        )
    with torch_threads(config.threads):
        return _train(model, batches, config, progress, validation)


def _train(
    model: SequenceModel,
    batches: Iterable[Batch],
    config: TrainConfig,
    progress: bool | None,
    validation: Validation | None,
) -> TrainResult:
    """The loop behind :func:`train`."""
    seed_everything(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    device = next(model.parameters()).device
    losses: list[float] = []
    checks = _Checks(model, validation)
    model.train()
    start = time.perf_counter()
    with progress_bar(config.steps, progress) as bar:
        for batch in batches:
            losses.append(_step(model, optimizer, batch.to(device), config.clip))
            bar.update()
            bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
            over_time = config.time_budget is not None and time.perf_counter() - start > config.time_budget
            done = len(losses) == config.steps or over_time
            checks.maybe_check(len(losses), last=done)
            if done:
                break
    kept = checks.restore_best(len(losses))
    model.eval()
    return TrainResult(
        np.array(losses),
        len(losses),
        time.perf_counter() - start,
        np.array(checks.steps, dtype=np.int64),
        np.array(checks.losses),
        kept,
    )


def _step(model: SequenceModel, optimizer: torch.optim.Optimizer, batch: Batch, clip: float) -> float:
    """One teacher-forced Adam step on ``batch``; return its loss."""
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in, need_weights=False)  # (B, T_out, V)
    loss = sequence_loss(logits, batch.tgt_out, model.config.pad_id)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()


class _Checks:
    """The validation checks of one :func:`train` run: the curve and the best weights so far."""

    def __init__(self, model: SequenceModel, validation: Validation | None) -> None:
        self.model, self.validation = model, validation
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.best: dict[str, torch.Tensor] | None = None  # a copy of the best check's weights

    def maybe_check(self, step: int, last: bool) -> None:
        """Measure the held-out loss after ``step`` if it is a checking step (or the last)."""
        if self.validation is None or not (last or step % self.validation.every == 0):
            return
        rng = torch.get_rng_state()  # the check must not shift the dropout masks that follow
        loss = float(self.validation.loss(self.model))
        torch.set_rng_state(rng)
        self.model.train()
        if self.validation.keep_best and (not self.losses or loss < min(self.losses)):
            self.best = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.steps.append(step)
        self.losses.append(loss)

    def restore_best(self, steps: int) -> int:
        """Load the best check's weights (with ``keep_best``); return the step the model now holds."""
        if self.best is None:
            return steps
        self.model.load_state_dict(self.best)
        return self.steps[int(np.argmin(self.losses))]  # argmin: the earliest of equal losses


def check_model(model: object) -> SequenceModel:
    """``model`` if it is one of the book's sequence models, else a clear TypeError."""
    if not isinstance(model, SequenceModel):
        raise TypeError(
            f"model must be an attnlib.model.SequenceModel (e.g. AttentionSeq2Seq "
            f"or Transformer), got {type(model).__name__}"
        )
    return model


@torch.no_grad()
def predict(model: SequenceModel, batch: Batch, teacher_forcing: bool = False) -> tuple[torch.Tensor, Any]:
    """Predicted tokens (B, T_out) for a batch, and the model's attention (None without).

    By default the model decodes greedily, feeding back its own tokens, so one
    mistake can derail the rest. With ``teacher_forcing=True`` it reads the true
    previous tokens and each position is judged on its own.
    """
    check_model(model).eval()
    batch = batch.to(next(model.parameters()).device)
    if teacher_forcing:
        logits, weights = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T_out, V)
        return logits.argmax(dim=-1), weights
    return model.greedy_decode(batch.src, batch.src_lengths, max_len=batch.tgt_out.shape[1])


def _correct(pred: torch.Tensor, target: torch.Tensor, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(correct, real): two (B, T) bool tensors; ``real`` marks the target's non-pad tokens."""
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape (B, T); got pred "
            f"{tuple(pred.shape)}, target {tuple(target.shape)}"
        )
    real = target != pad_id
    return (pred == target) & real, real


def token_accuracy(pred: torch.Tensor, target: torch.Tensor, pad_id: int = 0) -> float:
    """Fraction of real target tokens predicted correctly (EOS counts as a token)."""
    correct, real = _correct(pred, target, pad_id)
    return correct.sum().item() / real.sum().item()


def exact_match(pred: torch.Tensor, target: torch.Tensor, pad_id: int = 0) -> float:
    """Fraction of sequences whose every real target token is predicted correctly."""
    correct, real = _correct(pred, target, pad_id)
    return (correct == real).all(dim=1).float().mean().item()


def _ratio_by(index: torch.Tensor, correct: torch.Tensor, size: int) -> np.ndarray:
    """Accuracy per value of ``index`` (0..size-1) from flat tensors; NaN where no token."""
    hits = torch.bincount(index, weights=correct.double(), minlength=size)
    counts = torch.bincount(index, minlength=size).double()
    return (hits / counts).numpy()  # 0/0 = NaN where no token has that index


def accuracy_by_position(
    pred: torch.Tensor, target: torch.Tensor, pad_id: int = 0, positions: torch.Tensor | None = None
) -> np.ndarray:
    """Accuracy at each position: (B, T) -> (P,), NaN where no token has that position.

    By default the position is the target index t. ``positions`` (B, T) relabels each
    token (e.g. with the source position it copies, -1 to leave a token out).
    """
    correct, real = _correct(pred, target, pad_id)
    if positions is None:
        positions = torch.arange(target.shape[1], device=target.device).expand_as(target)  # (B, T)
    keep = real & (positions >= 0)
    return _ratio_by(positions[keep], correct[keep], int(positions.max()) + 1)


def accuracy_by_length(
    pred: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor, pad_id: int = 0
) -> np.ndarray:
    """Token accuracy of the sequences of each source length: index L -> accuracy; NaN if absent.

    lengths (B,) are the source lengths; the result has ``lengths.max() + 1`` entries.
    """
    correct, real = _correct(pred, target, pad_id)
    per_token_length = lengths[:, None].expand_as(target)  # (B, T) each token's source length
    return _ratio_by(per_token_length[real], correct[real], int(lengths.max()) + 1)
