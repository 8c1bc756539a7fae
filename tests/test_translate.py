"""Chapter 4's translator helpers: data pipeline, attention on real batches, translate, BLEU, weights."""

import dataclasses
import math
import os

import numpy as np
import pytest
import sacrebleu
import torch

from attnlib.data import EOS, PAD, RUNNING_EXAMPLE, SPECIALS, running_example
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq
from attnlib.train import train
from attnlib.translate import (
    WEIGHTS_DIR,
    BootstrapScore,
    Translation,
    TranslatorSettings,
    bleu,
    bleu_bootstrap,
    bleu_by_length,
    build_model,
    load_history,
    load_model,
    prepare_data,
    save_model,
    training_batches,
    translate,
    translate_many,
    validation_loss,
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
        len(p.src) <= SETTINGS.max_len and len(p.tgt) <= SETTINGS.max_len
        for p in data.train + data.validation + data.test
    )
    assert len(data.src_vocab) == len(data.tgt_vocab) == SETTINGS.vocab_size
    assert data.src_vocab.tokens[:4] == SPECIALS
    for kept, part in zip((data.train, data.validation, data.test), data.splits, strict=True):
        assert kept == [p for p in part if len(p.src) <= 10 and len(p.tgt) <= 10]


def test_no_held_out_sentence_was_seen_in_training(data):
    train_zh, train_en = {p.src for p in data.splits.train}, {p.tgt for p in data.splits.train}
    for held_out in (data.validation, data.test):
        assert len(held_out) > 1500
        assert not any(p.src in train_zh or p.tgt in train_en for p in held_out)


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
    [(dict(max_len=0), ValueError), (dict(vocab_size=4), ValueError), (dict(steps=1.5), TypeError)],
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


def test_validation_loss_is_the_mean_cross_entropy_per_target_token(data, trained):
    model, _ = trained
    pairs = data.validation[:37]
    whole = validation_loss(model, data, pairs, batch_size=37)
    assert validation_loss(model, data, pairs, batch_size=5) == pytest.approx(whole, rel=1e-5)
    by_pair = [(validation_loss(model, data, [p]), len(p.tgt) + 1) for p in pairs]  # + <eos>
    assert whole == pytest.approx(sum(x * n for x, n in by_pair) / sum(n for _, n in by_pair), rel=1e-5)
    model.train()
    assert validation_loss(model, data, pairs) == whole and not model.training  # no dropout
    assert 0 < whole < 5


def test_validation_loss_rejects_bad_arguments(data, trained):
    with pytest.raises(ValueError, match="pairs"):
        validation_loss(trained[0], data, [])
    with pytest.raises(TypeError, match="batch_size"):
        validation_loss(trained[0], data, batch_size=2.0)
    with pytest.raises(TypeError, match="model"):
        validation_loss("model", data)


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


def _references(n, seed):
    """n random 8-word reference sentences over a 50-word vocabulary."""
    rng = np.random.default_rng(seed)
    return [list(rng.choice([f"w{i}" for i in range(50)], size=8)) for _ in range(n)]


def _noisy(refs, rate, seed):
    """A system that gets each reference word wrong with probability ``rate``."""
    rng = np.random.default_rng(seed)
    return [[w if rng.random() > rate else "x" for w in r] for r in refs]


def _corpus(n, seed):
    """References, a good system (1 word in 8 wrong) and a worse one (1 in 3)."""
    refs = _references(n, seed)
    return refs, _noisy(refs, 1 / 8, seed + 100), _noisy(refs, 1 / 3, seed + 200)


def test_bleu_bootstrap_finds_a_clear_difference():
    refs, good, bad = _corpus(200, seed=0)
    system, baseline = bleu_bootstrap(good, bad, refs, samples=200)
    assert isinstance(system, BootstrapScore) and baseline.p_value is None
    assert system.bleu == pytest.approx(bleu(good, refs)) and baseline.bleu == pytest.approx(bleu(bad, refs))
    for s in (system, baseline):
        assert s.ci[0] < s.mean < s.ci[1] and s.ci[0] < s.bleu < s.ci[1]
    assert baseline.ci[1] < system.ci[0]  # far apart
    assert system.p_value == pytest.approx(1 / 201)  # no resample comes near: the floor, 1/(n+1)


def test_bleu_bootstrap_sees_no_difference_between_equally_good_systems():
    refs = _references(200, seed=1)
    one, other = _noisy(refs, 1 / 4, seed=2), _noisy(refs, 1 / 4, seed=3)  # same error rate
    system, baseline = bleu_bootstrap(one, other, refs, samples=200)
    assert abs(system.bleu - baseline.bleu) < 3 and system.p_value > 0.05
    assert baseline.ci[0] < system.bleu < baseline.ci[1]
    same, _ = bleu_bootstrap(one, one, refs, samples=200)
    assert same.p_value == pytest.approx(1 / 201)  # sacrebleu's corner case, as documented


