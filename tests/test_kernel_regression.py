"""Nadaraya–Watson kernel regression is attention: the same numbers, and a width that learns."""

import numpy as np
import pytest
import torch

from attnlib import attention
from attnlib.kernel_regression import (
    curve,
    fit_width,
    gaussian_score,
    loo_error,
    nadaraya_watson,
    sample_curve,
)


def test_the_weights_are_gaussian_kernels_normalised():
    x, y = np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 5.0])
    pred, w = nadaraya_watson([0.5, 2.0], x, y, width=0.7)
    k = np.exp(-((np.array([[0.5], [2.0]]) - x) ** 2) / (2 * 0.7**2))  # (2, 3) the kernel itself
    np.testing.assert_allclose(w, k / k.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(pred, w @ y)


def test_it_is_attention_with_the_gaussian_score_at_temperature_width_squared():
    rng = np.random.default_rng(0)
    x, y, q = rng.normal(size=9), rng.normal(size=9), rng.normal(size=4)
    pred, w = nadaraya_watson(q, x, y, width=0.4)
    c, a = attention(q[:, None], x[:, None], y[:, None], score=gaussian_score, temperature=0.16)
    np.testing.assert_allclose(w, a)
    np.testing.assert_allclose(pred, c[:, 0])


def test_gaussian_score_agrees_on_numpy_and_torch_and_in_several_dimensions():
    rng = np.random.default_rng(1)
    q, k = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    want = -0.5 * ((q[:, :, None, :] - k[:, None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(gaussian_score(q, k), want)
    np.testing.assert_allclose(gaussian_score(torch.from_numpy(q), torch.from_numpy(k)).numpy(), want)
    with pytest.raises(ValueError, match="same width"):
        gaussian_score(q, k[..., :3])


def test_leave_one_out_masks_each_points_own_key():
    x, y = sample_curve(12, 0.3, seed=0)
    _, w = nadaraya_watson(x, x, y, width=0.5, leave_one_out=True)
    assert np.all(np.diag(w) == 0) and np.allclose(w.sum(axis=1), 1)
    with pytest.raises(ValueError, match="x_query = x_train"):
        nadaraya_watson(x[:3], x, y, width=0.5, leave_one_out=True)


def test_fit_width_follows_the_gradient_to_the_bottom_of_the_leave_one_out_curve():
    x, y = sample_curve(60, 0.3, seed=0)
    fit = fit_width(x, y, width=1.0)
    grid = np.logspace(-2, 1, 301)
    best = min(loo_error(x, y, w) for w in grid)
    assert loo_error(x, y, fit.width) <= 1.005 * best
    assert fit.losses[-1] < fit.losses[0] and len(fit.widths) == len(fit.losses) == 101
    assert np.isclose(fit.losses[-1], loo_error(x, y, fit.width))


def test_sample_curve_is_seeded_and_noise_scales_the_same_draws():
    (x1, y1), (x2, y2) = sample_curve(20, 0.2, seed=5), sample_curve(20, 0.8, seed=5)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_allclose(y2 - curve(x2), 4 * (y1 - curve(x1)))
    assert np.all(np.diff(x1) >= 0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nadaraya_watson([0.0], [0.0, 1.0], [1.0], 1.0), "one entry per point"),
        (lambda: nadaraya_watson([0.0], [0.0, 1.0], [1.0, 2.0], 0.0), "width"),
        (lambda: nadaraya_watson([[0.0]], [0.0, 1.0], [1.0, 2.0], 1.0), "1-D"),
        (lambda: nadaraya_watson([0.0], [0.0], [1.0], 1.0), "at least 2"),
        (lambda: loo_error([0.0, np.nan], [1.0, 2.0], 1.0), "NaN"),
        (lambda: fit_width([0.0, 1.0], [1.0, 2.0], steps=0), "steps"),
        (lambda: sample_curve(10, -1.0, seed=0), "noise"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
