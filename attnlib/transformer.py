r"""The Transformer (Vaswani et al. 2017) in small, readable torch modules (chapter 5).

Every position of a sequence asks a question of every other position: that is
**self-attention**, chapter 3's recipe with queries, keys and values all
computed from the same tokens by learned projections,

.. math::

    Q = X W^Q,\quad K = X W^K,\quad V = X W^V,\qquad
    \operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\Big(\frac{QK^\top}{\sqrt{d_k}}\Big) V .

The pieces, from small to large:

* :func:`sinusoidal_encoding`, :class:`PositionalEncoding`: word order, added to the embeddings;
* :func:`padding_mask`, :func:`causal_mask`: boolean masks, **True = may attend** (as in
  :mod:`attnlib.functional`; torch's ``nn.MultiheadAttention`` uses the opposite);
* :class:`SelfAttention` (one head) and :class:`MultiHeadAttention` (``h`` heads);
* :class:`EncoderBlock` and :class:`DecoderBlock`, post-norm (the paper) or pre-norm (most code);
* :class:`Encoder`, :class:`Decoder` and :class:`Transformer`, a tiny encoder–decoder that is
  a :class:`~attnlib.model.SequenceModel` like the GRUs, so :func:`attnlib.train.train` trains
  it and :mod:`attnlib.translate` translates with it.

Every attention layer returns its weights, per head, so every layer can be plotted.
Shapes: ``B`` batch, ``T`` positions (``T_q`` queries, ``T_k`` keys), ``h`` heads,
``d_model`` token width, ``d_k = d_model / h`` per-head width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from . import functional as F
from ._validate import check_dropout, check_int, check_tensor, check_token_ids
from .model import SequenceModel, SourceReading
from .scores import scaled_dot

ACTIVATIONS = ("relu", "gelu")


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockConfig:
    """Sizes and choices of one Transformer block (encoder or decoder)."""

    d_model: int = 64  # width of every token vector: the residual stream
    heads: int = 4  # attention heads h, each d_k = d_model / h wide
    d_ff: int = 128  # hidden width of the feed-forward network
    dropout: float = 0.0  # on attention weights and sublayer outputs
    norm_first: bool = True  # pre-norm (most code) or post-norm (paper)
    activation: str = "relu"  # feed-forward non-linearity: relu or gelu
    layer_norm_eps: float = 1e-5  # LayerNorm's epsilon (torch's default)

    def __post_init__(self) -> None:
        _check_block_config(self)

    @property
    def d_k(self) -> int:
        """The width of each head's queries, keys and values."""
        return self.d_model // self.heads


def _check_block_config(c: BlockConfig) -> None:
    for name in ("d_model", "heads", "d_ff"):
        check_int(name, getattr(c, name), low=1)
    if c.d_model % c.heads:
        raise ValueError(
            f"d_model={c.d_model} must be divisible by heads={c.heads} "
            f"(each head gets d_k = d_model / heads dimensions)"
        )
    check_dropout(c.dropout)
    if not isinstance(c.norm_first, bool):
        raise TypeError(f"norm_first must be a bool, got {type(c.norm_first).__name__}")
    if c.activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {c.activation!r}")
    if not (isinstance(c.layer_norm_eps, float) and c.layer_norm_eps > 0):
        raise ValueError(f"layer_norm_eps must be a float > 0, got {c.layer_norm_eps!r}")


@dataclass(frozen=True)
class TransformerConfig:
    """Sizes, choices and special tokens of the tiny :class:`Transformer`."""

    src_vocab: int  # source vocabulary size, special tokens included
    tgt_vocab: int  # target vocabulary size, special tokens included
    d_model: int = 64  # width of every token vector (the paper: 512)
    heads: int = 4  # attention heads per layer (the paper: 8)
    d_ff: int = 128  # feed-forward hidden width (the paper: 2048)
    layers: int = 2  # blocks in the encoder, and in the decoder (paper: 6)
    dropout: float = 0.0  # on embeddings, attention weights, sublayers
    norm_first: bool = True  # pre-norm (trains easily) or post-norm (paper)
    activation: str = "relu"  # feed-forward non-linearity: relu or gelu
    max_len: int = 256  # longest sequence the positional table covers
    pad_id: int = 0  # padding token, in both vocabularies
    sos_id: int = 1  # start of sequence: the decoder's first input
    eos_id: int = 2  # end of sequence: the decoder's last output

    def __post_init__(self) -> None:
        _check_transformer_config(self)

    @property
    def block(self) -> BlockConfig:
        """The configuration every block of this model shares."""
        return BlockConfig(
            self.d_model, self.heads, self.d_ff, self.dropout, self.norm_first, self.activation
        )


