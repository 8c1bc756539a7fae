"""attnlib.bottleneck: chapter 1's settings, training, measurements, and the cached long runs."""

import dataclasses
import re

import numpy as np
import pytest
import torch

from attnlib.bottleneck import (
    BottleneckSettings,
    accuracy_by_input_length,
    accuracy_by_source_position,
    build_model,
    load_model,
    load_runs,
    measure,
    parameter_count,
    round_weights,
    save_runs,
    train_model,
    training_batches,
    validation_loss,
)
from attnlib.data import SequenceTask
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq

TINY = BottleneckSettings(
    vocab_size=10, max_len=5, test_max_len=7, embed=8, hidden=8, attention_hidden=8, batch=16, steps=6,
    measure_every=3, n_test=40, n_position=20, n_validation=30,
)  # fmt: skip


def test_settings_make_the_chapters_models_and_tasks():
    s = BottleneckSettings()
    assert (s.task, s.hidden, s.min_len, s.max_len, s.test_max_len) == ("copy", 64, 3, 15, 20)
    assert s.train_task().max_len == 15 and s.test_task().max_len == 20
    c = s.model_config()
    assert (c.src_vocab, c.tgt_vocab, c.embed, c.hidden, c.attention_hidden) == (30, 30, 32, 64, 64)
    t = s.train_config(seed=3, steps=10)
    assert (t.steps, t.lr, t.clip, t.seed, t.threads) == (10, s.lr, s.clip, 3, 1)


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(task="sort"), ValueError, "task must be one of"),
        (dict(hidden=0), ValueError, "hidden must be >= 1"),
        (dict(batch=2.0), TypeError, "batch must be an int"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(max_len=25), ValueError, "min_len <= max_len <= test_max_len"),
        (dict(vocab_size=3), ValueError, "vocab_size"),
    ],
)
def test_bad_settings(change, error, message):
    with pytest.raises(error, match=message):
        BottleneckSettings(**change)


