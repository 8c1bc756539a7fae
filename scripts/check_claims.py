"""Run every chapter for each CPU capability and seed; every assert must pass in every run.

The book's claims are ``assert`` statements in the chapters. A claim that holds on one
machine for one seed is not yet a result: CPU libraries pick their kernels by
instruction set (a training run ends in another second or third decimal on another
CPU), and a result that depends on the seed is luck. This script executes each chapter
from a fresh kernel with papermill, **without** the book's pinned numerics
(``attnlib/numerics.env``), once for every torch CPU capability this machine has
(``ATEN_CPU_CAPABILITY``: ``default``, ``avx2``, and ``avx512`` where the CPU has it) and
every seed (the chapter's ``parameters`` cell holds ``SEED``), and prints a markdown
table: one row per run, with pass/fail, the wall time and the chapter's headline numbers.

    .venv/bin/python scripts/check_claims.py                      # every chapter, 3 x 3 runs
    .venv/bin/python scripts/check_claims.py 01 04 --seeds 0 1    # some chapters, some seeds
    .venv/bin/python scripts/check_claims.py --capabilities default --seeds 1   # what CI runs

Each run uses ``cpu_count // jobs`` threads (one per run with two jobs on two cores). The
executed notebooks are kept in ``--out`` (default ``/tmp/attnbook-claims``) to read a
failure. The exit status is 0 only if every run passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from attnlib.numerics import unpinned_environment

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CAPABILITIES = ("default", "avx2", "avx512")
MARKER = "ATTNBOOK-HEADLINES "

# Each chapter's headline numbers: name -> a Python expression evaluated in the kernel
# after the chapter ran. They are reported, not checked (the chapter's asserts do that).
HEADLINES: dict[str, dict[str, str]] = {
    "01_bottleneck": {
        "live loss fixed/attn": "[round(float(live_fixed), 3), round(float(live_attn), 3)]",
        "fixed@15 (3 seeds)": "[round(float(x), 3) for x in at(FIX, 15)]",
        "attn@20 (3 seeds)": "[round(float(x), 3) for x in at(ATT, 20)]",
    },
    "02_human_analogy": {
        "fitted w": "round(fit.width, 3)",
        "test MSE fitted": "round(float(test_error['fitted']), 4)",
        "narrow/fitted": "round(float(test_error['too narrow'] / test_error['fitted']), 2)",
        "wide/fitted": "round(float(test_error['too wide'] / test_error['fitted']), 1)",
    },
    "03_qkv_recipe": {
        "model gap": "float(max(gaps.values()))",
        "max w unscaled@512": "round(float(max_w['dot'][-1]), 3)",
        "‖J‖ scaled/unscaled@512": "round(float(ratio), 2)",
    },
    "04_dynamic_context": {
        "BLEU attn/fixed": "[round(scores['attention'], 2), round(scores['fixed'], 2)]",
        "p": "round(att_bs.p_value, 3)",
        "focus stays/jumps": "[round(m.stay, 3), round(m.jump, 3)]",
        "p 1-5/16-20": "[round(boot[0][0].p_value, 3), round(boot[-1][0].p_value, 3)]",
    },
    "05_transformer": {
        "BLEU tf/gru": "(round(tf_boot.bleu, 2), round(gru_boot.bleu, 2))",
        "p": "round(tf_boot.p_value, 4)",
        "exponents": "(round(short_growth, 2), round(loop_growth, 2), round(long_growth, 2))",
        "gru factors": "[round(float(x), 3) for x in gru_factor]",
    },
    "06_attention_today": {
        "GPT test loss": "gpt_loss",
        "bigram": "baseline['bigram']",
        "real words": "{k: round(float(v), 2) for k, v in real.items()}",
        "first-token share": "share[0].max()",
        "punct ratio": "ratio[3].max()",
        "separator ratio": "ratio[1].max()",
        "translator": "{k: round(float(v), 3) for k, v in sink.items()}",
        "memory growth": "{k: round(float(v), 2) for k, v in growth.items()}",
    },
}


@dataclass
class Run:
    """One execution of one chapter: what ran, and how it went."""

    chapter: str
    capability: str
    seed: int
    ok: bool = False
    seconds: float = 0.0
    headlines: dict[str, object] = field(default_factory=dict)
    error: str = ""


def headline_cell(chapter: str) -> str:
    """Source of a cell that prints the chapter's headline numbers as one JSON line."""
    exprs = HEADLINES.get(chapter, {})
    return (
        "import json as _json\n_h = {}\n"
        + "".join(
            f"try:\n    _h[{name!r}] = {expr}\nexcept Exception as _e:\n"
            f"    _h[{name!r}] = f'? {{type(_e).__name__}}'\n"
            for name, expr in exprs.items()
        )
        + f"print({MARKER!r} + _json.dumps(_h, default=lambda x: round(float(x), 4)))"
    )


