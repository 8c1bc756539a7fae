"""attnlib.transformer: parity with PyTorch's own layers, masks, shapes, determinism, gradients."""

import math

import pytest
import torch
from torch import nn

from attnlib import functional as F
from attnlib.data import SequenceTask
from attnlib.train import TrainConfig, predict, seed_everything, train
from attnlib.transformer import (
    AttentionMaps,
    BlockConfig,
    DecoderBlock,
    EncoderBlock,
    MultiHeadAttention,
    PositionalEncoding,
    SelfAttention,
    Transformer,
    TransformerConfig,
    causal_mask,
    padding_mask,
    sinusoidal_encoding,
)

D, H = 16, 4
f64 = dict(dtype=torch.float64)


def torch_mha(seed=0, d=D, h=H):
    torch.manual_seed(seed)
    mha = nn.MultiheadAttention(d, h, batch_first=True, **f64).eval()
    with torch.no_grad():  # torch starts its biases at 0; make them count in the comparison
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    return mha


# -- parity with torch.nn.MultiheadAttention ----------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("B, T_q, T_k", [(1, 1, 1), (2, 5, 5), (3, 4, 7)])
def test_multihead_matches_torch_without_mask(seed, B, T_q, T_k):
    theirs = torch_mha(seed)
    ours = MultiHeadAttention.from_torch(theirs).eval()
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(B, T_q, D, generator=gen, **f64)
    kv = torch.randn(B, T_k, D, generator=gen, **f64)
    out, w = ours(q, kv, kv)
    ref, ref_w = theirs(q, kv, kv)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    torch.testing.assert_close(w.mean(dim=1), ref_w, atol=1e-6, rtol=0)
    _, ref_w_heads = theirs(q, kv, kv, average_attn_weights=False)
    torch.testing.assert_close(w, ref_w_heads, atol=1e-6, rtol=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_multihead_matches_torch_with_key_padding_mask(seed):
    theirs = torch_mha(seed)
    ours = MultiHeadAttention.from_torch(theirs).eval()
    x = torch.randn(4, 6, D, **f64)
    keep = padding_mask(torch.tensor([6, 4, 1, 3]), 6)  # (B, 1, T), True = real token
    out, w = ours(x, x, x, keep)
    ref, ref_w = theirs(x, x, x, key_padding_mask=~keep[:, 0])  # torch: True = ignore
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    torch.testing.assert_close(w.mean(dim=1), ref_w, atol=1e-6, rtol=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_multihead_matches_torch_with_causal_and_padding_masks(seed):
    theirs = torch_mha(seed)
    ours = MultiHeadAttention.from_torch(theirs).eval()
    x = torch.randn(3, 5, D, **f64)
    keep = padding_mask(torch.tensor([5, 3, 2]), 5) & causal_mask(5)  # (B, T, T)
    out, w = ours(x, x, x, keep)
    ref, ref_w = theirs(
        x,
        x,
        x,
        key_padding_mask=torch.arange(5) >= torch.tensor([5, 3, 2])[:, None],
        attn_mask=~causal_mask(5),
    )
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    torch.testing.assert_close(w.mean(dim=1), ref_w, atol=1e-6, rtol=0)


def test_from_torch_refuses_layouts_it_cannot_copy():
    with pytest.raises(TypeError, match="MultiheadAttention"):
        MultiHeadAttention.from_torch(nn.Linear(4, 4))
    with pytest.raises(ValueError, match="plain layout"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, kdim=4, vdim=4))
    with pytest.raises(ValueError, match="plain layout"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, add_bias_kv=True))


# -- parity with torch.nn.TransformerEncoderLayer -----------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_block_matches_torch(norm_first, activation):
    torch.manual_seed(3)
    theirs = nn.TransformerEncoderLayer(
        D,
        H,
        dim_feedforward=24,
        dropout=0.0,
        activation=activation,
        batch_first=True,
        norm_first=norm_first,
        **f64,
    ).eval()
    ours = EncoderBlock.from_torch(theirs).eval()
    assert ours.config.norm_first is norm_first and ours.config.activation == activation
    x = torch.randn(3, 6, D, **f64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x)[0], theirs(x), atol=1e-6, rtol=0)
        keep = padding_mask(torch.tensor([6, 2, 4]), 6)
        ref = theirs(x, src_key_padding_mask=~keep[:, 0])
        out, w = ours(x, keep)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    assert w.shape == (3, H, 6, 6) and (w[1, :, :, 2:] == 0).all()


