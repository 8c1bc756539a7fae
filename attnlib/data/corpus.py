"""The Chinese–English corpus for chapter 4: load, normalise, tokenize, split, encode, batch.

The book ships ``data/cmn-eng/cmn.txt``: 29,155 English–Mandarin sentence pairs
from the Tatoeba Project (CC BY 2.0 FR, via www.manythings.org/anki; see
``data/README.md``). Each line holds three tab-separated columns::

    English <TAB> Chinese <TAB> attribution

The model translates Chinese (source) into English (target), so a :class:`Pair`
keeps ``src`` = Chinese tokens and ``tgt`` = English tokens. The pipeline::

    pairs  = load_pairs()                               # checked, parsed, normalised, tokenized
    splits = split_pairs(pairs, (0.8, 0.1, 0.1), seed=0)
    train  = filter_by_length(splits.train, max_src=10, max_tgt=10)
    zh, en = Vocab.build(p.src for p in train), Vocab.build(p.tgt for p in train)
    batch  = collate(encode_pairs(train[:32], zh, en))   # a synthetic.Batch of padded tensors

Choices made here, on purpose:

* **Script.** Contributors wrote Chinese in Simplified or Traditional script
  (42% of lines contain Traditional forms). Everything is converted to
  Simplified with OpenCC's ``t2s`` table, so 漢語 and 汉语 are one sentence.
* **Unicode.** Both columns are NFKC-normalised. This folds the full-width
  forms of ASCII marks into ASCII (``，？！：；（）`` become ``,?!:;()``, the
  ideographic space becomes a space), because contributors typed both
  (the file has 3,912 '？' and 533 '?'): one mark, one token. The ideographic
  full stop '。', the enumeration comma '、' and the curly quotes have no ASCII
  compatibility form and are kept, so the running example 我昨天住在他家。 is
  unchanged. Zero-width characters (format characters, e.g. U+200B) are
  removed; in English the curly apostrophe becomes "'".
* **Tokens.** Chinese: one token per character, spaces dropped, except that a
  run of ASCII letters or digits (``Tom``, ``CD``, ``1945``) stays one token, as
  it would in English. English: lower-cased words and single punctuation marks,
  with a contraction kept whole (``don't``, ``tom's``).
* **Splits** keep every sentence, Chinese or English, in one split (see
  :func:`split_pairs`), because the same English sentence often comes with several
  Chinese translations and the same Chinese sentence with several English ones.
* **Special ids** are those of the synthetic tasks of chapter 1:
  ``<pad>`` = 0, ``<sos>`` = 1, ``<eos>`` = 2, plus ``<unk>`` = 3.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Real
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from .._validate import check_int
from ..batch import EOS, PAD, SOS, Batch
from ..resources import data_path

__all__ = [
    "ATTRIBUTION",
    "CORPUS_PATH",
    "CORPUS_SHA256",
    "RUNNING_EXAMPLE",
    "SPECIALS",
    "UNK",
    "Pair",
    "Splits",
    "Vocab",
    "collate",
    "encode_pairs",
    "file_sha256",
    "filter_by_length",
    "find_pair",
    "load_pairs",
    "normalize_chinese",
    "normalize_english",
    "running_example",
    "split_pairs",
    "to_simplified",
    "tokenize_chinese",
    "tokenize_english",
]

CORPUS_PATH = data_path("cmn-eng", "cmn.txt")
CORPUS_SHA256 = "5f216a96299b133dccc5efd3278135f038fb118c3d8071743ddd82df04c7ba4d"
ATTRIBUTION = (
    "Sentence pairs from the Tatoeba Project (https://tatoeba.org), CC BY 2.0 FR, via www.manythings.org/anki"
)
RUNNING_EXAMPLE = ("我昨天住在他家。", "I stayed at his place yesterday.")  # (Chinese, English)
UNK = 3  # unknown token: any token not in the vocabulary
SPECIALS = ("<pad>", "<sos>", "<eos>", "<unk>")  # SPECIALS[i] has id i: PAD, SOS, EOS, UNK

_ZH_TOKEN = re.compile(r"[A-Za-z0-9]+|\S")  # a Latin/digit run, or any single non-space char
_EN_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")  # a word (with one contraction), or one mark
_SHOWN = 80  # characters of a malformed line quoted in the error


@dataclass(frozen=True)
class Pair:
    """One sentence pair; ``src`` (Chinese) and ``tgt`` (English) are its tokens."""

    line: int  # 1-based line number in the file, for tracing a pair to its source
    english: str  # the English sentence (normalised unless loaded with normalize=False)
    chinese: str  # the Chinese sentence (Simplified, NFKC, unless normalize=False)
    attribution: str  # Tatoeba sentence ids and authors: keep it with any subset
    src: tuple[str, ...]  # Chinese tokens: the model's input
    tgt: tuple[str, ...]  # English tokens: the model's output


class Splits(NamedTuple):
    """Train, validation and test pairs, each in file order."""

    train: list[Pair]
    validation: list[Pair]
    test: list[Pair]


# -- reading ---------------------------------------------------------------------------------


def file_sha256(path: str | os.PathLike) -> str:
    """The hex sha256 of the file at ``path``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read_checked(path: Path, expected_sha256: str | None) -> str:
    """Read ``path`` as UTF-8 text after checking its sha256 (unless ``expected_sha256`` is None)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"corpus file not found: {path} (the book ships it as "
            f"data/cmn-eng/cmn.txt; pass path=... to load another copy)"
        )
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise ValueError(
            f"corpus file {path} has sha256 {digest}, expected {expected_sha256}: "
            "it was altered or is another release; restore it, or pass "
            "expected_sha256=None to load a different file on purpose"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ValueError(f"{path}, line {line}: not valid UTF-8 ({err.reason})") from None


def _parse_line(text: str, number: int, path: Path) -> tuple[str, str, str]:
    """Split one line into (English, Chinese, attribution), or raise naming the line."""
    columns = text.split("\t")
    if len(columns) != 3 or not columns[0].strip() or not columns[1].strip():
        shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
        raise ValueError(
            f"{path}, line {number}: expected 3 tab-separated columns "
            f"(English, Chinese, attribution) with non-empty sentences, "
            f"got {len(columns)} column(s): {shown!r}"
        )
    return columns[0], columns[1], columns[2]


def load_pairs(
    path: str | os.PathLike | None = None,
    *,
    expected_sha256: str | None = CORPUS_SHA256,
    normalize: bool = True,
) -> list[Pair]:
    """Load the sentence pairs of ``path`` (default: the shipped corpus), in file order.

    The file's sha256 must equal ``expected_sha256``; pass ``None`` to skip the check
    (for other files, e.g. small test fixtures). With ``normalize`` (the default)
    both sentences go through :func:`normalize_chinese` / :func:`normalize_english`
    before they are tokenized. A missing file raises ``FileNotFoundError``; a
    modified file or a malformed line raises ``ValueError`` naming the path (and line).
    """
    path = CORPUS_PATH if path is None else Path(path)
    text = _read_checked(path, expected_sha256)
    lines = text.split("\n")
    if lines[-1] == "":  # the final newline does not start another line
        lines.pop()
    pairs = []
    for number, raw in enumerate(lines, start=1):
        english, chinese, attribution = _parse_line(raw.removesuffix("\r"), number, path)
        if normalize:
            english, chinese = normalize_english(english), normalize_chinese(chinese)
        pairs.append(
            Pair(
                number,
                english,
                chinese,
                attribution,
                tuple(tokenize_chinese(chinese)),
                tuple(tokenize_english(english)),
            )
        )
    return pairs


# -- normalising and tokenizing ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _t2s() -> Any:
    """The OpenCC Traditional -> Simplified converter, created once on first use."""
    try:
        import opencc
    except ImportError:
        raise ImportError(
            "converting Traditional to Simplified Chinese needs the 'opencc' "
            "package (pip install opencc==1.4.2)"
        ) from None
    return opencc.OpenCC("t2s")


def _check_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")


def _unicode_clean(text: str) -> str:
    """NFKC, then drop format characters such as the zero-width space U+200B."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (OpenCC ``t2s``): '漢語' -> '汉语'."""
    _check_str("text", text)
    return _t2s().convert(text)