def _check_transformer_config(c: TransformerConfig) -> None:
    for name in ("src_vocab", "tgt_vocab", "layers", "max_len"):
        check_int(name, getattr(c, name), low=1)
    check_token_ids(c)
    _check_block_config(c.block)  # d_model, heads, d_ff, dropout, norm_first, activation


# -- positions and masks ----------------------------------------------------------------------


def sinusoidal_encoding(max_len: int, d_model: int) -> torch.Tensor:
    r"""The paper's fixed positional encoding, a ``(max_len, d_model)`` table.

    .. math::

        PE_{p,\,2i} = \sin\big(p / 10000^{2i/d_{\text{model}}}\big), \qquad
        PE_{p,\,2i+1} = \cos\big(p / 10000^{2i/d_{\text{model}}}\big)

    Column pair ``i`` turns like a clock hand at its own speed, from one
    radian per position (``i = 0``) to 1/10000 of a radian. Each position gets
    its own pattern, and :math:`PE_{p+k}` is a fixed rotation of :math:`PE_p`.
    """
    check_int("max_len", max_len, low=1)
    check_int("d_model", d_model, low=2)
    if d_model % 2:
        raise ValueError(f"d_model must be even (sines and cosines come in pairs), got {d_model}")
    f64 = torch.float64
    position = torch.arange(max_len, dtype=f64)[:, None]  # (max_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=f64)  # (d_model/2,)
    angle = position / 10000.0 ** (two_i / d_model)  # (max_len, d_model/2)
    pe = torch.zeros(max_len, d_model, dtype=f64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.to(torch.get_default_dtype())


class PositionalEncoding(nn.Module):
    """Add :func:`sinusoidal_encoding` to token vectors: x (B, T, d_model) -> (B, T, d_model)."""

    def __init__(self, d_model: int, max_len: int = 256) -> None:
        super().__init__()
        self.register_buffer("table", sinusoidal_encoding(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + PE[:T]: (B, T, d_model) -> (B, T, d_model)."""
        check_tensor("x", x)
        T, width = x.shape[-2], x.shape[-1]
        if width != self.table.shape[1] or self.table.shape[0] < T:
            raise ValueError(
                f"x of shape {tuple(x.shape)} needs width {self.table.shape[1]} and at "
                f"most {self.table.shape[0]} positions (the table's max_len)"
            )
        return x + self.table[:T].to(x.dtype)  # (B, T, d_model) + (T, d_model)


def padding_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """Keys that are real tokens: lengths (B,) -> mask (B, 1, T), True = may attend.

    The middle axis broadcasts over the queries: no query may look at padding.
    """
    if not isinstance(lengths, torch.Tensor) or lengths.ndim != 1 or lengths.dtype.is_floating_point:
        raise TypeError(
            f"lengths must be a 1-D integer tensor (B,), got "
            f"{getattr(lengths, 'dtype', type(lengths).__name__)} "
            f"{tuple(getattr(lengths, 'shape', ()))}"
        )
    check_int("T", T, low=1)
    if len(lengths) and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(f"lengths must lie in [0, T={T}], got {lengths.tolist()}")
    return (torch.arange(T, device=lengths.device) < lengths[:, None])[:, None, :]  # (B, 1, T)


def causal_mask(T: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Query i may look at keys j <= i: a lower-triangular (T, T) mask, True = may attend."""
    check_int("T", T, low=1)
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()  # (T_q, T_k)


# -- attention --------------------------------------------------------------------------------


class SelfAttention(nn.Module):
    r"""One head of self-attention: every position is a query, key and value.

    .. math::

        Q = X W^Q,\ K = X W^K,\ V = X W^V, \qquad
        C = \operatorname{softmax}\big(QK^\top / \sqrt{d_k}\big)\, V

    x (B, T, d_model), mask broadcastable to (B, T, T)
    -> context (B, T, d_k), weights (B, T, T).
    """

    def __init__(self, d_model: int, d_k: int) -> None:
        super().__init__()
        check_int("d_model", d_model, low=1)
        check_int("d_k", d_k, low=1)
        self.W_q = nn.Linear(d_model, d_k, bias=False)
        self.W_k = nn.Linear(d_model, d_k, bias=False)
        self.W_v = nn.Linear(d_model, d_k, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(context (B, T, d_k), weights (B, T, T))``."""
        check_tensor("x", x)
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)  # (B, T, d_k) each
        return F.attention(q, k, v, mask=mask)  # chapter 3's recipe


class MultiHeadAttention(nn.Module):
    r"""``h`` heads of scaled dot-product attention side by side, then one
    output projection.

    .. math::

        \text{head}_a = \operatorname{softmax}\!\Big(
            \frac{(Q W^Q_a)(K W^K_a)^\top}{\sqrt{d_k}}\Big)\, V W^V_a, \qquad
        \operatorname{MultiHead}(Q, K, V) = [\text{head}_1; \dots; \text{head}_h]\, W^O

    Each head projects to ``d_k = d_model / h`` dimensions, so ``h`` heads cost about
    as much as one full-width head. ``W_q, W_k, W_v`` hold all heads' projections as
    one ``(d_model, d_model)`` layer each; :meth:`split_heads` cuts their output apart.

    query (B, T_q, d_model), key and value (B, T_k, d_model), ``mask`` (bool, True = may
    attend) broadcastable to (B, T_q, T_k) -> output (B, T_q, d_model), weights (B, h, T_q, T_k).
    """

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        BlockConfig(d_model=d_model, heads=heads, dropout=dropout)  # validates the sizes
        self.heads, self.d_k = heads, d_model // heads
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, h, T, d_k); head a gets columns a*d_k ..."""
        B, T, _ = x.shape
        x = x.view(B, T, self.heads, self.d_k)  # (B, T, h, d_k)
        return x.transpose(1, 2)  # (B, h, T, d_k)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, h, T, d_k) -> (B, T, d_model): the heads side by side."""
        B, _, T, _ = x.shape
        x = x.transpose(1, 2)  # (B, T, h, d_k)
        return x.reshape(B, T, self.heads * self.d_k)  # (B, T, d_model)

    def scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """Step 1 for every head: query (B, T_q, d), key (B, T_k, d)
        -> scaled scores (B, h, T_q, T_k)."""
        q = self.split_heads(self.W_q(query))  # (B, h, T_q, d_k)
        k = self.split_heads(self.W_k(key))  # (B, h, T_k, d_k)
        return scaled_dot(q, k)  # q k^T / sqrt(d_k): (B, h, T_q, T_k)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return ``(output (B, T_q, d_model), weights (B, h, T_q, T_k))``.

        ``need_weights=False`` computes the same output with torch's fused kernel
        (:meth:`fused`) and returns ``None`` for the weights: faster, for training.
        """
        mask = self.checked_mask(query, key, value, mask)  # (B, 1, T_q, T_k): every head
        if not need_weights:
            return self.fused(query, key, value, mask), None
        scores = self.scores(query, key)  # 1. (B, h, T_q, T_k)
        weights = F.softmax(scores, mask=mask)  # 2. (B, h, T_q, T_k)
        v = self.split_heads(self.W_v(value))  # (B, h, T_k, d_k)
        context = self.dropout(weights) @ v  # 3. (B, h, T_q, d_k)
        return self.W_o(self.merge_heads(context)), weights  # (B, T_q, d_model)

    def fused(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """The same three steps in ``torch.nn.functional.scaled_dot_product_attention``, which
        never stores the weights: output (B, T_q, d_model). ``mask`` is (B, 1, T_q, T_k) or None."""
        q = self.split_heads(self.W_q(query))  # (B, h, T_q, d_k)
        k = self.split_heads(self.W_k(key))  # (B, h, T_k, d_k)
        v = self.split_heads(self.W_v(value))  # (B, h, T_k, d_k)
        p = self.dropout.p if self.training else 0.0
        context = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.W_o(self.merge_heads(context))  # (B, h, T_q, d_k) -> (B, T_q, d_model)

    def checked_mask(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor | None:
        """Check the inputs' shapes and the mask; the mask with a heads axis, or None.

        mask broadcastable to (B, T_q, T_k) -> (B, 1, T_q, T_k).
        """
        _check_qkv(query, key, value, self.heads * self.d_k)
        return None if mask is None else _check_mask(mask, query, key).unsqueeze(-3)

    @classmethod
    def from_torch(cls, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """A copy of torch's ``nn.MultiheadAttention`` (same weights, dtype and dropout)."""
        if not isinstance(mha, nn.MultiheadAttention):
            raise TypeError(f"mha must be a torch.nn.MultiheadAttention, got {type(mha).__name__}")
        if (
            not mha._qkv_same_embed_dim
            or mha.in_proj_bias is None
            or mha.bias_k is not None
            or mha.add_zero_attn
        ):
            raise ValueError(
                "only the plain layout is supported: kdim = vdim = embed_dim, "
                "bias=True, add_bias_kv=False, add_zero_attn=False"
            )
        weight = mha.in_proj_weight
        ours = cls(mha.embed_dim, mha.num_heads, mha.dropout).to(weight.dtype)
        d = mha.embed_dim
        with torch.no_grad():
            for i, layer in enumerate((ours.W_q, ours.W_k, ours.W_v)):  # in_proj stacks q, k, v rows
                layer.weight.copy_(weight[i * d : (i + 1) * d])
                layer.bias.copy_(mha.in_proj_bias[i * d : (i + 1) * d])
            ours.W_o.weight.copy_(mha.out_proj.weight)
            ours.W_o.bias.copy_(mha.out_proj.bias)
        return ours


def _check_qkv(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, d_model: int) -> None:
    """Raise a clear error unless query (B, T_q, d), key and value (B, T_k, d) fit together."""
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_tensor(name, x)
        if x.ndim != 3 or x.shape[-1] != d_model:
            raise ValueError(f"{name} must be (B, T, d_model={d_model}), got {tuple(x.shape)}")
    if key.shape != value.shape or query.shape[0] != key.shape[0]:
        raise ValueError(
            f"need query (B, T_q, d), key and value (B, T_k, d) with one B; got query "
            f"{tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        )


def _check_mask(mask: torch.Tensor, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """Return ``mask`` if it is a bool tensor of 2 or 3 dims ending in (T_q or 1, T_k)."""
    T_q, T_k = query.shape[1], key.shape[1]
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(
            f"mask must be a bool torch.Tensor (True = may attend), got "
            f"{getattr(mask, 'dtype', type(mask).__name__)}"
        )
    if mask.ndim not in (2, 3) or mask.shape[-1] != T_k or mask.shape[-2] not in (1, T_q):
        raise ValueError(
            f"mask must broadcast to (B, T_q, T_k) = (B, {T_q}, {T_k}) from (T_q, T_k), "
            f"(B, T_q, T_k) or (B, 1, T_k); got {tuple(mask.shape)}"
        )
    return mask


# -- blocks -----------------------------------------------------------------------------------


class FeedForward(nn.Module):
    """The position-wise network, max(0, x W_1 + b_1) W_2 + b_2: (B, T, d_model) -> (B, T, d_model)."""

    def __init__(self, config: BlockConfig) -> None:
        super().__init__()
        self.linear1 = nn.Linear(config.d_model, config.d_ff)
        self.activation = nn.ReLU() if config.activation == "relu" else nn.GELU()
        self.dropout = nn.Dropout(config.dropout)
        self.linear2 = nn.Linear(config.d_ff, config.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, T, d_model), each position on its own."""
        return self.linear2(self.dropout(self.activation(self.linear1(x))))  # (B, T, d_ff) inside


class _Sublayer(nn.Module):
    """A residual connection around ``f``, with LayerNorm before or after::

    pre-norm:  x + dropout(f(LN(x)))     post-norm:  LN(x + dropout(f(x)))
    """

    def __init__(self, config: BlockConfig) -> None:
        super().__init__()
        self.norm_first = config.norm_first
        self.norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)

    def input(self, x: torch.Tensor) -> torch.Tensor:
        """What ``f`` reads: LN(x) in pre-norm, x itself in post-norm."""
        return self.norm(x) if self.norm_first else x

    def output(self, x: torch.Tensor, fx: torch.Tensor) -> torch.Tensor:
        """Add f's output to the residual stream (post-norm: normalise)."""
        y = x + self.dropout(fx)  # (B, T, d_model)
        return y if self.norm_first else self.norm(y)


def _check_config(config: object) -> BlockConfig:
    if not isinstance(config, BlockConfig):
        raise TypeError(f"config must be a BlockConfig, got {type(config).__name__}")
    return config


class EncoderBlock(nn.Module):
    """Self-attention, then the feed-forward network, each inside a residual sublayer.

    x (B, T, d_model), ``mask`` (True = may attend) broadcastable to (B, T, T)
    -> x (B, T, d_model), weights (B, h, T, T).
    """

    def __init__(self, config: BlockConfig) -> None:
        super().__init__()
        self.config = _check_config(config)
        self.attention = MultiHeadAttention(config.d_model, config.heads, config.dropout)
        self.sub1, self.ff, self.sub2 = _Sublayer(config), FeedForward(config), _Sublayer(config)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, need_weights: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return ``(x (B, T, d_model), weights (B, h, T, T) or None)``."""
        a = self.sub1.input(x)  # (B, T, d_model)
        attended, weights = self.attention(a, a, a, mask, need_weights)  # all see all
        x = self.sub1.output(x, attended)
        x = self.sub2.output(x, self.ff(self.sub2.input(x)))  # per position
        return x, weights

    def self_attention_scores(self, x: torch.Tensor) -> torch.Tensor:
        """The scaled scores this block's attention would softmax: x (B, T, d) -> (B, h, T, T)."""
        a = self.sub1.input(x)
        return self.attention.scores(a, a)

    @classmethod
    def from_torch(cls, layer: nn.TransformerEncoderLayer) -> EncoderBlock:
        """A copy of torch's ``nn.TransformerEncoderLayer`` (same weights, norm placement, dtype)."""
        if not isinstance(layer, nn.TransformerEncoderLayer):
            raise TypeError(f"layer must be a torch.nn.TransformerEncoderLayer, got {type(layer).__name__}")
        kind = {1: "relu", 2: "gelu"}.get(getattr(layer, "activation_relu_or_gelu", 0))
        if kind is None:
            raise ValueError("only relu and gelu activations are supported")
        config = BlockConfig(
            d_model=layer.linear1.in_features,
            heads=layer.self_attn.num_heads,
            d_ff=layer.linear1.out_features,
            dropout=float(layer.dropout.p),
            norm_first=bool(layer.norm_first),
            activation=kind,
            layer_norm_eps=float(layer.norm1.eps),
        )
        ours = cls(config).to(layer.linear1.weight.dtype)
        ours.attention = MultiHeadAttention.from_torch(layer.self_attn)
        pairs = (
            (ours.ff.linear1, layer.linear1),
            (ours.ff.linear2, layer.linear2),
            (ours.sub1.norm, layer.norm1),
            (ours.sub2.norm, layer.norm2),
        )
        with torch.no_grad():
            for mine, theirs in pairs:
                mine.weight.copy_(theirs.weight)
                mine.bias.copy_(theirs.bias)
        return ours


class DecoderBlock(nn.Module):
    """Masked self-attention, cross-attention to the encoder's memory, feed-forward.

    y (B, T_out, d_model), memory (B, T_in, d_model), ``self_mask`` broadcastable to
    (B, T_out, T_out) (causal), ``memory_mask`` to (B, T_out, T_in) (source padding)
    -> y (B, T_out, d_model), self weights (B, h, T_out, T_out), cross weights (B, h, T_out, T_in).
    """

    def __init__(self, config: BlockConfig) -> None:
        super().__init__()
        self.config = _check_config(config)
        self.self_attention = MultiHeadAttention(config.d_model, config.heads, config.dropout)
        self.cross_attention = MultiHeadAttention(config.d_model, config.heads, config.dropout)
        self.sub1, self.sub2, self.sub3 = _Sublayer(config), _Sublayer(config), _Sublayer(config)
        self.ff = FeedForward(config)

    def forward(
        self,
        y: torch.Tensor,
        memory: torch.Tensor,
        self_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Return ``(y, self-attention weights, cross-attention weights)`` (None, None: not needed)."""
        a = self.sub1.input(y)  # (B, T_out, d_model)
        attended, self_w = self.self_attention(a, a, a, self_mask, need_weights)  # causal
        y = self.sub1.output(y, attended)
        b = self.sub2.input(y)  # queries: the target; keys, values: the source
        read, cross_w = self.cross_attention(b, memory, memory, memory_mask, need_weights)
        y = self.sub2.output(y, read)
        y = self.sub3.output(y, self.ff(self.sub3.input(y)))
        return y, self_w, cross_w


# -- the encoder–decoder ----------------------------------------------------------------------


class Embedding(nn.Module):
    """Token embedding times sqrt(d_model), plus positions: ids (B, T) -> (B, T, d_model).

    The embeddings start with standard deviation d_model^(-1/2), so after the scaling
    each entry has variance 1, like the positional encoding's: neither drowns the other.
    (torch's default, N(0, 1), would make the tokens sqrt(d_model) times louder.)
    """

    def __init__(self, vocab: int, config: TransformerConfig) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, config.d_model, padding_idx=config.pad_id)
        with torch.no_grad():
            nn.init.normal_(self.tokens.weight, std=config.d_model**-0.5)
            self.tokens.weight[config.pad_id].zero_()
        self.positions = PositionalEncoding(config.d_model, config.max_len)
        self.dropout = nn.Dropout(config.dropout)
        self.scale = math.sqrt(config.d_model)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, T) -> vectors (B, T, d_model)."""
        return self.dropout(self.positions(self.tokens(ids) * self.scale))  # (B, T, d_model)


def _check_ids(name: str, ids: object, vocab: int, max_len: int) -> None:
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.int64 or ids.ndim != 2:
        raise TypeError(
            f"{name} must be an int64 tensor (B, T), got "
            f"{getattr(ids, 'dtype', type(ids).__name__)} {tuple(getattr(ids, 'shape', ()))}"
        )
    if ids.shape[1] > max_len or ids.shape[1] == 0:
        raise ValueError(f"{name} has {ids.shape[1]} positions; this model takes 1 to max_len={max_len}")
    if ids.numel() and (ids.min() < 0 or ids.max() >= vocab):
        raise ValueError(
            f"{name} holds ids outside [0, {vocab}): min {ids.min().item()}, max {ids.max().item()}"
        )


class Encoder(nn.Module):
    """Embed the source and run ``layers`` encoder blocks (plus a final LayerNorm in pre-norm).

    src (B, T_in), src_lengths (B,) -> memory (B, T_in, d_model), weights [(B, h, T_in, T_in)] * layers.
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = Embedding(config.src_vocab, config)
        self.blocks = nn.ModuleList(EncoderBlock(config.block) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.d_model) if config.norm_first else nn.Identity()

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, need_weights: bool = True
    ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        """Return ``(memory (B, T_in, d_model), weights per layer)``."""
        _check_ids("src", src, self.config.src_vocab, self.config.max_len)
        x, mask = self.embedding(src), padding_mask(src_lengths, src.shape[1])  # (B, T, d), (B, 1, T)
        weights = []
        for block in self.blocks:
            x, w = block(x, mask, need_weights)
            weights.append(w)
        return self.norm(x), weights

    @torch.no_grad()
    def self_attention_scores(self, src: torch.Tensor, src_lengths: torch.Tensor) -> list[torch.Tensor]:
        """Each layer's scaled scores before the softmax: [(B, h, T_in, T_in)] * layers.

        ``softmax(scores[l], mask)`` is layer ``l``'s weights; a widget can re-mask them exactly.
        """
        _check_ids("src", src, self.config.src_vocab, self.config.max_len)
        x, mask = self.embedding(src), padding_mask(src_lengths, src.shape[1])
        scores = []
        for block in self.blocks:
            scores.append(block.self_attention_scores(x))
            x, _ = block(x, mask)
        return scores


class Decoder(nn.Module):
    """Embed the target prefix, run ``layers`` decoder blocks, project to the vocabulary.

    tgt_in (B, T_out), memory (B, T_in, d_model), memory_mask (B, 1, T_in)
    -> logits (B, T_out, tgt_vocab), self weights and cross weights, one (B, h, T_out, ·) per layer.
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = Embedding(config.tgt_vocab, config)
        self.blocks = nn.ModuleList(DecoderBlock(config.block) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.d_model) if config.norm_first else nn.Identity()
        self.out = nn.Linear(config.d_model, config.tgt_vocab)

    def forward(
        self, tgt_in: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, need_weights: bool = True
    ) -> tuple[torch.Tensor, list[torch.Tensor | None], list[torch.Tensor | None]]:
        """Return ``(logits, self-attention weights, cross-attention weights)``."""
        _check_ids("tgt_in", tgt_in, self.config.tgt_vocab, self.config.max_len)
        y = self.embedding(tgt_in)  # (B, T_out, d_model)
        causal = causal_mask(tgt_in.shape[1], device=tgt_in.device)  # (T_out, T_out)
        self_weights, cross_weights = [], []
        for block in self.blocks:
            y, ws, wc = block(y, memory, causal, memory_mask, need_weights)
            self_weights.append(ws)
            cross_weights.append(wc)
        return self.out(self.norm(y)), self_weights, cross_weights


class AttentionMaps(NamedTuple):
    """Every attention weight of a :class:`Transformer` pass, one tensor per layer."""

    encoder: list[torch.Tensor]  # [(B, h, T_in, T_in)] self-attention over the source
    decoder_self: list[torch.Tensor]  # [(B, h, T_out, T_out)] causal self-attention over the target
    cross: list[torch.Tensor]  # [(B, h, T_out, T_in)] target positions reading the source


class Transformer(SequenceModel):
    """A tiny encoder–decoder Transformer, a :class:`~attnlib.model.SequenceModel` like the GRUs.

    ``model(src, src_lengths, tgt_in)`` gives logits (B, T_out, tgt_vocab) with teacher forcing,
    and :meth:`greedy_decode` writes a translation token by token. Both also return
    :class:`AttentionMaps`. Padding (``pad_id``) at the end of sources is masked; at the end of
    targets it is never seen by a real position, thanks to the causal mask.
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig, got {type(config).__name__}")
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    def encode(
        self, src: torch.Tensor, src_lengths: torch.Tensor, need_weights: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor | None]]:
        """memory (B, T_in, d_model), its mask (B, 1, T_in), encoder weights per layer."""
        self.check_batch(src, src_lengths)
        memory, weights = self.encoder(src, src_lengths, need_weights)
        return memory, padding_mask(src_lengths, src.shape[1]), weights

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, need_weights: bool = True
    ) -> tuple[torch.Tensor, AttentionMaps | None]:
        """Teacher forcing: logits (B, T_out, tgt_vocab) and every layer's attention weights
        (None with ``need_weights=False``: torch's fused attention kernel, for training)."""
        memory, memory_mask, enc_w = self.encode(src, src_lengths, need_weights)
        self.check_target(tgt_in, len(src))
        logits, self_w, cross_w = self.decoder(tgt_in, memory, memory_mask, need_weights)
        if not need_weights:
            return logits, None
        return logits, AttentionMaps(enc_w, self_w, cross_w)

    @torch.no_grad()
    def greedy_decode(
        self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int
    ) -> tuple[torch.Tensor, AttentionMaps]:
        """Feed back the most likely token; tokens (B, max_len), PAD after each sequence's first EOS.

        The encoder runs once; the decoder re-reads the whole prefix at every step (no cache:
        simple, and cheap at these lengths). The maps are those of the last step's pass.
        """
        ys = self.start_tokens(src, max_len)[:, None]  # (B, 1) SOS
        memory, memory_mask, enc_w = self.encode(src, src_lengths)
        for t in range(max_len):
            last = t == max_len - 1  # only the last pass keeps its weights (they cover every step)
            logits, self_w, cross_w = self.decoder(ys, memory, memory_mask, last)  # (B, t, V)
            ys = torch.cat([ys, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)  # (B, t + 1)
        tokens = ys[:, 1:]  # (B, max_len) without SOS
        tokens = tokens.masked_fill(self.after_eos(tokens), self.config.pad_id)
        return tokens, AttentionMaps(enc_w, self_w, cross_w)

    @torch.no_grad()
    def read_source(
        self, src: torch.Tensor, src_lengths: torch.Tensor, attention: AttentionMaps
    ) -> SourceReading:
        """The encoder's memory (the states), and as one alignment per sentence the **last
        decoder layer's cross-attention averaged over its heads**, (B, T_out, T_in); the
        contexts are that average's weighted sums of the memory (each head really reads its
        own projection of it)."""
        if not isinstance(attention, AttentionMaps):
            raise TypeError(
                f"attention must be the AttentionMaps of a forward pass or of "
                f"greedy_decode, got {type(attention).__name__}"
            )
        memory, _, _ = self.encode(src, src_lengths)
        weights = attention.cross[-1].mean(dim=1)  # (B, h, T_out, T_in) -> (B, T_out, T_in)
        return SourceReading(memory, weights, weights @ memory)  # contexts (B, T_out, d_model)
