"""Make the book's Chinese fonts: Noto Sans CJK SC cut down to the book's characters.

1. ``data/fonts/NotoSansSC-attnlib.otf``, for matplotlib. Figures label tokens in
   Chinese; matplotlib needs a font with those glyphs on every machine that runs the
   notebooks (CI, Binder, a reader's laptop). The full font is ~20 MB; this keeps the
   characters of the shipped corpus (both scripts) and of the book's own text, ASCII and
   common punctuation, ~1 MB.
2. ``book/_vendor/cjk/``, for the HTML book: the CJK characters of that same font as
   two WOFF2 web fonts and the ``@font-face`` rules that declare them (``cjk.css``).
   Both faces are one family, ``FAMILY``, with a ``unicode-range``, so a browser fetches
   a file only for a page that shows a character in its range, and Latin text keeps
   the theme's font:

   * ``noto-sans-sc-book.woff2`` (~20 kB): the CJK characters that the book's own
     pages show (chapters with their outputs, ``book/``, the widgets' code). A page
     fetches only this file.
   * ``noto-sans-sc-corpus.woff2`` (~0.6 MB): every CJK character of the OTF, for a
     character outside the first file (typed into chapter 4's widget, say). Declared
     first, so the browser tries it last.

   Hinting and the vertical-writing tables are dropped (horizontal text only); the
   copyright and licence records are kept.

Source: Debian's ``fonts-noto-cjk`` (``apt-get install fonts-noto-cjk``), SIL Open
Font License 1.1, which allows subsetting and redistribution (``OFL.txt`` is copied
beside each output).

Run ``python scripts/make_font_subset.py`` for both (needs ``fonts-noto-cjk``), or
``python scripts/make_font_subset.py --web`` for the web fonts alone, made from the
committed OTF. Both need ``fonttools`` and, for WOFF2, ``brotli`` (not a dependency of
the book: ``pip install brotli==1.2.1``). The committed files were made with
fonttools 4.68.0 and brotli 1.2.1; the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
OUT = ROOT / "data" / "fonts" / "NotoSansSC-attnlib.otf"
LICENSE = ROOT / "data" / "fonts" / "OFL.txt"
WEB = ROOT / "book" / "_vendor" / "cjk"  # served as _static/cjk/ (book/_ext/attnbook.py)
FAMILY = "Noto Sans SC attnbook"  # the CSS name; book/_assets/attnbook.css and the widgets use it
EXTRA = "".join(chr(c) for c in range(0x20, 0x7F)) + "。，、！？：；“”‘’（）《》…—·αβγτΣ√"
# Unicode blocks of Chinese text: radicals, CJK punctuation, kana and bopomofo, enclosed
# and compatibility forms, the ideographs (extension A, unified, compatibility), vertical
# and small forms, full-width forms, and the supplementary ideographic planes.
CJK_BLOCKS = [
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3040, 0x30FF),
    (0x3100, 0x312F),
    (0x3190, 0x31FF),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE10, 0xFE1F),
    (0xFE30, 0xFE6F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3FFFF),
]
# Where the book's pages get their text: the chapters (with their outputs), the prose
# pages, the library (docstrings on the API page, strings the widgets draw, in both languages:
# attnlib/widgets/messages.py) and the Chinese edition's translations (locales/).
BOOK_SOURCES = ["notebooks/*.ipynb", "book/**/*.md", "attnlib/**/*.py", "attnlib/**/*.js", "locales/**/*.po"]


def is_cjk(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in CJK_BLOCKS)


def wanted_text() -> str:
    """The characters of the OTF: the corpus in both scripts, any other Chinese character
    of the book's own text, ASCII and punctuation."""
    corpus = (ROOT / "data" / "cmn-eng" / "cmn.txt").read_text(encoding="utf-8")
    chinese = "".join(line.split("\t")[1] for line in corpus.splitlines())
    try:  # both scripts: the loader converts Traditional to Simplified
        import opencc

        chinese += opencc.OpenCC("t2s").convert(chinese)
    except ImportError:
        pass
    chinese += "".join(ch for ch in book_text() if is_cjk(ord(ch)))
    return "".join(sorted(set(chinese + EXTRA)))


