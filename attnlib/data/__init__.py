"""Data for the book: synthetic sequence tasks (chapter 1) and the Chinese–English corpus (chapter 4).

Each submodule lists its public names in ``__all__``; they are re-exported here.
"""
from .synthetic import *  # noqa: F401,F403
from .synthetic import __all__ as _synthetic_all
from .corpus import *  # noqa: F401,F403
from .corpus import __all__ as _corpus_all

__all__ = [*_synthetic_all, *_corpus_all]
