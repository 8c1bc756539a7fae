"""Chapter 4's translator helpers: data pipeline, attention on real batches, translate, BLEU, weights."""

import dataclasses
import math

import numpy as np
import pytest
import sacrebleu
import torch

from attnlib.data import EOS, PAD, RUNNING_EXAMPLE, SPECIALS, running_example
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq
from attnlib.train import train
from attnlib.translate import (
    WEIGHTS_DIR,
    Translation,
    TranslatorSettings,
    bleu,
    bleu_by_length,
    build_model,
    load_model,
    prepare_data,
    save_model,
    training_batches,
    translate,
    translate_many,
)

SETTINGS = TranslatorSettings()
ATTENTION_PT = WEIGHTS_DIR / "ch4_attention.pt"
FIXED_PT = WEIGHTS_DIR / "ch4_fixed.pt"


@pytest.fixture(scope="module")
def data():
    return prepare_data(SETTINGS)


@pytest.fixture(scope="module")
def trained(data):
    model, losses = load_model(ATTENTION_PT, data, SETTINGS)
    return model, losses


# -- data ---------------------------------------------------------------------------------------


def test_data_respects_the_length_limit_and_vocabulary_size(data):
    assert all(
        len(p.src) <= SETTINGS.max_len and len(p.tgt) <= SETTINGS.max_len for p in data.train + data.test
    )
    assert len(data.src_vocab) == len(data.tgt_vocab) == SETTINGS.vocab_size
    assert data.src_vocab.tokens[:4] == SPECIALS
    train_en = {p.tgt for p in data.splits.train}
    assert not any(p.tgt in train_en for p in data.test)  # split by English sentence


def test_the_running_example_is_a_training_pair(data):
    split, pair = running_example(data.splits)
    assert split == "train" and pair in data.train


