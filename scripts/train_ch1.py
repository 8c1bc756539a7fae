"""Chapter 1's long runs: train until the loss curves flatten, for several sizes, tasks and seeds.

Chapter 1 trains one fixed-vector model and one attention model live, for a few hundred
steps, so the reader sees training happen. Whether the fixed vector's trouble with long
inputs is a lack of room (capacity) or only slower learning needs more than that: runs
long enough for every loss curve to flatten, at several hidden sizes, on the copy and the
reverse task, with three seeds each. This script does them with the chapter's own code
(:mod:`attnlib.bottleneck`) and writes

    data/ch1/runs.pt      every run: settings, parameter count, training-loss curve (one value
                          per step), greedy accuracy by input length every ``measure_every``
                          steps, and after the last step accuracy by length and by source
                          position (greedy and teacher-forced)
    data/ch1/weights.pt   the final weights (float16) of the 64-unit runs

All runs are measured on the same test sequences (seed ``TEST_SEED``); the final
measurement uses the weights rounded to float16, exactly what the chapter loads.

**Determinism.** Fixed seeds, one thread per run, a step budget (not a time budget), and
measurements that draw no random numbers from the training streams, so a re-run gives the
same files. CPU libraries pick their kernels by instruction set, so the script runs under the
book's pinned numerics (``attnlib/numerics.env``; it restarts itself with them if they are not
set). ``tests/test_bottleneck.py`` retrains the first steps of the cached runs and compares
them with the stored curves.

    .venv/bin/python scripts/train_ch1.py                # every run, 2 at a time
    .venv/bin/python scripts/train_ch1.py --jobs 1 --only copy-fixed-h64
    .venv/bin/python scripts/train_ch1.py --list         # the runs and their step budgets

Finished runs are kept in ``--work`` (default ``/tmp/attnbook-ch1-runs``), so an interrupted
sweep resumes where it stopped; ``data/ch1`` is written once every run is done.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

from attnlib.numerics import pinned_environment, pinned_settings

if __name__ == "__main__" and any(os.environ.get(k) != v for k, v in pinned_settings().items()):
    os.execve(sys.executable, [sys.executable, *sys.argv], pinned_environment())  # before torch loads

import numpy as np
import torch

from attnlib.bottleneck import (
    RESULTS_DIR,
    BottleneckSettings,
    accuracy_by_input_length,
    measure,
    parameter_count,
    round_weights,
    run_name,
    save_runs,
    train_model,
    validation_loss,
)
from attnlib.train import Validation

TEST_SEED = 10_000  # every run is measured on the same test sequences
VALIDATION_SEED = 50_000  # and checked on the same held-out sequences
SEEDS = (0, 1, 2)
BASE = BottleneckSettings()  # the copy task, 64 units: the chapter's settings
# (task, kind, hidden, steps): the fixed-vector model needs many more steps than attention to flatten
PLAN = [
    ("copy", "fixed", 64, 6000),
    ("copy", "attention", 64, 2000),
    ("reverse", "fixed", 64, 6000),
    ("reverse", "attention", 64, 2000),
    ("copy", "fixed", 128, 6000),
    ("copy", "fixed", 32, 6000),
    ("copy", "attention", 32, 2000),
]
KEEP_WEIGHTS = 64  # the hidden size whose weights are stored


def runs(only: list[str] | None, smoke: bool = False) -> list[tuple[BottleneckSettings, str, int]]:
    """Every (settings, kind, seed) of the plan whose name starts with one of ``only``."""
    out = []
    for task, kind, hidden, steps in PLAN:
        settings = replace(BASE, task=task, hidden=hidden, steps=steps)
        if smoke:  # a few steps and small tests: does the pipeline run?
            settings = replace(settings, steps=20, measure_every=10, n_test=50, n_position=20)
        for seed in SEEDS:
            name = run_name(settings, kind, seed)
            if not only or any(name.startswith(prefix) for prefix in only):
                out.append((settings, kind, seed))
    return out


def one_run(settings: BottleneckSettings, kind: str, seed: int, work: Path) -> dict:
    """Train one run to its step budget, measuring it on the way; cache the record in ``work``."""
    path = work / f"{run_name(settings, kind, seed)}.pt"
    if path.is_file():
        return torch.load(path, weights_only=True)
    curve = []

    def check(model: torch.nn.Module) -> float:
        curve.append(accuracy_by_input_length(model, settings, TEST_SEED))
        return validation_loss(model, settings, VALIDATION_SEED)

    # keep the weights of the check with the lowest validation loss: a late loss spike
    # (Adam at a constant learning rate has a few) must not decide the final measurement
    validation = Validation(check, every=settings.measure_every, keep_best=True)
    model, result = train_model(kind, settings, seed, progress=False, validation=validation)
    final = measure(round_weights(model), settings, TEST_SEED)
    record = {
        "settings": asdict(settings),
        "kind": kind,
        "seed": seed,
        "params": parameter_count(model),
        "losses": torch.as_tensor(result.losses, dtype=torch.float32),
        "measured_at": torch.as_tensor(result.val_steps),
        "val_losses": torch.as_tensor(result.val_losses, dtype=torch.float32),
        "kept_step": result.kept_step,
        "by_length": torch.as_tensor(np.array(curve), dtype=torch.float32),
        "final": {k: torch.as_tensor(v, dtype=torch.float32) for k, v in vars(final).items()},
        "seconds": result.seconds,
    }
    if settings.hidden == KEEP_WEIGHTS:
        record["state_dict"] = {k: v.clone() for k, v in model.state_dict().items()}
    work.mkdir(parents=True, exist_ok=True)
    torch.save(record, path)
    return record


def describe(rec: dict) -> str:
    s = BottleneckSettings(**rec["settings"])
    acc = rec["final"]["by_length"]
    last = rec["losses"][-s.steps // 10 :].mean()
    return (
        f"{run_name(s, rec['kind'], rec['seed']):26s} {rec['params']:7d} params, {s.steps} steps in "
        f"{rec['seconds']:5.0f} s; kept step {rec['kept_step']}; loss over the last 10% {last:.4f}; "
        f"accuracy at 5/10/15/20 tokens {acc[5]:.2f} {acc[10]:.2f} {acc[15]:.2f} {acc[20]:.2f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", help="run-name prefixes, e.g. copy-fixed-h64 reverse-")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time, one thread each (default 2)")
    p.add_argument("--work", type=Path, default=Path("/tmp/attnbook-ch1-runs"), help="finished runs")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for runs.pt and weights.pt")
    p.add_argument("--list", action="store_true", help="list the runs and exit")
    p.add_argument("--smoke", action="store_true", help="20 steps per run (use with --out and --work)")
    args = p.parse_args()
    todo = runs(args.only, args.smoke)
    if args.list:
        for settings, kind, seed in todo:
            print(f"{run_name(settings, kind, seed):26s} {settings.steps} steps")
        return
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(one_run, s, k, seed, args.work) for s, k, seed in todo]
        records = []
        for f in futures:
            records.append(f.result())
            print(describe(records[-1]), f"({time.perf_counter() - start:.0f} s so far)", flush=True)
    if args.only and args.out == RESULTS_DIR:  # a part of the sweep never replaces the whole
        print(f"--only: {len(records)} runs kept in {args.work}; {args.out} not written")
        return
    save_runs(args.out, records)
    sizes = ", ".join(f"{f.name} {f.stat().st_size / 1e3:.0f} kB" for f in sorted(args.out.glob("*.pt")))
    print(f"wrote {sizes} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