def test_models_are_seeded_and_the_attention_layer_is_the_difference():
    a, b = build_model("fixed", TINY, seed=1), build_model("fixed", TINY, seed=1)
    assert isinstance(a, FixedContextSeq2Seq) and all(
        torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    attn = build_model("attention", TINY, seed=1)
    assert isinstance(attn, AttentionSeq2Seq)
    assert parameter_count(attn) - parameter_count(a) == parameter_count(attn.attention)
    with pytest.raises(ValueError, match="kind must be one of"):
        build_model("lstm", TINY, seed=0)
    with pytest.raises(TypeError, match="BottleneckSettings"):
        build_model("fixed", {"hidden": 8}, seed=0)


def test_a_short_run_is_the_beginning_of_a_long_one():
    _, short = train_model("attention", TINY, seed=2, steps=3, progress=False)
    _, long = train_model("attention", TINY, seed=2, progress=False)
    assert long.steps == TINY.steps
    np.testing.assert_array_equal(short.losses, long.losses[:3])
    first = next(training_batches(TINY, seed=2))
    assert first.src.shape[0] == TINY.batch and int(first.src_lengths.max()) <= TINY.max_len


def test_measurements_have_the_documented_shapes_and_agree():
    model, _ = train_model("fixed", TINY, seed=0, progress=False)
    by_length = accuracy_by_input_length(model, TINY, seed=5)
    assert by_length.shape == (TINY.test_max_len + 1,) and np.isnan(by_length[: TINY.min_len]).all()
    assert np.nanmin(by_length) >= 0 and np.nanmax(by_length) <= 1
    for forced in (False, True):
        by_pos = accuracy_by_source_position(model, TINY, seed=6, teacher_forcing=forced)
        assert by_pos.shape == (TINY.max_len,) and np.isfinite(by_pos).all()
    m = measure(model, TINY, seed=5)
    np.testing.assert_array_equal(m.by_length, by_length)
    np.testing.assert_array_equal(m.by_position, accuracy_by_source_position(model, TINY, seed=6))
    assert validation_loss(model, TINY, seed=7) == pytest.approx(validation_loss(model, TINY, seed=7))
    assert model.training is False  # measurements leave the model in eval mode


class Oracle(FixedContextSeq2Seq):
    """Writes the right tokens for the inputs of ``longest`` drawn with seed 9, whatever it reads."""

    def __init__(self, settings, longest):
        super().__init__(settings.model_config())
        self.answer = longest.sample(settings.n_position, seed=9)

    def greedy_decode(self, src, src_lengths, max_len):
        assert torch.equal(self.answer.src, src)
        return self.answer.tgt_out, None


def test_reverse_positions_count_from_the_source():
    """A model that always writes the right token scores 1 at every source position, either task."""
    for task in ("copy", "reverse"):
        s = dataclasses.replace(TINY, task=task)
        oracle = Oracle(s, SequenceTask(task, s.vocab_size, s.max_len, s.max_len))
        np.testing.assert_array_equal(accuracy_by_source_position(oracle, s, seed=9), np.ones(s.max_len))


def test_save_and_load_round_trip(tmp_path):
    model, result = train_model("attention", TINY, seed=0, progress=False)
    final = measure(round_weights(model), TINY, seed=1)
    record = {
        "settings": dataclasses.asdict(TINY), "kind": "attention", "seed": 0,
        "params": parameter_count(model), "losses": result.losses, "measured_at": np.array([3, 6]),
        "val_losses": np.array([2.0, 1.5]), "kept_step": 6, "by_length": np.zeros((2, 8)),
        "final": vars(final), "seconds": 1.0, "state_dict": model.state_dict(),
    }  # fmt: skip
    save_runs(tmp_path, [record, {**record, "kind": "fixed", "state_dict": None}])
    runs = load_runs(tmp_path)
    assert [r.name for r in runs] == ["copy-attention-h8-seed0", "copy-fixed-h8-seed0"]
    run = load_runs(tmp_path, kind="attention", hidden=8)[0]
    assert run.settings == TINY and run.kept_step == 6 and run.has_weights
    np.testing.assert_allclose(run.losses, result.losses, rtol=1e-6)
    loaded = load_model(run, tmp_path)
    for (k, v), w in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(v, w), k  # already rounded to float16: stored exactly
    np.testing.assert_array_equal(measure(loaded, TINY, seed=1).by_position, final.by_position)
    with pytest.raises(ValueError, match="no weights"):
        load_model(load_runs(tmp_path, kind="fixed")[0], tmp_path)
    with pytest.raises(ValueError, match="cannot select runs by 'colour'"):
        load_runs(tmp_path, colour="red")
    with pytest.raises(FileNotFoundError, match=re.escape("scripts/train_ch1.py")):
        load_runs(tmp_path / "nowhere")


# -- the cached long runs (data/ch1, made by scripts/train_ch1.py) ------------------------------------

PLAN = {  # (task, kind, hidden): steps; three seeds each
    ("copy", "fixed", 32): 6000,
    ("copy", "fixed", 64): 6000,
    ("copy", "fixed", 128): 6000,
    ("copy", "attention", 32): 2000,
    ("copy", "attention", 64): 2000,
    ("reverse", "fixed", 64): 6000,
    ("reverse", "attention", 64): 2000,
}
TEST_SEED = 10_000  # scripts/train_ch1.py measures every run on these test sequences


@pytest.fixture(scope="module")
def cached():
    return load_runs()


def test_the_cache_holds_every_planned_run_with_its_curves(cached):
    found = {(r.settings.task, r.kind, r.settings.hidden, r.seed): r for r in cached}
    assert set(found) == {(*key, seed) for key in PLAN for seed in (0, 1, 2)}
    for (task, kind, hidden, seed), r in found.items():
        s = r.settings
        assert s == dataclasses.replace(
            BottleneckSettings(), task=task, hidden=hidden, steps=PLAN[task, kind, hidden]
        )
        assert r.losses.shape == (s.steps,) and np.isfinite(r.losses).all()
        assert r.measured_at.tolist() == list(range(s.measure_every, s.steps + 1, s.measure_every))
        assert (
            r.by_length.shape == (len(r.measured_at), s.test_max_len + 1)
            and r.val_losses.shape == r.measured_at.shape
        )
        assert r.kept_step == r.measured_at[np.argmin(r.val_losses)]  # the best check's weights
        assert r.has_weights == (hidden == 64)
        assert r.params == parameter_count(build_model(kind, s, seed))


@pytest.mark.parametrize("task, kind", [("copy", "fixed"), ("copy", "attention"), ("reverse", "fixed")])
def test_a_short_retrain_reproduces_the_cached_loss_curve(cached, task, kind):
    """The cached runs come from this code: its first steps give the stored losses."""
    run = next(
        r for r in cached if (r.settings.task, r.kind, r.settings.hidden, r.seed) == (task, kind, 64, 0)
    )
    _, result = train_model(kind, run.settings, seed=0, steps=8, progress=False)
    np.testing.assert_allclose(result.losses, run.losses[:8], rtol=1e-4)


def test_the_cached_weights_give_the_cached_measurements(cached):
    for run in (r for r in cached if r.has_weights and r.seed == 0):
        m = measure(load_model(run), run.settings, TEST_SEED)
        for name in ("by_length", "by_position", "by_position_forced"):
            np.testing.assert_allclose(
                getattr(m, name), getattr(run.final, name), atol=0.01, err_msg=run.name
            )
