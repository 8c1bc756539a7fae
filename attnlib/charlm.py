"""Chapter 6's experiment: a character-level GPT of the corpus's English side, and its stored runs.

One place for the choices the chapter and ``scripts/train_ch6.py`` share, so the two never
drift apart::

    data     = english_data(prepare_data().splits)        # vocab, streams, fixed test windows
    settings = LMSettings()                               # sizes and training budget
    model    = build_lm(settings, data, kv_heads=None, seed=0)
    run      = train_lm(model, data.train.batches(...), settings.train_config(0), held_out=data.held_out)

The comparison of multi-head, grouped-query and multi-query attention (five seeds each, at
the chapter's full size) takes a few minutes, longer than the chapter may run, so
:func:`run_comparison` is run once by ``scripts/train_ch6.py`` and its loss curves are stored
in ``data/weights/ch6_gqa_runs.json``; :func:`load_comparison` reads them back and refuses a
file made with other settings or another vocabulary. The five multi-head models' weights are
kept too (``data/weights/ch6_gpt_seeds.pt``, :func:`save_models` and :func:`load_models`), so
that the chapter can look for attention sinks in more than one trained model.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._validate import check_int, check_positive
from .data.chars import CharStream, CharVocab
from .data.corpus import Splits
from .gpt import GPT, GPTConfig, LMTrainResult, train_lm
from .resources import data_path
from .train import TrainConfig, seed_everything

__all__ = [
    "COMPARISON_PATH",
    "MODELS_PATH",
    "VARIANTS",
    "LMData",
    "LMSettings",
    "build_lm",
    "english_data",
    "load_comparison",
    "load_models",
    "run_comparison",
    "save_comparison",
    "save_models",
    "train_variant",
]

COMPARISON_PATH = data_path("weights", "ch6_gqa_runs.json")
MODELS_PATH = data_path("weights", "ch6_gpt_seeds.pt")
VARIANTS = {"multi-head": None, "grouped-query": 2, "multi-query": 1}  # name -> kv_heads


@dataclass(frozen=True)
class LMSettings:
    """The chapter's language model: sizes, data windows and training budget."""

    d_model: int = 64  # width of the residual stream
    heads: int = 4  # query heads
    d_ff: int = 256  # feed-forward width
    layers: int = 2  # decoder blocks
    context: int = 64  # characters per training window
    batch_size: int = 32  # windows per step
    steps: int = 300  # step budget (about 600,000 characters: less than one pass)
    lr: float = 3e-3  # Adam's learning rate
    held_out: int = 256  # fixed test windows the loss is measured on
    eval_every: int = 50  # steps between two measurements of the test loss

    def __post_init__(self) -> None:
        for name in (
            "d_model",
            "heads",
            "d_ff",
            "layers",
            "context",
            "batch_size",
            "steps",
            "held_out",
            "eval_every",
        ):
            check_int(name, getattr(self, name), 1)
        check_positive("lr", self.lr)

    def config(self, vocab: int, kv_heads: int | None = None) -> GPTConfig:
        """The :class:`~attnlib.gpt.GPTConfig` for a vocabulary of ``vocab`` tokens."""
        return GPTConfig(
            vocab=vocab,
            d_model=self.d_model,
            heads=self.heads,
            kv_heads=kv_heads,
            d_ff=self.d_ff,
            layers=self.layers,
            context=self.context,
        )

    def train_config(self, seed: int) -> TrainConfig:
        """The :class:`~attnlib.train.TrainConfig`: Adam, ``steps``, one thread, ``seed``."""
        return TrainConfig(steps=self.steps, lr=self.lr, seed=seed, threads=1)


@dataclass(frozen=True, eq=False)
class LMData:
    """The English sentences as character streams, and the fixed test windows."""

    vocab: CharVocab  # the training text's characters
    train: CharStream  # every training sentence, each after a separator
    test: CharStream  # every test sentence
    held_out: tuple[torch.Tensor, torch.Tensor]  # x, y (held_out, context): evenly spread test windows


def english_data(splits: Splits, settings: LMSettings | None = None) -> LMData:
    """The English side of a corpus split (chapter 4's), as a character-level task."""
    settings = LMSettings() if settings is None else settings
    if not isinstance(splits, Splits):
        raise TypeError(
            f"splits must be attnlib.data.Splits (e.g. prepare_data().splits), got {type(splits).__name__}"
        )
    train_text = [pair.english for pair in splits.train]
    test_text = [pair.english for pair in splits.test]
    vocab = CharVocab.build(train_text)
    test = CharStream.from_sentences(test_text, vocab)
    return LMData(
        vocab,
        CharStream.from_sentences(train_text, vocab),
        test,
        test.windows(settings.context, settings.held_out),
    )


def build_lm(settings: LMSettings, data: LMData, kv_heads: int | None = None, seed: int = 0) -> GPT:
    """A fresh GPT, its initial weights drawn after ``seed_everything(seed)``."""
    seed_everything(check_int("seed", seed, 0))
    return GPT(settings.config(len(data.vocab), kv_heads))


