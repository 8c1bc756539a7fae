"""Rewrite Sphinx-only citation and glossary roles as links every Markdown renderer shows.

The HTML book resolves ``{cite:t}`key```, ``{cite:p}`key``` and ``{term}`word``` itself, but
JupyterLab (even with jupyterlab-myst), Colab, VS Code and GitHub do not: a reader of the
notebook would see a bare key with a warning sign. This script turns each role into an
ordinary Markdown link whose text is the citation itself, so every front end shows clean text
and the book still links to the entry:

    {cite:t}`bahdanau2015`          ->  [Bahdanau et al. (2015)](../book/references.md#cite-bahdanau2015)
    {cite:p}`cho2014,luong2015`     ->  ([Cho et al. 2014](...#cite-cho2014); [Luong et al. 2015](...))
    {term}`context vector`          ->  [context vector](../book/glossary.md#term-context-vector)
    {term}`values <value>`          ->  [values](../book/glossary.md#term-value)

Run it after writing a chapter or page with roles; ``tests/test_book.py`` fails while a role is
left, or a link names a key that ``book/references.bib`` or a term that the glossary lacks.

    .venv/bin/python scripts/portable_markup.py            # rewrite notebooks/*.ipynb and book/*.md
    .venv/bin/python scripts/portable_markup.py --check    # only report what it would rewrite
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from pybtex.database import parse_file
from sphinx.util.nodes import _make_id  # the id rule of Sphinx's glossary terms

ROOT = Path(__file__).resolve().parent.parent
BIB = ROOT / "book" / "references.bib"
ROLE = re.compile(r"\{(cite:t|cite:p|term)\}`([^`]+)`")


def author_year(entry) -> tuple[str, str]:
    """("Bahdanau et al.", "2015") for a pybtex entry: one or two surnames, or the first et al."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = ["".join(p.last_names).replace("{", "").replace("}", "") for p in people]
    if not names:
        who = entry.fields.get("title", "?")
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return who, entry.fields.get("year", "n.d.")


def glossary_terms() -> dict[str, str]:
    """The glossary's terms as written, by their lower-case form (Sphinx matches terms that way)."""
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].rsplit("```", 1)[0]
    return {line.lower(): line for line in body.splitlines() if line and not line[0].isspace()}


def term_anchor(term: str) -> str:
    """The id Sphinx gives a glossary term: ``term-`` and the term, as the glossary writes it,
    made an identifier (``{term}`Grouped-query attention``` links to "grouped-query attention")."""
    return _make_id(f"term-{glossary_terms().get(term.lower(), term)}")


def rewrite(text: str, prefix: str, bib) -> str:
    """``text`` with every role replaced by a link; ``prefix`` leads from the page to book/."""

    def cite(key: str, textual: bool) -> str:
        if key not in bib.entries:
            raise KeyError(f"{key!r} is not in {BIB.name}")
        who, year = author_year(bib.entries[key])
        label = f"{who} ({year})" if textual else f"{who} {year}"
        return f"[{label}]({prefix}references.md#cite-{key})"

    def replace(m: re.Match) -> str:
        role, body = m.group(1), m.group(2)
        if role == "term":
            shown, _, target = body.partition(" <")
            target = target[:-1] if target else shown
            return f"[{shown}]({prefix}glossary.md#{term_anchor(target)})"
        keys = [k.strip() for k in body.split(",")]
        if role == "cite:t":
            return "; ".join(cite(k, True) for k in keys)
        return "(" + "; ".join(cite(k, False) for k in keys) + ")"

    return ROLE.sub(replace, text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="report, do not rewrite")
    args = p.parse_args()
    bib = parse_file(str(BIB))
    changed = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        new = [
            rewrite(c.source, "../book/", bib) if c.cell_type == "markdown" else c.source for c in nb.cells
        ]
        if any(n != c.source for n, c in zip(new, nb.cells, strict=True)):
            changed.append(path)
            if not args.check:
                for cell, source in zip(nb.cells, new, strict=True):
                    cell.source = source
                nbformat.write(nb, path)
    for path in sorted((ROOT / "book").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, "", bib)
        if new != text:
            changed.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in changed:
        print(("would rewrite " if args.check else "rewrote ") + str(path.relative_to(ROOT)))
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