def test_encoder_block_matches_torch_with_causal_mask():
    torch.manual_seed(4)
    theirs = nn.TransformerEncoderLayer(D, H, 32, dropout=0.0, batch_first=True, **f64).eval()
    ours = EncoderBlock.from_torch(theirs).eval()
    x = torch.randn(2, 5, D, **f64)
    with torch.no_grad():
        ref = theirs(x, src_mask=~causal_mask(5), is_causal=True)
        out, _ = ours(x, causal_mask(5))
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)


def test_post_norm_and_pre_norm_differ_with_the_same_weights():
    torch.manual_seed(0)
    post = EncoderBlock(BlockConfig(D, H, 32, norm_first=False)).double()
    pre = EncoderBlock(BlockConfig(D, H, 32, norm_first=True)).double()
    pre.load_state_dict(post.state_dict())
    x = torch.randn(2, 4, D, **f64)
    out_post, _w_post = post(x)
    out_pre, _ = pre(x)
    assert not torch.allclose(out_post, out_pre)
    # post-norm ends on a LayerNorm: every position has mean 0 and variance 1 (weight 1, bias 0)
    torch.testing.assert_close(out_post.mean(-1), torch.zeros(2, 4, **f64), atol=1e-10, rtol=0)
    # pre-norm is x + something: the residual stream passes through unnormalised
    assert not torch.allclose(out_pre.mean(-1), torch.zeros(2, 4, **f64), atol=1e-3)


# -- masks --------------------------------------------------------------------------------


def test_causal_mask_gives_exactly_zero_weight_to_the_future():
    torch.manual_seed(0)
    mha = MultiHeadAttention(D, H)
    x = torch.randn(2, 7, D) * 50  # large scores: exp would underflow, not just be small
    _, w = mha(x, x, x, causal_mask(7))
    assert (w.triu(diagonal=1) == 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(2, H, 7))


def test_the_past_does_not_see_changes_in_the_future():
    torch.manual_seed(0)
    block = DecoderBlock(BlockConfig(D, H, 32)).eval()
    y, memory = torch.randn(1, 6, D), torch.randn(1, 4, D)
    y2 = y.clone()
    y2[0, 4:] = torch.randn(2, D)
    out, *_ = block(y, memory, causal_mask(6))
    out2, *_ = block(y2, memory, causal_mask(6))
    assert torch.equal(out[0, :4], out2[0, :4]) and not torch.allclose(out[0, 4:], out2[0, 4:])


def test_padding_gets_zero_weight_and_never_changes_real_positions():
    torch.manual_seed(0)
    block = EncoderBlock(BlockConfig(D, H, 32)).eval()
    lengths = torch.tensor([5, 2])
    x = torch.randn(2, 5, D)
    junk = x.clone()
    junk[1, 2:] = 1e4
    out, w = block(x, padding_mask(lengths, 5))
    out_junk, _ = block(junk, padding_mask(lengths, 5))
    assert (w[1, :, :, 2:] == 0).all()
    torch.testing.assert_close(out[1, :2], out_junk[1, :2])
    alone, _ = block(x[1:, :2])  # the sentence without its padding
    torch.testing.assert_close(out[1, :2], alone[0])


def test_mask_helpers_shapes_and_values():
    m = padding_mask(torch.tensor([3, 1, 0]), 4)
    assert m.shape == (3, 1, 4) and m.dtype == torch.bool
    assert m[:, 0].tolist() == [[True, True, True, False], [True, False, False, False], [False] * 4]
    c = causal_mask(3)
    assert c.tolist() == [[True, False, False], [True, True, False], [True, True, True]]