def worker(notebook: Path, seed: int, out: Path) -> None:
    """Execute one notebook with papermill (in this process's environment); print a result."""
    import nbformat
    import papermill

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(headline_cell(notebook.stem)))
    staged = out.with_suffix(".input.ipynb")
    nbformat.write(nb, staged)
    start = time.perf_counter()
    result = {"ok": True, "error": "", "headlines": {}}
    try:
        executed = papermill.execute_notebook(
            str(staged),
            str(out),
            parameters={"SEED": seed},
            kernel_name="python3",
            cwd=str(notebook.parent),
            progress_bar=False,
            log_output=False,
        )
    except papermill.PapermillExecutionError as err:
        result.update(ok=False, error=f"cell {err.exec_count}: {err.ename}: {err.evalue}"[:300])
        executed = nbformat.read(out, as_version=4)
    result["seconds"] = time.perf_counter() - start
    for output in executed.cells[-1].get("outputs", []):
        for line in "".join(output.get("text", "")).splitlines():
            if line.startswith(MARKER):
                result["headlines"] = json.loads(line[len(MARKER) :])
    staged.unlink()
    print(json.dumps(result))


def run(chapter: Path, capability: str, seed: int, out_dir: Path, threads: int) -> Run:
    """Execute one chapter in a subprocess under ``capability``, unpinned otherwise."""
    env = unpinned_environment()
    env.update(
        ATEN_CPU_CAPABILITY=capability,
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        TQDM_DISABLE="1",
        PYTHONPATH=str(ROOT),
    )
    out = out_dir / f"{chapter.stem}-{capability}-seed{seed}.ipynb"
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", str(chapter), str(seed), str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    record = Run(chapter.stem, capability, seed)
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        record.error = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return record
    record.ok, record.seconds = result["ok"], result["seconds"]
    record.headlines, record.error = result["headlines"], result["error"]
    return record


def cpu_capabilities() -> list[str]:
    """The torch CPU capabilities this machine can run: avx512 only where the CPU has it."""
    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    have = ["default"]
    if "avx2" in flags:
        have.append("avx2")
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        have.append("avx512")
    return have


def table(runs: list[Run]) -> str:
    """The markdown table: one row per run."""
    lines = [
        "| chapter | capability | SEED | result | wall time | headline numbers |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        result = "pass" if r.ok else f"**FAIL** ({r.error})"
        numbers = ", ".join(f"{k} {v}" for k, v in r.headlines.items()) or "–"
        lines.append(
            f"| {r.chapter} | {r.capability} | {r.seed} | {result} | {r.seconds:.0f} s | {numbers} |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("chapters", nargs="*", help="chapter prefixes, e.g. 01 04 (default: all)")
    p.add_argument(
        "--capabilities",
        nargs="+",
        choices=CAPABILITIES,
        help="torch CPU capabilities (default: every one this CPU has)",
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    p.add_argument("--out", type=Path, default=Path("/tmp/attnbook-claims"))
    args = p.parse_args()
    chapters = [
        nb
        for nb in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
        if not args.chapters or any(nb.name.startswith(c) for c in args.chapters)
    ]
    if not chapters:
        p.error(f"no chapter matches {args.chapters}")
    have = cpu_capabilities()
    wanted = args.capabilities or have
    missing = [c for c in wanted if c not in have]
    if missing:
        p.error(f"this CPU cannot run capability {missing}; it has {have}")
    args.out.mkdir(parents=True, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    jobs = [(nb, cap, seed) for nb in chapters for cap in wanted for seed in args.seeds]
    print(
        f"{len(jobs)} runs ({len(chapters)} chapters x {wanted} x SEED {args.seeds}), "
        f"{args.jobs} at a time, {threads} thread(s) each, unpinned numerics",
        flush=True,
    )
    start = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, nb, cap, seed, args.out, threads) for nb, cap, seed in jobs]
        runs = []
        for f in futures:
            runs.append(f.result())
            r = runs[-1]
            print(
                f"  {r.chapter} {r.capability} SEED={r.seed}: "
                f"{'pass' if r.ok else 'FAIL ' + r.error} ({r.seconds:.0f} s)",
                flush=True,
            )
    failed = [r for r in runs if not r.ok]
    print("\n" + table(runs) + "\n")
    print(
        f"{len(runs) - len(failed)}/{len(runs)} runs passed in "
        f"{time.perf_counter() - start:.0f} s; executed notebooks in {args.out}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.exit(main())
