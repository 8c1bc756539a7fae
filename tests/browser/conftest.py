import pytest
from playwright.sync_api import sync_playwright

from .book import HTML, build_book, launch, serve


@pytest.fixture(scope="session")
def book_url():
    build_book()
    with serve(HTML) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
