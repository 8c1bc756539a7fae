"""Training loop (determinism, budgets, quiet output) and metrics on hand-made examples."""

import math
import os
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from attnlib.data import EOS, PAD, SequenceTask
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2SeqConfig
from attnlib.train import (
    TrainConfig,
    Validation,
    accuracy_by_length,
    accuracy_by_position,
    exact_match,
    predict,
    progress_bar,
    seed_everything,
    token_accuracy,
    torch_threads,
    train,
)

TASK = SequenceTask("reverse", vocab_size=8, min_len=2, max_len=4)
CONFIG = Seq2SeqConfig(8, 8, embed=8, hidden=16, attention_hidden=8, dropout=0.1)


def run(Model=AttentionSeq2Seq, seed=0, steps=5, validation=None, **kwargs):
    seed_everything(seed)
    model = Model(CONFIG)
    result = train(
        model,
        TASK.batches(16, seed=seed),
        TrainConfig(steps=steps, seed=seed, **kwargs),
        progress=False,
        validation=validation,
    )
    return model, result


@pytest.mark.parametrize("Model", [FixedContextSeq2Seq, AttentionSeq2Seq])
def test_same_seed_gives_the_same_loss_curve(Model):
    _, a = run(Model, seed=1)
    _, b = run(Model, seed=1)
    _, c = run(Model, seed=2)
    assert a.steps == b.steps == 5 and a.losses.shape == (5,)
    np.testing.assert_array_equal(a.losses, b.losses)  # bit for bit, dropout included
    assert not np.array_equal(a.losses, c.losses)
    assert a.seconds > 0


def test_training_lowers_the_loss_and_leaves_the_model_in_eval_mode():
    model, result = run(steps=60, lr=1e-2)
    assert result.losses[-5:].mean() < 0.8 * result.losses[:5].mean()
    assert not model.training


def test_time_budget_stops_early():
    _, result = run(steps=10_000, time_budget=0.2)
    assert 1 <= result.steps < 10_000 and len(result.losses) == result.steps


def test_no_output_when_progress_is_off_or_tqdm_is_disabled(capsys, monkeypatch):
    run(steps=3)
    assert capsys.readouterr() == ("", "")
    assert progress_bar(3, True).disable is False and progress_bar(3, False).disable is True
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # "a notebook"
    assert progress_bar(3, None).disable is False
    # TQDM_DISABLE is tqdm's own switch, read when tqdm is imported: try it in a fresh process
    code = (
        "import sys, types; sys.modules['ipykernel'] = types.ModuleType('ipykernel'); "
        "from attnlib.train import progress_bar; print(progress_bar(3, None).disable)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
    ).stdout
    assert out.split() == ["True"]


def test_train_restores_the_thread_count():
    before = torch.get_num_threads()
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before
    run(steps=2)  # TrainConfig.threads = 1 while it trains
    assert torch.get_num_threads() == before


