"""Train chapter 6's comparison of multi-head, grouped-query and multi-query attention.

The chapter trains its GPT live once (300 steps, a few seconds). Comparing the three ways of
sharing keys and values fairly takes more: each variant from five seeds, at the chapter's
full size, fifteen runs, several minutes on one core, too long for a page that must run in
under a minute. This script makes those runs with the chapter's own code and settings
(:class:`attnlib.charlm.LMSettings`, :func:`attnlib.charlm.train_variant`) and writes their
loss curves, with the settings and a digest of the vocabulary, and the five multi-head models'
weights (in float16: the chapter looks for attention sinks in each) to

    data/weights/ch6_gqa_runs.json     the loss curves of all fifteen runs
    data/weights/ch6_gpt_seeds.pt      the multi-head models, one per seed

Training is deterministic (fixed seeds, one thread, a step budget) and runs under the book's
pinned numerics (``attnlib/numerics.env``), so a re-run reproduces the file;
``tests/test_charlm.py`` retrains the first steps of one run and compares them with it.

    .venv/bin/python scripts/train_ch6.py                  # all fifteen runs, both files
    .venv/bin/python scripts/train_ch6.py --models-only    # the five multi-head runs again, checked
                                                           # against the stored curves; the weights file
"""

from __future__ import annotations

import os
import sys
import time

from attnlib.numerics import pinned_settings  # no torch import: the pins must come first

SEEDS = (0, 1, 2, 3, 4)


def main() -> None:
    if any(os.environ.get(k) != v for k, v in pinned_settings().items()):  # torch reads them at import
        env = dict(os.environ, **pinned_settings())
        os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], env)
    import numpy as np

    from attnlib.charlm import (
        COMPARISON_PATH,
        MODELS_PATH,
        VARIANTS,
        LMSettings,
        english_data,
        load_comparison,
        save_comparison,
        save_models,
        train_variant,
    )
    from attnlib.translate import prepare_data

    settings = LMSettings()
    data = english_data(prepare_data().splits, settings)
    start = time.perf_counter()
    models_only = "--models-only" in sys.argv[1:]
    variants = {"multi-head": VARIANTS["multi-head"]} if models_only else VARIANTS
    runs, models = {}, {}
    for name, kv_heads in variants.items():
        runs[name] = []
        for seed in SEEDS:
            model, run = train_variant(settings, data, kv_heads, seed)
            runs[name].append(run)
            if name == "multi-head":
                models[seed] = model
    if models_only:  # the same runs as the stored ones, or the weights would not match the curves
        stored = load_comparison(data, settings)["runs"]["multi-head"]
        for run, old in zip(runs["multi-head"], stored, strict=True):
            np.testing.assert_allclose(run.eval_losses, old["eval_losses"], rtol=0, atol=2e-6)
    else:
        save_comparison(COMPARISON_PATH, runs, settings, data, SEEDS)
    save_models(MODELS_PATH, models, settings, data)
    for name, rs in runs.items():
        final = [r.eval_losses[-1] for r in rs]
        print(
            f"{name:>14}: test loss {sum(final) / len(final):.3f} (seeds {SEEDS}: "
            + ", ".join(f"{x:.3f}" for x in final)
            + ")"
        )
    print(f"{sum(len(rs) for rs in runs.values())} runs in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