def normalize_chinese(text: str) -> str:
    """NFKC (full-width ``，？！`` -> ``,?!``; '。' kept), no zero-width chars, Simplified script."""
    _check_str("text", text)
    return to_simplified(_unicode_clean(text)).strip()


def normalize_english(text: str) -> str:
    """NFKC, no zero-width chars, curly apostrophes as "'", single spaces."""
    _check_str("text", text)
    text = _unicode_clean(text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def tokenize_chinese(text: str) -> list[str]:
    """One token per character, spaces dropped; a run of ASCII letters/digits is one token.

    >>> tokenize_chinese("我昨天住在他家。")
    ['我', '昨', '天', '住', '在', '他', '家', '。']
    >>> tokenize_chinese("Tom 有 2 张CD。")
    ['Tom', '有', '2', '张', 'CD', '。']
    """
    _check_str("text", text)
    return _ZH_TOKEN.findall(text)


def tokenize_english(text: str) -> list[str]:
    """Lower-cased words and punctuation marks; a contraction stays one token.

    >>> tokenize_english("I don't know, Tom.")
    ['i', "don't", 'know', ',', 'tom', '.']
    """
    _check_str("text", text)
    return _EN_TOKEN.findall(text.lower())


# -- splitting and filtering ------------------------------------------------------------------


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """Return three finite, non-negative fractions summing to 1, or raise."""
    if isinstance(fractions, (str, bytes)) or not isinstance(fractions, Sequence) or len(fractions) != 3:
        raise ValueError(f"fractions must be 3 numbers (train, validation, test), got {fractions!r}")
    for f in fractions:
        if isinstance(f, bool) or not isinstance(f, Real) or not math.isfinite(f) or f < 0:
            raise ValueError(f"fractions must be finite numbers >= 0, got {fractions!r}")
    if fractions[0] <= 0:
        raise ValueError(f"the train fraction must be > 0, got {fractions!r}")
    if not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise ValueError(f"fractions must sum to 1, got {fractions!r} (sum {sum(fractions)})")
    return float(fractions[0]), float(fractions[1]), float(fractions[2])


def _connected_groups(pairs: Sequence[Pair]) -> list[list[Pair]]:
    """The pairs grouped into connected components, each group in file order.

    Two pairs are linked when they share their Chinese tokens or their English
    tokens; a group is everything reachable through such links (union–find with
    path halving). So 'a–b, b–c' chains end up in one group even though a and c
    share nothing. Groups are ordered by their first pair, so the result does not
    depend on anything but the input order.
    """
    parent = list(range(len(pairs)))  # parent[i]: a pair in i's group; roots point to themselves

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps the trees flat
            i = parent[i]
        return i

    first: dict[tuple[str, tuple[str, ...]], int] = {}  # (side, tokens) -> first pair with them
    for i, pair in enumerate(pairs):
        for key in (("zh", pair.src), ("en", pair.tgt)):
            a, b = root(i), root(first.setdefault(key, i))
            parent[max(a, b)] = min(a, b)  # the smaller index stays the root
    groups: dict[int, list[Pair]] = {}
    for i, pair in enumerate(pairs):
        groups.setdefault(root(i), []).append(pair)
    return list(groups.values())


def split_pairs(pairs: Sequence[Pair], fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> Splits:
    """Split pairs into train/validation/test so that no sentence crosses splits, reproducibly.

    The corpus has many-to-many translations: one English sentence comes with
    several Chinese wordings, and one Chinese sentence with several English ones
    (我现在在打排球 -> "i'm playing volleyball now" and "i am playing volleyball now").
    Splitting by one side only would leak the other: the model would be tested on
    a source sentence it was trained on. So pairs are linked when they share
    their Chinese tokens or their English tokens (so 'Hi.' and 'hi .' are one
    sentence), and every connected group of pairs (see ``_connected_groups``;
    a chain a–b, b–c is one group) goes whole to one split: no Chinese and no
    English sentence occurs in two splits. On the shipped corpus the groups are
    small (the largest has 25 pairs, all ways of asking 多少钱?).

    The groups are shuffled with ``numpy.random.default_rng(seed)`` (the file is
    sorted by length, so an unshuffled cut would test on the longest sentences),
    then cut where the running count of *pairs* passes ``fractions``; the pair
    shares therefore match the fractions up to one group. Each split keeps file order.
    """
    train_f, val_f, _ = _check_fractions(fractions)
    seed = check_int("seed", seed, 0)
    groups = _connected_groups(pairs)
    order = np.random.default_rng(seed).permutation(len(groups))
    splits: tuple[list[Pair], ...] = ([], [], [])
    start, n = 0, len(pairs)
    for i in order:
        which = 0 if start < train_f * n else 1 if start < (train_f + val_f) * n else 2
        splits[which].extend(groups[i])
        start += len(groups[i])
    return Splits(*(sorted(s, key=lambda p: p.line) for s in splits))


def filter_by_length(pairs: Iterable[Pair], max_src: int = 10, max_tgt: int = 10) -> list[Pair]:
    """Keep the pairs with at most ``max_src`` Chinese and ``max_tgt`` English tokens."""
    max_src, max_tgt = check_int("max_src", max_src, 1), check_int("max_tgt", max_tgt, 1)
    return [p for p in pairs if len(p.src) <= max_src and len(p.tgt) <= max_tgt]


def find_pair(splits: Splits, chinese: str, english: str) -> tuple[str, Pair]:
    """Find a pair by its sentences; return ``(split name, pair)``, e.g. ``('train', Pair(...))``.

    Both sentences are normalised first, so Traditional script or full-width
    punctuation in the query still matches. Raises ``LookupError`` if absent.
    """
    zh, en = normalize_chinese(chinese), normalize_english(english)
    for name, pairs in zip(Splits._fields, splits, strict=True):
        for pair in pairs:
            if pair.chinese == zh and pair.english == en:
                return name, pair
    raise LookupError(f"no pair {chinese!r} / {english!r} in the splits")


def running_example(splits: Splits) -> tuple[str, Pair]:
    """Where the book's running example 我昨天住在他家。 / I stayed at his place yesterday. landed."""
    return find_pair(splits, *RUNNING_EXAMPLE)


# -- vocabulary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocab:
    """Tokens <-> ids. Ids 0-3 are ``<pad>``, ``<sos>``, ``<eos>``, ``<unk>``; the rest follow.

    Build one from training tokens with :meth:`build`; ordinary tokens are sorted by
    frequency (most frequent first), ties by the token itself, so the ids are reproducible.
    """

    tokens: tuple[str, ...]  # tokens[i] has id i; starts with SPECIALS
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if tuple(self.tokens[: len(SPECIALS)]) != SPECIALS:
            got = tuple(self.tokens[: len(SPECIALS)])
            raise ValueError(f"a Vocab's tokens must start with {SPECIALS}, got {got}")
        index = {token: i for i, token in enumerate(self.tokens)}
        if len(index) != len(self.tokens):
            duplicates = sorted(t for t, c in Counter(self.tokens).items() if c > 1)
            raise ValueError(f"a Vocab's tokens must be distinct; repeated: {duplicates[:10]}")
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "_index", index)

    @classmethod
    def build(
        cls, sentences: Iterable[Sequence[str]], min_freq: int = 1, max_size: int | None = None
    ) -> Vocab:
        """A vocabulary of the tokens seen at least ``min_freq`` times in ``sentences``.

        ``max_size`` caps the total size, the 4 special tokens included.
        """
        min_freq = check_int("min_freq", min_freq, 1)
        if max_size is not None:
            max_size = check_int("max_size", max_size, len(SPECIALS) + 1)
        counts: Counter[str] = Counter()
        for sentence in sentences:
            _check_tokens("each sentence", sentence)
            counts.update(sentence)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in SPECIALS),
            key=lambda t: (-counts[t], t),
        )
        limit = None if max_size is None else max_size - len(SPECIALS)
        return cls(SPECIALS + tuple(kept[:limit]))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Token ids; a token not in the vocabulary gets ``UNK`` (3). No SOS/EOS added."""
        _check_tokens("tokens", tokens)
        return [self._index.get(token, UNK) for token in tokens]

    def decode(self, ids: Iterable[int], strip: bool = True) -> list[str]:
        """Tokens of ``ids`` (a list, array or 1-D tensor).

        With ``strip`` (the default), reading stops at the first ``<eos>`` and
        ``<pad>``/``<sos>`` are skipped, which is what a model's output needs.
        """
        ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(self):
                raise ValueError(f"ids must be ints in [0, {len(self)}), got {i!r}")
            i = int(i)
            if strip and i == EOS:
                break
            if not (strip and i in (PAD, SOS)):
                out.append(self.tokens[i])
        return out


def _check_tokens(name: str, tokens: object) -> None:
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(
            f"{name} must be a sequence of token strings (e.g. tokenize_english(text)), "
            f"got {type(tokens).__name__}"
        )


# -- batching ---------------------------------------------------------------------------------


def encode_pairs(
    pairs: Iterable[Pair], src_vocab: Vocab, tgt_vocab: Vocab
) -> list[tuple[list[int], list[int]]]:
    """``(src_ids, tgt_ids)`` for each pair: Chinese with ``src_vocab``, English with ``tgt_vocab``."""
    return [(src_vocab.encode(p.src), tgt_vocab.encode(p.tgt)) for p in pairs]


def _check_example(i: int, example: object) -> tuple[Sequence[int], Sequence[int]]:
    if not isinstance(example, Sequence) or len(example) != 2:
        raise ValueError(f"examples[{i}] must be a pair (src_ids, tgt_ids), got {example!r}")
    for name, ids in zip(("src_ids", "tgt_ids"), example, strict=True):
        if isinstance(ids, str) or not isinstance(ids, Sequence) or len(ids) == 0:
            raise ValueError(f"examples[{i}]: {name} must be a non-empty sequence of ids, got {ids!r}")
        if not all(isinstance(t, (int, np.integer)) and not isinstance(t, bool) and t >= 0 for t in ids):
            raise ValueError(f"examples[{i}]: {name} must hold ints >= 0, got {list(ids)!r}")
    return example[0], example[1]


def collate(examples: Sequence[tuple[Sequence[int], Sequence[int]]], sort: bool = False) -> Batch:
    """Pad ``(src_ids, tgt_ids)`` pairs into a :class:`~attnlib.batch.Batch` (int64)::

        src      zh ids, then PAD                 (B, T_in),  T_in = longest source
        src_lengths                               (B,)
        tgt_in   SOS + en ids, then PAD           (B, T_out), T_out = longest target + 1
        tgt_out  en ids + EOS, then PAD           (B, T_out)

    The layout is that of chapter 1's synthetic tasks (PAD = 0, SOS = 1, EOS = 2), so
    the same models and training loop apply. The batch keeps the given order, which
    suits ``pack_padded_sequence(..., enforce_sorted=False)``; ``sort=True`` reorders
    it by decreasing source length (stable), as ``enforce_sorted=True`` requires.
    """
    if isinstance(examples, (str, bytes)) or not isinstance(examples, Sequence) or len(examples) == 0:
        raise ValueError("examples must be a non-empty list of (src_ids, tgt_ids) pairs")
    checked = [_check_example(i, ex) for i, ex in enumerate(examples)]
    if sort:
        checked.sort(key=lambda ex: -len(ex[0]))  # stable: ties keep their order
    B = len(checked)
    T_in, T_out = max(len(s) for s, _ in checked), max(len(t) for _, t in checked) + 1
    src = torch.full((B, T_in), PAD, dtype=torch.int64)  # (B, T_in)
    tgt_in = torch.full((B, T_out), PAD, dtype=torch.int64)  # (B, T_out)
    tgt_out = torch.full((B, T_out), PAD, dtype=torch.int64)  # (B, T_out)
    for b, (s, t) in enumerate(checked):
        src[b, : len(s)] = torch.as_tensor(list(s))
        tgt_in[b, 0] = SOS
        tgt_in[b, 1 : len(t) + 1] = torch.as_tensor(list(t))
        tgt_out[b, : len(t)] = torch.as_tensor(list(t))
        tgt_out[b, len(t)] = EOS
    lengths = torch.tensor([len(s) for s, _ in checked], dtype=torch.int64)  # (B,)
    return Batch(src, lengths, tgt_in, tgt_out)
