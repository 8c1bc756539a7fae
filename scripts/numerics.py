"""The book's pinned numerics (``scripts/numerics.env``) for Python scripts.

from numerics import pinned_environment
env = pinned_environment()   # os.environ plus the pinned settings
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent / "numerics.env"


def pinned_settings() -> dict[str, str]:
    """The ``NAME="value"`` settings of numerics.env, in file order."""
    settings = {}
    for line in ENV_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name.strip()] = shlex.split(value)[0] if value.strip() else ""
    return settings


def pinned_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default: ``os.environ``) with the pinned settings applied."""
    env = dict(os.environ if base is None else base)
    env.update(pinned_settings())
    return env


def unpinned_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default: ``os.environ``) with every pinned setting removed."""
    env = dict(os.environ if base is None else base)
    for name in pinned_settings():
        env.pop(name, None)
    return env
