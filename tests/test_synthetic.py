"""Synthetic copy/reverse tasks: correctness, padding, lengths, determinism, errors."""

import pytest
import torch

import attnlib.data as data
from attnlib.data import EOS, FIRST_TOKEN, PAD, SOS, Batch, SequenceTask


def real_tokens(batch: Batch, i: int) -> list[int]:
    return batch.src[i, : batch.src_lengths[i]].tolist()


@pytest.mark.parametrize("name", ["copy", "reverse"])
def test_targets_copy_or_reverse_the_source(name):
    batch = SequenceTask(name, vocab_size=12, min_len=2, max_len=9).sample(50, seed=1)
    for i in range(len(batch)):
        src = real_tokens(batch, i)
        want = src if name == "copy" else src[::-1]
        n = len(src)
        assert batch.tgt_out[i, : n + 1].tolist() == [*want, EOS]
        assert batch.tgt_in[i, : n + 1].tolist() == [SOS, *want]
        assert (batch.tgt_out[i, n + 1 :] == PAD).all() and (batch.tgt_in[i, n + 1 :] == PAD).all()


def test_a_hand_made_reverse_example():
    task = SequenceTask("reverse", vocab_size=10, min_len=3, max_len=3)
    batch = task.sample(1, seed=0)
    a, b, c = batch.src[0].tolist()
    assert batch.tgt_in[0].tolist() == [SOS, c, b, a]
    assert batch.tgt_out[0].tolist() == [c, b, a, EOS]


def test_padding_lengths_and_token_range():
    task = SequenceTask("copy", vocab_size=8, min_len=3, max_len=7)
    batch = task.sample(400, seed=2)
    lengths = batch.src_lengths
    assert lengths.min() >= 3 and lengths.max() <= 7
    assert set(lengths.tolist()) == set(range(3, 8))  # every length turns up in 400 draws
    assert batch.src.shape == (400, lengths.max()) and batch.tgt_out.shape == (400, lengths.max() + 1)
    real = torch.arange(batch.src.shape[1]) < lengths[:, None]
    assert (batch.src[~real] == PAD).all()
    assert (batch.src[real] >= FIRST_TOKEN).all() and (batch.src[real] < 8).all()
    assert all(t.dtype == torch.int64 for t in (batch.src, lengths, batch.tgt_in, batch.tgt_out))


def test_same_seed_same_batches_different_seed_different_batches():
    task = SequenceTask("reverse", vocab_size=20, min_len=1, max_len=12)
    a, b, c = task.sample(16, seed=3), task.sample(16, seed=3), task.sample(16, seed=4)
    assert torch.equal(a.src, b.src) and torch.equal(a.tgt_out, b.tgt_out)
    assert not torch.equal(a.src, c.src)
    s1, s2 = task.batches(8, seed=5), task.batches(8, seed=5)
    for _ in range(3):
        x, y = next(s1), next(s2)
        assert torch.equal(x.src, y.src) and torch.equal(x.src_lengths, y.src_lengths)
    assert not torch.equal(next(task.batches(8, seed=5)).src, next(s1).src)  # the stream moves on


@pytest.mark.parametrize(
    "name, want",
    [
        ("copy", [[0, 1, 2, -1, -1], [0, 1, -1, -1, -1]]),
        ("reverse", [[2, 1, 0, -1, -1], [1, 0, -1, -1, -1]]),
    ],
)
def test_source_positions(name, want):
    task = SequenceTask(name, vocab_size=10, min_len=2, max_len=3)
    assert task.source_positions(torch.tensor([3, 2]), 5).tolist() == want


def test_source_positions_index_the_copied_tokens():
    task = SequenceTask("reverse", vocab_size=30, min_len=1, max_len=10)
    batch = task.sample(30, seed=6)
    pos = task.source_positions(batch.src_lengths, batch.tgt_out.shape[1])
    copied = pos >= 0
    rows = torch.arange(30)[:, None].expand_as(pos)
    assert torch.equal(batch.src[rows[copied], pos[copied]], batch.tgt_out[copied])


def test_public_names_are_reexported():
    for name in data.synthetic.__all__:
        assert getattr(data, name) is getattr(data.synthetic, name)
    assert len({PAD, SOS, EOS}) == 3 and max(PAD, SOS, EOS) < FIRST_TOKEN


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(min_len=5, max_len=4), ValueError, "min_len"),
        (dict(min_len=0), ValueError, "min_len"),
        (dict(vocab_size=3), ValueError, "vocab_size"),
        (dict(name="sort"), ValueError, "copy"),
        (dict(max_len=4.0), TypeError, "max_len"),
    ],
)
def test_bad_task_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        SequenceTask(**kwargs)


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        SequenceTask().sample(0, seed=0)
