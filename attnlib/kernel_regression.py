r"""Attention before deep learning: Nadaraya–Watson kernel regression (1964).

To predict :math:`y` at a point :math:`x`, average the training targets :math:`y_j`,
each weighted by how close its :math:`x_j` lies to :math:`x` (Nadaraya 1964, Watson 1964):

.. math::

    \hat y(x) = \sum_j \alpha_j(x)\, y_j, \qquad
    \alpha_j(x) = \frac{\exp\big(-(x - x_j)^2 / 2w^2\big)}{\sum_{j'} \exp\big(-(x - x_{j'})^2 / 2w^2\big)}

with a Gaussian kernel of width :math:`w`. That is attention, term for term: the query is
:math:`x`, the keys are the :math:`x_j`, the values the :math:`y_j`, the score is
:math:`e_j = -\lVert x - x_j \rVert^2 / 2` (:func:`gaussian_score`) and the softmax
temperature is :math:`\tau = w^2`. The one thing to learn is the width, so
:func:`fit_width` learns the temperature by gradient descent on the leave-one-out error
(each training point predicted from all the others: with itself among the keys, the best
width would shrink to 0 and the fit would just copy the noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import as_float_array, check_finite, check_int, check_positive, is_torch
from .attention import attention


def gaussian_score(q: Any, k: Any) -> Any:
    """Score :math:`e_{ij} = -\\lVert q_i - k_j \\rVert^2 / 2`: 0 for a key on the query, lower further away.

    With this score, softmax at temperature :math:`w^2` is the Gaussian kernel of width ``w``.
    Works on numpy arrays and torch tensors.
    q (..., T_q, d), k (..., T_k, d) -> scores (..., T_q, T_k)
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"gaussian_score needs query and keys of the same width d: query {tuple(q.shape)}, "
            f"keys {tuple(k.shape)}"
        )
    diff = q[..., :, None, :] - k[..., None, :, :]  # (..., T_q, T_k, d)
    return -(diff * diff).sum(-1) / 2  # (..., T_q, T_k)


def _points(name: str, x: Any) -> np.ndarray:
    """A 1-D array of finite numbers, one per point."""
    arr = as_float_array(name, x)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, one number per point; got shape {arr.shape}")
    check_finite(name, arr)
    return arr


def _training_set(x_train: Any, y_train: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _points("x_train", x_train), _points("y_train", y_train)
    if len(x) != len(y):
        raise ValueError(f"x_train and y_train must have one entry per point: {len(x)} and {len(y)}")
    if len(x) < 2:
        raise ValueError("kernel regression needs at least 2 training points")
    return x, y


def nadaraya_watson(
    x_query: Any, x_train: Any, y_train: Any, width: float, leave_one_out: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Predict at ``x_query`` by attention over the training points; return ``(predictions, weights)``.

    x_query (n,), x_train (m,), y_train (m,) -> predictions (n,), weights (n, m); each row of
    weights sums to 1. It is :func:`attnlib.attention` with query ``x``, keys ``x_train``,
    values ``y_train``, :func:`gaussian_score` and temperature ``width ** 2``.
    ``leave_one_out=True`` (``x_query`` must then be ``x_train``) masks each point's own key,
    so each training point is predicted from the others only.
    """
    x, y = _training_set(x_train, y_train)
    q = _points("x_query", x_query)
    tau = check_positive("width", width) ** 2
    mask = None
    if leave_one_out:
        if q.shape != x.shape or not np.array_equal(q, x):
            raise ValueError("leave_one_out=True predicts the training points: pass x_query = x_train")
        mask = ~np.eye(len(x), dtype=bool)  # (m, m) no point sees its own key
    context, weights = attention(
        q[:, None], x[:, None], y[:, None], mask=mask, score=gaussian_score, temperature=tau
    )  # queries, keys as (·, 1) points; context (n, 1), weights (n, m)
    return context[:, 0], weights


def loo_error(x_train: Any, y_train: Any, width: float) -> float:
    """Leave-one-out mean squared error of :func:`nadaraya_watson` at ``width``."""
    x, y = _training_set(x_train, y_train)
    pred, _ = nadaraya_watson(x, x, y, width, leave_one_out=True)
    return float(np.mean((pred - y) ** 2))


@dataclass(frozen=True)
class WidthFit:
    """The result of :func:`fit_width`."""

    width: float  # the fitted kernel width w (temperature w ** 2)
    widths: np.ndarray  # (steps + 1,) the width before each step, and the final one
    losses: np.ndarray  # (steps + 1,) the leave-one-out error at each of those widths


def fit_width(x_train: Any, y_train: Any, width: float = 1.0, steps: int = 100, lr: float = 0.2) -> WidthFit:
    """Learn the kernel width by gradient descent on the leave-one-out squared error.

    The parameter is :math:`\\log \\tau = 2 \\log w`, so the temperature stays positive. Each
    step computes the same masked softmax as :func:`nadaraya_watson`, in torch (float64), lets
    autograd find the gradient of the error, and takes an Adam step (Kingma & Ba 2015: a step of
    about ``lr`` in the direction of the gradient's running average). ``width`` is where it starts.
    """
    import torch

    from . import functional as F

    x, y = _training_set(x_train, y_train)
    check_positive("width", width)
    check_int("steps", steps, 1)
    check_positive("lr", lr)
    xt, yt = torch.from_numpy(x)[:, None], torch.from_numpy(y)  # (m, 1), (m,)
    scores = gaussian_score(xt, xt)  # (m, m), fixed: only the temperature learns
    keep = ~torch.eye(len(x), dtype=torch.bool)  # (m, m) leave one out
    log_tau = torch.tensor(2 * np.log(width), dtype=torch.float64, requires_grad=True)

    def loo_loss() -> torch.Tensor:
        weights = F.softmax(scores / log_tau.exp(), mask=keep)  # (m, m) at temperature τ = e^{log τ}
        return ((weights @ yt - yt) ** 2).mean()  # mean squared error, each point from the others

    widths, losses = [], []
    mean = square = 0.0  # Adam's running averages of the gradient and of its square
    for step in range(1, steps + 1):
        loss = loo_loss()
        widths.append(float((log_tau.detach() / 2).exp()))
        losses.append(float(loss.detach()))
        (grad,) = torch.autograd.grad(loss, log_tau)
        g = float(grad)
        mean, square = 0.9 * mean + 0.1 * g, 0.999 * square + 0.001 * g * g
        update = lr * (mean / (1 - 0.9**step)) / (np.sqrt(square / (1 - 0.999**step)) + 1e-8)
        with torch.no_grad():
            log_tau -= update
    with torch.no_grad():
        widths.append(float((log_tau / 2).exp()))
        losses.append(float(loo_loss()))
    return WidthFit(widths[-1], np.array(widths), np.array(losses))


def sample_curve(
    n: int, noise: float, seed: int, low: float = 0.0, high: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy samples of :func:`curve` at sorted uniform ``x`` in ``[low, high]``: ``(x, y)``."""
    check_int("n", n, 2)
    noise = float(noise)
    if not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(low, high, size=n))  # (n,)
    return x, curve(x) + noise * rng.normal(size=n)  # (n,), (n,)


def curve(x: Any) -> Any:
    """The chapter's hidden function, :math:`f(x) = \\sin 2x + x / 2`."""
    if is_torch(x):
        return (2 * x).sin() + x / 2
    return np.sin(2 * np.asarray(x, dtype=float)) + np.asarray(x, dtype=float) / 2


__all__ = ["WidthFit", "curve", "fit_width", "gaussian_score", "loo_error", "nadaraya_watson", "sample_curve"]
