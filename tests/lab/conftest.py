"""Session fixtures: one JupyterLab server and one chromium page for the whole run, and each
chapter run from a fresh kernel once (Kernel > Restart Kernel and Run All Cells), its tests
grouped together: pytest orders the tests by this session-scoped parameter. Chapters run
one at a time by default (``ATTNBOOK_LAB_PARALLEL``): two kernels restarting at once in one
page sometimes lose a reply in JupyterLab 4.6 (a run never returns, or a kernel never reports
idle again)."""

import os
from dataclasses import dataclass

import pytest
from playwright.sync_api import sync_playwright

from tools.browser import PageLog, launch

from .chapters import CASES, WidgetCase
from .lab import (
    NOTEBOOKS,
    Notebook,
    Runner,
    close_notebook,
    jupyterlab,
    open_lab,
    run_remaining,
    unexecuted_cells,
)

CHAPTERS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
PARALLEL = int(os.environ.get("ATTNBOOK_LAB_PARALLEL", "1"))
RUN_SECONDS: dict[str, float] = {}  # chapter -> Restart Kernel and Run All, wall seconds


@dataclass
class Chapter:
    """A chapter notebook open in JupyterLab after Restart Kernel and Run All."""

    name: str
    nb: Notebook
    case: WidgetCase
    log: PageLog
    log_mark: tuple[int, int]  # where the page's log stood when the chapter's run started
    seconds: float  # how long Restart Kernel and Run All took (beside another chapter)
    not_run: list[int]  # the cells Run All did not reach (it stops at an error)


@pytest.fixture(scope="session")
def lab_url():
    with jupyterlab() as url:
        yield url


@pytest.fixture(scope="session")
def lab(lab_url):
    """JupyterLab's page, and the log of what it did."""
    log = PageLog()
    with sync_playwright() as p:
        browser = launch(p)
        page = open_lab(browser, lab_url, log)
        yield page, log
        browser.close()


@pytest.fixture(scope="session")
def runner(request, lab):
    """Runs the chapters the selected tests need, in order, ``PARALLEL`` at a time."""
    wanted = {
        item.callspec.params["chapter"]
        for item in request.session.items
        if hasattr(item, "callspec") and "chapter" in item.callspec.params
    }
    page, log = lab
    return Runner(page, log, [f"notebooks/{c}.ipynb" for c in CHAPTERS if c in wanted], PARALLEL)


@pytest.fixture(scope="session", params=CHAPTERS)
def chapter(request, lab, runner):
    nb, seconds, mark = runner.result(f"notebooks/{request.param}.ipynb")
    not_run = unexecuted_cells(nb)
    if not_run:  # test_runs_... fails; run the rest so the other tests still see the widget
        run_remaining(nb)
    RUN_SECONDS[request.param] = seconds
    yield Chapter(request.param, nb, CASES[request.param], lab[1], mark, seconds, not_run)
    close_notebook(nb)


def pytest_terminal_summary(terminalreporter):
    """How long each chapter took in JupyterLab (two ran at a time)."""
    if RUN_SECONDS:
        times = ", ".join(f"{name} {s:.0f} s" for name, s in RUN_SECONDS.items())
        terminalreporter.write_line(f"JupyterLab, Restart Kernel and Run All ({PARALLEL} at a time): {times}")
