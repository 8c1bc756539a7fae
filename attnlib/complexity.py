r"""Vaswani et al. (2017), Table 1, measured: recurrence against self-attention.

The paper compares layer types on three counts, for ``n`` positions of width ``d``:

===================  ========================  ======================  ===================
layer                complexity per layer      sequential operations   maximum path length
===================  ========================  ======================  ===================
self-attention       :math:`O(n^2 \cdot d)`    :math:`O(1)`            :math:`O(1)`
recurrent            :math:`O(n \cdot d^2)`    :math:`O(n)`            :math:`O(n)`
===================  ========================  ======================  ===================

This module measures each column on this machine:

* :func:`count_operations` and :func:`time_sequential_vs_parallel`: how many torch operators
  a layer runs, and the wall time of a GRU's step-by-step loop against one batched
  self-attention layer, as ``n`` grows (sequential operations);
* :func:`path_gradients`: how strongly input 1 still moves output ``n``, the gradient norm
  :math:`\lVert \partial (u^\top y_n) / \partial x_1 \rVert`, for a random GRU and a random
  self-attention layer (maximum path length);
* :func:`count_flops`, :func:`layer_costs` and :func:`weights_bytes`: floating-point operations
  per layer, counted by torch and by formula, and the memory of the ``(h, n, n)`` attention
  weights (complexity per layer).

Timings depend on the machine and its load; the functions return every repeat, so a
caller can take medians and compare ratios measured in the same run.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from ._validate import check_int
from .train import torch_threads
from .transformer import MultiHeadAttention, causal_mask


@dataclass(frozen=True)
class TimingConfig:
    """What to time, and how often."""

    lengths: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)  # sequence lengths n
    d_model: int = 64  # width of the GRU state and of the attention layer
    heads: int = 4  # attention heads (d_k = d_model / heads)
    batch: int = 1  # sequences per call: one sentence at a time
    repeats: int = 5  # timings per length and model; report the median
    threads: int = 1  # torch.set_num_threads during timing, restored afterwards
    seed: int = 0  # initial weights and inputs

    def __post_init__(self) -> None:
        if not isinstance(self.lengths, tuple) or not self.lengths:
            raise ValueError(f"lengths must be a non-empty tuple of ints, got {self.lengths!r}")
        for n in self.lengths:
            check_int("each of lengths", n, 1)
        for name in ("d_model", "heads", "batch", "repeats", "threads"):
            check_int(name, getattr(self, name), 1)
        check_int("seed", self.seed, 0)
        if self.d_model % self.heads:
            raise ValueError(f"d_model={self.d_model} must be divisible by heads={self.heads}")


@dataclass(frozen=True, eq=False)
class Timings:
    """Seconds per call, every repeat: arrays of shape (len(lengths), repeats)."""

    lengths: np.ndarray  # (L,) sequence lengths n
    gru_loop: np.ndarray  # (L, R) Python loop over nn.GRUCell, one step per position
    gru_fused: np.ndarray  # (L, R) nn.GRU: the same recurrence, looped inside C++
    attention: np.ndarray  # (L, R) one MultiHeadAttention self-attention layer

    def median(self, name: str) -> np.ndarray:
        """Median seconds per length for ``name`` in 'gru_loop', 'gru_fused', 'attention'."""
        if name not in ("gru_loop", "gru_fused", "attention"):
            raise ValueError(f"name must be 'gru_loop', 'gru_fused' or 'attention', got {name!r}")
        return np.median(getattr(self, name), axis=1)

    def speedup(self, baseline: str = "gru_loop") -> np.ndarray:
        """Median time of ``baseline`` over median time of attention, per length: > 1 = attention wins."""
        return self.median(baseline) / self.median("attention")


def gru_loop(cell: nn.GRUCell, x: torch.Tensor) -> torch.Tensor:
    """The recurrence written out: h_t = GRU(x_t, h_{t-1}), step by step.

    x (B, n, d) -> states (B, n, d). Step t cannot start before step t - 1
    has finished: n sequential operations, whatever the hardware.
    """
    h = x.new_zeros(x.shape[0], cell.hidden_size)  # (B, d) h_0
    states = []
    for t in range(x.shape[1]):
        h = cell(x[:, t], h)  # (B, d): needs the previous h
        states.append(h)
    return torch.stack(states, dim=1)  # (B, n, d)


def time_call(fn: Callable[[], object]) -> float:
    """Wall time of one call of ``fn``, in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_sequential_vs_parallel(config: TimingConfig = TimingConfig()) -> Timings:
    """Time the GRU loop, nn.GRU and one self-attention layer at every length.

    Repeats are interleaved (each round times all three models at all lengths), so a
    burst of load on a shared machine hits all of them alike; one warm-up round is
    discarded. Forward passes only, without gradients, on ``config.threads`` threads.
    """
    with torch_threads(config.threads):
        torch.manual_seed(config.seed)
        d = config.d_model
        cell, fused = nn.GRUCell(d, d), nn.GRU(d, d, batch_first=True)
        fused.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})  # same weights
        mha = MultiHeadAttention(d, config.heads).eval()
        gen = torch.Generator().manual_seed(config.seed)
        xs = [torch.randn(config.batch, n, d, generator=gen) for n in config.lengths]  # (B, n, d)
        models = {
            "gru_loop": lambda x: gru_loop(cell, x),
            "gru_fused": lambda x: fused(x),
            "attention": lambda x: mha(x, x, x),
        }
        out = {name: np.zeros((len(xs), config.repeats)) for name in models}
        with torch.no_grad():
            for r in range(-1, config.repeats):  # round -1 warms up
                for i, x in enumerate(xs):
                    for name, model in models.items():
                        seconds = time_call(functools.partial(model, x))
                        if r >= 0:
                            out[name][i, r] = seconds
    return Timings(np.array(config.lengths), out["gru_loop"], out["gru_fused"], out["attention"])


