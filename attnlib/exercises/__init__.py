"""Checkers for the book's exercises.

Each chapter's checkers live in their own module (``ch3.py``, ...) and register
themselves with :func:`checker`. A reader calls :func:`check`:

>>> from attnlib.exercises import check
>>> check("3.1", None)
Exercise 3.1: no answer yet. Replace None with your answer and run the cell again.

A checker returns a :class:`Feedback`; its text says what is right or, when the
answer is wrong, what to look at. Checkers never raise on a wrong answer: an
exception inside the reader's function is reported as feedback too.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_CHECKERS: dict[str, Callable[[Any], Feedback]] = {}


@dataclass(frozen=True)
class Feedback:
    """The outcome of a check: ``passed`` and a message for the reader."""

    exercise: str
    passed: bool
    message: str

    def __repr__(self) -> str:
        mark = "✓" if self.passed else "✗"
        return f"{mark} Exercise {self.exercise}: {self.message}"

    def __bool__(self) -> bool:
        return self.passed


@dataclass(frozen=True)
class _NoAnswer:
    exercise: str

    def __repr__(self) -> str:
        return (
            f"Exercise {self.exercise}: no answer yet. Replace None with your answer and run the cell again."
        )

    def __bool__(self) -> bool:
        return False


def checker(exercise: str) -> Callable:
    """Register ``fn(answer) -> (passed, message)`` as the checker of ``exercise``."""

    def register(fn: Callable[[Any], tuple[bool, str]]) -> Callable:
        def run(answer: Any) -> Feedback:
            try:
                passed, message = fn(answer)
            except Exception as err:  # the reader's code failed: say how, don't crash
                passed, message = False, f"your answer raised {type(err).__name__}: {err}"
            return Feedback(exercise, passed, message)

        _CHECKERS[exercise] = run
        return fn

    return register


def check(exercise: str, answer: Any) -> Feedback | _NoAnswer:
    """Check ``answer`` for ``exercise`` (e.g. ``"3.2"``) and return feedback."""
    for module in pkgutil.iter_modules(__path__):  # every chNN.py registers its checkers
        importlib.import_module(f"{__name__}.{module.name}")
    if exercise not in _CHECKERS:
        raise ValueError(f"unknown exercise {exercise!r}; known: {sorted(_CHECKERS)}")
    if answer is None:
        return _NoAnswer(exercise)
    return _CHECKERS[exercise](answer)


__all__ = ["Feedback", "check", "checker"]
