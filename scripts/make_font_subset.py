"""Make data/fonts/NotoSansSC-attnlib.otf: Noto Sans CJK SC cut down to the book's characters.

Figures label tokens in Chinese; matplotlib needs a font with those glyphs on
every machine that runs the notebooks (CI, Binder, a reader's laptop). The full
font is ~20 MB; this keeps the characters of the shipped corpus (both scripts),
ASCII and common punctuation, about 2 MB.

Source: Debian's ``fonts-noto-cjk`` (``apt-get install fonts-noto-cjk``), SIL Open
Font License 1.1, which allows subsetting and redistribution (see OFL.txt beside
the output). Run: ``python scripts/make_font_subset.py`` (needs ``fonttools``).
"""
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
OUT = ROOT / "data" / "fonts" / "NotoSansSC-attnlib.otf"
EXTRA = "".join(chr(c) for c in range(0x20, 0x7F)) + "。，、！？：；“”‘’（）《》…—·αβγτΣ√"


def wanted_text() -> str:
    corpus = (ROOT / "data" / "cmn-eng" / "cmn.txt").read_text(encoding="utf-8")
    chinese = "".join(line.split("\t")[1] for line in corpus.splitlines())
    try:  # both scripts: the loader converts Traditional to Simplified
        import opencc
        chinese += opencc.OpenCC("t2s").convert(chinese)
    except ImportError:
        pass
    return "".join(sorted(set(chinese + EXTRA)))


def main() -> None:
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
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