def path_gradients(
    lengths: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256),
    d_model: int = 64,
    heads: int = 4,
    seeds: tuple[int, ...] = (0, 1, 2, 3),
) -> dict[str, np.ndarray]:
    r"""How much output ``n`` depends on input 1: :math:`\lVert \partial (u^\top y_n) / \partial x_1 \rVert`.

    For each seed: a freshly initialised ``nn.GRU`` and a causal
    :class:`~attnlib.transformer.MultiHeadAttention`
    layer (so both let :math:`y_n` see :math:`x_1 .. x_n` only) read the same random inputs
    ``x (1, n, d)``; ``u`` is a fixed random unit vector. Float64, so nothing underflows early.
    Returns the geometric mean over seeds, per length: ``{"gru": (L,), "attention": (L,)}``,
    and the same for input ``n`` itself (``"gru_self"``, ``"attention_self"``) for scale.
    """
    out = {
        name: np.zeros((len(seeds), len(lengths)))
        for name in ("gru", "attention", "gru_self", "attention_self")
    }
    for s, seed in enumerate(seeds):
        torch.manual_seed(seed)
        gru = nn.GRU(d_model, d_model, batch_first=True, dtype=torch.float64)
        mha = MultiHeadAttention(d_model, heads).double()
        gen = torch.Generator().manual_seed(seed)
        u = torch.randn(d_model, generator=gen, dtype=torch.float64)
        u = u / u.norm()  # (d,) the direction we read y_n along
        x_all = torch.randn(1, max(lengths), d_model, generator=gen, dtype=torch.float64)
        for i, n in enumerate(lengths):
            x = x_all[:, :n].clone().requires_grad_(True)  # (1, n, d)
            models = {
                "gru": lambda x, gru=gru: gru(x)[0],
                "attention": lambda x, mha=mha: mha(x, x, x, causal_mask(x.shape[1]))[0],
            }
            for name, model in models.items():
                y_n = model(x)[0, -1] @ u  # scalar: output n along u
                (grad,) = torch.autograd.grad(y_n, x)  # (1, n, d)
                out[name][s, i] = grad[0, 0].norm().item()
                out[f"{name}_self"][s, i] = grad[0, -1].norm().item()
    return {name: np.exp(np.log(v).mean(axis=0)) for name, v in out.items()}


