"""Chapter 6's experiment: the English character data, and the stored comparison runs."""

import json
from dataclasses import replace

import numpy as np
import pytest

from attnlib.charlm import (
    COMPARISON_PATH,
    VARIANTS,
    LMSettings,
    english_data,
    load_comparison,
    run_comparison,
    save_comparison,
    train_variant,
)
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
    assert COMPARISON_PATH.name == "ch6_gqa_runs.json"


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="steps"):
        LMSettings(steps=0)
    with pytest.raises(ValueError, match="lr"):
        LMSettings(lr=-1.0)
    with pytest.raises(TypeError, match="Splits"):
        english_data([])
