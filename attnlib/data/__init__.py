"""Data for the book: synthetic sequence tasks (chapter 1) and the Chinese–English corpus (chapter 4).

The names below are re-exported from :mod:`attnlib.batch` (special ids, ``Batch``),
:mod:`attnlib.data.synthetic` and :mod:`attnlib.data.corpus`.
"""

from ..batch import EOS, PAD, SOS, Batch
from .corpus import (
    ATTRIBUTION,
    CORPUS_PATH,
    CORPUS_SHA256,
    RUNNING_EXAMPLE,
    SPECIALS,
    UNK,
    Pair,
    Splits,
    Vocab,
    collate,
    encode_pairs,
    file_sha256,
    filter_by_length,
    find_pair,
    load_pairs,
    normalize_chinese,
    normalize_english,
    running_example,
    split_pairs,
    to_simplified,
    tokenize_chinese,
    tokenize_english,
)
from .synthetic import FIRST_TOKEN, TASKS, SequenceTask

__all__ = [
    "ATTRIBUTION",
    "CORPUS_PATH",
    "CORPUS_SHA256",
    "EOS",
    "FIRST_TOKEN",
    "PAD",
    "RUNNING_EXAMPLE",
    "SOS",
    "SPECIALS",
    "TASKS",
    "UNK",
    "Batch",
    "Pair",
    "SequenceTask",
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
