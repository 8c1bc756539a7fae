"""The shared model interface (attnlib.model) and the source listings (attnlib.show)."""

import pytest
import torch

from attnlib import attention
from attnlib.data import SequenceTask
from attnlib.model import SequenceModel
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2Seq, Seq2SeqConfig
from attnlib.show import Listing, show_source
from attnlib.train import predict
from attnlib.transformer import Transformer, TransformerConfig

TASK = SequenceTask("copy", vocab_size=10, min_len=2, max_len=5)


def models():
    torch.manual_seed(0)
    gru = Seq2SeqConfig(10, 10, embed=8, hidden=12, attention_hidden=8)
    return {
        "fixed": FixedContextSeq2Seq(gru),
        "attention": AttentionSeq2Seq(gru),
        "transformer": Transformer(TransformerConfig(10, 10, d_model=16, heads=2, d_ff=16)),
    }


@pytest.mark.parametrize("name", ["fixed", "attention", "transformer"])
def test_every_model_has_the_interface(name):
    model = models()[name].eval()
    batch = TASK.sample(4, seed=1)
    assert isinstance(model, SequenceModel)
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)
    fast, none = model(batch.src, batch.src_lengths, batch.tgt_in, need_weights=False)
    assert none is None and logits.shape == (4, batch.tgt_in.shape[1], 10)
    torch.testing.assert_close(fast, logits)
    tokens, attn = model.greedy_decode(batch.src, batch.src_lengths, max_len=7)
    assert tokens.shape == (4, 7)
    read = model.read_source(batch.src, batch.src_lengths, attn)
    assert read.states.shape[:2] == batch.src.shape
    if name == "fixed":
        assert read.weights is None and read.contexts.shape[1] == 1
    else:
        assert read.weights.shape == (4, 7, batch.src.shape[1])
        torch.testing.assert_close(read.weights.sum(-1)[tokens != 0], torch.ones(int((tokens != 0).sum())))
        torch.testing.assert_close(read.contexts, read.weights @ read.states)
    pred, _ = predict(model, batch)
    assert pred.shape == batch.tgt_out.shape


@pytest.mark.parametrize("name", ["fixed", "transformer"])
def test_bad_batches_get_the_same_clear_errors(name):
    model = models()[name]
    batch = TASK.sample(2, seed=0)
    with pytest.raises(TypeError, match="src must be an int64"):
        model(batch.src.float(), batch.src_lengths, batch.tgt_in)
    with pytest.raises(ValueError, match="src_lengths must lie in"):
        model(batch.src, batch.src_lengths + 10, batch.tgt_in)
    with pytest.raises(ValueError, match=r"src holds ids outside \[0, 10\)"):
        model(batch.src + 10, batch.src_lengths, batch.tgt_in)
    with pytest.raises(ValueError, match="tgt_in must be an int64"):
        model(batch.src, batch.src_lengths, batch.tgt_in[:1])
    with pytest.raises(TypeError, match="max_len must be an int"):
        model.greedy_decode(batch.src, batch.src_lengths, max_len=2.0)


def test_show_source_gives_the_code_that_runs():
    listing = show_source(attention)
    assert isinstance(listing, Listing) and listing.path == "attnlib/attention.py"
    assert listing.name == "attnlib.attention.attention"
    assert listing.code.startswith("def attention(") and "return context, weights" in listing.code
    md = listing._repr_markdown_()
    assert md.startswith("`attnlib.attention.attention`, from `attnlib/attention.py`:")
    assert f"```python\n{listing.code}\n```" in md
    method = show_source(Seq2Seq.step)  # a method: dedented, from its class's file
    assert (
        method.code.startswith("def step(")
        and "self" in method.code.split(")")[0]
        and method.name == "attnlib.seq2seq.Seq2Seq.step"
    )
    assert repr(method).splitlines()[0] == "# attnlib.seq2seq.Seq2Seq.step, from attnlib/seq2seq.py"


def test_show_source_refuses_what_is_not_attnlib():
    with pytest.raises(TypeError, match="attnlib's own"):
        show_source(torch.softmax)
    with pytest.raises(TypeError, match="attnlib's own"):
        show_source(len)