def test_fully_masked_rows_give_zeros_not_nan():
    mha = MultiHeadAttention(D, H)
    x = torch.randn(2, 3, D)
    out, w = mha(x, x, x, padding_mask(torch.tensor([3, 0]), 3))
    assert torch.isfinite(out).all() and (w[1] == 0).all()


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (torch.ones(5, 5), TypeError, "bool"),
        (torch.ones(4, 4, dtype=torch.bool), ValueError, "broadcast"),
        (torch.ones(1, 1, 1, 5, dtype=torch.bool), ValueError, "broadcast"),
    ],
)
def test_bad_masks_are_refused_clearly(bad, error, message):
    mha = MultiHeadAttention(D, H)
    x = torch.randn(1, 5, D)
    with pytest.raises(error, match=message):
        mha(x, x, x, bad)


# -- self-attention and positions ------------------------------------------------------------


def test_single_head_self_attention_is_the_recipe_on_projections():
    torch.manual_seed(0)
    head = SelfAttention(D, 6).double()
    x = torch.randn(2, 5, D, **f64)
    context, weights = head(x)
    q, k, v = x @ head.W_q.weight.T, x @ head.W_k.weight.T, x @ head.W_v.weight.T
    ref_w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(6), dim=-1)
    torch.testing.assert_close(weights, ref_w)
    torch.testing.assert_close(context, ref_w @ v)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(5))
    torch.testing.assert_close(head(x, causal_mask(5))[0], ref)


def test_without_positions_self_attention_is_permutation_equivariant():
    torch.manual_seed(0)
    mha = MultiHeadAttention(D, H).double()
    x = torch.randn(1, 6, D, **f64)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    out, _ = mha(x, x, x)
    out_p, _ = mha(x[:, perm], x[:, perm], x[:, perm])
    torch.testing.assert_close(out_p, out[:, perm])
    pe = PositionalEncoding(D).double()
    xp, xpp = pe(x), pe(x[:, perm])
    assert not torch.allclose(mha(xpp, xpp, xpp)[0], mha(xp, xp, xp)[0][:, perm])


def test_sinusoidal_encoding_matches_the_formula_and_depends_on_offsets_only():
    pe = sinusoidal_encoding(50, 8).double()
    p, i = 17, 3
    assert pe.shape == (50, 8)
    assert math.isclose(pe[p, 2 * i], math.sin(p / 10000 ** (2 * i / 8)), abs_tol=1e-6)
    assert math.isclose(pe[p, 2 * i + 1], math.cos(p / 10000 ** (2 * i / 8)), abs_tol=1e-6)
    dots = (pe[:-5] * pe[5:]).sum(-1)
    torch.testing.assert_close(dots, dots[0].expand_as(dots), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_encoding(10, 7)
    with pytest.raises(ValueError, match="max_len"):
        PositionalEncoding(8, max_len=4)(torch.zeros(1, 5, 8))


# -- shapes, configs, the whole model -------------------------------------------------------


def small_model(**kw):
    torch.manual_seed(0)
    return Transformer(
        TransformerConfig(src_vocab=11, tgt_vocab=13, d_model=D, heads=H, d_ff=24, layers=2, **kw)
    )


def test_transformer_shapes_and_attention_maps():
    model = small_model()
    src = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0]])
    lengths = torch.tensor([4, 2])
    tgt_in = torch.tensor([[1, 5, 6], [1, 7, 0]])
    logits, maps = model(src, lengths, tgt_in)
    assert logits.shape == (2, 3, 13) and isinstance(maps, AttentionMaps)
    assert [w.shape for w in maps.encoder] == [(2, H, 4, 4)] * 2
    assert [w.shape for w in maps.decoder_self] == [(2, H, 3, 3)] * 2
    assert [w.shape for w in maps.cross] == [(2, H, 3, 4)] * 2
    assert all((w[1, :, :, 2:] == 0).all() for w in maps.cross + maps.encoder)  # source padding
    assert all((w.triu(diagonal=1) == 0).all() for w in maps.decoder_self)  # the future


