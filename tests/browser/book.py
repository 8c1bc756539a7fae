"""The built book, served on 127.0.0.1 and driven in Debian's chromium, offline.

The browser machinery is :mod:`tools.browser` (shared with the benchmarks); this module adds
what the book's tests need: where the book is built, its chapter pages, widget payloads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from tools.browser import (  # re-exported: the browser tests import them from here
    CHROMIUM,
    CHROMIUM_ARGS,
    KNOWN_CONSOLE_ERRORS,
    PageLog,
    launch,
    open_page,
    serve,
)

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "HTML",
    "KNOWN_CONSOLE_ERRORS",
    "ROOT",
    "PageLog",
    "assert_clean",
    "build_book",
    "build_zh_book",
    "chapter_page",
    "launch",
    "open_page",
    "serve",
    "widget_state",
]

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("ATTNBOOK_HTML", ROOT / "_build" / "html"))  # a book built elsewhere
ZH = "zh_CN"  # the Chinese edition, built into HTML / ZH by scripts/i18n.py


def build_book() -> None:
    """Build the book into _build/html if it is not there yet."""
    if (HTML / "index.html").exists():
        return
    subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", "-W", "-n", "--keep-going", str(ROOT)],
        check=True,
        cwd=ROOT,
    )


def build_zh_book() -> None:
    """Build the English book, then the Chinese one into _build/html/zh_CN, if not there yet."""
    build_book()
    if (HTML / ZH / "book" / "intro.html").exists():
        return
    subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n.py"), "build"], check=True, cwd=ROOT)


def widget_state(page, root: str = ".attnlib-widget") -> dict:
    """The state the first widget matching ``root`` was built with (the JSON payload the
    static page carries beside it)."""
    wid = page.locator(root).first.get_attribute("id")
    return json.loads(page.locator(f"script[id='{wid}-data']").text_content())["state"]


@contextmanager
def chapter_page(browser, book_url: str, path: str, widget: str):
    """A chapter of the built book, opened offline, with its first ``widget`` on screen;
    yields ``(page, log)`` and closes the page afterwards."""
    log = PageLog()
    page = open_page(browser, f"{book_url}/{path}", log)
    try:
        page.locator(widget).first.wait_for()
        page.locator(widget).first.scroll_into_view_if_needed()
        yield page, log
    finally:
        page.context.close()


def assert_clean(log: PageLog) -> None:
    """Nothing was asked of another host, and no error was logged but the known THEBE one."""
    assert not log.external_requests, log.external_requests
    assert not log.unexpected_console_errors(), log.console_errors
    assert all(any(k in e for k in KNOWN_CONSOLE_ERRORS) for e in log.page_errors), log.page_errors
