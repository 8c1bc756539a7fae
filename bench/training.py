"""The models the chapters load from files: throughput here, and the wall time of their result.

Most of the book's models are trained ahead of time by ``scripts/train_ch*.py`` (thousands
of steps, minutes each) and loaded by the chapters from ``data/``. For each one this section
trains the same model, with the same settings and the same batches, for a few steps on one
thread (as the scripts do), and measures its throughput in sequences per second. The wall
time the chapter's figure needs on this machine is then the steps behind that figure (read
from the stored run: the step whose weights a file keeps, or the step where a loss curve
first crosses the chapter's threshold) divided by the measured steps per second.

The figure itself is computed here from the stored weights or curves, never typed in: test
BLEU of the translators (greedy decoding, as chapters 4 and 5), accuracy of chapter 1's runs
as stored with them, the step where chapter 5's copy-task loss falls below 0.2.

Chapter 6's GPT trains live in its chapter: its row is in the chapters section. The timed
runs use this process's numerics (not the pinned ones of the committed outputs): they measure
speed, and the digits of their losses are never shown.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from attnlib import bottleneck
from attnlib.compare import MODELS, CopyComparison, first_step_below, load_copy_runs
from attnlib.train import TrainConfig, seed_everything, torch_threads, train
from attnlib.translate import (
    WEIGHTS_DIR,
    TransformerSizes,
    TranslatorSettings,
    bleu,
    build_model,
    load_history,
    load_model,
    prepare_data,
    training_batches,
    translate_many,
)

WARM_STEPS = 3  # a short first run: allocations, first-call overheads (not timed)
TIMED_STEPS = 30  # the timed run: the first steps of the stored run, again


@dataclass(frozen=True)
class TrainingRow:
    """One model: measured throughput, and the wall time its stated figure needs here."""

    chapter: str
    model: str
    batch: int  # sequences per step
    steps_per_s: float  # measured here, one thread
    steps_to_result: float  # steps behind the stated figure (from the stored run)
    result: str  # the stated figure, computed from the stored weights or curves

    @property
    def sequences_per_s(self) -> float:
        return self.steps_per_s * self.batch

    @property
    def seconds_to_result(self) -> float:
        return self.steps_to_result / self.steps_per_s


def _steps_per_s(run: Callable[[int], float]) -> float:
    """``run(steps)`` trains a fresh model for ``steps`` steps and returns its loop's seconds."""
    run(WARM_STEPS)
    return TIMED_STEPS / run(TIMED_STEPS)


def _timed_train(make: Callable[[], torch.nn.Module], batches: Callable[[], Iterator], config: TrainConfig):
    def run(steps: int) -> float:
        model = make()
        return train(model, batches(), replace(config, steps=steps, threads=1), progress=False).seconds

    return run


def bottleneck_rows() -> list[TrainingRow]:
    """Chapter 1's 64-unit copy-task runs (three seeds each): the fixed vector and attention."""
    rows = []
    for kind, length in (("fixed", 15), ("attention", 20)):
        runs = bottleneck.load_runs(task="copy", kind=kind, hidden=64)
        settings = runs[0].settings
        rate = _steps_per_s(
            _timed_train(
                lambda kind=kind, settings=settings: bottleneck.build_model(kind, settings, 0),
                lambda settings=settings: bottleneck.training_batches(settings, 0),
                settings.train_config(0),
            )
        )
        accuracy = [float(r.final.by_length[length]) for r in runs]
        rows.append(
            TrainingRow(
                "01_bottleneck",
                f"{'fixed vector' if kind == 'fixed' else 'attention'}, 64 units, copy",
                settings.batch,
                rate,
                float(np.mean([r.kept_step for r in runs])),
                f"accuracy at {length} tokens {min(accuracy):.2f}–{max(accuracy):.2f} "
                f"(3 seeds; kept steps {', '.join(f'{r.kept_step:,}' for r in runs)})",
            )
        )
    return rows


def translator_rows() -> list[TrainingRow]:
    """Chapter 4's two GRU translators and chapter 5's Transformer, to the weights their files keep."""
    settings, sizes = TranslatorSettings(), TransformerSizes()
    data = prepare_data(settings)
    sources, references = [p.src for p in data.test], [p.tgt for p in data.test]
    rows = []
    for chapter, name, kind, file in (
        ("04_dynamic_context", "GRU + attention translator", "attention", "ch4_attention.pt"),
        ("04_dynamic_context", "fixed-context translator", "fixed", "ch4_fixed.pt"),
        ("05_transformer", "Transformer translator", "transformer", "ch5_transformer.pt"),
    ):
        size = sizes if kind == "transformer" else None
        rate = _steps_per_s(
            _timed_train(
                lambda kind=kind, size=size: build_model(kind, data, settings, size),
                lambda: training_batches(data, settings),
                settings.train_config(),
            )
        )
        model, _ = load_model(WEIGHTS_DIR / file, data, settings, size)
        score = bleu(translate_many(model, sources, data, max_len=settings.max_len + 2), references)
        kept = load_history(WEIGHTS_DIR / file).kept_step
        rows.append(
            TrainingRow(
                chapter,
                name,
                settings.batch_size,
                rate,
                kept,
                f"test BLEU {score:.2f} ({len(references):,} pairs) with the weights of step {kept:,}",
            )
        )
    return rows


def copy_rows() -> list[TrainingRow]:
    """Chapter 5's copy task: each model to the step where its loss falls below 0.2 (5 seeds)."""
    config, runs = load_copy_runs(WEIGHTS_DIR / "ch5_copy.json")
    if config != CopyComparison():
        raise ValueError(f"ch5_copy.json was made with other settings: {config}")
    rows = []
    for name in MODELS:

        def make(name: str = name) -> torch.nn.Module:
            seed_everything(0)
            return config.make(name)

        rate = _steps_per_s(
            _timed_train(
                make,
                lambda: config.task().batches(config.batch_size, seed=0),
                TrainConfig(steps=config.steps, lr=config.lr, seed=0, threads=1),
            )
        )
        reach = [first_step_below(r[name].losses, 0.2) for r in runs]
        if any(step is None for step in reach):
            result = "loss never below 0.2 in some seed"
            steps = float(config.steps)
        else:
            steps = statistics.median(reach)
            result = f"loss below 0.2 at step {min(reach)}–{max(reach)} (5 seeds; median {steps:g})"
        row = TrainingRow("05_transformer", f"{name}, copy task", config.batch_size, rate, steps, result)
        rows.append(row)
    return rows


def measure() -> list[TrainingRow]:
    """Every stored model, one after another, on one thread."""
    with torch_threads(1):
        return bottleneck_rows() + translator_rows() + copy_rows()
