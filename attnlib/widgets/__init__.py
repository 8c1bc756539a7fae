"""Interactive widgets of the book (anywidget, with a static-HTML fallback).

Each widget is one Python file and one JS module in this folder; the shared
machinery is in ``attnlib/widgets/_base.py`` and ``_common.js``.
"""
from ._base import BookWidget
from .query_explorer import QueryExplorer
from .focus_explorer import FocusExplorer
from .bottleneck_explorer import BottleneckExplorer
from .alignment_explorer import AlignmentExplorer
from .self_attention_explorer import SelfAttentionExplorer
from .online_softmax_stepper import OnlineSoftmaxStepper

__all__ = ["BookWidget", "QueryExplorer", "FocusExplorer", "BottleneckExplorer", "AlignmentExplorer", "SelfAttentionExplorer",
           "OnlineSoftmaxStepper"]
