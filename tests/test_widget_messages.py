"""The widgets' words: one table per language (attnlib/widgets/messages.py), used by the JS."""

import re

import pytest
import traitlets
from widget_payload import page_payload

from attnlib.widgets import FocusExplorer, QueryExplorer
from attnlib.widgets._base import HERE
from attnlib.widgets.messages import EN, MESSAGES, ZH, message, messages_for

PREFIXES = sorted({key.split(".", 1)[0] for key in EN})
USED = re.compile(r'"((?:' + "|".join(PREFIXES) + r')\.\w+)"')  # a key as a string literal in the JS
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def js_keys() -> set[str]:
    return {k for path in HERE.glob("*.js") for k in USED.findall(path.read_text(encoding="utf-8"))}


def test_both_tables_have_the_same_keys_and_placeholders():
    assert set(EN) == set(ZH)
    for key in EN:
        assert set(PLACEHOLDER.findall(EN[key])) == set(PLACEHOLDER.findall(ZH[key])), key
        # Chinese puts the word first: "<word> 的上下文 = " where English says "context for <word> = ".
        assert ZH[key].strip() or key == "focus.contextFor", f"{key} is empty in Chinese"


def test_every_key_the_js_uses_exists_and_every_key_is_used():
    used = js_keys()
    assert len(used) > 100
    assert used - set(EN) == set(), "keys the JS uses that the tables lack"
    python_only = {
        "common.name",
        "common.noscript",
        "alignment.tooLong",
        "alignment.failed",
        "alignment.translated",
        "alignment.yours",
    } | {f"{p}.name" for p in PREFIXES}
    singulars = {k for k in EN if k.endswith("_one")}  # picked by t() when n is 1
    assert set(EN) - used - python_only - singulars == set(), "keys nothing uses"
    assert {k.removesuffix("_one") for k in singulars} <= used


def test_the_chinese_table_is_chinese():
    cjk = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
    english_only = [k for k, v in ZH.items() if v.strip(" .=:()·") and not cjk.search(v) and v != EN[k]]
    assert english_only == []
    same = [k for k, v in ZH.items() if v == EN[k] and re.search("[a-z]{4}", v)]
    assert set(same) <= {"query.scoreDot", "alignment.placeholder"} or not same, same


def test_a_widget_carries_its_own_keys_in_both_languages_and_the_page_picks_one():
    w = FocusExplorer(["我", "昨天"], ["I", "yesterday"], [[1.0, 0.0], [0.0, 1.0]])
    assert w.language == "en" and set(w.messages) == set(MESSAGES)
    assert w.messages == messages_for("focus")
    assert set(w.messages["zh"]) == {k for k in ZH if k.startswith(("focus.", "common."))}
    html = w.static_html()
    state = page_payload(html)["state"]
    assert state["messages"]["zh"]["focus.help"] == ZH["focus.help"]
    assert 'document.documentElement.lang.toLowerCase().startsWith("zh")' in html
    assert 'lang="en"' in html and 'lang="zh-CN"' in html  # the noscript line in each language
    assert "聚焦探索器需要 JavaScript" in html


def test_language_is_checked_and_python_side_text_follows_it():
    w = QueryExplorer([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(traitlets.TraitError, match="language must be one of"):
        w.language = "fr"
    w.language = "zh"
    assert w.message("alignment.tooLong", n=40) == "太长了：最多 40 个字符"
    assert message("en", "alignment.tooLong", n=40) == "too long: at most 40 characters, please"


def test_every_chinese_character_has_a_glyph_in_the_books_font():
    """The static book draws widget text with the shipped font (data/fonts, scripts/make_font_subset.py)."""
    from fontTools.ttLib import TTFont

    from attnlib.widgets._base import CJK, FONT_FILE

    font = set(TTFont(FONT_FILE).getBestCmap())
    missing = {ch for ch in CJK.findall("".join(ZH.values())) if ord(ch) not in font}
    assert not missing, "".join(sorted(missing))
