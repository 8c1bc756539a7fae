"""GRU encoder–decoders: shapes, padding, gradients, decoding, bidirectional, errors."""

import pytest
import torch

from attnlib.data import SequenceTask
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2SeqConfig

V = 11
MODELS = [FixedContextSeq2Seq, AttentionSeq2Seq]
BIDIRECTIONAL = [False, True]


def build(Model, bidirectional=False, seed=0):
    torch.manual_seed(seed)
    config = Seq2SeqConfig(V, V, embed=8, hidden=12, attention_hidden=10, bidirectional=bidirectional)
    return Model(config).eval()


def batch(n=4, seed=0):
    return SequenceTask("reverse", vocab_size=V, min_len=2, max_len=7).sample(n, seed=seed)


def pad_more(x: torch.Tensor, extra: int) -> torch.Tensor:
    return torch.cat([x, torch.zeros(len(x), extra, dtype=x.dtype)], dim=1)


@pytest.mark.parametrize("Model", MODELS)
@pytest.mark.parametrize("bidirectional", BIDIRECTIONAL)
def test_forward_shapes(Model, bidirectional):
    model, b = build(Model, bidirectional), batch()
    logits, weights = model(b.src, b.src_lengths, b.tgt_in)
    B, T_in = b.src.shape
    assert logits.shape == (B, b.tgt_in.shape[1], V)
    if Model is FixedContextSeq2Seq:
        assert weights is None
    else:
        assert weights.shape == (B, b.tgt_in.shape[1], T_in)
        torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))


@pytest.mark.parametrize("Model", MODELS)
@pytest.mark.parametrize("bidirectional", BIDIRECTIONAL)
def test_appending_padding_changes_nothing(Model, bidirectional):
    model, b = build(Model, bidirectional), batch()
    logits, weights = model(b.src, b.src_lengths, b.tgt_in)
    logits2, weights2 = model(pad_more(b.src, 3), b.src_lengths, b.tgt_in)
    torch.testing.assert_close(logits, logits2)
    if weights is not None:
        T_in = b.src.shape[1]
        torch.testing.assert_close(weights, weights2[..., :T_in])
        assert (weights2[..., T_in:] == 0).all()


@pytest.mark.parametrize("Model", MODELS)
@pytest.mark.parametrize("bidirectional", BIDIRECTIONAL)
def test_a_sequence_alone_equals_the_same_sequence_in_a_padded_batch(Model, bidirectional):
    model, b = build(Model, bidirectional), batch()
    logits, _ = model(b.src, b.src_lengths, b.tgt_in)
    i = int(b.src_lengths.argmin())  # the shortest sequence is padded the most in the batch
    n = int(b.src_lengths[i])
    alone, _ = model(b.src[i : i + 1, :n], b.src_lengths[i : i + 1], b.tgt_in[i : i + 1])
    torch.testing.assert_close(logits[i], alone[0])


def test_padded_positions_get_exactly_zero_weight():
    model, b = build(AttentionSeq2Seq), batch(8)
    _, weights = model(b.src, b.src_lengths, b.tgt_in)
    pad = torch.arange(b.src.shape[1]) >= b.src_lengths[:, None]  # (B, T_in)
    assert (weights.masked_select(pad[:, None, :]) == 0).all()


@pytest.mark.parametrize("Model", MODELS)
@pytest.mark.parametrize("bidirectional", BIDIRECTIONAL)
def test_gradients_reach_every_parameter(Model, bidirectional):
    model, b = build(Model, bidirectional).train(), batch(8)
    logits, _ = model(b.src, b.src_lengths, b.tgt_in)
    torch.nn.functional.cross_entropy(logits.flatten(0, 1), b.tgt_out.flatten(), ignore_index=0).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("Model", MODELS)
def test_greedy_decode_agrees_with_teacher_forcing_on_its_own_output(Model):
    model, b = build(Model), batch()
    tokens, weights = model.greedy_decode(b.src, b.src_lengths, max_len=6)
    assert tokens.shape == (len(b.src), 6)
    sos = torch.full((len(b.src), 1), model.config.sos_id)
    logits, forced_weights = model(b.src, b.src_lengths, torch.cat([sos, tokens[:, :-1]], dim=1))
    finished = (tokens == model.config.eos_id).long().cumsum(1) - (tokens == model.config.eos_id).long()
    live = finished == 0  # steps up to and including the first EOS
    assert torch.equal(logits.argmax(-1)[live], tokens[live])
    if Model is AttentionSeq2Seq:
        torch.testing.assert_close(weights[live], forced_weights[live])
        assert (weights[~live] == 0).all()
    assert (tokens[~live] == model.config.pad_id).all()


def test_bidirectional_encoder_concatenates_both_directions():
    model, b = build(AttentionSeq2Seq, bidirectional=True), batch()
    states, final = model.encoder(b.src, b.src_lengths)
    assert states.shape == (*b.src.shape, 24) and final.shape == (len(b.src), 24)
    last = b.src_lengths - 1
    forward_last = states[torch.arange(len(b.src)), last, :12]  # forward GRU at each sequence's end
    torch.testing.assert_close(final[:, :12], forward_last)
    torch.testing.assert_close(final[:, 12:], states[:, 0, 12:])  # backward GRU ends at position 0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(hidden=0), ValueError, "hidden"),
        (dict(hidden=-4), ValueError, "hidden"),
        (dict(embed=8.5), TypeError, "embed"),
        (dict(src_vocab=2), ValueError, "eos_id"),
        (dict(dropout=1.0), ValueError, "dropout"),
        (dict(dropout="0.1"), TypeError, "dropout"),
        (dict(bidirectional=1), TypeError, "bidirectional"),
    ],
)
def test_bad_config_gets_a_clear_error(kwargs, error, match):
    with pytest.raises(error, match=match):
        Seq2SeqConfig(**{"src_vocab": V, "tgt_vocab": V, **kwargs})


def test_config_is_frozen():
    config = Seq2SeqConfig(V, V)
    with pytest.raises(AttributeError):
        config.hidden = 3
    assert Seq2SeqConfig(V, V, bidirectional=True).encoder_size == 2 * config.hidden


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m, b: m(b.src.float(), b.src_lengths, b.tgt_in), TypeError, "src"),
        (lambda m, b: m(b.src, b.src_lengths[:2], b.tgt_in), ValueError, "src_lengths"),
        (lambda m, b: m(b.src, b.src_lengths + 10, b.tgt_in), ValueError, r"\[1, T_in"),
        (lambda m, b: m(b.src, b.src_lengths, b.tgt_in[:2]), ValueError, "tgt_in"),
        (lambda m, b: m.greedy_decode(b.src, b.src_lengths, max_len=0), ValueError, "max_len"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call(build(AttentionSeq2Seq), batch())


def test_models_need_a_config():
    with pytest.raises(TypeError, match="Seq2SeqConfig"):
        FixedContextSeq2Seq({"hidden": 4})
