"""The GPT of chapter 6: causality, the KV cache (every variant), sampling, training, bad input."""

import copy
import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from attnlib.gpt import (
    GPT,
    GPTConfig,
    KVCache,
    LayerCache,
    generate,
    lm_loss,
    sample_next,
    step_times,
    train_lm,
)
from attnlib.gqa import kv_cache_bytes
from attnlib.train import TrainConfig
from attnlib.transformer import Embedding, EncoderBlock

VOCAB = 23
VARIANTS = [
    dict(),
    dict(kv_heads=2),
    dict(kv_heads=1),
    dict(positions="rope"),
    dict(window=5),
    dict(kv_heads=1, positions="rope", window=3),
    dict(window=4, sinks=1),
    dict(kv_heads=2, positions="rope", window=3, sinks=2),
]


def model(seed=0, dtype=torch.float64, **kw):
    torch.manual_seed(seed)
    config = GPTConfig(vocab=VOCAB, d_model=32, heads=4, d_ff=48, layers=2, context=16, max_len=64, **kw)
    return GPT(config).to(dtype).eval()


def ids(B=3, T=20, seed=0):
    return torch.randint(0, VOCAB, (B, T), generator=torch.Generator().manual_seed(seed))


def incremental(m, x, prompt):
    cache = m.new_cache()
    with torch.no_grad():
        parts = [m(x[:, :prompt], cache)[0]] + [
            m(x[:, t : t + 1], cache)[0] for t in range(prompt, x.shape[1])
        ]
    return torch.cat(parts, dim=1), cache


def test_built_from_the_books_blocks_with_tied_embeddings():
    m = model()
    assert all(isinstance(b, EncoderBlock) for b in m.blocks) and isinstance(m.embedding, Embedding)
    h = torch.randn(2, 3, 32, dtype=torch.float64)
    torch.testing.assert_close(m.logits(h), h @ m.embedding.tokens.weight.T, rtol=0, atol=0)
    names = [n for n, _ in m.named_parameters()]
    assert not any("out" in n for n in names)  # no output matrix of its own


@pytest.mark.parametrize("kw", VARIANTS, ids=str)
@pytest.mark.parametrize("t", [0, 7, 19])
def test_no_position_sees_the_future(kw, t):
    m = model(**kw)
    x = ids()
    y = x.clone()
    y[:, t] = (y[:, t] + 1) % VOCAB
    with torch.no_grad():
        a, _ = m(x)
        b, _ = m(y)
    assert torch.equal(a[:, :t], b[:, :t])
    assert (a[:, t] - b[:, t]).abs().max() > 1e-6


@pytest.mark.parametrize("kw", VARIANTS, ids=str)
@pytest.mark.parametrize("prompt", [1, 4, 20])
def test_cache_gives_the_logits_of_a_full_recompute(kw, prompt):
    m = model(**kw)
    x = ids()
    with torch.no_grad():
        full, weights = m(x)
    inc, cache = incremental(m, x, prompt)
    torch.testing.assert_close(inc, full, rtol=0, atol=1e-12)
    assert cache.length == 20
    n = min(20, (kw.get("window") or 20) + kw.get("sinks", 0))  # the window, and the sinks
    g = kw.get("kv_heads") or 4
    assert {layer.size for layer in cache.layers} == {n}
    assert cache.nbytes() == kv_cache_bytes(2, g, 8, n, bytes_per_value=8, batch=3)
    assert [tuple(w.shape) for w in weights] == [(3, 4, 20, 20)] * 2


def test_cache_in_float32_agrees_to_float32_precision():
    m = model(dtype=torch.float32)
    x = ids(T=40)
    with torch.no_grad():
        full, _ = m(x, need_weights=False)
    inc, _ = incremental(m, x, 8)
    assert ((inc - full).abs().max() / full.abs().max()).item() < 1e-6


def test_weights_and_fused_paths_agree_and_rows_sum_to_one():
    m = model(window=4)
    x = ids()
    with torch.no_grad():
        a, weights = m(x)
        b, none = m(x, need_weights=False)
    assert none == [None, None]
    torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    for w in weights:
        torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)))
        i, j = torch.meshgrid(torch.arange(20), torch.arange(20), indexing="ij")
        assert w[..., (j > i) | (j <= i - 4)].abs().max() == 0  # the future and beyond the window


def test_attention_parts_are_the_forward_passes_weights():
    m = model(kv_heads=2, positions="rope")
    x = ids()
    with torch.no_grad():
        _, weights = m(x)
    for parts, w in zip(m.attention_parts(x), weights, strict=True):
        torch.testing.assert_close(parts.weights, w, rtol=0, atol=1e-12)
        assert parts.values.shape == (3, 4, 20, 8) and parts.mask.shape == (20, 20)
        torch.testing.assert_close(parts.values[:, 0], parts.values[:, 1])  # one group, shared


def test_window_cache_forgets_what_no_query_can_see():
    cache = LayerCache()
    k = torch.arange(7.0).view(1, 1, 7, 1)
    all_k, _, positions = cache.extend(k, k, start=0, window=3)
    assert positions.tolist() == list(range(7)) and all_k.shape[2] == 7 and cache.size == 3
    assert cache.positions.tolist() == [4, 5, 6]
    all_k, _, positions = cache.extend(k[:, :, :1] + 10, k[:, :, :1], start=7, window=3)
    assert positions.tolist() == [4, 5, 6, 7] and all_k.flatten().tolist() == [4.0, 5.0, 6.0, 10.0]
    assert cache.keys.flatten().tolist() == [5.0, 6.0, 10.0]