def test_bleu_bootstrap_is_sacrebleus_paired_test_and_reproducible():
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    refs, good, bad = _corpus(60, seed=2)
    system, baseline = bleu_bootstrap(good, bad, refs, samples=100, seed=7)
    assert bleu_bootstrap(good, bad, refs, samples=100, seed=7) == (system, baseline)
    assert bleu_bootstrap(good, bad, refs, samples=100, seed=8) != (system, baseline)

    def join(sentences):
        return [" ".join(s) for s in sentences]

    os_seed = os.environ.get("SACREBLEU_SEED")
    os.environ["SACREBLEU_SEED"] = "7"
    try:
        _, results = PairedTest(
            [("b", join(bad)), ("s", join(good))],
            {"BLEU": BLEU(tokenize="none")},
            references=[join(refs)],
            test_type="bs",
            n_samples=100,
        )()
    finally:
        os.environ.pop("SACREBLEU_SEED") if os_seed is None else os.environ.update(SACREBLEU_SEED=os_seed)
    want_b, want_s = results["BLEU"]
    assert (system.bleu, system.mean, system.p_value) == pytest.approx(
        (want_s.score, want_s.mean, want_s.p_value)
    )
    assert system.ci == pytest.approx((want_s.mean - want_s.ci, want_s.mean + want_s.ci))
    assert baseline.ci == pytest.approx((want_b.mean - want_b.ci, want_b.mean + want_b.ci))
    assert os.environ.get("SACREBLEU_SEED") == os_seed  # left as it was


def test_bleu_bootstrap_rejects_bad_input():
    refs, good, bad = _corpus(5, seed=3)
    with pytest.raises(ValueError, match="one sentence each"):
        bleu_bootstrap(good, bad[:4], refs)
    with pytest.raises(ValueError, match="empty"):
        bleu_bootstrap([], [], [])
    with pytest.raises(ValueError, match="seed must be >= 1"):
        bleu_bootstrap(good, bad, refs, seed=0)
    with pytest.raises(TypeError, match="samples"):
        bleu_bootstrap(good, bad, refs, samples=10.0)
    with pytest.raises(TypeError, match=r"system\[0\]"):
        bleu_bootstrap(["a b"] * 5, bad, refs)


# -- cached weights ---------------------------------------------------------------------------------


def test_cached_weights_load_and_have_their_loss_curves(data):
    for path, cls in ((ATTENTION_PT, AttentionSeq2Seq), (FIXED_PT, FixedContextSeq2Seq)):
        model, losses = load_model(path, data, SETTINGS)
        assert type(model) is cls and not model.training
        assert losses.shape == (SETTINGS.steps,) and losses[-100:].mean() < losses[:100].mean() / 2
        history = load_history(path)
        np.testing.assert_array_equal(history.losses, losses)
        every = SETTINGS.eval_every
        assert history.val_steps.tolist() == list(range(every, SETTINGS.steps + 1, every))
        best = int(np.argmin(history.val_losses))
        assert history.kept_step == history.val_steps[best]  # the kept weights: the best check
        # the kept weights are those the curve was measured on (up to float16 storage)
        assert validation_loss(model, data) == pytest.approx(history.val_losses[best], abs=2e-3)


def test_a_retrain_to_the_first_check_reproduces_the_stored_validation_loss(data):
    history = load_history(ATTENTION_PT)
    model = build_model("attention", data, SETTINGS)
    result = train(
        model,
        training_batches(data, SETTINGS),
        SETTINGS.train_config(steps=SETTINGS.eval_every),
        progress=False,
        validation=SETTINGS.validation(data),
    )
    assert result.val_steps.tolist() == [SETTINGS.eval_every]
    np.testing.assert_allclose(result.losses, history.losses[: SETTINGS.eval_every], rtol=1e-4)
    np.testing.assert_allclose(result.val_losses, history.val_losses[:1], rtol=1e-4)


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
    history = load_history(tmp_path / "m.pt")
    assert history.kept_step == 2 and history.val_steps.shape == history.val_losses.shape == (0,)
    result = train(
        model,
        training_batches(data, small),
        small.train_config(steps=3),
        progress=False,
        validation=dataclasses.replace(small.validation(data), every=2),
    )
    save_model(tmp_path / "r.pt", model, "attention", data, small, result)
    history = load_history(tmp_path / "r.pt")
    np.testing.assert_array_equal(history.losses, result.losses)
    assert history.val_steps.tolist() == [2, 3] and history.kept_step == result.kept_step
    np.testing.assert_array_equal(history.val_losses, result.val_losses)
    with pytest.raises(ValueError, match="kind"):
        save_model(tmp_path / "m.pt", model, "fixed", data, small, np.zeros(1))
