"""attnlib.rnn: the numpy GRU step is torch's GRUCell, equation for equation."""

import numpy as np
import pytest
import torch

from attnlib.rnn import GRUWeights, gru_step, gru_weights, rnn_step, sigmoid


@pytest.mark.parametrize("n_in, hidden", [(1, 1), (5, 3), (32, 64)])
def test_gru_step_is_torchs_gru_cell(n_in, hidden):
    torch.manual_seed(n_in + hidden)
    cell = torch.nn.GRUCell(n_in, hidden).double()
    x, h = torch.randn(n_in, dtype=torch.float64), torch.randn(hidden, dtype=torch.float64)
    want = cell(x[None], h[None])[0].detach().numpy()
    np.testing.assert_allclose(
        gru_step(x.numpy(), h.numpy(), gru_weights(cell)), want, rtol=1e-12, atol=1e-12
    )


def test_a_sequence_of_steps_is_torchs_gru():
    torch.manual_seed(0)
    gru = torch.nn.GRU(4, 6, batch_first=True).double()
    xs = torch.randn(1, 9, 4, dtype=torch.float64)
    states, _ = gru(xs)  # (1, 9, 6)
    weights, h = gru_weights(gru), np.zeros(6)
    for j in range(9):
        h = gru_step(xs[0, j].numpy(), h, weights)
        np.testing.assert_allclose(h, states[0, j].detach().numpy(), atol=1e-12)


def test_update_gate_one_keeps_the_state():
    W, U = np.zeros((3, 2, 3)), np.zeros((3, 2, 2))
    b_in = np.array([[0.0, 0.0], [50.0, 50.0], [0.0, 0.0]])  # z = sigmoid(50) = 1: keep h
    h = np.array([0.3, -0.7])
    np.testing.assert_allclose(gru_step(np.ones(3), h, GRUWeights(W, U, b_in, np.zeros((3, 2)))), h)


def test_rnn_step_and_sigmoid():
    W, U, b = np.eye(2), 2 * np.eye(2), np.array([0.0, 1.0])
    np.testing.assert_allclose(rnn_step([1.0, 0.0], [0.5, 0.5], W, U, b), np.tanh([2.0, 2.0]))
    np.testing.assert_allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_bad_input_gets_a_clear_error():
    weights = gru_weights(torch.nn.GRUCell(3, 2))
    with pytest.raises(ValueError, match="inputs of size 3 and states of size 2"):
        gru_step(np.ones(4), np.zeros(2), weights)
    with pytest.raises(ValueError, match="one vector"):
        gru_step(np.ones((1, 3)), np.zeros(2), weights)
    with pytest.raises(ValueError, match="NaN"):
        gru_step(np.array([1.0, np.nan, 0.0]), np.zeros(2), weights)
    with pytest.raises(TypeError, match="GRUCell"):
        gru_weights(torch.nn.Linear(2, 2))
