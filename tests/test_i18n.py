"""The Chinese edition (zh_CN): complete catalogues, its configuration, the language switch.

``test_every_chinese_page_is_fully_translated`` fails while a page of
``locales/zh_CN/LC_MESSAGES`` has a fuzzy or untranslated message: run
``python scripts/i18n.py check`` for the list, translate, and check again.
"""

import importlib.util
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import attnbook

_spec = importlib.util.spec_from_file_location("i18n", attnbook.ROOT / "scripts" / "i18n.py")
i18n = importlib.util.module_from_spec(_spec)
sys.modules["i18n"] = i18n  # dataclasses look their module up there
_spec.loader.exec_module(i18n)


def test_every_chinese_page_is_fully_translated():
    pages = i18n.pages("zh_CN")
    assert len(pages) >= 14, [p.name for p in pages]
    todo = {
        p.name: f"{100 * p.share:.1f}% ({len(p.fuzzy)} fuzzy, {len(p.untranslated)} untranslated)"
        for p in pages
        if p.share < 1
    }
    assert todo == {}, "pages not fully translated (python scripts/i18n.py check lists the messages)"


def test_every_page_of_the_book_has_a_catalogue():
    toc = yaml.safe_load((attnbook.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    names = {p.name for p in i18n.pages("zh_CN")}
    assert set(files) <= names, set(files) - names


def test_the_chinese_config_is_the_english_one_plus_the_i18n_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "WORK", tmp_path)
    english = yaml.safe_load((attnbook.ROOT / "_config.yml").read_text(encoding="utf-8"))
    zh = yaml.safe_load(i18n.config("zh_CN").read_text(encoding="utf-8"))
    extra = zh["sphinx"]["config"]
    assert extra["language"] == "zh_CN" and extra["gettext_compact"] is False
    assert extra["locale_dirs"] == [str(attnbook.ROOT / "locales")]
    for key, value in english["sphinx"]["config"].items():
        assert extra[key] == value, key
    assert "language" not in english["sphinx"]["config"]  # the English build is unchanged
    ext = zh["sphinx"]["local_extensions"]["attnbook"]
    assert (attnbook.ROOT / "book" / "_ext").resolve().as_posix() == ext


def test_the_language_switch_links_the_same_page_by_relative_urls():
    nav, link = attnbook.language_switch("notebooks/03_qkv_recipe", "en")
    assert 'href="../zh_CN/notebooks/03_qkv_recipe.html"' in nav and 'hreflang="zh-CN"' in link
    assert '<span aria-current="page">English</span>' in nav
    nav, link = attnbook.language_switch("notebooks/03_qkv_recipe", "zh_CN")
    assert 'href="../../notebooks/03_qkv_recipe.html"' in nav and 'hreflang="en"' in link
    assert '<span aria-current="page">中文</span>' in nav
    nav, _ = attnbook.language_switch("genindex", "zh_CN")
    assert 'href="../genindex.html"' in nav


def test_the_runtime_note_speaks_the_pages_language():
    record = {"seconds": 12.0, "machine": "2-core test CPU", "date": "2026-12-01"}
    assert "about 12 seconds" in attnbook.runtime_note(record)
    assert "约需 12 秒" in attnbook.runtime_note(record, "zh_CN")
