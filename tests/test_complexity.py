"""attnlib.complexity: the Table 1 measurements, without asserting anything about timings."""

import numpy as np
import pytest
import torch
from torch import nn

from attnlib.complexity import (
    TimingConfig,
    Timings,
    count_flops,
    count_operations,
    fitted_exponent,
    growth_exponent,
    gru_loop,
    layer_costs,
    path_gradients,
    time_sequential_vs_parallel,
    weights_bytes,
)
from attnlib.transformer import MultiHeadAttention


def test_gru_loop_is_the_same_recurrence_as_nn_gru():
    torch.manual_seed(0)
    cell, fused = nn.GRUCell(8, 8), nn.GRU(8, 8, batch_first=True)
    fused.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(3, 7, 8)
    torch.testing.assert_close(gru_loop(cell, x), fused(x)[0])


def test_path_gradients_are_finite_deterministic_and_behave_as_table_1_says():
    lengths = (2, 8, 32, 64)
    a = path_gradients(lengths=lengths, d_model=16, heads=2, seeds=(0, 1))
    b = path_gradients(lengths=lengths, d_model=16, heads=2, seeds=(0, 1))
    assert set(a) == {"gru", "attention", "gru_self", "attention_self"}
    for name in a:
        assert a[name].shape == (len(lengths),) and np.isfinite(a[name]).all() and (a[name] > 0).all()
        np.testing.assert_array_equal(a[name], b[name])  # bit for bit
    assert a["gru"][-1] < 1e-6 * a["gru"][0]  # a random GRU forgets input 1 exponentially
    assert a["attention"][-1] > 1e-3 * a["attention"][0]  # attention only dilutes it (about 1/n)


def test_operator_counts_grow_with_n_for_the_loop_only():
    torch.manual_seed(0)
    cell, mha = nn.GRUCell(8, 8), MultiHeadAttention(8, 2)
    counts = {
        n: (
            count_operations(lambda n=n: gru_loop(cell, torch.randn(1, n, 8))),
            count_operations(lambda n=n: mha(*[torch.zeros(1, n, 8)] * 3)),
        )
        for n in (4, 8, 16)
    }
    loop = [c[0] for c in counts.values()]
    attn = [c[1] for c in counts.values()]
    assert loop[1] - loop[0] == (loop[2] - loop[1]) / 2 > 0  # a fixed number per step
    assert len(set(attn)) == 1


@pytest.mark.parametrize("n, d, heads", [(1, 8, 1), (10, 8, 2), (33, 16, 4)])
def test_flop_counts_match_the_formulas(n, d, heads):
    torch.manual_seed(0)
    cell, mha = nn.GRUCell(d, d), MultiHeadAttention(d, heads)
    x = torch.randn(1, n, d)
    costs = layer_costs(n, d)
    assert count_flops(lambda: gru_loop(cell, x)) == 2 * costs["gru"]
    assert count_flops(lambda: mha(x, x, x)) == 2 * costs["attention"]


def test_layer_costs_cross_at_n_equals_d():
    d = 32
    c = layer_costs(np.arange(1, 200), d)
    assert c["attention"][d - 1] == c["gru"][d - 1]  # n = d
    assert (c["attention"][d:] > c["gru"][d:]).all() and (c["attention"][: d - 1] < c["gru"][: d - 1]).all()
    assert c["attention"].dtype == np.int64


def test_weights_bytes_is_the_size_of_the_weights_tensor():
    mha = MultiHeadAttention(16, 4)
    x = torch.randn(2, 9, 16)
    _, w = mha(x, x, x)
    assert w.nelement() * w.element_size() == weights_bytes(9, heads=4, batch=2)
    assert weights_bytes(1024, heads=8) == 32 * 2**20
    assert weights_bytes(np.array([1, 2]), heads=1, bytes_per_value=8).tolist() == [8, 32]


def test_fitted_exponent_recovers_a_power_law_and_resists_one_outlier():
    n = np.array([16, 32, 64, 128, 256, 512, 1024, 2048], dtype=float)
    assert fitted_exponent(n, 5e-6 * n**2) == pytest.approx(2.0)
    assert fitted_exponent(n, 3e-4 * n) == pytest.approx(1.0)
    spiky = 3e-4 * n
    spiky[0] *= 3  # one timing taken during a burst of load
    assert 0.8 < fitted_exponent(n, spiky) < 1.0
    assert growth_exponent(n[[0, 1]], spiky[[0, 1]])[0] < 0  # the local exponent even turns negative
    with pytest.raises(ValueError, match="positive"):
        fitted_exponent(n, 0 * n)
    with pytest.raises(ValueError, match="same length"):
        fitted_exponent(n, n[:3])


def test_growth_exponent():
    n = np.array([10, 20, 40])
    np.testing.assert_allclose(growth_exponent(n, n**2.0), [2, 2])
    np.testing.assert_allclose(growth_exponent(n, 3.0 * n), [1, 1])
    with pytest.raises(ValueError, match="same length"):
        growth_exponent(n, n[:2])


def test_timing_returns_every_repeat_and_restores_threads():
    threads = torch.get_num_threads()
    t = time_sequential_vs_parallel(TimingConfig(lengths=(2, 4), d_model=8, heads=2, repeats=2, threads=1))
    assert isinstance(t, Timings) and t.lengths.tolist() == [2, 4]
    for name in ("gru_loop", "gru_fused", "attention"):
        assert getattr(t, name).shape == (2, 2) and (getattr(t, name) > 0).all()
        assert t.median(name).shape == (2,)
    np.testing.assert_allclose(t.speedup(), t.median("gru_loop") / t.median("attention"))
    assert torch.get_num_threads() == threads
    with pytest.raises(ValueError, match="name"):
        t.median("lstm")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lengths=()), "lengths"),
        (dict(lengths=(0, 4)), "lengths"),
        (dict(repeats=0), "repeats"),
        (dict(d_model=10, heads=4), "divisible"),
    ],
)
def test_bad_timing_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TimingConfig(**kwargs)
