"""Interactive widgets of the book (anywidget, with a static-HTML fallback).

Each widget is one Python file and one JS module in this folder; the shared
machinery is in ``attnlib/widgets/_base.py`` and ``_common.js``.
"""

from ._base import BookWidget
from .alignment_explorer import AlignmentExplorer
from .bottleneck_explorer import BottleneckExplorer
from .focus_explorer import FocusExplorer
from .online_softmax_stepper import OnlineSoftmaxStepper
from .query_explorer import QueryExplorer
from .self_attention_explorer import SelfAttentionExplorer

__all__ = [
    "AlignmentExplorer",
    "BookWidget",
    "BottleneckExplorer",
    "FocusExplorer",
    "OnlineSoftmaxStepper",
    "QueryExplorer",
    "SelfAttentionExplorer",
]