def test_train_refuses_what_is_not_a_sequence_model():
    with pytest.raises(TypeError, match="SequenceModel"):
        train(torch.nn.Linear(2, 2), TASK.batches(4, seed=0), TrainConfig(steps=1))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(steps=0), ValueError, "steps"),
        (dict(steps=2.5), TypeError, "steps"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(clip=-1.0), ValueError, "clip"),
        (dict(threads=0), ValueError, "threads"),
        (dict(time_budget=0), ValueError, "time_budget"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(lr="fast"), TypeError, "lr"),
    ],
)
def test_bad_train_config(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrainConfig(**kwargs)


def test_predict_returns_tokens_of_the_target_width():
    model, _ = run(steps=2)
    batch = TASK.sample(5, seed=9)
    for teacher_forcing in (False, True):
        tokens, weights = predict(model, batch, teacher_forcing=teacher_forcing)
        assert tokens.shape == batch.tgt_out.shape
        assert weights.shape == (*batch.tgt_out.shape, batch.src.shape[1])


# Hand-made predictions. Targets (PAD = 0, EOS = 2):
#   row 0: 5 6 7 EOS      source length 3
#   row 1: 4 3 EOS PAD    source length 2
TARGET = torch.tensor([[5, 6, 7, EOS], [4, 3, EOS, PAD]])
PRED = torch.tensor([[5, 9, 7, EOS], [4, 3, EOS, 8]])  # one mistake in row 0; row 1's PAD is ignored
LENGTHS = torch.tensor([3, 2])


def test_token_accuracy_and_exact_match():
    assert token_accuracy(PRED, TARGET) == pytest.approx(6 / 7)
    assert exact_match(PRED, TARGET) == pytest.approx(1 / 2)
    assert token_accuracy(TARGET, TARGET) == 1.0 and exact_match(TARGET, TARGET) == 1.0


def test_accuracy_by_position():
    np.testing.assert_allclose(accuracy_by_position(PRED, TARGET), [1.0, 0.5, 1.0, 1.0])
    source_pos = torch.tensor([[2, 1, 0, -1], [1, 0, -1, -1]])  # reverse task; EOS left out
    np.testing.assert_allclose(accuracy_by_position(PRED, TARGET, positions=source_pos), [1.0, 0.5, 1.0])


def test_accuracy_by_length():
    acc = accuracy_by_length(PRED, TARGET, LENGTHS)
    assert acc.shape == (4,) and np.isnan(acc[:2]).all()
    np.testing.assert_allclose(acc[2:], [1.0, 3 / 4])


def test_metrics_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        token_accuracy(PRED[:, :3], TARGET)
    assert math.isnan(accuracy_by_position(PRED, TARGET, positions=torch.full((2, 4), 5))[0])


class ScriptedValidation:
    """A validation 'loss' that returns given values and remembers the weights it saw."""

    def __init__(self, values):
        self.values, self.seen = list(values), []

    def __call__(self, model):
        self.seen.append({k: v.clone() for k, v in model.state_dict().items()})
        torch.rand(3)  # a careless check that draws random numbers must not change training
        model.eval()  # nor one that leaves the model in eval mode (dropout off)
        return self.values[len(self.seen) - 1]


def test_validation_checks_leave_the_training_run_unchanged():
    _, plain = run(steps=7)
    check = ScriptedValidation([3.0, 2.0, 2.5, 4.0])
    model, result = run(steps=7, validation=Validation(check, every=2, keep_best=False))
    np.testing.assert_array_equal(result.losses, plain.losses)  # bit for bit
    assert result.val_steps.tolist() == [2, 4, 6, 7]  # every 2 steps, and the last one
    assert result.val_losses.tolist() == [3.0, 2.0, 2.5, 4.0]
    assert result.kept_step == 7 and not model.training
    for k, v in model.state_dict().items():  # without keep_best: the last step's weights
        assert torch.equal(v, check.seen[-1][k]), k


def test_keep_best_ends_with_the_best_checks_weights():
    check = ScriptedValidation([3.0, 1.5, 2.5, 1.5, 4.0])
    model, result = run(steps=10, validation=Validation(check, every=2))
    assert result.kept_step == 4  # the lowest loss; the earliest of the two 1.5s
    for k, v in model.state_dict().items():
        assert torch.equal(v, check.seen[1][k]), k
    assert not torch.equal(check.seen[1]["out.weight"], check.seen[-1]["out.weight"])


def test_without_validation_the_result_has_no_checks():
    _, result = run(steps=3)
    assert result.val_steps.shape == result.val_losses.shape == (0,) and result.kept_step == 3


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(loss=3.0), TypeError, "loss"),
        (dict(every=0), ValueError, "every"),
        (dict(every=1.5), TypeError, "every"),
        (dict(keep_best=1), TypeError, "keep_best"),
    ],
)
def test_bad_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        Validation(**{"loss": len, **kwargs})


def test_train_rejects_a_bad_validation():
    with pytest.raises(TypeError, match="validation"):
        run(steps=2, validation=len)