def train_variant(
    settings: LMSettings, data: LMData, kv_heads: int | None, seed: int, progress: bool | None = False
) -> tuple[GPT, LMTrainResult]:
    """Build and train one model: the batches, the initial weights and Adam all follow ``seed``."""
    model = build_lm(settings, data, kv_heads, seed)
    run = train_lm(
        model,
        data.train.batches(settings.context, settings.batch_size, seed=seed),
        settings.train_config(seed),
        held_out=data.held_out,
        eval_every=settings.eval_every,
        progress=progress,
    )
    return model, run


def run_comparison(
    settings: LMSettings, data: LMData, seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
) -> dict[str, list[LMTrainResult]]:
    """Train every variant of ``VARIANTS`` from every seed: name -> one run per seed.

    The variants differ only in ``kv_heads``; for one seed they start from the same random
    state and read the same batches.
    """
    return {
        name: [train_variant(settings, data, kv, seed)[1] for seed in seeds] for name, kv in VARIANTS.items()
    }


def _vocab_digest(vocab: CharVocab) -> str:
    return hashlib.sha256("\x00".join(vocab.tokens).encode("utf-8")).hexdigest()[:16]


def save_comparison(
    path: str | os.PathLike,
    runs: dict[str, list[LMTrainResult]],
    settings: LMSettings,
    data: LMData,
    seeds: tuple[int, ...],
) -> None:
    """Write the runs' loss curves (not the weights) with the settings and vocabulary behind them."""
    record = {
        "settings": asdict(settings),
        "vocab": _vocab_digest(data.vocab),
        "seeds": list(seeds),
        "runs": {
            name: [
                {
                    "losses": np.round(r.losses, 6).tolist(),
                    "eval_steps": r.eval_steps.tolist(),
                    "eval_losses": np.round(r.eval_losses, 6).tolist(),
                }
                for r in rs
            ]
            for name, rs in runs.items()
        },
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def load_comparison(
    data: LMData, settings: LMSettings | None = None, path: str | os.PathLike = COMPARISON_PATH
) -> dict[str, Any]:
    """Read :func:`save_comparison`'s file: ``{"seeds": [...], "runs": {name: [run per seed]}}``, each
    run a dict of numpy arrays ``losses``, ``eval_steps``, ``eval_losses``.

    Raises ``FileNotFoundError`` if the file is missing and ``ValueError`` if it was made with
    other settings or another vocabulary (re-run ``scripts/train_ch6.py``).
    """
    settings = LMSettings() if settings is None else settings
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no stored runs at {path}; make them with `python scripts/train_ch6.py`")
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("settings") != asdict(settings):
        raise ValueError(
            f"{path} holds runs made with settings {record.get('settings')}, not "
            f"{asdict(settings)}; re-run scripts/train_ch6.py"
        )
    if record.get("vocab") != _vocab_digest(data.vocab):
        raise ValueError(f"{path} was made with another vocabulary; re-run scripts/train_ch6.py")
    runs = {
        name: [{k: np.array(v) for k, v in run.items()} for run in rs] for name, rs in record["runs"].items()
    }
    return {"seeds": record["seeds"], "runs": runs}


def save_models(path: str | os.PathLike, models: dict[int, GPT], settings: LMSettings, data: LMData) -> None:
    """Write trained models (seed -> GPT) in half precision, with their settings and vocabulary."""
    record = {
        "settings": asdict(settings),
        "vocab": _vocab_digest(data.vocab),
        "kv_heads": {seed: m.config.kv_heads for seed, m in models.items()},
        "state_dicts": {
            seed: {k: v.detach().to(torch.float16) for k, v in m.state_dict().items()}
            for seed, m in models.items()
        },
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(record, path)


def load_models(
    data: LMData, settings: LMSettings | None = None, path: str | os.PathLike = MODELS_PATH
) -> dict[int, GPT]:
    """Read :func:`save_models`'s file: seed -> GPT in eval mode (float32, with the rounded weights).

    Raises ``FileNotFoundError`` if the file is missing and ``ValueError`` if it was made with
    other settings or another vocabulary (re-run ``scripts/train_ch6.py``).
    """
    settings = LMSettings() if settings is None else settings
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no stored models at {path}; make them with `python scripts/train_ch6.py`")
    record = torch.load(path, map_location="cpu", weights_only=True)
    if record.get("settings") != asdict(settings) or record.get("vocab") != _vocab_digest(data.vocab):
        raise ValueError(
            f"{path} holds models made with other settings or another vocabulary; re-run scripts/train_ch6.py"
        )
    models = {}
    for seed, state in record["state_dicts"].items():
        model = GPT(settings.config(len(data.vocab), record["kv_heads"][seed]))
        model.load_state_dict({k: v.float() for k, v in state.items()})
        models[int(seed)] = model.eval()
    return models
