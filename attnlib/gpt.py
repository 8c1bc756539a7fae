r"""A GPT: a decoder-only Transformer language model, with a KV cache (chapter 6).

A GPT (Radford et al. 2018, 2019) is chapter 5's encoder block with a **causal** mask,
stacked, over token embeddings, with one more LayerNorm and an output layer that shares
the embedding matrix (tied embeddings). Trained to predict every next token of a window
at once, it models

.. math::

    p(x_1, \dots, x_T) = \prod_t p(x_{t+1} \mid x_1, \dots, x_t),

and it writes text by sampling one token at a time and feeding it back (:func:`generate`).

**The KV cache.** Writing token :math:`t + 1` needs the keys and values of positions
:math:`1 \dots t` in every layer. They never change (the mask keeps every position blind to
later ones), so instead of recomputing them for the whole prefix at every step, a
:class:`KVCache` keeps them, and each step computes the new token's query, key and value
only: one position per step instead of :math:`t`, at the price of memory,

.. math::

    2 \times \text{layers} \times g \times d_k \times n \times \text{bytes per value}

for :math:`n` positions and :math:`g` key/value heads (:func:`attnlib.gqa.kv_cache_bytes`).

The pieces are the book's own: :class:`~attnlib.transformer.EncoderBlock` (chapter 5) with a
:class:`CausalSelfAttention` that is a :class:`~attnlib.gqa.GroupedQueryAttention` (multi-head,
grouped-query or multi-query), optionally with rotary positions (:mod:`attnlib.rope`) and a
sliding window (:mod:`attnlib.streaming`); :class:`~attnlib.transformer.Embedding` (chapter 5)
read from any position. Shapes: ``B`` batch, ``T`` new positions, ``T_k`` keys (cached and
new), ``h`` query heads, ``g`` key/value heads, ``V`` vocabulary.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from . import functional as F
from ._validate import check_dropout, check_int, check_positive
from .gqa import GroupedQueryAttention
from .rope import rotate
from .scores import scaled_dot
from .streaming import window_mask
from .train import TrainConfig, progress_bar, seed_everything, torch_threads
from .transformer import BlockConfig, Embedding, EncoderBlock

POSITIONS = ("sinusoidal", "rope")
__all__ = [
    "GPT",
    "POSITIONS",
    "AttentionParts",
    "CausalSelfAttention",
    "GPTBlock",
    "GPTConfig",
    "GPTEmbedding",
    "KVCache",
    "LMTrainResult",
    "LayerCache",
    "generate",
    "lm_loss",
    "sample_next",
    "step_times",
    "train_lm",
]


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GPTConfig:
    """Sizes and choices of a :class:`GPT`."""

    vocab: int  # tokens (here: characters), the special ids included
    d_model: int = 64  # width of the residual stream
    heads: int = 4  # query heads h, each d_k = d_model / h wide
    kv_heads: int | None = None  # key/value heads g: None = heads (multi-head), 1 = multi-query
    d_ff: int = 256  # hidden width of the feed-forward network
    layers: int = 2  # decoder blocks
    context: int = 64  # training window T: the longest context the model learns from
    max_len: int = 512  # longest sequence it may read or write (the positional table's size)
    positions: str = "sinusoidal"  # "sinusoidal": added to the tokens (chapter 5); "rope": rotates q, k
    window: int | None = None  # sliding window: each query sees this many positions; None = all
    sinks: int = 0  # with a window: the first positions every query sees as well (StreamingLLM)
    dropout: float = 0.0  # on embeddings, attention weights and sublayer outputs
    pad_id: int = 0  # never a real token: its embedding stays zero

    def __post_init__(self) -> None:
        for name in ("vocab", "layers", "context", "max_len"):
            check_int(name, getattr(self, name), 1)
        _ = self.block  # builds a BlockConfig, which checks d_model, heads, d_ff, dropout
        if self.kv_heads is not None:
            check_int("kv_heads", self.kv_heads, 1, self.heads)
            if self.heads % self.kv_heads:
                raise ValueError(f"kv_heads={self.kv_heads} must divide heads={self.heads}")
        if self.positions not in POSITIONS:
            raise ValueError(f"positions must be one of {POSITIONS}, got {self.positions!r}")
        if self.positions == "rope" and self.d_k % 2:
            raise ValueError(f"RoPE rotates pairs: d_k = d_model / heads = {self.d_k} must be even")
        if self.window is not None:
            check_int("window", self.window, 1)
        check_int("sinks", self.sinks, 0)
        if self.sinks and self.window is None:
            raise ValueError(f"sinks={self.sinks} needs a window: without one every position is seen anyway")
        if self.context > self.max_len:
            raise ValueError(f"context={self.context} exceeds max_len={self.max_len}")
        check_int("pad_id", self.pad_id, 0, self.vocab - 1)
        check_dropout(self.dropout)

    @property
    def block(self) -> BlockConfig:
        """The configuration every block shares, chapter 5's ``BlockConfig``, pre-norm with GELU."""
        return BlockConfig(
            self.d_model, self.heads, self.d_ff, self.dropout, norm_first=True, activation="gelu"
        )

    @property
    def d_k(self) -> int:
        """The width of each head's queries, keys and values."""
        return self.d_model // self.heads

    @property
    def groups(self) -> int:
        """The number of key/value heads g (``kv_heads``, or ``heads`` if None)."""
        return self.heads if self.kv_heads is None else self.kv_heads