def test_encoder_scores_softmax_to_its_weights():
    model = small_model()
    src, lengths = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0]]), torch.tensor([4, 2])
    scores = model.encoder.self_attention_scores(src, lengths)
    _, weights = model.encoder(src, lengths)
    keep = padding_mask(lengths, 4)[:, None]  # (B, 1, 1, T)
    for s, w in zip(scores, weights, strict=True):
        torch.testing.assert_close(F.softmax(s, mask=keep.expand_as(s)), w)


@pytest.mark.parametrize("norm_first", [False, True])
def test_gradients_reach_every_parameter(norm_first):
    model = small_model(norm_first=norm_first)
    src, lengths = torch.tensor([[4, 5, 6], [7, 8, 0]]), torch.tensor([3, 2])
    tgt_in, tgt_out = torch.tensor([[1, 4, 5], [1, 6, 0]]), torch.tensor([[4, 5, 2], [6, 2, 0]])
    logits, _ = model(src, lengths, tgt_in)
    loss = nn.functional.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=0)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if not name.endswith("tokens.weight"):  # embedding rows of unused ids get no gradient
            assert p.grad.abs().sum() > 0, name


def test_gradcheck_multihead_attention_with_masks():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2).double()
    x = torch.randn(2, 4, 8, **f64, requires_grad=True)
    keep = padding_mask(torch.tensor([4, 3]), 4) & causal_mask(4)
    assert torch.autograd.gradcheck(lambda x: mha(x, x, x, keep)[0], (x,))


def test_training_is_deterministic_and_learns_to_copy():
    task = SequenceTask("copy", vocab_size=12, min_len=2, max_len=5)
    config = TransformerConfig(12, 12, d_model=32, heads=2, d_ff=64, layers=1)
    runs = []
    for _ in range(2):
        seed_everything(0)
        model = Transformer(config)
        result = train(model, task.batches(32, seed=0), TrainConfig(steps=60, lr=5e-3), progress=False)
        runs.append((model, result))
    assert runs[0][1].losses.tolist() == runs[1][1].losses.tolist()
    assert runs[0][1].losses[-10:].mean() < 0.5 * runs[0][1].losses[:10].mean()
    test = task.sample(20, seed=1)
    a, _ = predict(runs[0][0], test)
    b, _ = predict(runs[1][0], test)
    assert torch.equal(a, b) and a.shape == test.tgt_out.shape


def test_greedy_decode_pads_after_eos():
    model = small_model()
    with torch.no_grad():  # make the decoder always say EOS
        model.decoder.out.weight.zero_()
        model.decoder.out.bias.zero_()
        model.decoder.out.bias[model.config.eos_id] = 1.0
    tokens, maps = model.greedy_decode(torch.tensor([[4, 5]]), torch.tensor([2]), max_len=4)
    assert tokens.tolist() == [[2, 0, 0, 0]]
    assert maps.cross[-1].shape == (1, H, 4, 2)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(d_model=10, heads=4), ValueError, "divisible"),
        (dict(dropout=1.0), ValueError, "dropout"),
        (dict(norm_first=1), TypeError, "norm_first"),
        (dict(activation="tanh"), ValueError, "activation"),
        (dict(heads=0), ValueError, "heads"),
        (dict(d_ff=2.5), TypeError, "d_ff"),
    ],
)
def test_bad_block_configs_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        BlockConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(src_vocab=0, tgt_vocab=5), ValueError, "src_vocab"),
        (dict(src_vocab=5, tgt_vocab=2), ValueError, "eos_id"),
        (dict(src_vocab=5, tgt_vocab=5, layers=0), ValueError, "layers"),
        (dict(src_vocab=5, tgt_vocab=5, d_model=6, heads=4), ValueError, "divisible"),
    ],
)
def test_bad_transformer_configs_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        TransformerConfig(**kwargs)


def test_configs_are_frozen():
    with pytest.raises(Exception, match="cannot assign"):
        BlockConfig().heads = 8


