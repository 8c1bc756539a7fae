"""Characters as a stream: vocabulary, windows, batches; and the n-gram baselines."""

import numpy as np
import pytest
import torch

from attnlib.data.chars import PAD_ID, SEP_ID, UNK_ID, CharStream, CharVocab, visible
from attnlib.ngram import bigram_loss, bigram_probs, unigram_loss, unigram_probs

TEXT = ["I am here.", "You are there.", "Tom is here."]


def test_vocab_orders_by_frequency_and_round_trips():
    vocab = CharVocab.build(TEXT)
    assert vocab.tokens[:3] == ("<pad>", "\n", "<unk>") and vocab.tokens[3:5] == ("e", " ")  # 7 and 6 times
    assert vocab.decode(vocab.encode("Tom is here.")) == "Tom is here."
    assert vocab.encode("Z\n") == [UNK_ID, SEP_ID] and vocab.decode([UNK_ID, PAD_ID, SEP_ID]) == "?\n"
    assert CharVocab.build(TEXT, min_count=3).tokens[3:] == ("e", " ", "r", ".", "h")  # ties: by character


def test_stream_windows_and_batches():
    vocab = CharVocab.build(TEXT)
    stream = CharStream.from_sentences(TEXT, vocab)
    assert vocab.decode(stream.ids) == "\nI am here.\nYou are there.\nTom is here.\n"
    assert stream.starts.tolist() == [0, 11, 26]
    x, y = stream.windows(context=5, count=3)
    assert x.shape == y.shape == (3, 5) and (x[:, 0] == SEP_ID).all()
    assert torch.equal(x[:, 1:], y[:, :-1])
    assert [vocab.decode(r) for r in x] == ["\nI am", "\nYou ", "\nTom "]
    a = next(stream.batches(context=5, batch_size=4, seed=1))
    b = next(stream.batches(context=5, batch_size=4, seed=1))
    assert torch.equal(a[0], b[0]) and a[0].shape == (4, 5) and (a[0][:, 0] == SEP_ID).all()
    assert stream.usable_starts(context=12).tolist() == [0, 11, 26]
    assert stream.usable_starts(context=14).tolist() == [0, 11]


def test_visible_labels():
    assert visible("\na b") == ["\u23ce", "a", "\u2423", "b"]


def test_baselines_count_correctly():
    ids = np.array([1, 3, 4, 3, 4, 3, 4, 1])
    p = unigram_probs(ids, 5, alpha=1e-12)
    np.testing.assert_allclose(p, [0, 2 / 8, 0, 3 / 8, 3 / 8], atol=1e-9)
    P = bigram_probs(ids, 5, alpha=1e-12)
    np.testing.assert_allclose(P[3], [0, 0, 0, 0, 1], atol=1e-9)  # 3 is always followed by 4
    np.testing.assert_allclose(P.sum(1), 1)
    x, y = np.array([[3, 4]]), np.array([[4, 3]])
    # 3 -> 4 always; 4 -> 3 two times out of three
    assert bigram_loss(ids, x, y, 5, alpha=1e-12) == pytest.approx((0.0 - np.log(2 / 3)) / 2)
    assert unigram_loss(ids, y, 5, alpha=1e-12) == pytest.approx(-np.log(3 / 8))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="separator"):
        CharVocab.build(["a\nb"])
    with pytest.raises(TypeError, match="list of strings"):
        CharVocab.build("abc")
    with pytest.raises(ValueError, match="empty"):
        CharVocab.build([])
    with pytest.raises(ValueError, match="start with"):
        CharVocab(("a", "b"))
    vocab = CharVocab.build(TEXT)
    with pytest.raises(ValueError, match="too short"):
        CharStream.from_sentences(["ab"], vocab).windows(context=10, count=1)
    with pytest.raises(TypeError, match="CharVocab"):
        CharStream.from_sentences(TEXT, {"a": 1})
    with pytest.raises(ValueError, match="ids must be ints"):
        vocab.decode([999])
    with pytest.raises(ValueError, match="outside"):
        unigram_loss([0, 1], [7], vocab_size=5)
    with pytest.raises(ValueError, match="same shape"):
        bigram_loss([0, 1], [[1, 1]], [[1]], vocab_size=5)
    with pytest.raises(TypeError, match="integer ids"):
        unigram_loss([0, 1], [0.5], vocab_size=5)
