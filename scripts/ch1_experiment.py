"""Chapter 1's experiment: does one fixed context vector lose accuracy on long inputs?

Trains a FixedContextSeq2Seq and an AttentionSeq2Seq on the same batches with the
same step budget, then prints for both the token accuracy by input length
(including lengths longer than any seen in training) and, on inputs of the
longest training length, the accuracy by source position, greedy and
teacher-forced. Used to pick the settings of ``notebooks/01_bottleneck``:

    .venv/bin/python scripts/ch1_experiment.py
    .venv/bin/python scripts/ch1_experiment.py --task reverse --vocab 13 --steps 300
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from attnlib.data import SequenceTask
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2Seq, Seq2SeqConfig
from attnlib.train import (
    TrainConfig,
    accuracy_by_length,
    accuracy_by_position,
    predict,
    seed_everything,
    token_accuracy,
    train,
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="copy", choices=["copy", "reverse"])
    p.add_argument("--vocab", type=int, default=30, help="vocabulary size, 3 special tokens included")
    p.add_argument("--min-len", type=int, default=3, help="shortest input, training and test")
    p.add_argument("--max-len", type=int, default=15, help="longest training input")
    p.add_argument("--eval-max-len", type=int, default=20, help="longest test input")
    p.add_argument("--embed", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n-eval", type=int, default=2000, help="test sequences (all lengths)")
    return p.parse_args()


def numbers(values: np.ndarray) -> str:
    return " ".join(f"{v:4.2f}" for v in values)


def report_positions(model: Seq2Seq, task: SequenceTask, n: int) -> None:
    """Print accuracy by source position on inputs of length ``task.max_len``."""
    batch = task.sample(n, seed=20_000)
    source_pos = task.source_positions(batch.src_lengths, batch.tgt_out.shape[1])  # (B, T_out)
    for teacher_forcing in (False, True):
        pred, _ = predict(model, batch, teacher_forcing=teacher_forcing)
        acc = accuracy_by_position(pred, batch.tgt_out, positions=source_pos)
        how = "teacher-forced" if teacher_forcing else "greedy"
        print(f"    length-{task.max_len} inputs, by source position ({how}): {numbers(acc)}")


def main() -> None:
    a = parse_args()
    train_task = SequenceTask(a.task, a.vocab, a.min_len, a.max_len)
    test = SequenceTask(a.task, a.vocab, a.min_len, a.eval_max_len).sample(a.n_eval, seed=10_000)
    config = Seq2SeqConfig(a.vocab, a.vocab, embed=a.embed, hidden=a.hidden, attention_hidden=a.hidden)
    print(f"settings: {vars(a)}")
    print(f"{'length':>12}: " + " ".join(f"{n:4d}" for n in range(a.min_len, a.eval_max_len + 1)))
    for Model in (FixedContextSeq2Seq, AttentionSeq2Seq):
        seed_everything(a.seed)
        model = Model(config)
        result = train(
            model,
            train_task.batches(a.batch, seed=a.seed),
            TrainConfig(steps=a.steps, lr=a.lr, seed=a.seed, threads=a.threads),
            progress=False,
        )
        start = time.perf_counter()
        pred, _ = predict(model, test)
        by_length = accuracy_by_length(pred, test.tgt_out, test.src_lengths)[a.min_len :]
        print(f"{Model.__name__[:-7]:>12}: {numbers(by_length)}")
        print(
            f"    overall {token_accuracy(pred, test.tgt_out):.3f}; mean loss of the last 20 steps "
            f"{result.losses[-20:].mean():.4f}; training {result.seconds:.1f} s, "
            f"test {time.perf_counter() - start:.1f} s"
        )
        report_positions(model, SequenceTask(a.task, a.vocab, a.max_len, a.max_len), 500)


if __name__ == "__main__":
    main()
