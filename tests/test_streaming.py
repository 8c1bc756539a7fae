"""Sliding windows and attention sinks: masks, receptive fields, shares of weight."""

import numpy as np
import pytest
import torch

from attnlib.gpt import GPT, GPTConfig
from attnlib.streaming import (
    input_gradients,
    share_of_weight,
    sliding_window_mask,
    uniform_share,
    weight_by_kind,
    window_mask,
)
from attnlib.transformer import causal_mask


def test_window_mask_is_causal_with_the_far_corner_cut():
    m = sliding_window_mask(6, 2)
    assert m.tolist() == [[j in (i - 1, i) and j >= 0 for j in range(6)] for i in range(6)]
    assert torch.equal(sliding_window_mask(6, 6), causal_mask(6))
    assert torch.equal(sliding_window_mask(6, 100), causal_mask(6))
    assert torch.equal(sliding_window_mask(4, 1), torch.eye(4, dtype=torch.bool))
    with_sink = sliding_window_mask(6, 2, sinks=1)  # the first position stays in sight
    assert with_sink[:, 0].all() and torch.equal(with_sink[:, 1:], sliding_window_mask(6, 2)[:, 1:])
    # positions that do not start at 0 (a cache): queries 10, 11 over keys 7 ... 11
    m = window_mask(torch.tensor([10, 11]), torch.arange(7, 12), window=3)
    assert m.tolist() == [[False, True, True, True, False], [False, False, True, True, True]]


@pytest.mark.parametrize("window", [2, 3, 5])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_receptive_field_grows_by_window_minus_one_per_layer(window, layers):
    torch.manual_seed(0)
    stack = GPT(
        GPTConfig(vocab=5, d_model=16, heads=2, d_ff=16, layers=layers, context=24, window=window)
    ).double()

    def blocks(h):
        for block in stack.blocks:
            h, _ = block(h)
        return h

    x = torch.randn(1, 24, 16, dtype=torch.float64)
    g = input_gradients(blocks, x, position=23)
    seen = np.flatnonzero(g > 0)
    assert seen.tolist() == list(range(24 - layers * (window - 1) - 1, 24))


def test_shares_of_weight():
    w = torch.tensor([[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]])  # (1, T, T) causal
    keys = torch.tensor([True, False, True])
    torch.testing.assert_close(share_of_weight(w, keys), torch.tensor([[1.0, 0.5, 0.7]]))
    torch.testing.assert_close(uniform_share(keys), torch.tensor([1.0, 0.5, 2 / 3], dtype=torch.float64))
    with pytest.raises(TypeError, match="bool"):
        share_of_weight(w, keys.float())
    with pytest.raises(TypeError, match="bool"):
        uniform_share(torch.ones(3))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="window"):
        sliding_window_mask(4, 0)
    with pytest.raises(TypeError, match="1-D integer"):
        window_mask(torch.tensor([0.5]), torch.arange(2))
    with pytest.raises(ValueError, match=r"\(1, n, d\)"):
        input_gradients(lambda h: h, torch.randn(2, 3, 4), 1)
    with pytest.raises(ValueError, match="position"):
        input_gradients(lambda h: h, torch.randn(1, 3, 4), 3)


def test_weight_by_kind():
    w = torch.tensor([[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]])[:, None]  # (1, 1, T, T)
    kinds = {"first": torch.tensor([[True, False, False]]), "last": torch.tensor([[False, False, True]])}
    share, ratio = weight_by_kind([w, w], kinds, first_query=1)
    assert share.shape == ratio.shape == (2, 2)
    np.testing.assert_allclose(share[0], [0.35, 0.35])  # (0.5 + 0.2) / 2
    np.testing.assert_allclose(ratio[0], [0.35 / ((1 / 2 + 1 / 3) / 2)] * 2)
    with pytest.raises(ValueError, match="bool tensor"):
        weight_by_kind([w], {"x": torch.ones(1, 3)})
    with pytest.raises(ValueError, match="list of"):
        weight_by_kind([], kinds)
