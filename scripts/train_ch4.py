"""Train chapter 4's two translators and cache their weights in data/weights/.

Chapter 4 trains its attention model live for 120 steps to show the loop, but an
alignment worth looking at needs about 3,000 steps (4 to 5 minutes per model on
one CPU core), too long for a page that must run in under two minutes. This
script does the full runs with the same code and settings as the notebook
(:class:`attnlib.translate.TranslatorSettings`) and writes

    data/weights/ch4_attention.pt   AttentionSeq2Seq (additive attention)
    data/weights/ch4_fixed.pt       FixedContextSeq2Seq (one context vector)

each with its settings, vocabulary digests and loss curve. Training is
deterministic (fixed seeds, one thread, a step budget), so a re-run reproduces
the files' losses; ``tests/test_translate.py`` retrains the first steps and
compares them with the stored curve.

    .venv/bin/python scripts/train_ch4.py            # both models
    .venv/bin/python scripts/train_ch4.py --kind fixed
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attnlib.train import train
from attnlib.translate import (
    MODEL_KINDS,
    WEIGHTS_DIR,
    TranslatorSettings,
    bleu,
    build_model,
    prepare_data,
    save_model,
    training_batches,
    translate_many,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--kind",
        choices=MODEL_KINDS,
        action="append",
        help="which model to train (repeatable; default: both)",
    )
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="folder for the .pt files")
    args = p.parse_args()
    settings = TranslatorSettings()
    data = prepare_data(settings)
    print(
        f"{len(data.train)} training pairs, {len(data.test)} test pairs, vocabularies "
        f"{len(data.src_vocab)} (zh) / {len(data.tgt_vocab)} (en); {settings}"
    )
    for kind in args.kind or MODEL_KINDS:
        model = build_model(kind, data, settings)
        result = train(model, training_batches(data, settings), settings.train_config())
        hyps = translate_many(model, [p.src for p in data.test], data, max_len=settings.max_len + 2)
        score = bleu(hyps, [p.tgt for p in data.test])
        path = args.out / f"ch4_{kind}.pt"
        save_model(path, model, kind, data, settings, result.losses)
        print(
            f"{kind}: {result.steps} steps in {result.seconds:.0f} s, final loss "
            f"{result.losses[-100:].mean():.3f}, test BLEU {score:.2f} -> {path}"
        )


if __name__ == "__main__":
    main()
