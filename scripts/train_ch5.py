"""Train chapter 5's Transformer translator and cache its weights in data/weights/.

Chapter 5 compares a small Transformer with chapter 4's GRU translator with attention.
A fair comparison trains both alike, so this script is ``scripts/train_ch4.py`` with
another model: the same data (chapter 4's leak-free split, at most 10 tokens per side,
1,000-token vocabularies), the same :class:`attnlib.translate.TranslatorSettings`
(batches of 64, dropout 0.1, Adam at 3e-3, 3,000 steps, seed 0) and the same
validation policy, with the Transformer's sizes in
:class:`attnlib.translate.TransformerSizes` (d_model 128, 4 heads, feed-forward 256,
2 encoder and 2 decoder blocks, pre-norm: 1.05 million parameters against the GRU's
0.98 million). It writes

    data/weights/ch5_transformer.pt   Transformer (kind "transformer")

with its settings, sizes, vocabulary digests, training-loss curve (one value per step),
validation-loss curve and the step whose weights it holds. It also runs the chapter's
copy-task comparison (:mod:`attnlib.compare`: chapter 1's GRU with attention against a
one-layer Transformer, same batches and budget) for seeds 0 to 4 and writes

    data/weights/ch5_copy.json        loss curves and test accuracies, per model and seed

**Which step is kept.** As for chapter 4: every ``settings.eval_every`` (100) steps and
after the last one the run measures the validation loss
(:func:`attnlib.translate.validation_loss`), and the file keeps the weights of the
check with the lowest one (the earliest on a tie). The test pairs play no part in the
choice; the test BLEU printed at the end is a report.

**Determinism.** Fixed seeds, one thread, a step budget, checks that touch neither the
random state nor the run: a re-run reproduces the file's curves and weights under the
project's pinned CPU numerics (``attnlib/numerics.env``; see ``data/weights/README.md``).
``tests/test_transformer_translator.py`` retrains the first steps and the first check
and compares them with the stored curves.

    .venv/bin/python scripts/train_ch5.py                   # both, one after the other
    .venv/bin/python scripts/train_ch5.py --only copy       # one of them (run two in parallel)
    .venv/bin/python scripts/train_ch5.py --only translator --val-bleu
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from train_ch4 import greedy_bleu, reporting_validation  # the same checks and BLEU as chapter 4

from attnlib.compare import CopyComparison, run_copy_comparison, save_copy_runs
from attnlib.train import train
from attnlib.translate import (
    WEIGHTS_DIR,
    TransformerSizes,
    TranslatorSettings,
    build_model,
    prepare_data,
    save_model,
    training_batches,
)

KIND = "transformer"
COPY_SEEDS = (0, 1, 2, 3, 4)


def train_copy(out: Path) -> None:
    """The copy-task comparison for every seed of COPY_SEEDS -> out / ch5_copy.json."""
    config, runs = CopyComparison(), []
    for seed in COPY_SEEDS:
        start = time.perf_counter()
        runs.append(run_copy_comparison(config, seed))
        scores = ", ".join(
            f"{name}: loss {r.losses[-20:].mean():.3f}, accuracy {r.token_accuracy:.3f}"
            for name, r in runs[-1].items()
        )
        print(f"copy task, seed {seed}: {scores}  ({time.perf_counter() - start:.0f} s)", flush=True)
    save_copy_runs(out / "ch5_copy.json", config, runs)


def train_translator(out: Path, val_bleu: bool) -> None:
    """The Transformer translator with chapter 4's data, budget and validation -> out / ch5_transformer.pt."""
    settings, sizes = TranslatorSettings(), TransformerSizes()
    data = prepare_data(settings)
    model = build_model(KIND, data, settings, sizes)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{len(data.train)} training, {len(data.validation)} validation, {len(data.test)} test pairs; "
        f"{sizes}; {params:,} parameters; {settings}",
        flush=True,
    )
    result = train(
        model,
        training_batches(data, settings),
        settings.train_config(),
        validation=reporting_validation(data, settings, val_bleu),
    )
    path = out / f"ch5_{KIND}.pt"
    save_model(path, model, KIND, data, settings, result, sizes)
    print(
        f"{KIND}: {result.steps} steps in {result.seconds:.0f} s; final training loss "
        f"{result.losses[-100:].mean():.3f}; kept step {result.kept_step} (validation loss "
        f"{result.val_losses.min():.4f}; last step {result.val_losses[-1]:.4f}); test BLEU "
        f"{greedy_bleu(model, data, data.test, settings):.2f} -> {path}",
        flush=True,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="folder for the files")
    p.add_argument("--only", choices=("translator", "copy"), help="make one of the two files")
    p.add_argument("--val-bleu", action="store_true", help="also print the validation BLEU at each check")
    args = p.parse_args()
    if args.only in (None, "translator"):
        train_translator(args.out, args.val_bleu)
    if args.only in (None, "copy"):
        train_copy(args.out)


if __name__ == "__main__":
    main()
