"""Rotary position embeddings: the relative-offset property, rotations, the cache's offsets."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attnlib.rope import rope_angles, rotate


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(0, 5000),
    n=st.integers(0, 5000),
    shift=st.integers(0, 5000),
    half=st.integers(1, 16),
    seed=st.integers(0, 2**16),
)
def test_scores_depend_only_on_the_offset(m, n, shift, half, seed):
    gen = torch.Generator().manual_seed(seed)
    q, k = torch.randn(2, 1, 2 * half, generator=gen, dtype=torch.float64)
    a = rotate(q, m) @ rotate(k, n).T
    b = rotate(q, m + shift) @ rotate(k, n + shift).T
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)
    theta = 10000.0 ** (-torch.arange(0, 2 * half, 2, dtype=torch.float64) / (2 * half))
    # q^T R_{n-m} k, with R_{n-m} built from the pair angles directly
    angle = (n - m) * theta
    k_turned = rotate(k, 0).clone()
    even, odd = k[0, 0::2], k[0, 1::2]
    k_turned[0, 0::2] = even * angle.cos() - odd * angle.sin()
    k_turned[0, 1::2] = even * angle.sin() + odd * angle.cos()
    torch.testing.assert_close(a, q @ k_turned.T, rtol=1e-9, atol=1e-9)


def test_rotation_keeps_lengths_and_position_zero_is_the_identity():
    x = torch.randn(3, 10, 8, dtype=torch.float64)
    torch.testing.assert_close(rotate(x).norm(dim=-1), x.norm(dim=-1))
    torch.testing.assert_close(rotate(x[:, :1]), x[:, :1], rtol=0, atol=0)


def test_it_is_multiplication_by_a_complex_phase():
    x = torch.randn(5, 6, dtype=torch.float64)
    z = torch.complex(x[:, 0::2], x[:, 1::2])  # pairs as complex numbers
    phase = torch.polar(torch.ones(5, 3, dtype=torch.float64), rope_angles(torch.arange(7, 12), 6))
    turned = z * phase
    want = torch.stack([turned.real, turned.imag], dim=-1).flatten(-2)
    torch.testing.assert_close(rotate(x, start=7), want)


def test_start_offsets_rows_like_a_cache():
    x = torch.randn(1, 2, 9, 4, dtype=torch.float64)
    torch.testing.assert_close(rotate(x)[..., 5:, :], rotate(x[..., 5:, :], start=5), rtol=0, atol=0)


def test_float32_in_float32_out():
    assert rotate(torch.randn(2, 4)).dtype == torch.float32


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="even"):
        rotate(torch.randn(2, 5))
    with pytest.raises(TypeError, match="floating-point"):
        rotate(torch.ones(2, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="start"):
        rotate(torch.randn(2, 4), start=-1)
    with pytest.raises(TypeError, match="1-D"):
        rope_angles(np.arange(3), 4)
    with pytest.raises(ValueError, match="base"):
        rotate(torch.randn(2, 4), base=0)
