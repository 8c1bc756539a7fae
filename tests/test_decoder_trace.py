"""trace_decoder: chapter 4's trained translator, one step at a time, redone by hand."""

import numpy as np
import pytest

from attnlib import attention, softmax
from attnlib.decoder_trace import trace_decoder
from attnlib.scores import Additive
from attnlib.translate import WEIGHTS_DIR, load_model, prepare_data, translate


@pytest.fixture(scope="module")
def trained():
    data = prepare_data()
    model, _ = load_model(WEIGHTS_DIR / "ch4_attention.pt", data)
    return model, data


def test_the_trace_is_the_translation_and_the_recipe_by_hand_gives_the_models_numbers(trained):
    model, data = trained
    trace = trace_decoder(model, "我昨天住在他家。", data)
    read = translate(model, "我昨天住在他家。", data)
    assert trace.output == read.output and trace.source == read.source
    T_out, T_in = len(trace.output), len(trace.source)
    assert trace.queries.shape == (T_out, model.config.hidden)
    assert trace.states.shape == (T_in, model.config.encoder_size)
    score = Additive.from_module(model.attention)
    for t in range(T_out):
        e = score(trace.queries[t][None, :], trace.states)[0]  # 1. (T_in,)
        np.testing.assert_allclose(e, trace.scores[t], atol=2e-5)
        alpha = softmax(e)  # 2.
        np.testing.assert_allclose(alpha, trace.weights[t], atol=1e-6)
        np.testing.assert_allclose(alpha @ trace.states, trace.contexts[t], atol=1e-6)  # 3.
        c, a = attention(trace.queries[t], trace.states, trace.states, score=score)
        np.testing.assert_allclose(a, alpha)
        np.testing.assert_allclose(c, alpha @ trace.states)


def test_only_an_attention_model_has_queries_to_trace(trained):
    _, data = trained
    fixed, _ = load_model(WEIGHTS_DIR / "ch4_fixed.pt", data)
    with pytest.raises(TypeError, match="AttentionSeq2Seq"):
        trace_decoder(fixed, "我很好。", data)


def test_from_module_refuses_what_is_not_additive_attention():
    with pytest.raises(TypeError, match="AdditiveAttention"):
        Additive.from_module(object())