def test_training_batches_are_reproducible_full_and_cover_an_epoch(data):
    small = dataclasses.replace(data, train=data.train[:300])
    settings = dataclasses.replace(SETTINGS, batch_size=32)
    a, b = training_batches(small, settings), training_batches(small, settings)
    epoch = [next(a) for _ in range(300 // 32)]  # 9 full batches; 12 pairs wait for the next pass
    for batch in epoch:
        other = next(b)
        assert torch.equal(batch.src, other.src) and torch.equal(batch.tgt_out, other.tgt_out)
        assert len(batch) == 32
    seen = sorted(
        tuple(row[:n].tolist())
        for batch in epoch
        for row, n in zip(batch.src, batch.src_lengths, strict=True)
    )
    encoded = sorted(tuple(small.src_vocab.encode(p.src)) for p in small.train)
    assert len(set(seen)) >= len(set(encoded)) - 12 and set(seen) <= set(encoded)


def test_batches_group_similar_lengths(data):
    stream = training_batches(data, SETTINGS)
    spans = [(b.tgt_out != PAD).sum(1) for b in (next(stream) for _ in range(20))]
    assert np.mean([(s.max() - s.min()).item() for s in spans]) <= 2


@pytest.mark.parametrize(
    "kwargs, error",
    [(dict(max_len=0), ValueError), (dict(vocab_size=4), ValueError), (dict(steps=1.5), ValueError)],
)
def test_bad_settings(kwargs, error):
    with pytest.raises(error):
        TranslatorSettings(**kwargs)


def test_bad_arguments_are_named(data):
    with pytest.raises(TypeError, match="settings"):
        prepare_data({"max_len": 10})
    with pytest.raises(TypeError, match="data"):
        training_batches([1, 2, 3])
    with pytest.raises(ValueError, match="kind"):
        build_model("transformer", data)


# -- the decoder's attention on real batches -------------------------------------------------------


def test_attention_weights_sum_to_one_and_ignore_padding(data, trained):
    model, _ = trained
    batch = next(training_batches(data, dataclasses.replace(SETTINGS, batch_size=16), pool=1))
    assert batch.src_lengths.min() < batch.src.shape[1]  # the batch has padding
    with torch.no_grad():
        _, weights = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T_out, T_in)
    pad = torch.arange(batch.src.shape[1]) >= batch.src_lengths[:, None]  # (B, T_in)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))
    assert weights.masked_select(pad[:, None, :].expand_as(weights)).abs().max() == 0
    # each sentence alone (no padding) gets the same weights as inside the padded batch
    for b in range(len(batch)):
        n = batch.src_lengths[b].item()
        with torch.no_grad():
            _, alone = model(batch.src[b : b + 1, :n], batch.src_lengths[b : b + 1], batch.tgt_in[b : b + 1])
        torch.testing.assert_close(alone[0], weights[b, :, :n], atol=1e-5, rtol=1e-4)


# -- translate ------------------------------------------------------------------------------------


def test_translate_the_running_example(data, trained):
    model, _ = trained
    out = translate(model, RUNNING_EXAMPLE[0], data)
    assert isinstance(out, Translation)
    assert out.source == tuple("我昨天住在他家。")
    assert out.output[-1] == SPECIALS[EOS] and out.words == out.output[:-1]
    assert out.weights.shape == (len(out.output), 8)
    np.testing.assert_allclose(out.weights.sum(axis=1), 1.0, atol=1e-6)
    assert out.states.shape == (8, 2 * SETTINGS.hidden)
    np.testing.assert_allclose(out.contexts, out.weights @ out.states, atol=1e-5)
    assert out.unknown == ()


def test_translate_accepts_tokens_and_traditional_script(data, trained):
    model, _ = trained
    a = translate(model, list("我不知道。"), data)
    b = translate(model, "我不知道。", data)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert translate(model, "我會說漢語。", data).output == translate(model, "我会说汉语。", data).output


def test_translate_reports_unknown_tokens_and_stops_at_max_len(data, trained):
    model, _ = trained
    out = translate(model, "我𠀀。", data, max_len=2)
    assert out.unknown == ("𠀀",)
    assert len(out.output) <= 2 and out.weights.shape == (len(out.output), 3)


def test_translate_many_matches_translate(data, trained):
    model, _ = trained
    sources = [p.src for p in data.test[:40]]
    many = translate_many(model, sources, data, max_len=12, batch_size=16)
    assert many == [list(translate(model, s, data, max_len=12).words) for s in sources]


def test_a_model_without_attention_has_no_weights(data):
    model = build_model("fixed", data)
    out = translate(model, "你好。", data, max_len=3)
    assert out.weights is None and out.contexts.shape == (len(out.output), 2 * SETTINGS.hidden)
    assert np.ptp(out.contexts, axis=0).max() == 0  # the same c at every step


@pytest.mark.parametrize(
    "sentence, error", [("", ValueError), ("   ", ValueError), (42, TypeError), ([1, 2], TypeError)]
)
def test_translate_rejects_bad_sentences(data, trained, sentence, error):
    with pytest.raises(error, match="sentence"):
        translate(trained[0], sentence, data)


def test_translate_rejects_bad_model_and_max_len(data, trained):
    with pytest.raises(TypeError, match="model"):
        translate("not a model", "你好。", data)
    with pytest.raises(ValueError, match="max_len"):
        translate(trained[0], "你好。", data, max_len=0)


# -- BLEU -----------------------------------------------------------------------------------------


def test_identical_hypotheses_score_100():
    refs = [p.split() for p in ("i stayed at his place yesterday .", "he is happy .", "i don't know .")]
    assert bleu(refs, refs) == pytest.approx(100.0)


def test_bleu_known_values():
    ref = [["a", "b", "c", "d", "e", "f", "g", "h"]]
    # one wrong last word: precisions 7/8, 6/7, 5/6, 4/5 -> geometric mean (1/2)^(1/4), no brevity penalty
    assert bleu([["a", "b", "c", "d", "e", "f", "g", "x"]], ref) == pytest.approx(100 * 0.5**0.25)
    # a correct but short hypothesis: precisions 1, brevity penalty exp(1 - 8/6)
    assert bleu([["a", "b", "c", "d", "e", "f"]], ref) == pytest.approx(100 * math.exp(1 - 8 / 6))


def test_bleu_is_sacrebleus_corpus_bleu_on_our_tokens():
    hyps = [["the", "cat", "sat", "on", "the", "mat", "."], ["he", "is", "happy", "."]]
    refs = [["the", "cat", "is", "on", "the", "mat", "."], ["he", "was", "happy", "."]]
    want = sacrebleu.corpus_bleu(
        [" ".join(h) for h in hyps], [[" ".join(r) for r in refs]], tokenize="none"
    ).score
    assert bleu(hyps, refs) == pytest.approx(want)


def test_bleu_rejects_bad_input():
    with pytest.raises(ValueError, match="one reference per hypothesis"):
        bleu([["a"]], [["a"], ["b"]])
    with pytest.raises(TypeError, match="token"):
        bleu(["a b c"], ["a b c"])
    with pytest.raises(ValueError, match="empty"):
        bleu([], [])


def test_bleu_by_length_buckets():
    hyps = [list("abcde"), list("abcdf"), list("vwxyz")]
    refs = [list("abcde"), list("abcde"), list("abcde")]
    scores = bleu_by_length(hyps, refs, [2, 4, 5], [(1, 3), (4, 5), (6, 9)])
    assert [(s.low, s.high, s.sentences) for s in scores] == [(1, 3, 1), (4, 5, 2), (6, 9, 0)]
    assert scores[0].bleu == pytest.approx(100.0) and scores[0].label == "1–3"
    assert scores[1].bleu == pytest.approx(bleu(hyps[1:], refs[1:]))
    assert math.isnan(scores[2].bleu)
    with pytest.raises(ValueError, match="bucket"):
        bleu_by_length(hyps, refs, [2, 4, 5], [(5, 1)])
    with pytest.raises(ValueError, match="same length"):
        bleu_by_length(hyps, refs, [2, 4], [(1, 9)])


# -- cached weights ---------------------------------------------------------------------------------


def test_cached_weights_load_and_have_their_loss_curves(data):
    for path, cls in ((ATTENTION_PT, AttentionSeq2Seq), (FIXED_PT, FixedContextSeq2Seq)):
        model, losses = load_model(path, data, SETTINGS)
        assert type(model) is cls and not model.training
        assert losses.shape == (SETTINGS.steps,) and losses[-100:].mean() < losses[:100].mean() / 2


def test_a_short_retrain_reproduces_the_cached_loss_curve(data):
    """The cached weights come from this code: its first steps give the stored losses."""
    _, stored = load_model(ATTENTION_PT, data, SETTINGS)
    model = build_model("attention", data, SETTINGS)
    result = train(model, training_batches(data, SETTINGS), SETTINGS.train_config(steps=8), progress=False)
    np.testing.assert_allclose(result.losses, stored[:8], rtol=1e-4)


def test_load_model_refuses_other_settings_and_missing_files(data, tmp_path):
    with pytest.raises(ValueError, match="settings"):
        load_model(ATTENTION_PT, data, dataclasses.replace(SETTINGS, hidden=32))
    with pytest.raises(FileNotFoundError, match="train_ch4"):
        load_model(tmp_path / "none.pt", data, SETTINGS)


def test_save_and_load_round_trip(data, tmp_path):
    small = dataclasses.replace(SETTINGS, embed=8, hidden=8, attention_hidden=8)
    model = build_model("attention", data, small)
    save_model(tmp_path / "m.pt", model, "attention", data, small, np.array([3.0, 2.0]))
    loaded, losses = load_model(tmp_path / "m.pt", data, small)
    for (k, v), (_, w) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert w.dtype == v.dtype and torch.equal(v.half().float(), w), k  # stored as float16
    np.testing.assert_array_equal(losses, [3.0, 2.0])
    with pytest.raises(ValueError, match="kind"):
        save_model(tmp_path / "m.pt", model, "fixed", data, small, np.zeros(1))
