"""Bad input gets a clear error that names the argument and the shapes involved."""

import numpy as np
import pytest
import torch

from attnlib import Additive, General, attention, softmax
from attnlib import functional as F

rng = np.random.default_rng(0)
q, K, V = rng.normal(size=3), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
Qb, Kb, Vb = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 2))
with_nan = q.copy()
with_nan[1] = np.nan
with_inf = K.copy()
with_inf[0, 0] = np.inf

# (id, call, exception type, fragments the message must contain)
CASES = [
    (
        "query/key width mismatch",
        lambda: attention(np.ones(5), K, V),
        ValueError,
        ["query", "width", "5)", "(4, 3)"],
    ),
    (
        "keys/values count mismatch",
        lambda: attention(q, K, V[:3]),
        ValueError,
        ["keys", "values", "(4, 3)", "(3, 2)"],
    ),
    ("keys with 1 dimension", lambda: attention(q, K[0], V), ValueError, ["keys", "(T_k, d)", "(3,)"]),
    ("values with 3 dimensions", lambda: attention(q, K, V[None]), ValueError, ["values", "(1, 4, 2)"]),
    ("scalar query", lambda: attention(np.float64(1.0), K, V), ValueError, ["query", "scalar"]),
    ("empty key sequence", lambda: attention(q, K[:0], V[:0]), ValueError, ["keys", "empty", "(0, 3)"]),
    (
        "query batch with no rows",
        lambda: attention(Qb[:, :0], Kb, Vb),
        ValueError,
        ["query", "no rows", "(2, 0, 3)"],
    ),
    (
        "zero-width values",
        lambda: attention(q, K, V[:, :0]),
        ValueError,
        ["values", "zero features", "(4, 0)"],
    ),
    ("NaN in query", lambda: attention(with_nan, K, V), ValueError, ["query", "NaN", "(3,)"]),
    ("inf in keys", lambda: attention(q, with_inf, V), ValueError, ["keys", "inf", "(4, 3)"]),
    ("string query", lambda: attention(np.array(["a", "b", "c"]), K, V), TypeError, ["query", "dtype"]),
    ("boolean keys", lambda: attention(q, K > 0, V), TypeError, ["keys", "bool"]),
    ("complex values", lambda: attention(q, K, V + 1j), TypeError, ["values", "complex"]),
    ("ragged list query", lambda: attention([[1.0, 2.0], [3.0]], K, V), TypeError, ["query"]),
    (
        "mask of wrong shape",
        lambda: attention(q, K, V, mask=np.ones(3, bool)),
        ValueError,
        ["mask", "(3,)", "(4,)"],
    ),
    (
        "mask of wrong dtype",
        lambda: attention(q, K, V, mask=np.ones(4)),
        TypeError,
        ["mask", "boolean", "float64"],
    ),
    (
        "batch mask of wrong shape",
        lambda: attention(Qb, Kb, Vb, mask=np.ones((2, 4, 5), bool)),
        ValueError,
        ["mask", "(2, 4, 5)", "(2, 5, 4)"],
    ),
    (
        "batch dims do not broadcast",
        lambda: attention(Qb, np.ones((3, 4, 3)), np.ones((3, 4, 2))),
        ValueError,
        ["batch", "(2, 5, 3)", "(3, 4, 3)"],
    ),
    ("temperature zero", lambda: attention(q, K, V, temperature=0), ValueError, ["temperature", "> 0", "0"]),
    (
        "temperature negative",
        lambda: softmax(np.ones(3), temperature=-1.0),
        ValueError,
        ["temperature", "-1.0"],
    ),
    (
        "temperature NaN",
        lambda: softmax(np.ones(3), temperature=float("nan")),
        ValueError,
        ["temperature", "nan"],
    ),
    (
        "temperature not a number",
        lambda: softmax(np.ones(3), temperature="hot"),
        TypeError,
        ["temperature", "str"],
    ),
    (
        "unknown score name",
        lambda: attention(q, K, V, score="manhattan"),
        ValueError,
        ["manhattan", "scaled_dot"],
    ),
    (
        "learned score by name",
        lambda: attention(q, K, V, score="additive"),
        ValueError,
        ["additive", "Additive("],
    ),
    ("score of wrong type", lambda: attention(q, K, V, score=3), TypeError, ["score", "int"]),
    (
        "General with wrong W",
        lambda: attention(q, K, V, score=General(np.eye(2))),
        ValueError,
        ["W", "(2, 2)", "(1, 3)"],
    ),
    (
        "Additive sizes disagree",
        lambda: Additive(np.ones((4, 3)), np.ones((5, 3)), np.ones(4)),
        ValueError,
        ["W_q", "(4, 3)", "(5, 3)"],
    ),
    ("softmax of empty scores", lambda: softmax(np.ones((2, 0))), ValueError, ["scores", "(2, 0)"]),
    ("softmax of NaN scores", lambda: softmax(np.array([1.0, np.nan])), ValueError, ["scores", "NaN"]),
    (
        "numpy array to the torch path",
        lambda: F.attention(q, K, V),
        TypeError,
        ["query", "torch.Tensor", "ndarray"],
    ),
    ("tensor to the numpy path", lambda: attention(torch.ones(3), K, V), TypeError, ["query", "torch"]),
    (
        "integer tensor",
        lambda: F.attention(torch.ones(3, dtype=torch.int64), torch.tensor(K), torch.tensor(V)),
        TypeError,
        ["query", "floating-point", "int64"],
    ),
    (
        "mixed tensor dtypes",
        lambda: F.attention(torch.tensor(q, dtype=torch.float32), torch.tensor(K), torch.tensor(V)),
        TypeError,
        ["dtype", "float32", "float64"],
    ),
    (
        "torch mask of wrong dtype",
        lambda: F.attention(torch.tensor(q), torch.tensor(K), torch.tensor(V), mask=torch.ones(4)),
        TypeError,
        ["mask", "boolean"],
    ),
    (
        "torch NaN keys",
        lambda: F.attention(torch.tensor(q), torch.tensor(with_inf), torch.tensor(V)),
        ValueError,
        ["keys", "inf"],
    ),
]


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(call, exc, fragments):
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_there_are_at_least_fifteen_distinct_cases():
    assert len({c[0] for c in CASES}) >= 15
