"""Benchmark: Vaswani et al. (2017), Table 1, on this machine, as a table.

Times one GRU layer run as a Python loop over nn.GRUCell (the honest sequential
form), nn.GRU (the same recurrence looped in C++) and one attnlib
MultiHeadAttention self-attention layer, for sequence lengths 16 .. 4096, one
sequence, forward pass, a fixed number of threads; prints the median of the
repeats, the ratios measured in the same run, and the operator counts (exact).
Chapter 5 plots the same measurement; this prints the numbers.

Run: .venv/bin/python bench/table1_sequential_vs_parallel.py [--threads 1] [--d-model 64]
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from attnlib.complexity import (
    TimingConfig,
    count_operations,
    growth_exponent,
    gru_loop,
    time_sequential_vs_parallel,
)
from attnlib.transformer import MultiHeadAttention


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512, 1024, 2048, 4096])
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    config = TimingConfig(tuple(a.lengths), a.d_model, a.heads, repeats=a.repeats, threads=a.threads)
    t = time_sequential_vs_parallel(config)
    loop, fused, attn = t.median("gru_loop"), t.median("gru_fused"), t.median("attention")
    cell, mha = nn.GRUCell(a.d_model, a.d_model), MultiHeadAttention(a.d_model, a.heads)
    print(f"d_model = {a.d_model}, heads = {a.heads}, threads = {a.threads}, median of {a.repeats}")
    print(
        f"{'n':>6} {'GRU loop ms':>12} {'nn.GRU ms':>10} {'attention ms':>13} "
        f"{'loop/attn':>10} {'GRU/attn':>9} {'ops loop':>9} {'ops attn':>9}"
    )
    for i, n in enumerate(t.lengths):
        x = torch.zeros(1, int(n), a.d_model)
        ops_loop = count_operations(functools.partial(gru_loop, cell, x)) if n <= 1024 else float("nan")
        ops_attn = count_operations(functools.partial(mha, x, x, x))
        print(
            f"{n:>6} {loop[i] * 1e3:>12.2f} {fused[i] * 1e3:>10.2f} {attn[i] * 1e3:>13.2f} "
            f"{loop[i] / attn[i]:>10.2f} {fused[i] / attn[i]:>9.2f} {ops_loop:>9} {ops_attn:>9}"
        )
    print("growth exponent k (time ~ n^k) between neighbouring lengths:")
    for name, secs in (("GRU loop", loop), ("nn.GRU", fused), ("attention", attn)):
        print(f"  {name:>9}: " + " ".join(f"{k:5.2f}" for k in growth_exponent(t.lengths, secs)))


if __name__ == "__main__":
    main()