def test_sinks_stay_in_the_cache_beside_the_window():
    cache = LayerCache()
    k = torch.arange(9.0).view(1, 1, 9, 1)
    cache.extend(k, k, start=0, window=3, sinks=2)
    assert cache.positions.tolist() == [0, 1, 6, 7, 8] and cache.keys.flatten().tolist() == [0, 1, 6, 7, 8]
    m = model(window=3, sinks=1)
    x = ids(T=12)
    with torch.no_grad():
        _, weights = m(x)
    seen = weights[0][0, 0] > 0  # (T, T) query i, key j
    assert seen[11].nonzero().flatten().tolist() == [0, 9, 10, 11]


def test_generation_is_the_same_with_and_without_the_cache_and_reproducible():
    m = model(dtype=torch.float32)
    prompt = ids(B=4, T=3)
    a = generate(m, prompt, steps=15, temperature=0.9, top_k=10, seed=3)
    b = generate(m, prompt, steps=15, temperature=0.9, top_k=10, seed=3, use_cache=False)
    c = generate(m, prompt, steps=15, temperature=0.9, top_k=10, seed=3)
    assert torch.equal(a, b) and torch.equal(a, c) and a.shape == (4, 18)
    assert torch.equal(a[:, :3], prompt)


def test_sampling_temperature_and_top_k():
    logits = torch.tensor([[0.0, 1.0, 2.0, 5.0]] * 2000)
    gen = torch.Generator().manual_seed(0)
    assert (sample_next(logits, top_k=1, generator=gen) == 3).all()  # greedy
    top2 = sample_next(logits, top_k=2, generator=gen)
    assert set(top2.tolist()) == {2, 3}
    cold = sample_next(logits, temperature=0.1, generator=gen)
    hot = sample_next(logits, temperature=10.0, generator=gen)
    assert (cold == 3).float().mean() > 0.99 and (hot == 0).float().mean() > 0.15
    p = torch.softmax(logits[0], -1)
    freq = torch.bincount(sample_next(logits, generator=gen), minlength=4) / 2000
    torch.testing.assert_close(freq, p, atol=0.03, rtol=0)


def test_step_times_are_per_step_seconds():
    m = model(dtype=torch.float32)
    for cached in (True, False):
        t = step_times(m, ids(B=1, T=2), steps=5, use_cache=cached)
        assert t.shape == (5,) and (t > 0).all()


def test_training_lowers_the_loss_and_is_deterministic():
    def batches(seed):
        gen = torch.Generator().manual_seed(seed)
        while True:
            x = torch.randint(3, 8, (8, 12), generator=gen)
            yield x, (x + 1) % VOCAB  # learnable: the next id is this one + 1

    held = next(batches(99))
    runs = []
    for _ in range(2):
        m = model(dtype=torch.float32)
        runs.append(
            train_lm(
                m,
                batches(0),
                TrainConfig(steps=40, lr=1e-2, seed=1),
                held_out=held,
                eval_every=20,
                progress=False,
            )
        )
    a, b = runs
    np.testing.assert_array_equal(a.losses, b.losses)
    assert a.steps == 40 and a.eval_steps.tolist() == [20, 40]
    assert a.eval_losses[-1] < 0.5 * a.losses[0]
    assert lm_loss(m, *held) == pytest.approx(a.eval_losses[-1], rel=1e-6)


@pytest.mark.parametrize(
    "kw, error, message",
    [
        (dict(kv_heads=3), ValueError, "must divide heads"),
        (dict(kv_heads=8), ValueError, "kv_heads"),
        (dict(positions="alibi"), ValueError, "positions"),
        (dict(window=0), ValueError, "window"),
        (dict(sinks=1), ValueError, "needs a window"),
        (dict(window=4, sinks=-1), ValueError, "sinks"),
        (dict(context=100), ValueError, "max_len"),
        (dict(heads=3), ValueError, "divisible"),
        (dict(d_model=36, heads=12, positions="rope"), ValueError, "pairs"),
        (dict(vocab=0), ValueError, "vocab"),
        (dict(dropout=1.0), ValueError, "dropout"),
    ],
)
def test_bad_configs_are_refused(kw, error, message):
    args = dict(vocab=VOCAB, d_model=32, heads=4, d_ff=48, layers=2, context=16, max_len=64) | kw
    with pytest.raises(error, match=re.escape(message)):
        GPTConfig(**args)


def test_bad_input_is_refused_clearly():
    m = model()
    with pytest.raises(TypeError, match="int64"):
        m(torch.zeros(1, 3))
    with pytest.raises(TypeError, match="int64"):
        m(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="ids outside"):
        m(torch.tensor([[1, VOCAB]]))
    with pytest.raises(ValueError, match="max_len=64"):
        m(torch.zeros(1, 65, dtype=torch.int64))
    with pytest.raises(TypeError, match="KVCache"):
        m(ids(), cache={})
    with pytest.raises(ValueError, match="3 layers"):
        m(ids(), cache=KVCache.empty(3))
    with pytest.raises(ValueError, match="temperature"):
        sample_next(torch.zeros(1, 4), temperature=0)
    with pytest.raises(ValueError, match="top_k"):
        sample_next(torch.zeros(1, 4), top_k=5)
    with pytest.raises(TypeError, match="GPTConfig"):
        GPT({"vocab": 3})
    long = model(positions="rope")  # no table: rope reads any position
    long(torch.zeros(1, 65, dtype=torch.int64))


def test_a_trained_models_copy_in_float64_and_a_windowed_copy_share_weights():
    m = model(dtype=torch.float32)
    windowed = GPT(replace(m.config, window=4))
    windowed.load_state_dict(copy.deepcopy(m.state_dict()))
    x = ids()
    with torch.no_grad():
        a, _ = m(x[:, :4])
        b, _ = windowed(x[:, :4])  # within the window, the same model
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
