"""Drive Debian's chromium offline: serve a folder on 127.0.0.1, launch the browser, open
pages that may not leave the machine.

Shared by the browser tests (``tests/browser``, ``tests/lab``) and the benchmarks (``bench``).
Every request to a host other than the local server is aborted and recorded, so a check can
assert that a page needs nothing from the internet. Run from the repository root (pytest's
``pythonpath`` setting and ``python -m bench`` both put it on ``sys.path``).
"""

from __future__ import annotations

import functools
import http.server
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "KNOWN_CONSOLE_ERRORS", "PageLog", "launch", "open_page", "serve"]

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


@contextmanager
def serve(directory: Path):
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
