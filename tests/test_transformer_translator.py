"""Chapter 5's cached runs: the Transformer translator (kind "transformer") and the copy-task comparison."""

import dataclasses

import numpy as np
import pytest
import torch

from attnlib.compare import (
    MODELS,
    CopyComparison,
    CopyRun,
    first_step_below,
    load_copy_runs,
    run_copy_comparison,
    save_copy_runs,
)
from attnlib.data import RUNNING_EXAMPLE
from attnlib.train import train
from attnlib.transformer import Transformer
from attnlib.translate import (
    WEIGHTS_DIR,
    TransformerSizes,
    TranslatorSettings,
    build_model,
    load_history,
    load_model,
    prepare_data,
    save_model,
    training_batches,
    translate,
    validation_loss,
)

SETTINGS, SIZES = TranslatorSettings(), TransformerSizes()
TRANSFORMER_PT = WEIGHTS_DIR / "ch5_transformer.pt"
COPY_JSON = WEIGHTS_DIR / "ch5_copy.json"
TINY = TransformerSizes(d_model=16, heads=2, d_ff=32, layers=1)


@pytest.fixture(scope="module")
def data():
    return prepare_data(SETTINGS)


# -- the model kind -------------------------------------------------------------------------------


def test_build_model_makes_a_seeded_transformer_of_the_given_sizes(data):
    model = build_model("transformer", data, SETTINGS, SIZES)
    assert isinstance(model, Transformer)
    c = model.config
    assert (c.d_model, c.heads, c.d_ff, c.layers, c.norm_first) == (128, 4, 256, 2, True)
    assert (c.src_vocab, c.tgt_vocab, c.dropout) == (
        len(data.src_vocab),
        len(data.tgt_vocab),
        SETTINGS.dropout,
    )
    again = build_model("transformer", data, SETTINGS)  # default sizes
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    gru = build_model("attention", data, SETTINGS)
    n_tf, n_gru = (sum(p.numel() for p in m.parameters()) for m in (model, gru))
    assert 0.9 < n_tf / n_gru < 1.2  # about as many parameters as chapter 4's model


def test_sizes_are_for_the_transformer_only(data):
    with pytest.raises(ValueError, match="sizes are for kind 'transformer' only"):
        build_model("attention", data, SETTINGS, SIZES)
    with pytest.raises(TypeError, match="sizes must be a TransformerSizes"):
        build_model("transformer", data, SETTINGS, {"d_model": 16})
    with pytest.raises(ValueError, match="divisible"):
        build_model("transformer", data, SETTINGS, TransformerSizes(d_model=10, heads=4))
    with pytest.raises(TypeError, match="layers"):
        TransformerSizes(layers=1.5)


def test_save_and_load_a_transformer_round_trip(data, tmp_path):
    model = build_model("transformer", data, SETTINGS, TINY)
    save_model(tmp_path / "t.pt", model, "transformer", data, SETTINGS, np.array([2.0, 1.0]), TINY)
    loaded, losses = load_model(tmp_path / "t.pt", data, SETTINGS, TINY)
    assert isinstance(loaded, Transformer) and loaded.config == model.config and not loaded.training
    for (k, v), (_, w) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(v.half().float(), w), k
    np.testing.assert_array_equal(losses, [2.0, 1.0])
    with pytest.raises(ValueError, match="sizes"):
        load_model(tmp_path / "t.pt", data, SETTINGS, dataclasses.replace(TINY, d_ff=64))
    with pytest.raises(ValueError, match="train_ch5"):
        load_model(tmp_path / "t.pt", data, dataclasses.replace(SETTINGS, lr=1e-3), TINY)
    with pytest.raises(ValueError, match="config"):  # sizes that are not the model's
        save_model(tmp_path / "u.pt", model, "transformer", data, SETTINGS, np.ones(1), SIZES)


# -- the cached translator ------------------------------------------------------------------------


