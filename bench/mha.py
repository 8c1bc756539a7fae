"""MultiHeadAttention, forward + backward, against torch's own, in the same run.

For each shape (batch B, length T, width d, heads h) it times, on one thread, a forward pass
and a backward pass of self-attention over a random (B, T, d) input:

* ``attnlib fused``: :class:`attnlib.transformer.MultiHeadAttention` with
  ``need_weights=False`` (torch's ``scaled_dot_product_attention`` inside: what training uses);
* ``attnlib weights``: the same module keeping its weights (the path the chapters show);
* ``nn.MultiheadAttention``: torch's module with the same weights, ``need_weights=False``
  and ``True``;
* ``sdpa core``: ``scaled_dot_product_attention`` alone on the projected heads (no input or
  output projections): a floor, not a peer.

Rounds are interleaved (every candidate once per round, in turn) so a burst of load hits all
alike; the figure is the median over rounds of the mean time of ``calls`` calls.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from attnlib.train import torch_threads
from attnlib.transformer import MultiHeadAttention

# (B, T, d, h): chapter 5's training shape, chapter 6's GPT shape, two larger ones.
SHAPES = ((64, 12, 64, 4), (32, 32, 64, 4), (32, 64, 128, 8), (8, 256, 256, 8))


@dataclass(frozen=True)
class MhaRow:
    """Milliseconds per forward + backward pass for one shape."""

    shape: tuple[int, int, int, int]  # (B, T, d, h)
    ours_fused: float
    ours_weights: float
    torch_fast: float  # nn.MultiheadAttention, need_weights=False
    torch_weights: float  # nn.MultiheadAttention, need_weights=True (head-averaged weights)
    sdpa_core: float


def _timed(fn: Callable[[], None], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e3


def _candidates(B: int, T: int, d: int, h: int) -> dict[str, Callable[[], None]]:
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(d, h, batch_first=True)
    ours = MultiHeadAttention.from_torch(theirs)
    x = torch.randn(B, T, d, requires_grad=True)  # (B, T, d)
    q = torch.randn(B, h, T, d // h, requires_grad=True)  # (B, h, T, d_k): projected heads

    def step(forward: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            forward().sum().backward()

        return run

    return {
        "ours_fused": step(lambda: ours(x, x, x, need_weights=False)[0]),
        "ours_weights": step(lambda: ours(x, x, x)[0]),
        "torch_fast": step(lambda: theirs(x, x, x, need_weights=False)[0]),
        "torch_weights": step(lambda: theirs(x, x, x, need_weights=True)[0]),
        "sdpa_core": step(lambda: nn.functional.scaled_dot_product_attention(q, q, q)),
    }


def measure(shapes=SHAPES, rounds: int = 15, budget_ms: float = 40.0) -> list[MhaRow]:
    """Time every candidate at every shape (one thread); return one row per shape."""
    rows = []
    with torch_threads(1):
        for B, T, d, h in shapes:
            candidates = _candidates(B, T, d, h)
            once = _timed(candidates["ours_weights"], 1)  # warm-up and a size estimate
            calls = max(1, int(budget_ms / max(once, 1e-3)))
            times: dict[str, list[float]] = {name: [] for name in candidates}
            for _ in range(rounds):
                for name, fn in candidates.items():
                    times[name].append(_timed(fn, calls))
            rows.append(MhaRow((B, T, d, h), *(statistics.median(times[n]) for n in candidates)))
    return rows
