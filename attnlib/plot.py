"""Figures the chapters share: the book's style, weight bars and attention heatmaps.

:func:`use_book_style` registers the book's CJK font (a subset of Noto Sans CJK SC shipped
with the library) with matplotlib and sets the book's figure defaults, so Chinese tokens
render the same on every machine, with nothing to download. Each chapter calls it once;
:func:`book_style` applies it to a ``with`` block only. Importing this module changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

from .resources import data_path

FONT_FILE = data_path("fonts", "NotoSansSC-attnlib.otf")
FONT_NAME = "Noto Sans CJK SC"
BLUE, RED, PURPLE, GREEN, GREY = "#0b63c5", "#b3261e", "#6f42c1", "#1a7f37", "#57606a"


def book_rc() -> dict:
    """The book's matplotlib settings (registers the CJK font they name)."""
    if not FONT_FILE.exists():
        raise FileNotFoundError(
            f"the book's CJK font is missing: {FONT_FILE} (run scripts/make_font_subset.py to rebuild it)"
        )
    font_manager.fontManager.addfont(str(FONT_FILE))
    return {
        "font.family": ["DejaVu Sans", FONT_NAME],  # Latin from DejaVu, CJK falls back to Noto
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "figure.figsize": (6.4, 3.6),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "axes.prop_cycle": mpl.cycler(color=[BLUE, RED, GREEN, PURPLE, GREY]),
    }


def use_book_style() -> None:
    """Register the CJK font and set the book's figure defaults for this session."""
    mpl.rcParams.update(book_rc())


@contextmanager
def book_style() -> Iterator[None]:
    """The book's figure style for the ``with`` block only; the previous settings come back."""
    with mpl.rc_context(book_rc()):
        yield


def weight_bars(
    ax: plt.Axes, labels: Sequence[str], weights: np.ndarray, title: str = "", color: str = BLUE
) -> plt.Axes:
    """One bar per key, its weight printed on top. weights (T,)."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or len(w) != len(labels):
        raise ValueError(
            f"weights must be 1-D with one entry per label: weights {w.shape}, {len(labels)} labels"
        )
    x = np.arange(len(w))
    ax.bar(x, w, color=color)
    for xi, wi in zip(x, w, strict=True):
        ax.text(xi, wi + 0.02, f"{wi:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("weight α")
    ax.grid(axis="x", visible=False)
    if title:
        ax.set_title(title)
    return ax


def heatmap(
    ax: plt.Axes,
    weights: np.ndarray,
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    title: str = "",
    annotate: bool = True,
) -> plt.Axes:
    """An attention matrix: rows are queries (outputs), columns are keys (inputs).

    weights (T_q, T_k); each row sums to 1 (or 0 for a fully masked row).
    """
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(y_labels), len(x_labels)):
        raise ValueError(
            f"weights of shape {w.shape} need {w.shape[0]} row labels and "
            f"{w.shape[1] if w.ndim == 2 else '?'} column labels; got "
            f"{len(y_labels)} and {len(x_labels)}"
        )
    ax.imshow(w, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(x_labels)), x_labels)
    ax.set_yticks(range(len(y_labels)), y_labels)
    ax.tick_params(axis="x", top=True, bottom=False, labeltop=True, labelbottom=False)
    ax.grid(False)
    if annotate:
        for (i, j), v in np.ndenumerate(w):
            ax.text(
                j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v > 0.55 else "black"
            )
    if title:
        ax.set_title(title, pad=24)
    return ax
