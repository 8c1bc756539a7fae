"""The shipped Chinese–English corpus and its loader (chapter 4)."""

import hashlib

import pytest
import torch

from attnlib.data import (
    CORPUS_PATH,
    CORPUS_SHA256,
    EOS,
    PAD,
    RUNNING_EXAMPLE,
    SOS,
    SPECIALS,
    UNK,
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

FIXTURE = (
    "Hi.\t嗨。\tCC-BY #1\n"
    "Hi.\t你好。\tCC-BY #2\n"
    "I don't know.\t我不知道。\tCC-BY #3\n"
    "Do you speak Chinese?\t你會說漢語嗎？\tCC-BY #4\n"
)


@pytest.fixture(scope="module")
def pairs():
    return load_pairs()


@pytest.fixture(scope="module")
def splits(pairs):
    return split_pairs(pairs)


def write(tmp_path, text, name="pairs.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# -- the file ---------------------------------------------------------------------------------


def test_shipped_file_has_the_expected_checksum():
    assert CORPUS_PATH.is_file(), CORPUS_PATH
    assert CORPUS_PATH.parts[-3:] == ("data", "cmn-eng", "cmn.txt")
    assert file_sha256(CORPUS_PATH) == CORPUS_SHA256
    assert (CORPUS_PATH.parent / "LICENSE.md").is_file()


def test_loads_all_pairs(pairs):
    assert len(pairs) == 29155
    assert [p.line for p in pairs] == list(range(1, 29156))
    first = pairs[0]
    assert (first.english, first.chinese, first.src, first.tgt) == ("Hi.", "嗨。", ("嗨", "。"), ("hi", "."))
    assert all(p.src and p.tgt and p.attribution.startswith("CC-BY 2.0 (France)") for p in pairs)


def test_altered_file_raises_naming_the_path(tmp_path):
    data = bytearray(CORPUS_PATH.read_bytes())
    data[0:2] = b"Ho"  # "Hi." -> "Ho."
    path = tmp_path / "cmn.txt"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256") as err:
        load_pairs(path)
    assert str(path) in str(err.value) and CORPUS_SHA256 in str(err.value)
    assert len(load_pairs(path, expected_sha256=None)) == 29155  # loads when asked to


def test_missing_file_raises_naming_the_path(tmp_path):
    path = tmp_path / "nowhere" / "cmn.txt"
    with pytest.raises(FileNotFoundError, match="not found") as err:
        load_pairs(path)
    assert str(path) in str(err.value)


def test_small_file_loads_without_a_checksum(tmp_path):
    path = write(tmp_path, FIXTURE)
    got = load_pairs(path, expected_sha256=None)
    assert [p.line for p in got] == [1, 2, 3, 4]
    assert got[3].chinese == "你会说汉语吗?"  # Simplified script, ASCII question mark
    assert got[3].src == tuple("你会说汉语吗?")
    assert got[2].tgt == ("i", "don't", "know", ".")
    assert load_pairs(path, expected_sha256=hashlib.sha256(FIXTURE.encode()).hexdigest()) == got
    assert load_pairs(path, expected_sha256=None, normalize=False)[3].chinese == "你會說漢語嗎？"


@pytest.mark.parametrize(
    "bad, line",
    [
        ("only English and Chinese\t只有两列。", 3),  # 2 columns
        ("a\tb\tc\td", 3),  # 4 columns
        ("\t空的英语。\tCC-BY", 3),  # empty English
        ("", 3),  # blank line in the middle
    ],
)
def test_malformed_line_names_the_file_and_line(tmp_path, bad, line):
    lines = FIXTURE.splitlines()
    path = write(tmp_path, "\n".join([*lines[:2], bad, *lines[2:]]) + "\n")
    with pytest.raises(ValueError, match=f"line {line}:") as err:
        load_pairs(path, expected_sha256=None)
    assert str(path) in str(err.value) and repr(bad)[1:-1][:20] in str(err.value)


def test_long_malformed_line_is_truncated_in_the_message(tmp_path):
    path = write(tmp_path, "x" * 500 + "\n")
    with pytest.raises(ValueError, match="line 1:") as err:
        load_pairs(path, expected_sha256=None)
    assert "x" * 80 + "…" in str(err.value) and "x" * 81 not in str(err.value)


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(FIXTURE.encode() + b"Oops.\t\xff\xfe\tCC-BY\n")
    with pytest.raises(ValueError, match="line 5: not valid UTF-8"):
        load_pairs(path, expected_sha256=None)


# -- normalising and tokenizing ---------------------------------------------------------------


def test_traditional_becomes_simplified():
    assert to_simplified("漢語") == "汉语"
    assert normalize_chinese("我會說漢語。") == "我会说汉语。"
    assert normalize_chinese("汉语") == "汉语"  # Simplified stays


def test_unicode_normalisation_choices():
    assert normalize_chinese("你好嗎？") == "你好吗?"  # full-width ? -> ASCII
    assert normalize_chinese("好，走吧！") == "好,走吧!"
    assert normalize_chinese("１２３\u3000個") == "123 个"
    assert normalize_chinese("他\u200b來了。") == "他来了。"  # zero-width space removed
    assert normalize_chinese("一、二。") == "一、二。"  # '、' and '。' are kept
    assert normalize_chinese(RUNNING_EXAMPLE[0]) == RUNNING_EXAMPLE[0]
    assert normalize_english("Tom\u2019s  dog .") == "Tom's dog ."
    assert normalize_english(RUNNING_EXAMPLE[1]) == RUNNING_EXAMPLE[1]


def test_tokenizers():
    assert tokenize_chinese("我昨天住在他家。") == ["我", "昨", "天", "住", "在", "他", "家", "。"]
    assert tokenize_chinese("Tom 有 2 张CD 。") == ["Tom", "有", "2", "张", "CD", "。"]
    assert tokenize_english("I stayed at his place yesterday.") == [
        "i",
        "stayed",
        "at",
        "his",
        "place",
        "yesterday",
        ".",
    ]
    assert tokenize_english("Don't worry, it's Tom's!") == ["don't", "worry", ",", "it's", "tom's", "!"]
    assert tokenize_english("It costs $3.50?") == ["it", "costs", "$", "3", ".", "50", "?"]
    with pytest.raises(TypeError, match="text must be a str"):
        tokenize_english(["a"])


def test_the_shipped_corpus_is_fully_simplified(pairs):
    sample = pairs[::50]
    assert all(to_simplified(p.chinese) == p.chinese for p in sample)
    assert sum("？" in p.chinese or "，" in p.chinese for p in pairs) == 0


# -- splitting --------------------------------------------------------------------------------


def _homes(splits, key):
    """{sentence: set of split names it occurs in}, a sentence being ``key(pair)``."""
    homes = {}
    for name, part in zip(splits._fields, splits, strict=True):
        for p in part:
            homes.setdefault(key(p), set()).add(name)
    return homes


@pytest.mark.parametrize(
    "key",
    [lambda p: p.tgt, lambda p: p.english, lambda p: p.src, lambda p: p.chinese],
    ids=["en tokens", "english", "zh tokens", "chinese"],
)
def test_no_sentence_crosses_splits_on_the_corpus(splits, key):
    crossing = {s: h for s, h in _homes(splits, key).items() if len(h) > 1}
    assert crossing == {}, list(crossing.items())[:5]


def test_no_test_source_was_seen_in_training_with_the_chapters_settings(splits):
    train_zh = {p.src for p in splits.train}
    short_test = filter_by_length(splits.test, 10, 10)  # chapter 4's test pairs
    assert len(short_test) > 1500
    assert [p for p in short_test if p.src in train_zh] == []


def test_split_covers_all_pairs_in_file_order(pairs, splits):
    lines = [p.line for part in splits for p in part]
    assert sorted(lines) == list(range(1, len(pairs) + 1))
    assert all([p.line for p in part] == sorted(p.line for p in part) for part in splits)
    shares = [len(part) / len(pairs) for part in splits]
    assert shares == pytest.approx([0.8, 0.1, 0.1], abs=0.002)
    for fractions in ((0.5, 0.25, 0.25), (0.9, 0.0, 0.1)):
        parts = split_pairs(pairs, fractions, seed=3)
        assert [len(p) / len(pairs) for p in parts] == pytest.approx(fractions, abs=0.002)


def test_split_is_deterministic(pairs, splits):
    assert split_pairs(pairs, (0.8, 0.1, 0.1), seed=0) == splits
    other = split_pairs(pairs, seed=1)
    assert {p.line for p in other.test} != {p.line for p in splits.test}
    assert isinstance(splits, Splits) and splits._fields == ("train", "validation", "test")


def test_the_corpus_has_no_giant_group(pairs):
    from attnlib.data.corpus import _connected_groups

    sizes = sorted(len(g) for g in _connected_groups(pairs))
    assert sum(sizes) == len(pairs)
    assert sizes[-1] == 25  # every way of asking 多少钱? ("how much is it?")
    assert len(sizes) == 24356 and sizes.count(1) == 21285


CHAIN = (
    "A one.\t甲。\tCC-BY #1\n"  # a
    "A two.\t甲。\tCC-BY #2\n"  # b: shares its Chinese with a
    "A two.\t乙。\tCC-BY #3\n"  # c: shares its English with b (not with a)
    "A three.\t丙。\tCC-BY #4\n"  # d: shares its Chinese with e, in another spelling
    "A four.\t丙。\tCC-BY #5\n" + "".join(f"Word {i}.\t字{i}。\tCC-BY #{i + 6}\n" for i in range(15))
)  # 15 singletons


def test_a_chain_of_shared_sentences_stays_in_one_split(tmp_path):
    got = load_pairs(write(tmp_path, CHAIN), expected_sha256=None)
    moved_apart = 0
    for seed in range(40):
        parts = split_pairs(got, (0.5, 0.25, 0.25), seed=seed)
        where = {p.line: i for i, part in enumerate(parts) for p in part}
        assert where[1] == where[2] == where[3]  # a-b-c: one group though a and c share nothing
        assert where[4] == where[5]
        moved_apart += where[1] != where[4]
        for key in (lambda p: p.chinese, lambda p: p.english):
            assert all(len(homes) == 1 for homes in _homes(parts, key).values())
    assert moved_apart > 0  # the two groups are independent of each other


def test_connected_groups_by_hand(tmp_path):
    from attnlib.data.corpus import _connected_groups

    got = load_pairs(write(tmp_path, CHAIN + "a two .\t乙 。\tCC-BY #99\n"), expected_sha256=None)
    groups = [[p.line for p in g] for g in _connected_groups(got)]
    # 'a two .' and '乙 。' tokenize like 'A two.' and '乙。': they join the chain
    assert groups[:2] == [[1, 2, 3, 21], [4, 5]]
    assert groups[2:] == [[i] for i in range(6, 21)]


def test_pairs_sharing_english_stay_together_on_a_small_file(tmp_path):
    got = load_pairs(write(tmp_path, FIXTURE), expected_sha256=None)
    for seed in range(20):
        parts = split_pairs(got, (0.5, 0.25, 0.25), seed=seed)
        where = {p.line: i for i, part in enumerate(parts) for p in part}
        assert where[1] == where[2]  # both "Hi." pairs


@pytest.mark.parametrize(
    "fractions, message",
    [
        ((0.8, 0.1, 0.05), "sum to 1"),
        ((0.8, 0.2), "3 numbers"),
        ((1.2, -0.1, -0.1), ">= 0"),
        ((0.0, 0.5, 0.5), "train fraction"),
        ((0.8, float("nan"), 0.1), "finite"),
        ("abc", "3 numbers"),
    ],
)
def test_split_rejects_bad_fractions(pairs, fractions, message):
    with pytest.raises(ValueError, match=message):
        split_pairs(pairs[:10], fractions)


def test_split_rejects_a_bad_seed(pairs):
    with pytest.raises(TypeError, match="seed"):
        split_pairs(pairs[:10], seed=0.5)


def test_running_example_is_in_the_corpus(pairs, splits):
    matches = [p for p in pairs if (p.chinese, p.english) == RUNNING_EXAMPLE]
    assert len(matches) == 1 and matches[0].line == 17431
    name, pair = running_example(splits)
    assert name == "train" and pair == matches[0]
    assert find_pair(splits, "我昨天住在他家。", "I stayed at his place yesterday.") == (name, pair)
    with pytest.raises(LookupError, match="no pair"):
        find_pair(splits, "我不在。", "I stayed at his place yesterday.")


def test_filter_by_length(pairs):
    short = filter_by_length(pairs, max_src=10, max_tgt=10)
    assert all(len(p.src) <= 10 and len(p.tgt) <= 10 for p in short)
    assert len(short) == sum(len(p.src) <= 10 and len(p.tgt) <= 10 for p in pairs)
    assert 0 < len(short) < len(pairs)
    with pytest.raises(ValueError, match="max_src must be >= 1"):
        filter_by_length(pairs, max_src=0)


# -- vocabulary -------------------------------------------------------------------------------

SENTENCES = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat"]]


def test_vocab_specials_and_order():
    vocab = Vocab.build(SENTENCES)
    assert vocab.tokens[:4] == SPECIALS == ("<pad>", "<sos>", "<eos>", "<unk>")
    assert (PAD, SOS, EOS, UNK) == (0, 1, 2, 3)
    assert vocab.tokens[4:] == ("the", "cat", "sat", "dog")  # by frequency, then alphabetically
    assert len(vocab) == 8 and "cat" in vocab and "cow" not in vocab
    assert Vocab.build(SENTENCES) == vocab


def test_vocab_round_trip_and_unknowns():
    vocab = Vocab.build(SENTENCES)
    for sentence in SENTENCES:
        assert vocab.decode(vocab.encode(sentence)) == sentence
    assert vocab.encode(["the", "cow"]) == [4, UNK]
    assert vocab.decode([SOS, 4, 5, EOS, PAD, PAD]) == ["the", "cat"]
    assert vocab.decode([SOS, 4, EOS, PAD], strip=False) == ["<sos>", "the", "<eos>", "<pad>"]
    assert vocab.decode(torch.tensor([4, 5])) == ["the", "cat"]


def test_vocab_min_freq_and_max_size():
    assert Vocab.build(SENTENCES, min_freq=2).tokens[4:] == ("the", "cat", "sat")
    assert Vocab.build(SENTENCES, max_size=6).tokens[4:] == ("the", "cat")
    with pytest.raises(ValueError, match="min_freq must be >= 1"):
        Vocab.build(SENTENCES, min_freq=0)
    with pytest.raises(ValueError, match="max_size must be >= 5"):
        Vocab.build(SENTENCES, max_size=4)
    with pytest.raises(TypeError, match="sequence of token strings"):
        Vocab.build(["the cat"])
    with pytest.raises(ValueError, match=r"ids must be ints in \[0, 8\)"):
        Vocab.build(SENTENCES).decode([9])
    with pytest.raises(ValueError, match="must start with"):
        Vocab(("a", "b"))


def test_vocab_on_the_corpus_round_trips(splits):
    train = filter_by_length(splits.train, 10, 10)
    zh, en = Vocab.build(p.src for p in train), Vocab.build(p.tgt for p in train)
    _, example = running_example(splits)
    assert zh.decode(zh.encode(example.src)) == list(example.src)
    assert en.decode(en.encode(example.tgt)) == list(example.tgt)
    assert zh.tokens[4] == "。" and en.tokens[4] == "."


# -- batching ---------------------------------------------------------------------------------


def test_collate_pads_and_adds_sos_eos():
    batch = collate([([5, 6], [7]), ([8, 9, 10], [11, 12, 13, 14])])
    assert batch.src.tolist() == [[5, 6, PAD], [8, 9, 10]]
    assert batch.src_lengths.tolist() == [2, 3]
    assert batch.tgt_in.tolist() == [[SOS, 7, PAD, PAD, PAD], [SOS, 11, 12, 13, 14]]
    assert batch.tgt_out.tolist() == [[7, EOS, PAD, PAD, PAD], [11, 12, 13, 14, EOS]]
    assert all(t.dtype == torch.int64 for t in (batch.src, batch.src_lengths, batch.tgt_in, batch.tgt_out))
    assert len(batch) == 2


def test_collate_sorted_by_source_length():
    batch = collate([([5], [6]), ([5, 6, 7], [8]), ([9, 9], [4]), ([7, 7, 7], [5])], sort=True)
    assert batch.src_lengths.tolist() == [3, 3, 2, 1]
    assert batch.src[:, 0].tolist() == [5, 7, 9, 5]  # ties keep their order
    assert batch.tgt_out[:, 0].tolist() == [8, 5, 4, 6]  # targets move with their sources


def test_collate_on_the_corpus(splits):
    train = filter_by_length(splits.train, 10, 10)
    zh, en = Vocab.build(p.src for p in train), Vocab.build(p.tgt for p in train)
    examples = encode_pairs(train[:32], zh, en)
    batch = collate(examples)
    assert batch.src.shape == (32, max(len(p.src) for p in train[:32]))
    assert batch.tgt_in.shape == batch.tgt_out.shape == (32, max(len(p.tgt) for p in train[:32]) + 1)
    assert (batch.src != PAD).sum(1).tolist() == batch.src_lengths.tolist()
    assert (batch.tgt_out == EOS).sum().item() == 32
    assert en.decode(batch.tgt_out[0]) == list(train[0].tgt)


@pytest.mark.parametrize(
    "examples, message",
    [
        ([], "non-empty list"),
        ([([1, 2],)], "pair"),
        ([([], [4])], "src_ids must be a non-empty"),
        ([([4], [-1])], "tgt_ids must hold ints >= 0"),
        ([([4], "ab")], "tgt_ids must be a non-empty sequence of ids"),
    ],
)
def test_collate_rejects_bad_examples(examples, message):
    with pytest.raises(ValueError, match=message):
        collate(examples)
