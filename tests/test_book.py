"""The book as a whole: table of contents, chapter anatomy, runtimes, references, licences."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def toc_files() -> list[str]:
    return [ch["file"] for part in TOC["parts"] for ch in part["chapters"]]


def markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_every_chapter_is_in_the_toc_in_order_and_every_entry_exists():
    chapters = [f for f in toc_files() if f.startswith("notebooks/")]
    assert chapters == [f"notebooks/{p.stem}" for p in NOTEBOOKS]
    assert len(chapters) == 6
    for f in [*toc_files(), TOC["root"]]:
        assert (ROOT / f"{f}.ipynb").exists() or (ROOT / f"{f}.md").exists(), f


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_has_goals_takeaways_exercises_and_a_paper_vs_code_box(path):
    text = markdown(path)
    assert "In this chapter you will" in text
    assert re.search(r"takeaways", text, re.I)
    assert len(set(re.findall(r"\*\*Exercise (\d+\.\d+)[. ]", text))) >= 3
    assert re.search(r"paper vs\.? code", text, re.I)
    assert "glossary.md#term-" in text and "references.md#cite-" in text  # terms and citations


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_chapter_stores_widget_state(path):
    """Saved widget state makes JupyterLab restore, over the live widget's CSS, the copy it saved
    (anywidget keeps one style element per widget class): stale styles, missing Chinese glyphs.
    The book needs none (it shows the static HTML); scripts/execute_notebooks.py stores none."""
    assert "widgets" not in nbformat.read(path, as_version=4).metadata


def test_every_chapter_has_a_measured_runtime_of_a_few_minutes_at_most():
    runtimes = json.loads((ROOT / "notebooks" / "runtimes.json").read_text(encoding="utf-8"))
    assert set(runtimes) == {p.stem for p in NOTEBOOKS}
    for name, record in runtimes.items():
        assert 0 < record["seconds"] < 180, name  # the intro says "a few minutes at most"
        assert record["machine"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["date"])


PAGES = sorted((ROOT / "book").glob("*.md"))


def text_of(path: Path) -> str:
    return markdown(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")


def glossary_anchors() -> set[str]:
    """The ids Sphinx gives the glossary's terms (scripts/portable_markup.py links to them)."""
    from scripts.portable_markup import term_anchor

    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].rsplit("```", 1)[0]
    return {term_anchor(line) for line in body.splitlines() if line and not line[0].isspace()}


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=lambda p: p.name)
def test_citations_and_terms_are_plain_links_every_markdown_renderer_shows(path):
    """JupyterLab, Colab and VS Code show a Sphinx role as a bare key with a warning sign;
    scripts/portable_markup.py rewrites them as Markdown links to the book's back matter."""
    left = re.findall(r"\{(?:cite:[pt]|cite|term)\}`[^`]*`", text_of(path))
    assert not left, f"run scripts/portable_markup.py: {left[:3]}"


def test_the_references_hold_the_papers_the_book_rests_on_and_every_link_resolves():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, re.M))
    assert {"bahdanau2015", "cho2014", "sutskever2014", "luong2015", "vaswani2017"} <= keys
    anchors = glossary_anchors()
    assert len(anchors) >= 40
    cited, terms = set(), set()
    for path in NOTEBOOKS + PAGES:
        text = text_of(path)
        cited |= set(re.findall(r"references\.md#cite-([\w-]+)\)", text))
        terms |= set(re.findall(r"glossary\.md#(term-[\w-]+)\)", text))
    assert cited and cited <= keys, cited - keys
    assert terms and terms <= anchors, terms - anchors


def test_licences_and_citation_are_there():
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in (ROOT / "LICENSE-TEXT.md").read_text(encoding="utf-8")
    assert "CC BY 2.0 FR" in (ROOT / "data" / "cmn-eng" / "LICENSE.md").read_text(encoding="utf-8")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"].startswith("1.2") and cff["title"] and cff["authors"]


def test_every_number_the_source_notes_page_quotes_is_one_a_chapter_computes():
    """book/source-notes.md quotes the chapters' measurements; each number must still appear in a
    chapter (its prose, guarded by an assert there, or its committed outputs), or the page is stale."""
    text = (ROOT / "book" / "source-notes.md").read_text(encoding="utf-8")
    quoted = set(re.findall(r"(?<![\w.])(\d+\.\d+|\d+ ?%)", text))
    corpus = []
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            corpus.append(cell.source)
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                corpus += [out.get("text", ""), data.get("text/plain", ""), data.get("text/markdown", "")]
    corpus = "\n".join(corpus)
    assert len(quoted) >= 20
    stale = sorted(n for n in quoted if n not in corpus and n.replace(" ", "") not in corpus)
    assert not stale, f"numbers on the source-notes page that no chapter shows: {stale}"