def book_text() -> str:
    """Every character of the files the book's pages are made from."""
    parts = []
    for pattern in BOOK_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".ipynb":  # the JSON may escape non-ASCII characters
                text = json.dumps(json.loads(text), ensure_ascii=False)
            parts.append(text)
    return "".join(parts)


def make_otf() -> None:
    fonts = TTCollection(str(SOURCE)).fonts
    font = next(f for f in fonts if "SC" in f["name"].getDebugName(1))  # Noto Sans CJK SC
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the copyright and license records
    options.layout_features = []
    sub = subset.Subsetter(options)
    sub.populate(text=wanted_text())
    sub.subset(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(OUT))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1e6:.2f} MB)")


def write_woff2(codes: list[int], path: Path) -> None:
    """The glyphs of ``codes`` from the OTF, as WOFF2 (same bytes on every run)."""
    font = TTFont(str(OUT), recalcTimestamp=False)
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the copyright and license records
    options.layout_features = []
    options.hinting = False  # -17% size; browsers render CJK outlines well unhinted
    options.drop_tables += ["vhea", "vmtx", "VORG"]  # no vertical writing in the book
    options.flavor = "woff2"
    sub = subset.Subsetter(options)
    sub.populate(unicodes=codes)
    sub.subset(font)
    font.flavor = "woff2"
    font.save(str(path))


def runs(codes: list[int]) -> list[tuple[int, int]]:
    """Sorted code points as runs of consecutive ones: [0x4E00, 0x4E01, 0x4E03] -> two runs."""
    out: list[tuple[int, int]] = []
    for c in sorted(codes):
        if out and c == out[-1][1] + 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


def unicode_range(spans: list[tuple[int, int]]) -> str:
    return ", ".join(f"U+{lo:X}" if lo == hi else f"U+{lo:X}-{hi:X}" for lo, hi in spans)


def block_spans(codes: list[int]) -> list[tuple[int, int]]:
    """For each CJK block, the span from its first to its last code point in ``codes``."""
    spans = []
    for lo, hi in CJK_BLOCKS:
        inside = [c for c in codes if lo <= c <= hi]
        if inside:
            spans.append((min(inside), max(inside)))
    return spans


def font_face(file: str, spans: list[tuple[int, int]], comment: str) -> str:
    return (
        f'/* {comment} */\n@font-face {{\n  font-family: "{FAMILY}";\n'
        f'  src: url("{file}") format("woff2");\n  font-style: normal;\n'
        f"  font-weight: 400;\n  font-display: swap;\n"
        f"  unicode-range: {unicode_range(spans)};\n}}\n"
    )


def make_web_fonts() -> None:
    have = sorted(c for c in TTFont(str(OUT)).getBestCmap() if is_cjk(c))
    book = sorted({ord(ch) for ch in book_text()} & set(have))
    WEB.mkdir(parents=True, exist_ok=True)
    write_woff2(have, WEB / "noto-sans-sc-corpus.woff2")
    write_woff2(book, WEB / "noto-sans-sc-book.woff2")
    shutil.copyfile(LICENSE, WEB / "OFL.txt")
    css = (
        "/* Generated by scripts/make_font_subset.py; do not edit. Chinese for the book:\n"
        "   subsets of Noto Sans CJK SC, (c) 2014-2021 Adobe, SIL Open Font License 1.1\n"
        "   (OFL.txt beside this file). Faces declared later are tried first. */\n"
        + font_face(
            "noto-sans-sc-corpus.woff2",
            block_spans(have),
            f"{len(have)} characters: the corpus, both scripts, and punctuation",
        )
        + font_face(
            "noto-sans-sc-book.woff2", runs(book), f"{len(book)} characters: those the book's pages show"
        )
    )
    (WEB / "cjk.css").write_text(css, encoding="utf-8")
    for path in sorted(WEB.iterdir()):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e3:.1f} kB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--web",
        action="store_true",
        help="only the web fonts, from the committed OTF (no system font needed)",
    )
    if not parser.parse_args().web:
        make_otf()
    make_web_fonts()


if __name__ == "__main__":
    main()