def test_bad_inputs_are_refused_clearly():
    model = small_model()
    with pytest.raises(TypeError, match="int64"):
        model(torch.tensor([[1.0, 2.0]]), torch.tensor([2]), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="ids outside"):
        model(torch.tensor([[4, 99]]), torch.tensor([2]), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="lengths"):
        model(torch.tensor([[4, 5]]), torch.tensor([3]), torch.tensor([[1]]))
    mha = MultiHeadAttention(D, H)
    with pytest.raises(ValueError, match="d_model=16"):
        mha(torch.randn(1, 3, 8), torch.randn(1, 3, 8), torch.randn(1, 3, 8))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        mha([[0.0] * D], torch.randn(1, 3, D), torch.randn(1, 3, D))
    with pytest.raises(TypeError, match="TransformerConfig"):
        Transformer(BlockConfig())


# -- chapter 5's exercise checkers: right answers pass, typical mistakes get a hint ----------


def test_exercise_checkers_accept_right_answers_and_explain_wrong_ones():
    from attnlib.exercises import check

    assert check("5.1", causal_mask(4).tolist())
    assert "transpose" in check("5.1", causal_mask(4).T.tolist()).message
    assert check("5.2", 8 * 4096**2 * 4)
    assert "one head" in check("5.2", 4096**2 * 4).message
    assert check("5.3", lambda x, h: MultiHeadAttention(x.shape[-1], h).split_heads(x))
    wrong = check("5.3", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1))
    assert not wrong and "transpose" not in wrong.message and "swap" in wrong.message
    assert check("5.4", sinusoidal_encoding)
    swapped = check("5.4", lambda n, d: sinusoidal_encoding(n, d)[:, [i ^ 1 for i in range(d)]])
    assert not swapped and "swapped" in swapped.message

    def no_mask(x, W_q, W_k, W_v):
        return F.attention(x @ W_q, x @ W_k, x @ W_v)[::-1]  # (weights, context): wrong order too

    assert not check("5.5", no_mask)
    assert check(
        "5.5", lambda x, W_q, W_k, W_v: F.attention(x @ W_q, x @ W_k, x @ W_v, mask=causal_mask(len(x)))
    )
    assert "raised" in check("5.5", lambda *a: 1 / 0).message


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("masked", ["none", "padding", "causal"])
def test_fused_path_gives_the_weights_path_output(seed, masked):
    torch.manual_seed(seed)
    mha = MultiHeadAttention(32, 4).double()
    x = torch.randn(3, 7, 32, dtype=torch.float64)
    mask = {"none": None, "padding": padding_mask(torch.tensor([7, 3, 1]), 7), "causal": causal_mask(7)}[
        masked
    ]
    out, weights = mha(x, x, x, mask)
    fused, none = mha(x, x, x, mask, need_weights=False)
    assert none is None and weights is not None
    torch.testing.assert_close(fused, out, rtol=0, atol=1e-12)


def test_fully_masked_rows_agree_on_both_paths():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2).double()
    x = torch.randn(1, 3, 8, dtype=torch.float64)
    mask = torch.tensor([[[True, True, False], [False, False, False], [True, False, False]]])
    out, weights = mha(x, x, x, mask)
    fused, _ = mha(x, x, x, mask, need_weights=False)
    assert weights[0, :, 1].abs().sum() == 0  # the blocked row reads nothing ...
    torch.testing.assert_close(fused, out, rtol=0, atol=1e-12)  # ... on both paths, never NaN


def test_transformer_logits_do_not_depend_on_keeping_the_weights():
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(12, 12, d_model=16, heads=2, d_ff=32, layers=2)).double()
    batch = SequenceTask("copy", vocab_size=12, min_len=2, max_len=6).sample(5, seed=1)
    logits, maps = model(batch.src, batch.src_lengths, batch.tgt_in)
    fast, none = model(batch.src, batch.src_lengths, batch.tgt_in, need_weights=False)
    assert none is None and isinstance(maps, AttentionMaps)
    torch.testing.assert_close(fast, logits, rtol=0, atol=1e-12)
