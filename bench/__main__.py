"""The book's benchmarks, one command, one markdown table.

    .venv/bin/python -m bench                  # everything (about six minutes on 2 cores)
    .venv/bin/python -m bench --only mha widgets

Every figure stands beside the reference it is compared with, measured in the same run:

* **chapters**: each chapter's fresh-kernel time under the pinned numerics, and the whole
  book's, against the budgets (60 s a chapter, 150 s the book, on 2 cores);
* **training, live** (with the chapters): each model a chapter trains live, its wall time to
  the result the chapter states and its throughput in sequences per second;
* **stored**: each model a chapter loads from a file, trained here for a few steps
  with the same settings and batches: its throughput, and the wall time the steps behind the
  chapter's figure take at that rate (``bench/training.py``);
* **widgets**: each widget's redraw time in the built book (median and 95th percentile of
  240 interactions, the median over 5 interleaved rounds), against half a frame at 60 Hz (8 ms);
* **mha**: ``attnlib``'s MultiHeadAttention, forward + backward, against
  ``nn.MultiheadAttention`` and ``scaled_dot_product_attention``, as ratios;
* **build**: the book's build time from the stored outputs;
* **ci**: the stages of the last ``scripts/test.sh`` run on this machine.

Benchmarks are not tests: nothing here fails on a slow figure. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import chapters, mha, training, widgets

ROOT = Path(__file__).resolve().parent.parent
STAGES = ROOT / "_build" / "ci-stages.tsv"  # written by scripts/test.sh
SECTIONS = ("chapters", "stored", "widgets", "mha", "build", "ci")


def machine() -> str:
    model = platform.processor() or "CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()}-core {model}, load {load:.1f} at start"


def chapter_rows(only: list[str] | None) -> list[str]:
    runs = chapters.measure(only)
    rows = [
        f"| chapter | {r.chapter} | {r.seconds:.1f} s | budget {chapters.CHAPTER_BUDGET_S:.0f} s | "
        f"{'within' if r.seconds <= chapters.CHAPTER_BUDGET_S else '**over**'} |"
        for r in runs
    ]
    total = sum(r.seconds for r in runs)
    if not only:
        rows.append(
            f"| chapter | whole book | {total:.1f} s | budget {chapters.BOOK_BUDGET_S:.0f} s | "
            f"{'within' if total <= chapters.BOOK_BUDGET_S else '**over**'} |"
        )
    for r in runs:
        for t in r.trained:
            rows.append(
                f"| training, live | {r.chapter}: {t['model']} | {t['seconds']:.1f} s for {t['steps']} "
                f"steps of {t['batch']} | {t['sequences_per_s']:.0f} sequences/s | "
                f"stated result: {t['result']} |"
            )
    return rows


def training_rows() -> list[str]:
    return [
        f"| training, stored run | {r.chapter}: {r.model} | {r.seconds_to_result:.0f} s for "
        f"{r.steps_to_result:,.0f} steps of {r.batch} (at {r.steps_per_s:.1f} steps/s) | "
        f"{r.sequences_per_s:.0f} sequences/s | stated result: {r.result} |"
        for r in training.measure()
    ]


def widget_rows(html: Path) -> list[str]:
    rows = []
    for r in widgets.measure(html):
        verdict = "within" if r.p95 <= widgets.BUDGET_MS else "**over**"
        rows.append(
            f"| widget | {r.name} | median {r.median:.2f} ms, p95 {r.p95:.2f} ms "
            f"(p95 {r.p95_low:.1f}–{r.p95_high:.1f} ms over {r.rounds} rounds of {r.interactions} redraws) "
            f"| budget p95 {widgets.BUDGET_MS:.0f} ms | {verdict} |"
        )
    return rows


def mha_rows() -> list[str]:
    rows = []
    for r in mha.measure():
        B, T, d, h = r.shape
        rows.append(
            f"| mha | B={B}, T={T}, d={d}, h={h} | fused {r.ours_fused:.2f} ms vs "
            f"nn.MultiheadAttention {r.torch_fast:.2f} ms | **{r.ours_fused / r.torch_fast:.2f}×** | "
            f"weights path {r.ours_weights / r.torch_weights:.2f}× torch's with weights; "
            f"sdpa core alone {r.sdpa_core:.2f} ms |"
        )
    return rows


def build_rows() -> list[str]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).parent / "jupyter-book"),
                "build",
                "-W",
                "-n",
                "--keep-going",
                "--path-output",
                out,
                str(ROOT),
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - start
    return [f"| build | the HTML book from stored outputs | {seconds:.1f} s | (no budget) | – |"]


def ci_rows(stages: Path = STAGES) -> list[str]:
    if not stages.exists():
        return ["| ci | (no record: run `bash scripts/test.sh` first) | – | – | – |"]
    rows, total = [], 0.0
    for line in stages.read_text().splitlines():
        stage, seconds = line.rsplit("\t", 1)
        total += float(seconds)
        rows.append(f"| ci | {stage} | {float(seconds):.0f} s | | |")
    rows.append(
        f"| ci | all stages | {total:.0f} s | budget 900 s | {'within' if total <= 900 else '**over**'} |"
    )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", choices=SECTIONS, help="some sections only")
    p.add_argument("--chapters", nargs="+", help="chapter prefixes for the chapters section, e.g. 01 04")
    p.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="the built book")
    p.add_argument(
        "--stages", type=Path, default=STAGES, help="the stage times a scripts/test.sh run wrote (ci section)"
    )
    args = p.parse_args()
    wanted = args.only or SECTIONS
    print(f"# Benchmarks — {machine()}\n")
    print("| what | case | measured | reference | verdict |")
    print("|---|---|---|---|---|")
    runs = {
        "chapters": lambda: chapter_rows(args.chapters),
        "stored": training_rows,
        "widgets": lambda: widget_rows(args.html),
        "mha": mha_rows,
        "build": build_rows,
        "ci": lambda: ci_rows(args.stages),
    }
    for section in SECTIONS:
        if section in wanted:
            for row in runs[section]():
                print(row, flush=True)


if __name__ == "__main__":
    main()