def test_cached_transformer_loads_with_its_curves(data):
    model, losses = load_model(TRANSFORMER_PT, data, SETTINGS, SIZES)
    assert isinstance(model, Transformer) and not model.training
    assert losses.shape == (SETTINGS.steps,) and losses[-100:].mean() < losses[:100].mean() / 2
    history = load_history(TRANSFORMER_PT)
    every = SETTINGS.eval_every
    assert history.val_steps.tolist() == list(range(every, SETTINGS.steps + 1, every))
    best = int(np.argmin(history.val_losses))
    assert history.kept_step == history.val_steps[best]
    assert validation_loss(model, data) == pytest.approx(history.val_losses[best], abs=2e-3)


def test_a_short_retrain_reproduces_the_cached_transformer_curve(data):
    """The cached weights come from this code: its first steps give the stored losses."""
    stored = load_history(TRANSFORMER_PT).losses
    model = build_model("transformer", data, SETTINGS, SIZES)
    result = train(model, training_batches(data, SETTINGS), SETTINGS.train_config(steps=8), progress=False)
    np.testing.assert_allclose(result.losses, stored[:8], rtol=1e-4)


def test_the_transformer_translates_with_one_alignment_per_sentence(data):
    model, _ = load_model(TRANSFORMER_PT, data, SETTINGS, SIZES)
    out = translate(model, RUNNING_EXAMPLE[0], data, max_len=12)
    T_out = len(out.output)
    assert out.weights.shape == (T_out, 8) and out.states.shape == (8, SIZES.d_model)
    np.testing.assert_allclose(out.weights.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out.contexts, out.weights @ out.states, atol=1e-4)


# -- the copy-task comparison -----------------------------------------------------------------------


def test_cached_copy_runs_have_every_seed_and_model():
    config, runs = load_copy_runs(COPY_JSON)
    assert config == CopyComparison() and len(runs) == 5
    for seed, seed_runs in enumerate(runs):
        assert list(seed_runs) == list(MODELS)
        for run in seed_runs.values():
            assert isinstance(run, CopyRun) and run.seed == seed
            assert run.losses.shape == (config.steps,)
            assert run.by_length.shape == (config.test_max_len - config.min_len + 1,)
            assert 0 <= run.exact_match <= run.token_accuracy <= 1


def test_a_short_retrain_reproduces_the_cached_copy_curves():
    config, runs = load_copy_runs(COPY_JSON)
    short = dataclasses.replace(config, steps=10, test_size=50)
    again = run_copy_comparison(short, seed=1)
    for name in MODELS:
        np.testing.assert_allclose(again[name].losses, runs[1][name].losses[:10], rtol=1e-4)
        assert again[name].parameters == runs[1][name].parameters


def test_copy_runs_round_trip_and_bad_input(tmp_path):
    config = CopyComparison(steps=2, test_size=8, max_len=5, test_max_len=6)
    runs = [run_copy_comparison(config, seed) for seed in (3, 4)]
    save_copy_runs(tmp_path / "c.json", config, runs)
    loaded_config, loaded = load_copy_runs(tmp_path / "c.json")
    assert loaded_config == config
    for a, b in zip(runs, loaded, strict=True):
        for name in MODELS:
            np.testing.assert_array_equal(a[name].losses, b[name].losses)
            np.testing.assert_array_equal(a[name].by_length, b[name].by_length)
            assert (a[name].token_accuracy, a[name].seed) == (b[name].token_accuracy, b[name].seed)
    with pytest.raises(ValueError, match="min_len <= max_len"):
        CopyComparison(max_len=30)
    with pytest.raises(TypeError, match="config"):
        run_copy_comparison({"steps": 1}, 0)
    with pytest.raises(ValueError, match="name"):
        config.make("LSTM")
    with pytest.raises(FileNotFoundError, match="train_ch5"):
        load_copy_runs(tmp_path / "none.json")


def test_first_step_below_smooths_over_a_window():
    losses = np.array([5.0, 0.1, 5.0, 0.1, 0.1, 0.1, 0.1])
    assert first_step_below(losses, 1.0, window=1) == 2  # one lucky batch
    assert first_step_below(losses, 1.0, window=3) == 6  # the mean of steps 4..6
    assert first_step_below(losses, 0.05, window=2) is None
    with pytest.raises(ValueError, match="window"):
        first_step_below(losses, 1.0, window=8)
