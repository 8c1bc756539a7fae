r"""One step of a recurrent network, in numpy: the plain RNN and the GRU (chapter 1's primer).

A recurrent network reads a sequence one vector at a time and keeps a **state** $h$, a
vector of fixed size, that it updates after each input with the same weights:
$h_j = f(x_j, h_{j-1})$, starting from $h_0 = 0$. Its last state has read the whole
sequence. The plain RNN's update is one layer, $h_j = \tanh(W x_j + U h_{j-1} + b)$.

The GRU (gated recurrent unit, Cho et al. 2014) adds two **gates**, vectors of numbers
between 0 and 1 computed from $x_j$ and $h_{j-1}$:

.. math::

    r &= \sigma(W_r x + b_{ir} + U_r h + b_{hr})            && \text{reset gate} \\
    z &= \sigma(W_z x + b_{iz} + U_z h + b_{hz})            && \text{update gate} \\
    n &= \tanh\big(W_n x + b_{in} + r \odot (U_n h + b_{hn})\big)  && \text{candidate state} \\
    h' &= (1 - z) \odot n + z \odot h                          && \text{new state}

Where $z \approx 1$ the unit keeps its old value, so information can survive many steps;
where $z \approx 0$ it is overwritten by the candidate. The equations and the weight layout
are PyTorch's ``nn.GRUCell``: :func:`gru_weights` reads a cell's weights, and the tests
check that :func:`gru_step` gives the cell's numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import as_float_array, check_finite

__all__ = ["GRUWeights", "gru_step", "gru_weights", "rnn_step", "sigmoid"]


class GRUWeights(NamedTuple):
    """A GRU's weights, one block per gate in the order reset, update, candidate."""

    W: np.ndarray  # (3, hidden, input) input weights W_r, W_z, W_n
    U: np.ndarray  # (3, hidden, hidden) state weights U_r, U_z, U_n
    b_in: np.ndarray  # (3, hidden) input biases b_ir, b_iz, b_in
    b_h: np.ndarray  # (3, hidden) state biases b_hr, b_hz, b_hn


def _vector(name: str, x: object) -> np.ndarray:
    """``x`` as a finite 1-D float array, or a clear error naming ``name``."""
    arr = as_float_array(name, x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one vector (1-D), got shape {arr.shape}")
    check_finite(name, arr)
    return arr


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^{-x}), elementwise: any real number -> (0, 1)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # the same function, with no overflow for large |x|


def rnn_step(x: np.ndarray, h: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The plain RNN: h' = tanh(W x + U h + b); x (input,), h (hidden,) -> h' (hidden,)."""
    x, h = _vector("x", x), _vector("h", h)
    return np.tanh(W @ x + U @ h + b)


def gru_step(x: np.ndarray, h: np.ndarray, weights: GRUWeights) -> np.ndarray:
    """One GRU step (the module's equations): x (input,), h (hidden,) -> h' (hidden,)."""
    x, h = _vector("x", x), _vector("h", h)
    W, U, b_in, b_h = weights
    if W.shape[2] != len(x) or U.shape[1] != len(h):
        raise ValueError(
            f"the weights take inputs of size {W.shape[2]} and states of size {U.shape[1]}; "
            f"got x {x.shape} and h {h.shape}"
        )
    gx = W @ x + b_in  # (3, hidden): the input's part of each gate
    gh = U @ h + b_h  # (3, hidden): the state's part
    r = sigmoid(gx[0] + gh[0])  # reset gate: how much of the old state the candidate sees
    z = sigmoid(gx[1] + gh[1])  # update gate: how much of the old state is kept
    n = np.tanh(gx[2] + r * gh[2])  # candidate state
    return (1.0 - z) * n + z * h


def gru_weights(cell: object) -> GRUWeights:
    """The weights of a ``torch.nn.GRUCell`` (or a one-layer, one-way ``nn.GRU``) as numpy blocks."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    suffix = "" if hasattr(cell, "weight_ih") else "_l0"
    try:
        W, U, b_in, b_h = (getattr(cell, name + suffix).detach().double().numpy() for name in names)
    except AttributeError:
        raise TypeError(
            f"cell must be a torch GRUCell or a one-layer GRU, got {type(cell).__name__}"
        ) from None
    hidden = U.shape[1]
    return GRUWeights(
        W.reshape(3, hidden, -1),  # (3 * hidden, input) -> (3, hidden, input)
        U.reshape(3, hidden, hidden),  # (3 * hidden, hidden) -> (3, hidden, hidden)
        b_in.reshape(3, hidden),
        b_h.reshape(3, hidden),
    )
