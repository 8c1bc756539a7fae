import pytest

from .book import build_book, launch, serve


@pytest.fixture(scope="session")
def book_url():
    build_book()
    with serve() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
