"""Each chapter from a fresh kernel, and the models it trains: wall time and throughput.

A chapter runs as the committed outputs were made (``scripts/execute_notebooks.py``'s
setting: the pinned numerics of ``attnlib/numerics.env``, one thread), one at a time, so
the figures are the ones a reader waits for. One extra cell, appended to the run and never
saved, reports the training runs the chapter made: each is a
:class:`attnlib.train.TrainResult` (or a record with steps and seconds) that the chapter
keeps in a variable, named below with the batch size it trains on and the result the
chapter states for it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from attnlib.numerics import pinned_settings

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MARK = "ATTNBOOK-TRAINED "
CHAPTER_BUDGET_S = 60.0  # each chapter, on a 2-core machine
BOOK_BUDGET_S = 150.0  # the whole book

# chapter -> {model: (TrainResult expression, batch-size expression, stated-result expression)}
TRAINED: dict[str, dict[str, tuple[str, str, str]]] = {
    "01_bottleneck": {
        "fixed vector (copy task)": (
            "fixed_run",
            "settings.batch",
            "f'loss {fixed_run.losses[-25:].mean():.2f} over steps 226-250'",
        ),
        "attention (copy task)": (
            "attn_run",
            "settings.batch",
            "f'loss {attn_run.losses[-25:].mean():.2f} over steps 226-250'",
        ),
    },
    "04_dynamic_context": {
        "translator, first steps": (
            "live",
            "live_settings.batch_size",
            "f'loss {live.losses[-10:].mean():.2f}'",
        ),
    },
    "06_attention_today": {
        "GPT (characters)": (
            "run",
            "BATCH",
            "f'test loss {gpt_loss:.3f} nats/char (windows of {CONTEXT} characters)'",
        ),
    },
}


@dataclass(frozen=True)
class ChapterRow:
    """One chapter's fresh-kernel run."""

    chapter: str
    seconds: float
    trained: list[dict]  # {model, steps, batch, seconds, sequences_per_s, result}


def _report_cell(chapter: str) -> str:
    """A cell printing the chapter's training runs as one JSON line."""
    runs = TRAINED.get(chapter, {})
    lines = ["import json as _json", "_t = []"]
    for name, (run, batch, result) in runs.items():
        lines.append(
            f"_t.append({{'model': {name!r}, 'steps': int({run}.steps), 'seconds': float({run}.seconds), "
            f"'batch': int({batch}), 'result': str({result})}})"
        )
    lines.append(f"print({MARK!r} + _json.dumps(_t))")
    return "\n".join(lines)


def run_chapter(path: Path, env: dict[str, str]) -> ChapterRow:
    """Execute one chapter from a fresh kernel (not saved); time it and read its training runs."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_report_cell(path.stem)))
    old = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        start = time.perf_counter()
        NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        seconds = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(old)
    trained = []
    for output in nb.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(MARK):
                trained = json.loads(line[len(MARK) :])
    for t in trained:
        t["sequences_per_s"] = t["steps"] * t["batch"] / t["seconds"]
    return ChapterRow(path.stem, seconds, trained)


def measure(chapters: list[str] | None = None) -> list[ChapterRow]:
    """Every chapter (or those whose name starts with one of ``chapters``), one after another."""
    env = {**pinned_settings(), "TQDM_DISABLE": "1"}
    paths = [
        p
        for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
        if not chapters or any(p.name.startswith(c) for c in chapters)
    ]
    return [run_chapter(p, env) for p in paths]
