"""attnlib: the library behind *Attention, Step by Step*.

The numpy recipe is importable from the top level; torch counterparts live in
:mod:`attnlib.functional` (imported lazily, so numpy-only use never loads torch).
"""

from .attention import attention
from .scores import SCORES, Additive, General, cosine, dot, get_score, scaled_dot
from .softmax import softmax

__all__ = [
    "SCORES",
    "Additive",
    "General",
    "attention",
    "cosine",
    "dot",
    "get_score",
    "scaled_dot",
    "softmax",
]
__version__ = "0.1.0"
