"""The book's pinned numerics: one instruction-set level for every CPU library.

CPU libraries choose their kernels by instruction set when they load (torch's own, Intel
MKL, oneDNN, numpy's vectorised functions, OpenBLAS), so the same training run ends in
another second or third decimal on another CPU. The settings in ``numerics.env`` (beside
this module) pin all of them to the AVX2 level and one thread, so a notebook prints the
same digits on any x86-64 machine of the last decade. They take effect only when a process
*starts* with them in its environment::

    env = pinned_environment()               # os.environ plus the pinned settings
    subprocess.run([...], env=env)           # e.g. a Jupyter kernel

The tests and ``scripts/execute_notebooks.py`` use them (``scripts/_numerics.sh`` exports
them for shell scripts); readers need not: the book's claims are checked to hold without
them (``scripts/check_claims.py``).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

__all__ = ["NUMERICS_FILE", "pinned_environment", "pinned_settings", "unpinned_environment"]

NUMERICS_FILE = Path(__file__).resolve().parent / "numerics.env"


def pinned_settings() -> dict[str, str]:
    """The ``NAME="value"`` settings of ``numerics.env``, in file order."""
    settings = {}
    for line in NUMERICS_FILE.read_text(encoding="utf-8").splitlines():
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
    """A copy of ``base`` (default: ``os.environ``) without any of the pinned settings."""
    env = dict(os.environ if base is None else base)
    for name in pinned_settings():
        env.pop(name, None)
    return env
