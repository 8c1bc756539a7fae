"""Where the files the library ships live: the corpus, the CJK font, the trained weights.

The repository keeps them in its top-level ``data/`` folder; a wheel (``pip install .``)
carries the same folder inside the package, as ``attnlib/_data`` (``pyproject.toml`` maps
one onto the other). :func:`data_path` finds a file in either place, so the library works
from a source checkout, an editable install and an installed wheel alike::

    data_path("cmn-eng", "cmn.txt")      # the Chinese–English sentence pairs
    data_path("fonts")                   # the folder of the book's font subset

Set ``ATTNLIB_DATA`` to a folder with the same layout to read the files from there instead.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

__all__ = ["data_dir", "data_path"]


def data_dir() -> Path:
    """The folder holding ``cmn-eng/``, ``fonts/`` and ``weights/``.

    In order: ``$ATTNLIB_DATA``; the package's own ``attnlib/_data`` (an installed wheel, or
    an editable install that maps it); the source tree's ``data/`` beside the package.
    """
    override = os.environ.get("ATTNLIB_DATA")
    if override:
        path = Path(override)
        if not path.is_dir():
            raise FileNotFoundError(f"ATTNLIB_DATA={override!r} is not a folder")
        return path
    spec = importlib.util.find_spec("attnlib._data")  # a data-only (namespace) package
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "cmn-eng").is_dir():
            return Path(folder)
    return Path(__file__).resolve().parent.parent / "data"


def data_path(*parts: str) -> Path:
    """A file or folder under :func:`data_dir`, e.g. ``data_path("weights", "ch4_attention.pt")``."""
    return data_dir().joinpath(*parts)
