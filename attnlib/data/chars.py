r"""Text as a stream of characters, for chapter 6's language model.

A character-level language model reads text one character at a time and predicts the
next one. The corpus's English sentences become one long stream of ids, each sentence
preceded by the separator ``"\n"``, which tells the model where a sentence starts::

    \nI stayed at his place yesterday.\nTom is here.\n ...

The pipeline::

    vocab  = CharVocab.build(train_sentences)              # <pad>, "\n", <unk>, then characters
    stream = CharStream.from_sentences(train_sentences, vocab)
    for x, y in stream.batches(context=64, batch_size=32, seed=0): ...   # (B, T) each, y = x shifted
    x, y = test_stream.windows(context=64, count=256)      # fixed evaluation windows

Every window starts at a separator, so position 0 of a window is always ``"\n"`` and the
model learns to write a sentence from its first character. ``y`` is ``x`` shifted by one:
``y[:, t]`` is the character that follows ``x[:, :t + 1]``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .._validate import check_int

__all__ = ["CHAR_SPECIALS", "PAD_ID", "SEP_ID", "UNK_ID", "CharStream", "CharVocab", "visible"]

PAD_ID = 0  # never a real character; the embedding keeps it at zero
SEP_ID = 1  # "\n": starts every sentence (and ends the one before)
UNK_ID = 2  # a character the training text never had
CHAR_SPECIALS = ("<pad>", "\n", "<unk>")  # CHAR_SPECIALS[i] has id i


def visible(text: str) -> list[str]:
    """One printable label per character, for plots and widgets: "\\n" -> "⏎", " " -> "␣"."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return [{"\n": "\u23ce", " ": "\u2423"}.get(ch, ch) for ch in text]


def _check_sentences(sentences: object) -> list[str]:
    if isinstance(sentences, str) or not isinstance(sentences, Iterable):
        raise TypeError(f"sentences must be a list of strings, got {type(sentences).__name__}")
    out = list(sentences)
    bad = [s for s in out if not isinstance(s, str)]
    if bad:
        raise TypeError(f"sentences must hold only strings; got {type(bad[0]).__name__} {bad[0]!r}")
    if not out:
        raise ValueError("sentences is empty: give at least one sentence")
    with_sep = [s for s in out if "\n" in s]
    if with_sep:
        raise ValueError(f"a sentence may not contain the separator '\\n'; got {with_sep[0]!r}")
    return out


@dataclass(frozen=True)
class CharVocab:
    """Characters <-> ids. Ids 0-2 are ``<pad>``, ``"\\n"`` (the separator) and ``<unk>``.

    Build one from training text with :meth:`build`: the other characters follow, most
    frequent first (ties by the character), so the ids are reproducible.
    """

    tokens: tuple[str, ...]  # tokens[i] has id i; starts with CHAR_SPECIALS
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if tuple(self.tokens[: len(CHAR_SPECIALS)]) != CHAR_SPECIALS:
            raise ValueError(
                f"a CharVocab's tokens must start with {CHAR_SPECIALS}, "
                f"got {tuple(self.tokens[: len(CHAR_SPECIALS)])}"
            )
        index = {tok: i for i, tok in enumerate(self.tokens)}
        if len(index) != len(self.tokens):
            raise ValueError("a CharVocab's tokens must be distinct")
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "_index", index)

    @classmethod
    def build(cls, sentences: Iterable[str], min_count: int = 1) -> CharVocab:
        """The characters seen at least ``min_count`` times in ``sentences``."""
        min_count = check_int("min_count", min_count, 1)
        counts = Counter("".join(_check_sentences(sentences)))
        kept = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c))
        return cls(CHAR_SPECIALS + tuple(kept))

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """One id per character; ``"\\n"`` is the separator, an unknown character ``UNK_ID``."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return [self._index.get(ch, UNK_ID) for ch in text]

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids`` (a list, array or 1-D tensor).

        ``<pad>`` is skipped and ``<unk>`` shown as ``"?"``.
        """
        ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(self):
                raise ValueError(f"ids must be ints in [0, {len(self)}), got {i!r}")
            if i != PAD_ID:
                out.append("?" if i == UNK_ID else self.tokens[i])
        return "".join(out)


@dataclass(frozen=True, eq=False)
class CharStream:
    """Sentences as one stream of character ids, each sentence after a separator."""

    ids: torch.Tensor  # (N,) int64: "\n" s_1 "\n" s_2 ... "\n"
    starts: np.ndarray  # (S,) the index of each sentence's separator in ids

    @classmethod
    def from_sentences(cls, sentences: Sequence[str], vocab: CharVocab) -> CharStream:
        """``"\\n" + s_1 + "\\n" + s_2 + ... + "\\n"``, encoded with ``vocab``."""
        if not isinstance(vocab, CharVocab):
            raise TypeError(f"vocab must be a CharVocab, got {type(vocab).__name__}")
        sentences = _check_sentences(sentences)
        lengths = np.array([len(s) + 1 for s in sentences])  # each with its separator
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # (S,)
        ids = vocab.encode("".join("\n" + s for s in sentences) + "\n")
        return cls(torch.tensor(ids, dtype=torch.int64), starts)

    def __len__(self) -> int:
        return len(self.ids)

    def usable_starts(self, context: int) -> np.ndarray:
        """The sentence starts from which a whole window of ``context + 1`` ids fits."""
        context = check_int("context", context, 1)
        ok = self.starts[self.starts + context + 1 <= len(self.ids)]
        if not len(ok):
            raise ValueError(
                f"the stream ({len(self.ids)} ids) is too short for one window of context={context}"
            )
        return ok

    def window(self, starts: np.ndarray, context: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets of the windows at ``starts``: x, y (B, T), y[:, t] = x[:, t + 1]'s place."""
        index = torch.as_tensor(np.asarray(starts))[:, None] + torch.arange(context + 1)  # (B, T + 1)
        chunk = self.ids[index]  # (B, T + 1)
        return chunk[:, :-1], chunk[:, 1:]  # (B, T) each

    def windows(self, context: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``count`` windows at sentence starts spread evenly over the stream (no randomness):
        x, y (count, T). For evaluation: the same windows every time."""
        ok = self.usable_starts(context)
        count = check_int("count", count, 1, len(ok))
        picks = ok[np.linspace(0, len(ok) - 1, count).round().astype(int)]  # (count,)
        return self.window(picks, context)

    def batches(
        self, context: int, batch_size: int, seed: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Endless random windows (each at a sentence start): x, y (batch_size, context) per step.

        The same ``seed`` gives the same batches (``numpy.random.default_rng(seed)``).
        """
        ok = self.usable_starts(context)
        batch_size = check_int("batch_size", batch_size, 1)
        check_int("seed", seed, 0)
        return self._batches(ok, context, batch_size, seed)

    def _batches(
        self, ok: np.ndarray, context: int, batch_size: int, seed: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        rng = np.random.default_rng(seed)
        while True:
            yield self.window(rng.choice(ok, batch_size), context)