def layer_costs(n: np.ndarray | int, d: int) -> dict[str, np.ndarray]:
    r"""Multiply-adds of one layer over ``n`` positions of width ``d`` (biases and softmax left out).

    * ``"gru"``: each step multiplies the input and the state by three ``(d, d)`` gate matrices:
      :math:`6 n d^2`;
    * ``"attention_projections"``: :math:`Q, K, V` and output projections, :math:`4 n d^2`;
    * ``"attention_quadratic"``: :math:`QK^\top` and the weighted sum :math:`AV`, :math:`2 n^2 d`
      (the heads split ``d``, so their number does not change the total);
    * ``"attention"``: the sum of the two.

    With these constants self-attention costs more than the GRU exactly when :math:`n > d`.
    """
    n = np.asarray(n, dtype=np.int64)
    costs = {
        "gru": 6 * n * d * d,
        "attention_projections": 4 * n * d * d,
        "attention_quadratic": 2 * n * n * d,
    }
    costs["attention"] = costs["attention_projections"] + costs["attention_quadratic"]
    return costs


def weights_bytes(n: np.ndarray | int, heads: int, batch: int = 1, bytes_per_value: int = 4) -> np.ndarray:
    """Memory of one layer's attention weights (batch, heads, n, n), in bytes (float32: 4 bytes)."""
    n = np.asarray(n, dtype=np.int64)
    return batch * heads * n * n * bytes_per_value


def growth_exponent(lengths: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Local exponent k in time ~ n^k between neighbouring lengths: (L,), (L,) -> (L - 1,).

    1 means the time doubles when n doubles (linear), 2 that it quadruples (quadratic).
    """
    n, t = np.asarray(lengths, dtype=float), np.asarray(seconds, dtype=float)
    if n.shape != t.shape or n.ndim != 1 or len(n) < 2:
        raise ValueError(
            f"lengths and seconds must be 1-D of the same length >= 2, got {n.shape} and {t.shape}"
        )
    return np.log(t[1:] / t[:-1]) / np.log(n[1:] / n[:-1])


def fitted_exponent(lengths: np.ndarray, seconds: np.ndarray) -> float:
    """The exponent k of the power law time ~ c * n^k that fits every point best: (L,), (L,) -> float.

    A least-squares line through (log n, log t). With all lengths at once, one timing
    disturbed by a burst of load moves k far less than it moves one local exponent
    (:func:`growth_exponent`).
    """
    n, t = np.asarray(lengths, dtype=float), np.asarray(seconds, dtype=float)
    if n.shape != t.shape or n.ndim != 1 or len(n) < 2:
        raise ValueError(
            f"lengths and seconds must be 1-D of the same length >= 2, got {n.shape} and {t.shape}"
        )
    if not (np.all(n > 0) and np.all(t > 0) and np.isfinite(t).all()):
        raise ValueError("lengths and seconds must be positive and finite (their logarithms are fitted)")
    return float(np.polyfit(np.log(n), np.log(t), 1)[0])


class _OperatorCounter(TorchDispatchMode):
    """Counts every ATen operator call that reaches torch's dispatcher."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        self.calls += 1
        return func(*args, **(kwargs or {}))


def count_operations(fn: Callable[[], object]) -> int:
    """How many torch operators (ATen calls: matmuls, adds, views, ...) one call of ``fn`` runs.

    Deterministic: the same code and shapes give the same count on any machine. Inside a
    recurrence the count grows with ``n`` because every step issues its own operators,
    each waiting for the previous step's state.
    """
    with torch.no_grad(), _OperatorCounter() as counter:
        fn()
    return counter.calls


def count_flops(fn: Callable[[], object]) -> int:
    """Floating-point operations of the matrix products in one call of ``fn``.

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` (one multiply-add = 2 FLOPs),
    so it checks :func:`layer_costs` independently.
    """
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        fn()
    return int(counter.get_total_flops())
