"""Chapter 6's experiment: the English character data, and the stored comparison runs."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from attnlib.charlm import (
    COMPARISON_PATH,
    VARIANTS,
    LMSettings,
    english_data,
    load_comparison,
    load_models,
    run_comparison,
    save_comparison,
    save_models,
    train_variant,
)
from attnlib.gpt import lm_loss
from attnlib.translate import prepare_data


@pytest.fixture(scope="module")
def data():
    return english_data(prepare_data().splits)


def test_the_english_side_as_characters(data):
    assert len(data.vocab) == 81 and data.vocab.tokens[3] == " "
    x, y = data.held_out
    assert x.shape == y.shape == (256, 64) and (x[:, 0] == 1).all()
    assert data.vocab.decode(data.train.ids[:6]) == "\nRun.\n"


def test_stored_runs_are_complete_and_match_this_code(data):
    stored = load_comparison(data)
    assert stored["seeds"] == [0, 1, 2, 3, 4] and set(stored["runs"]) == set(VARIANTS)
    for runs in stored["runs"].values():
        for r in runs:
            assert r["losses"].shape == (300,) and r["eval_steps"].tolist() == [50, 100, 150, 200, 250, 300]
            assert r["eval_losses"][-1] < r["eval_losses"][0] < r["losses"][0]


def test_stored_runs_reproduce(data):
    """The stored curves come from this code: the first steps of a retrained run give them."""
    stored = load_comparison(data)["runs"]["multi-query"][1]
    _, run = train_variant(replace(LMSettings(), steps=6), data, kv_heads=1, seed=1)
    np.testing.assert_allclose(run.losses, stored["losses"][:6], rtol=1e-4)


def test_stored_models_are_the_stored_multi_head_runs(data):
    models = load_models(data)
    stored = load_comparison(data)
    assert sorted(models) == stored["seeds"]
    for seed, model in models.items():
        want = stored["runs"]["multi-head"][stored["seeds"].index(seed)]["eval_losses"][-1]
        assert lm_loss(model, *data.held_out) == pytest.approx(want, abs=0.01)  # float16 weights


def test_a_file_from_other_settings_or_data_is_refused(data, tmp_path):
    small = LMSettings(steps=2, eval_every=1, held_out=4, d_model=16, d_ff=16)
    runs = run_comparison(small, english_data(prepare_data().splits, small), seeds=(0,))
    path = tmp_path / "runs.json"
    save_comparison(path, runs, small, data, (0,))
    back = load_comparison(data, small, path)
    assert back["seeds"] == [0] and back["runs"]["multi-head"][0]["eval_steps"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="settings"):
        load_comparison(data, LMSettings(), path)
    record = json.loads(path.read_text())
    record["vocab"] = "0" * 16
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="vocabulary"):
        load_comparison(data, small, path)
    with pytest.raises(FileNotFoundError, match="train_ch6"):
        load_comparison(data, small, tmp_path / "missing.json")
    model, _ = train_variant(small, data, kv_heads=2, seed=0)
    save_models(tmp_path / "m.pt", {0: model}, small, data)
    back = load_models(data, small, tmp_path / "m.pt")[0]
    assert back.config.kv_heads == 2
    for k, v in model.state_dict().items():
        assert torch.equal(back.state_dict()[k], v.half().float()), k
    with pytest.raises(ValueError, match="settings"):
        load_models(data, LMSettings(), tmp_path / "m.pt")
    assert COMPARISON_PATH.name == "ch6_gqa_runs.json"


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="steps"):
        LMSettings(steps=0)
    with pytest.raises(ValueError, match="lr"):
        LMSettings(lr=-1.0)
    with pytest.raises(TypeError, match="Splits"):
        english_data([])
