"""Chapter 6's exercise checkers: right answers pass, typical mistakes get a hint."""

import numpy as np
import torch

from attnlib.exercises import check
from attnlib.rope import rope_angles, rotate
from attnlib.streaming import sliding_window_mask


def test_cache_bytes():
    assert check("6.1", 2 * 32 * 8 * 128 * 4096 * 2)
    assert "key/value heads" in check("6.1", 2 * 32 * 32 * 128 * 4096 * 2).message
    assert "values" in check("6.1", 32 * 8 * 128 * 4096 * 2).message
    assert "unit" in check("6.1", 512).message


def good_update(m, total, acc, s, v):
    new_m = max(m, s.max())
    scale = np.exp(m - new_m)
    p = np.exp(s - new_m)
    return new_m, total * scale + p.sum(), acc * scale + p @ v


def test_online_update():
    assert check("6.2", good_update)

    def no_rescale(m, total, acc, s, v):
        new_m = max(m, s.max())
        p = np.exp(s - new_m)
        return new_m, total + p.sum(), acc + p @ v

    assert (
        "rescale" in check("6.2", no_rescale).message or "exp(m - m_new)" in check("6.2", no_rescale).message
    )

    def no_shift(m, total, acc, s, v):
        with np.errstate(over="ignore", invalid="ignore"):
            p = np.exp(s)
        return max(m, s.max()), total + p.sum(), acc + p @ v

    assert "overflow" in check("6.2", no_shift).message
    assert "None" in check("6.2", lambda *a: None).message
    assert "raised" in check("6.2", lambda *a: 1 / 0).message


def test_rope():
    assert check("6.3", lambda x, p: rotate(x[None], p)[0])

    def wrong_way(x, p):  # turns each pair by -p θ_i
        a = rope_angles(torch.tensor([p]), len(x))[0]
        even, odd = x[0::2], x[1::2]
        return torch.stack([even * a.cos() + odd * a.sin(), -even * a.sin() + odd * a.cos()], -1).flatten()

    assert "wrong way" in check("6.3", wrong_way).message
    assert not check("6.3", lambda x, p: x)


def test_window_mask():
    assert check("6.4", lambda T, w: sliding_window_mask(T, w))
    assert "transpose" in check("6.4", lambda T, w: sliding_window_mask(T, w).T).message
    too_wide = check("6.4", lambda T, w: sliding_window_mask(T, w + 1))
    assert not too_wide and "one key too many" in too_wide.message
    assert not check("6.4", lambda T, w: torch.ones(T, T, dtype=torch.bool).tril())


def test_receptive_field():
    assert check("6.5", 32 * 4095 + 1)
    assert "overlap" in check("6.5", 32 * 4096).message
    assert "one layer" in check("6.5", 4096).message