# -- the KV cache -----------------------------------------------------------------------------


@dataclass(eq=False)
class LayerCache:
    """One layer's cached keys and values, (B, g, n, d_k) each, and their positions (n,)."""

    keys: torch.Tensor | None = None  # (B, g, n, d_k), None before the first step
    values: torch.Tensor | None = None  # (B, g, n, d_k)
    positions: torch.Tensor | None = None  # (n,) the position of each cached key

    def extend(
        self, k: torch.Tensor, v: torch.Tensor, start: int, window: int | None = None, sinks: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Append this step's k, v (B, g, T, d_k), at positions ``start ... start + T - 1``.

        Return every key and value the step's queries may need, (B, g, n + T, d_k), and their
        positions (n + T,). Then forget what no later query can see: with a window of w, keep
        the last w positions (and the first ``sinks`` ones).
        """
        new = torch.arange(start, start + k.shape[2], device=k.device)  # (T,)
        positions = new if self.positions is None else torch.cat([self.positions, new])  # (n + T,)
        if self.keys is not None:
            k = torch.cat([self.keys, k], dim=2)  # (B, g, n + T, d_k)
            v = torch.cat([self.values, v], dim=2)
        keep = torch.ones_like(positions, dtype=torch.bool)  # (n + T,)
        if window is not None:  # what the next query (at positions[-1] + 1) may still see
            keep = (positions > positions[-1] - window) | (positions < sinks)
        self.keys, self.values, self.positions = k[:, :, keep], v[:, :, keep], positions[keep]
        return k, v, positions

    @property
    def size(self) -> int:
        """The number of positions held."""
        return 0 if self.keys is None else self.keys.shape[2]

    def nbytes(self) -> int:
        """Bytes of the cached keys and values."""
        if self.keys is None:
            return 0
        return sum(t.nelement() * t.element_size() for t in (self.keys, self.values))


@dataclass(eq=False)
class KVCache:
    """Every layer's :class:`LayerCache`, and how many positions the model has read."""

    layers: list[LayerCache]  # one per block
    length: int = 0  # positions read so far: the position of the next token

    @classmethod
    def empty(cls, layers: int) -> KVCache:
        return cls([LayerCache() for _ in range(check_int("layers", layers, 1))])

    def nbytes(self) -> int:
        """Bytes of every cached key and value: 2 × layers × g × d_k × n × bytes (× B)."""
        return sum(layer.nbytes() for layer in self.layers)


# -- the model --------------------------------------------------------------------------------


class AttentionParts(NamedTuple):
    """One layer's attention, taken apart: what a plot or a widget needs."""

    scores: torch.Tensor  # (B, h, T, T) scaled scores q·k / sqrt(d_k), before the mask
    mask: torch.Tensor  # (T, T) True = may attend (causal, and the window if any)
    values: torch.Tensor  # (B, h, T, d_k) each query head's values (shared within a group)
    weights: torch.Tensor  # (B, h, T, T) softmax of the masked scores


class CausalSelfAttention(GroupedQueryAttention):
    """Causal self-attention that can read and extend a :class:`LayerCache`.

    Multi-head, grouped-query or multi-query (``config.kv_heads``); optionally with rotary
    positions and a sliding window. x (B, T, d_model) at positions ``start ... start + T - 1``
    -> output (B, T, d_model), weights (B, h, T, T_k) over the T_k cached and new keys.
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__(config.d_model, config.heads, config.groups, config.dropout)
        self.rope = config.positions == "rope"
        self.window, self.sinks = config.window, config.sinks

    def forward(
        self, x: torch.Tensor, start: int = 0, cache: LayerCache | None = None, need_weights: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return ``(output (B, T, d_model), weights (B, h, T, T_k) or None)``."""
        q = self.split_heads(self.W_q(x))  # (B, h, T, d_k)
        k = self.split_kv(self.W_k(x))  # (B, g, T, d_k)
        v = self.split_kv(self.W_v(x))  # (B, g, T, d_k)
        if self.rope:
            q, k = rotate(q, start), rotate(k, start)  # positions start ... start + T - 1
        positions = torch.arange(start, start + x.shape[1], device=x.device)  # (T,) the queries'
        key_positions = positions  # (T_k,)
        if cache is not None:  # (B, g, T_k, d_k): cached + new
            k, v, key_positions = cache.extend(k, v, start, self.window, self.sinks)
        mask = window_mask(positions, key_positions, self.window, self.sinks)  # (T, T_k): no future
        return self.attend(q, self.repeat_kv(k), self.repeat_kv(v), mask, need_weights)

    def parts(self, x: torch.Tensor) -> AttentionParts:
        """Scores, mask, values and weights of x (B, T, d_model) read from position 0 (no cache)."""
        scores = self.scores(x, x)  # (B, h, T, T)
        positions = torch.arange(x.shape[1], device=x.device)
        mask = window_mask(positions, positions, self.window, self.sinks)  # (T, T)
        values = self.repeat_kv(self.split_kv(self.W_v(x)))  # (B, h, T, d_k)
        return AttentionParts(scores, mask, values, F.softmax(scores, mask=mask))

    def scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """Scaled scores before the mask, positions from 0: (B, T_q, d), (B, T_k, d) -> (B, h, T_q, T_k)."""
        q = self.split_heads(self.W_q(query))  # (B, h, T_q, d_k)
        k = self.repeat_kv(self.split_kv(self.W_k(key)))  # (B, h, T_k, d_k)
        if self.rope:
            q, k = rotate(q), rotate(k)
        return scaled_dot(q, k)


class GPTEmbedding(Embedding):
    """Chapter 5's :class:`~attnlib.transformer.Embedding`, read from any position ``start``
    (a cached model reads one new token at a time). With RoPE the positions go into the
    attention instead, and only the scaled token vectors remain. ids (B, T) -> (B, T, d_model)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__(config.vocab, config)  # reads d_model, pad_id, max_len, dropout
        self.add_positions = config.positions == "sinusoidal"

    def forward(self, ids: torch.Tensor, start: int = 0) -> torch.Tensor:
        x = self.tokens(ids) * self.scale  # (B, T, d_model)
        if self.add_positions:
            x = x + self.positions.table[start : start + ids.shape[1]].to(x.dtype)  # + PE[start:start+T]
        return self.dropout(x)


class GPTBlock(EncoderBlock):
    """A decoder-only block: chapter 5's :class:`~attnlib.transformer.EncoderBlock` (the same
    sublayers, pre-norm) whose self-attention is a :class:`CausalSelfAttention`.

    x (B, T, d_model) at positions ``start ...`` -> x (B, T, d_model), weights (B, h, T, T_k).
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__(config.block)
        self.attention = CausalSelfAttention(config)

    def forward(
        self, x: torch.Tensor, start: int = 0, cache: LayerCache | None = None, need_weights: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        a = self.sub1.input(x)  # (B, T, d_model)
        attended, weights = self.attention(a, start, cache, need_weights)  # looks back only
        x = self.sub1.output(x, attended)
        x = self.sub2.output(x, self.ff(self.sub2.input(x)))  # each position on its own
        return x, weights


class GPT(nn.Module):
    r"""A decoder-only Transformer language model with tied input and output embeddings.

    ``model(ids)`` gives the logits of every next token, (B, T, V), and every layer's
    attention weights; ``model(ids, cache)`` reads ``ids`` as the continuation of what
    ``cache`` holds and extends it. The output layer is the embedding matrix transposed:
    :math:`\text{logits}_t = \operatorname{LN}(x_t)\, E^\top`.
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config must be a GPTConfig, got {type(config).__name__}")
        self.config = config
        self.embedding = GPTEmbedding(config)
        self.blocks = nn.ModuleList(GPTBlock(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.d_model)

    def new_cache(self) -> KVCache:
        """An empty :class:`KVCache` for this model."""
        return KVCache.empty(self.config.layers)

    def forward(
        self, ids: torch.Tensor, cache: KVCache | None = None, need_weights: bool = True
    ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        """Return ``(logits (B, T, V), weights [(B, h, T, T_k)] per layer)``."""
        self.check_ids(ids, 0 if not isinstance(cache, KVCache) else cache.length, cache)
        start = 0 if cache is None else cache.length  # the position of ids[:, 0]
        x = self.embedding(ids, start)  # (B, T, d_model)
        weights = []
        for i, block in enumerate(self.blocks):
            x, w = block(x, start, None if cache is None else cache.layers[i], need_weights)
            weights.append(w)
        if cache is not None:
            cache.length += ids.shape[1]
        return self.logits(self.norm(x)), weights

    @torch.no_grad()
    def attention_parts(self, ids: torch.Tensor) -> list[AttentionParts]:
        """Every layer's :class:`AttentionParts` for ids (B, T), read from position 0."""
        self.check_ids(ids)
        x, parts = self.embedding(ids), []  # (B, T, d_model)
        for block in self.blocks:
            parts.append(block.attention.parts(block.sub1.input(x)))
            x, _ = block(x, need_weights=False)
        return parts

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Tied output layer: h (B, T, d_model) @ E^T -> (B, T, V)."""
        return h @ self.embedding.tokens.weight.T

    def check_ids(self, ids: object, start: int = 0, cache: object = None) -> None:
        """A clear error unless ``ids`` is an int64 (B, T) tensor of token ids that fits after ``start``."""
        c = self.config
        if (
            not isinstance(ids, torch.Tensor)
            or ids.dtype != torch.int64
            or ids.ndim != 2
            or ids.shape[1] == 0
        ):
            raise TypeError(
                f"ids must be a non-empty int64 tensor (B, T), got "
                f"{getattr(ids, 'dtype', type(ids).__name__)} {tuple(getattr(ids, 'shape', ()))}"
            )
        if cache is not None and not isinstance(cache, KVCache):
            raise TypeError(f"cache must be a KVCache (model.new_cache()), got {type(cache).__name__}")
        if cache is not None and len(cache.layers) != c.layers:
            raise ValueError(f"the cache has {len(cache.layers)} layers, the model {c.layers}")
        if c.positions == "sinusoidal" and start + ids.shape[1] > c.max_len:
            raise ValueError(f"positions {start} ... {start + ids.shape[1] - 1} exceed max_len={c.max_len}")
        if ids.min() < 0 or ids.max() >= c.vocab:
            raise ValueError(f"ids outside [0, {c.vocab}): min {ids.min().item()}, max {ids.max().item()}")


# -- writing text -----------------------------------------------------------------------------


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw the next token from softmax(logits / temperature), among the ``top_k`` most likely.

    logits (B, V) -> ids (B,). A low temperature sharpens the distribution (towards the most
    likely token), a high one flattens it; ``top_k=1`` is greedy decoding.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise TypeError(f"logits must be a (B, V) tensor, got {tuple(getattr(logits, 'shape', ()))}")
    z = logits / check_positive("temperature", temperature)  # (B, V)
    if top_k is not None:
        kth = z.topk(check_int("top_k", top_k, 1, z.shape[-1]), dim=-1).values[:, -1:]  # (B, 1)
        z = z.masked_fill(z < kth, float("-inf"))  # only the k largest remain
    p = torch.softmax(z, dim=-1)  # (B, V)
    return torch.multinomial(p, 1, generator=generator)[:, 0]  # (B,)


@torch.no_grad()
def generate(
    model: GPT,
    prompt: torch.Tensor,
    steps: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    use_cache: bool = True,
) -> torch.Tensor:
    """Continue ``prompt`` (B, T_0) by ``steps`` sampled tokens: ids (B, T_0 + steps).

    With ``use_cache`` each step reads only the newest token; without, it re-reads the whole
    sequence. Both give the same tokens for the same ``seed``.
    """
    steps = check_int("steps", steps, 1)
    model.eval()
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    cache = model.new_cache() if use_cache else None
    ids = prompt
    logits, _ = model(prompt, cache, need_weights=False)  # (B, T_0, V): read the prompt
    for step in range(steps):
        token = sample_next(logits[:, -1], temperature, top_k, gen)  # (B,)
        ids = torch.cat([ids, token[:, None]], dim=1)  # (B, T_0 + step + 1)
        if step < steps - 1:
            logits, _ = model(token[:, None], cache, False) if use_cache else model(ids, None, False)
    return ids


@torch.no_grad()
def step_times(model: GPT, prompt: torch.Tensor, steps: int, use_cache: bool) -> np.ndarray:
    """Seconds to compute the logits of each new token in greedy decoding: (steps,).

    Step ``t`` reads one token and the cache, or (without the cache) all ``T_0 + t`` tokens.
    """
    steps = check_int("steps", steps, 1)
    model.eval()
    cache = model.new_cache() if use_cache else None
    logits, _ = model(prompt, cache, need_weights=False)
    ids, seconds = prompt, np.zeros(steps)
    for step in range(steps):
        token = logits[:, -1].argmax(dim=-1, keepdim=True)  # (B, 1)
        ids = torch.cat([ids, token], dim=1)
        begin = time.perf_counter()
        logits, _ = model(token, cache, False) if use_cache else model(ids, None, False)
        seconds[step] = time.perf_counter() - begin
    return seconds


# -- training ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LMTrainResult:
    """What a language-model training run did."""

    losses: np.ndarray  # (steps,) mean cross-entropy per predicted token, nats, one per step
    eval_steps: np.ndarray  # (E,) the steps after which the held-out loss was measured
    eval_losses: np.ndarray  # (E,) held-out loss at those steps, nats
    steps: int  # steps taken
    seconds: float  # wall time of the loop (evaluations included)


@torch.no_grad()
def lm_loss(model: GPT, x: torch.Tensor, y: torch.Tensor, batch_size: int = 128) -> float:
    """Mean cross-entropy (nats) of the next tokens ``y`` given windows ``x``, both (N, T)."""
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)) or x.shape != y.shape:
        raise ValueError(
            f"x and y must be tensors of one shape (N, T), got "
            f"{tuple(getattr(x, 'shape', ()))} and {tuple(getattr(y, 'shape', ()))}"
        )
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(x), check_int("batch_size", batch_size, 1)):
        logits, _ = model(x[i : i + batch_size], need_weights=False)  # (b, T, V)
        total += nn.functional.cross_entropy(
            logits.flatten(0, 1), y[i : i + batch_size].flatten(), reduction="sum"
        ).item()
    model.train(was_training)
    return total / y.numel()


def train_lm(
    model: GPT,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    config: TrainConfig | None = None,
    held_out: tuple[torch.Tensor, torch.Tensor] | None = None,
    eval_every: int = 50,
    progress: bool | None = None,
) -> LMTrainResult:
    """Train ``model`` with Adam on up to ``config.steps`` batches ``(x, y)`` of shape (B, T).

    The book's training loop (:func:`attnlib.train.train`) for a language model: seeded
    (``config.seed``), on ``config.threads`` threads, a step budget, the gradient norm clipped
    to ``config.clip``. Each step predicts every next token of every window at once. Every
    ``eval_every`` steps (and after the last) the loss on ``held_out`` windows is measured.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model must be a GPT, got {type(model).__name__}")
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    eval_every = check_int("eval_every", eval_every, 1)
    with torch_threads(config.threads):
        seed_everything(config.seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        losses, eval_steps, eval_losses = [], [], []
        model.train()
        start = time.perf_counter()
        with progress_bar(config.steps, progress) as bar:
            for x, y in batches:
                logits, _ = model(x, need_weights=False)  # (B, T, V): every next token at once
                loss = nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())  # (B*T, V), (B*T,)
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.clip)
                optimizer.step()
                losses.append(loss.item())
                bar.update()
                bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
                done = len(losses) == config.steps
                if held_out is not None and (len(losses) % eval_every == 0 or done):
                    eval_steps.append(len(losses))
                    eval_losses.append(lm_loss(model, *held_out))
                if done:
                    break
        model.eval()
        return LMTrainResult(
            np.array(losses),
            np.array(eval_steps),
            np.array(eval_losses),
            len(losses),
            time.perf_counter() - start,
        )
