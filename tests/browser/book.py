"""Serve the built book on 127.0.0.1 and drive it in Debian's chromium, offline.

Shared by the browser tests and the benchmarks. Every request to a host other
than the local server is aborted and recorded, so a test can assert that a page
needs nothing from the internet.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("ATTNBOOK_HTML", ROOT / "_build" / "html"))  # a book built elsewhere
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Jupyter Book 1 pages log this one harmless error (thebe's script declares a constant twice).
KNOWN_CONSOLE_ERRORS = ("THEBE_JS_URL",)


def build_book() -> None:
    """Build the book into _build/html if it is not there yet."""
    if (HTML / "index.html").exists():
        return
    subprocess.run(
        [sys.executable, "-m", "jupyter_book", "build", "-W", "-n", "--keep-going", str(ROOT)],
        check=True,
        cwd=ROOT,
    )


@contextmanager
def serve(directory: Path = HTML):
    """Serve ``directory`` on an ephemeral port of 127.0.0.1; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@dataclass
class PageLog:
    """What a page did: console errors, and requests that tried to leave the machine."""

    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def unexpected_console_errors(self) -> list[str]:
        return [e for e in self.console_errors if not any(k in e for k in KNOWN_CONSOLE_ERRORS)]


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_page(browser, url: str, log: PageLog, **context_args):
    """A new page that aborts every non-loopback request and records console errors."""
    context = browser.new_context(**context_args)
    page = context.new_page()

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            log.external_requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and log.console_errors.append(m.text))
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("dialog", lambda d: (log.page_errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(url, wait_until="load")
    return page


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
