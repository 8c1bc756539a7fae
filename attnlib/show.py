"""Show the library's own code in a chapter, the same in every front end.

A chapter teaches with ``attnlib``'s functions and shows their code beside the prose. It
asks for the listing in a code cell::

    show_source(attention)        # the function, read from attnlib/attention.py
    show_source(Seq2Seq.step)     # a method

The result displays as a Markdown code block (``text/markdown``): JupyterLab, Colab, VS Code
and the HTML book (myst-nb) all highlight it in their own theme, light or dark, and a plain
console prints the code. Readers of the notebook and of the book therefore see exactly the
code that runs, never a copy that could drift from it.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Listing", "show_source"]

PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Listing:
    """A piece of the library's source: its code, its qualified name and its file."""

    code: str  # the source, dedented, without a trailing newline
    name: str  # e.g. "attnlib.seq2seq.Seq2Seq.step"
    path: str  # e.g. "attnlib/seq2seq.py"

    def _repr_markdown_(self) -> str:
        fence = "````" if "```" in self.code else "```"
        return f"`{self.name}`, from `{self.path}`:\n\n{fence}python\n{self.code}\n{fence}\n"

    def __repr__(self) -> str:
        return f"# {self.name}, from {self.path}\n{self.code}"


def show_source(obj: object) -> Listing:
    """The source of a function, class or method of ``attnlib``, as a displayable listing."""
    target = inspect.unwrap(obj) if callable(obj) else obj
    module = inspect.getmodule(target)
    if module is None or not (module.__name__ == "attnlib" or module.__name__.startswith("attnlib.")):
        raise TypeError(
            f"show_source shows attnlib's own functions and classes; got "
            f"{getattr(obj, '__qualname__', type(obj).__name__)!r} from "
            f"{getattr(module, '__name__', 'nowhere')}"
        )
    try:
        code = inspect.getsource(target)
    except (OSError, TypeError) as err:
        raise TypeError(f"no source to show for {obj!r}: {err}") from None
    file = Path(inspect.getsourcefile(target) or "").resolve()
    path = f"attnlib/{file.relative_to(PACKAGE).as_posix()}" if file.is_relative_to(PACKAGE) else file.name
    name = f"{module.__name__}.{getattr(target, '__qualname__', '')}".rstrip(".")
    return Listing(textwrap.dedent(code).rstrip("\n"), name, path)
