"""Interactive widgets of the book (anywidget, with a static-HTML fallback).

Each widget is one Python file and one JS module in this folder; the shared
machinery is in :mod:`attnlib.widgets._base` and ``_common.js``.
"""
from ._base import BookWidget
from .query_explorer import QueryExplorer

__all__ = ["BookWidget", "QueryExplorer"]
