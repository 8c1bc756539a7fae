"""Train chapter 4's two translators and cache their weights in data/weights/.

Chapter 4 trains its attention model live for 120 steps to show the loop, but an
alignment worth looking at needs about 3,000 steps (4 to 5 minutes per model on
one CPU core), too long for a page that must run in under two minutes. This
script does the full runs with the same code and settings as the notebook
(:class:`attnlib.translate.TranslatorSettings`) and writes

    data/weights/ch4_attention.pt   AttentionSeq2Seq (additive attention)
    data/weights/ch4_fixed.pt       FixedContextSeq2Seq (one context vector)

each with its settings, vocabulary digests, training-loss curve (one value per
step), validation-loss curve and the step whose weights it holds.

**Which step is kept.** Every ``settings.eval_every`` (100) steps, and after the
last one, the run measures the validation loss: teacher-forced cross-entropy per
target token on the validation pairs (at most ``max_len`` tokens per side), with
dropout off (:func:`attnlib.translate.validation_loss`). The file keeps the
weights of the check with the lowest validation loss (the earliest on a tie),
not those of the last step. The test pairs play no part in the choice; the test
BLEU printed at the end is a report, not a criterion.

**Determinism.** Fixed seeds, one thread, a step budget (not a time budget), and
checks that neither draw random numbers nor touch the training run (see
:class:`attnlib.train.Validation`), so a re-run reproduces the files' curves and
weights; ``tests/test_translate.py`` retrains the first steps and compares them
with the stored curve. Commit files made under the project's pinned CPU numerics
(``ATEN_CPU_CAPABILITY=avx2`` etc., see ``data/weights/README.md``): other CPU
kernels give other last digits.

    .venv/bin/python scripts/train_ch4.py            # both models, one after the other
    .venv/bin/python scripts/train_ch4.py --kind fixed
    .venv/bin/python scripts/train_ch4.py --val-bleu  # also print validation BLEU at each check
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from attnlib.seq2seq import Seq2Seq
from attnlib.train import Validation, train
from attnlib.translate import (
    MODEL_KINDS,
    WEIGHTS_DIR,
    TranslationData,
    TranslatorSettings,
    bleu,
    build_model,
    prepare_data,
    save_model,
    training_batches,
    translate_many,
    validation_loss,
)


def reporting_validation(data: TranslationData, settings: TranslatorSettings, with_bleu: bool) -> Validation:
    """``settings.validation(data)``, printing each check (and the validation BLEU if asked)."""
    checks = [0]
    start = time.perf_counter()

    def loss(model: Seq2Seq) -> float:
        value = validation_loss(model, data)
        checks[0] += 1
        step = min(checks[0] * settings.eval_every, settings.steps)
        extra = f", BLEU {greedy_bleu(model, data, data.validation, settings):5.2f}" if with_bleu else ""
        print(
            f"  step {step:5d}: validation loss {value:.4f}{extra}  ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        return value

    base = settings.validation(data)
    return Validation(loss, every=base.every, keep_best=base.keep_best)


def greedy_bleu(model: Seq2Seq, data: TranslationData, pairs: list, settings: TranslatorSettings) -> float:
    """Greedy BLEU on ``pairs`` (decoding stops at ``max_len + 2`` tokens, as in chapter 4)."""
    hyps = translate_many(model, [p.src for p in pairs], data, max_len=settings.max_len + 2)
    return bleu(hyps, [p.tgt for p in pairs])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--kind",
        choices=MODEL_KINDS,
        action="append",
        help="which model to train (repeatable; default: both)",
    )
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="folder for the .pt files")
    p.add_argument(
        "--val-bleu",
        action="store_true",
        help="also print the validation BLEU at each check (a report; ~1.5 s a check)",
    )
    args = p.parse_args()
    settings = TranslatorSettings()
    data = prepare_data(settings)
    print(
        f"{len(data.train)} training, {len(data.validation)} validation, {len(data.test)} test "
        f"pairs; vocabularies {len(data.src_vocab)} (zh) / {len(data.tgt_vocab)} (en); {settings}"
    )
    for kind in args.kind or MODEL_KINDS:
        model = build_model(kind, data, settings)
        result = train(
            model,
            training_batches(data, settings),
            settings.train_config(),
            validation=reporting_validation(data, settings, args.val_bleu),
        )
        path = args.out / f"ch4_{kind}.pt"
        save_model(path, model, kind, data, settings, result)
        best = result.val_losses.min()
        print(
            f"{kind}: {result.steps} steps in {result.seconds:.0f} s; final training loss "
            f"{result.losses[-100:].mean():.3f}; kept step {result.kept_step} (validation loss "
            f"{best:.4f}; last step {result.val_losses[-1]:.4f}); test BLEU "
            f"{greedy_bleu(model, data, data.test, settings):.2f} -> {path}",
            flush=True,
        )


if __name__ == "__main__":
    main()
