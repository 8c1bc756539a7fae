"""Run JupyterLab on 127.0.0.1 and drive the book's notebooks in Debian's chromium.

Shared by the tests in this folder. JupyterLab runs in its own process with no token and
fresh settings, workspace and runtime folders, so nothing from a reader's own JupyterLab
leaks in. Its root is a temporary mirror of this checkout: a copy of ``notebooks/`` and
links to everything else, so running a chapter (or a stray save) never writes to the
checkout's notebooks. The page gets ``window.jupyterapp``
(``--LabApp.expose_app_in_browser``), so a test can run JupyterLab's own commands.

The environment under test is the Python that runs JupyterLab, and so the kernels:
``ATTNBOOK_LAB_PYTHON`` (for example ``.venv-binder/bin/python``), else the Python
running pytest. Either way ``attnlib`` comes from this checkout (``PYTHONPATH``).

The kernels run as a reader's would: **without** the book's pinned numerics
(``attnlib/numerics.env``) and on torch's baseline CPU kernels (``ATEN_CPU_CAPABILITY``,
``default`` unless ``ATTNBOOK_LAB_CAPABILITY`` says otherwise), so a chapter whose asserts
hold only under the pinned setting fails here (every assert must hold on every CPU).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from attnlib.numerics import unpinned_environment
from tools.browser import PageLog, open_page

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
# absolute, not resolved: the venv's python is a symlink, and JupyterLab starts in another directory
LAB_PYTHON = os.path.abspath(os.environ.get("ATTNBOOK_LAB_PYTHON", sys.executable))
PORTS = range(8200, 8300)  # the ports this project may use on shared machines
VIEWPORT = {"width": 1400, "height": 1000}
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
STARTUP_SECONDS = 90  # server start, or JupyterLab's page becoming ready
RUN_ALL_SECONDS = 900  # hang guard: the slowest chapter takes ~80 s on 2 idle cores, 5x on busy ones
CELL_SECONDS = 60  # one short cell typed by a test
POLL_SECONDS = 20  # how often the runner looks at runs whose Run All has not returned
QUIET_POLLS = 3  # polls in a row with every cell run and an idle kernel: the run is over
NOT_MIRRORED = {"notebooks", ".git", "_build", ".venv", ".venv-binder", ".pytest_cache", ".ipynb_checkpoints"}

# User settings of the temporary JupyterLab: never save (a test must not rewrite a notebook),
# every cell attached to the page (so a test sees all of them), no news, no update checks.
SETTINGS = {
    "docmanager-extension/plugin": {"autosave": False},
    "notebook-extension/tracker": {"windowingMode": "none"},
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

# JavaScript run in the page. `panel(path)` finds the notebook panel of an open file.
_PANEL = """const panel = (path) => [...jupyterapp.shell.widgets("main")]
  .find((w) => w.context && w.context.path === path);"""


# ---- the server -------------------------------------------------------------------------


def free_port() -> int:
    """The first port of ``PORTS`` nobody listens on (or ``ATTNBOOK_LAB_PORT``)."""
    if "ATTNBOOK_LAB_PORT" in os.environ:
        return int(os.environ["ATTNBOOK_LAB_PORT"])
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def mirror_checkout(root: Path) -> None:
    """Make ``root`` look like the checkout: a copy of the notebooks, links to the rest."""
    root.mkdir(parents=True)
    shutil.copytree(NOTEBOOKS, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for item in ROOT.iterdir():
        if item.name not in NOT_MIRRORED:
            (root / item.name).symlink_to(item)


def write_settings(settings_dir: Path) -> None:
    """JupyterLab user settings for tests (``SETTINGS``), light theme to start with."""
    files = dict(SETTINGS, **{"apputils-extension/themes": {"theme": THEMES["light"]}})
    for name, values in files.items():
        path = settings_dir / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def lab_command(port: int, root: Path, python: str = LAB_PYTHON) -> list[str]:
    """The command line of a JupyterLab server for tests: loopback, no token, no browser."""
    command = [
        python,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
        command.append("--allow-root")
    return command


def lab_env(home: Path) -> dict[str, str]:
    """The server's (and the kernels') environment: fresh Jupyter folders under ``home``,
    attnlib from this checkout, a reader's numerics (unpinned, baseline CPU kernels)."""
    env = unpinned_environment(os.environ)
    env["ATEN_CPU_CAPABILITY"] = os.environ.get("ATTNBOOK_LAB_CAPABILITY", "default")
    for var, sub in (
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_DATA_DIR", "data"),
    ):
        env[var] = str(home / sub)
        (home / sub).mkdir(parents=True, exist_ok=True)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    for var in ("NBVAL", "TQDM_DISABLE"):  # a reader's kernel: progress bars on
        env.pop(var, None)
    return env


def wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    """Return once ``url/api/status`` answers; fail with the server's log if it exits."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            with suppress(subprocess.TimeoutExpired):  # not up yet: wait a moment (or for its exit)
                process.wait(timeout=0.2)
    raise RuntimeError(f"JupyterLab did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


@contextmanager
def jupyterlab(python: str = LAB_PYTHON):
    """A JupyterLab server on a mirror of this checkout; yields its base URL, then stops it."""
    with tempfile.TemporaryDirectory(prefix="attnbook-lab-") as tmp:
        home = Path(tmp)
        env = lab_env(home)
        write_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
        mirror_checkout(home / "book")
        port, log = free_port(), home / "server.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                lab_command(port, home / "book", python),
                env=env,
                cwd=home / "book",
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(url, process, log)
            yield url
        finally:
            process.terminate()  # SIGTERM: the server shuts its kernels down, then exits
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---- the page ---------------------------------------------------------------------------

# JupyterLab itself rejects a promise when a kernel restarts while one of its own requests
# (debugger state, subshells) is pending: "Canceled future for debug_request message before
# replies were done". Harmless, and nothing to do with the book.
KNOWN_PAGE_ERRORS = ("Canceled future for",)


def log_mark(log: PageLog) -> tuple[int, int]:
    """Where ``log`` (page errors, external requests) is now: pass it to ``log_since``."""
    return len(log.page_errors), len(log.external_requests)


def log_since(log: PageLog, mark: tuple[int, int]) -> tuple[list[str], list[str]]:
    """The unexpected page errors and the external requests logged after ``mark``."""
    errors = [e for e in log.page_errors[mark[0] :] if not any(k in e for k in KNOWN_PAGE_ERRORS)]
    return errors, log.external_requests[mark[1] :]


def open_lab(browser, url: str, log: PageLog):
    """JupyterLab in a new page (every non-loopback request aborted, errors logged); returns
    once the app has restored its layout."""
    page = open_page(browser, f"{url}/lab?reset", log, viewport=VIEWPORT)
    page.wait_for_function("window.jupyterapp !== undefined", timeout=STARTUP_SECONDS * 1000)
    page.evaluate("async () => { await jupyterapp.started; await jupyterapp.restored; }")
    return page


def run_command(page, command: str, args: dict | None = None) -> None:
    """Run one of JupyterLab's commands (as a menu or the palette would) and wait for it."""
    page.evaluate("([c, a]) => jupyterapp.commands.execute(c, a).then(() => null)", [command, args or {}])


def set_theme(page, theme: str) -> None:
    """Switch JupyterLab to the ``light`` or ``dark`` theme and wait until it applies."""
    run_command(page, "apputils:change-theme", {"theme": THEMES[theme]})
    page.wait_for_function(
        "([name, light]) => document.body.dataset.jpThemeName === name "
        "&& document.body.dataset.jpThemeLight === light",
        arg=[THEMES[theme], str(theme == "light").lower()],
        timeout=30_000,
    )


# ---- notebooks --------------------------------------------------------------------------


@dataclass
class Notebook:
    """An open notebook in JupyterLab: ``page``, its ``path`` (from the server's root) and
    ``root``, the locator of its panel."""

    page: Any
    path: str

    @property
    def id(self) -> str:
        """The panel's widget id (the DOM id of its node)."""
        return self.evaluate("return nb.id;")

    @property
    def root(self):
        return self.page.locator(f"[id='{self.id}']")

    def evaluate(self, body: str, arg: Any = None) -> Any:
        """Run ``body`` (JavaScript, an async function body) with ``nb``, this notebook's
        panel, and ``arg`` in scope."""
        script = f"async ([path, arg]) => {{ {_PANEL} const nb = panel(path); {body} }}"
        return self.page.evaluate(script, [self.path, arg])

    def command(self, command: str) -> None:
        """Run a notebook command on this notebook (whichever tab is in front) and wait for it."""
        self.evaluate(
            "await jupyterapp.commands.execute(arg, { widgetId: nb.id, activate: false });", command
        )

    def activate(self) -> None:
        """Bring this notebook's tab to the front."""
        self.evaluate("jupyterapp.shell.activateById(nb.id);")

    def cells(self):
        """The locator of every cell."""
        return self.root.locator(".jp-Notebook .jp-Cell")


def open_notebook(page, path: str) -> Notebook:
    """Open ``path`` in a tab (as the file browser would) and wait until its kernel is ready."""
    run_command(page, "docmanager:open", {"path": path})
    nb = Notebook(page, path)
    nb.evaluate("await nb.context.ready; await nb.sessionContext.ready; await nb.revealed;")
    return nb


def close_notebook(nb: Notebook) -> None:
    """Shut the notebook's kernel down and close its tab without saving."""
    nb.evaluate("await nb.sessionContext.shutdown(); nb.context.model.dirty = false; nb.dispose();")


def wait_kernel_idle(nb: Notebook, timeout_s: float = CELL_SECONDS) -> None:
    """Wait until the toolbar's kernel indicator says idle (its tab may be in the back)."""
    nb.root.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
        state="attached", timeout=timeout_s * 1000
    )


def start_restart_and_run_all(nb: Notebook) -> None:
    """Kernel > Restart Kernel and Run All Cells, confirmed in its dialog; returns at once.
    ``finished_runs`` tells when it is over."""
    nb.command("notebook:clear-all-cell-outputs")  # outputs appear only from this run
    nb.evaluate("""const start = performance.now();
      const end = (outcome) => {
        window.__attnbookRuns[path] = [outcome, (performance.now() - start) / 1000];
      };
      (window.__attnbookRuns ||= {})[path] = null;
      jupyterapp.commands.execute('notebook:restart-run-all', { widgetId: nb.id })
        .then(() => end('done'), (e) => end(String(e)));""")
    nb.page.locator(".jp-Dialog .jp-mod-accept").click()  # "Restart"
    nb.page.locator(".jp-Dialog").wait_for(state="detached")


def finished_runs(page, paths: list[str], timeout_s: float = RUN_ALL_SECONDS) -> dict[str, tuple[str, float]]:
    """Wait until at least one of the runs started on ``paths`` is over; return each finished
    one's outcome ("done", or the error that stopped the command) and its seconds (from the
    command to its last cell, measured in the page)."""
    page.wait_for_function(
        "(paths) => paths.some((p) => window.__attnbookRuns[p] !== null)",
        arg=paths,
        timeout=timeout_s * 1000,
        polling=250,
    )
    return page.evaluate(
        """(paths) => Object.fromEntries(paths
      .filter((p) => window.__attnbookRuns[p] !== null).map((p) => [p, window.__attnbookRuns[p]]))""",
        paths,
    )


class Runner:
    """Restart Kernel and Run All for a list of notebooks, in order, ``parallel`` at a time,
    each in its own tab. The book trains on one thread, so on two cores two chapters run side
    by side; the tests of one chapter run while the next one computes."""

    def __init__(self, page, log: PageLog, paths: list[str], parallel: int = 2) -> None:
        self.page, self.log, self.parallel = page, log, parallel
        self.pending = list(paths)
        self.marks: dict[str, tuple[int, int]] = {}  # the page log when each run started
        self.running: dict[str, Notebook] = {}
        self.finished: dict[str, tuple[Notebook, float]] = {}
        self.started: dict[str, float] = {}  # time.monotonic() when each run started
        self.last: dict[str, tuple[bool, int]] = {}  # (kernel idle, cells left) at the last poll
        self.retried: set[str] = set()  # runs started a second time after stalling

    def _fill(self) -> None:
        """Start the next notebooks until ``parallel`` are running."""
        while self.pending and len(self.running) < self.parallel:
            self.marks[self.pending[0]] = log_mark(self.log)
            nb = open_notebook(self.page, self.pending.pop(0))
            start_restart_and_run_all(nb)
            self.running[nb.path] = nb
            self.started[nb.path] = time.monotonic()

    def result(self, path: str) -> tuple[Notebook, float, tuple[int, int]]:
        """Wait until ``path`` has run (starting others as slots free up); return it, in
        front and with an idle kernel, the seconds its run took and the page log's mark from
        when it started."""
        self._fill()
        started, quiet = time.monotonic(), {}
        while path not in self.finished:
            assert path in self.running, f"{path} was not scheduled"
            assert time.monotonic() - started < RUN_ALL_SECONDS, f"{path}: Run All did not finish"
            try:
                done = finished_runs(self.page, list(self.running), timeout_s=POLL_SECONDS)
            except PlaywrightTimeoutError:
                done = self._lost_promises(quiet)
            for name, (outcome, seconds) in done.items():
                nb = self.running.pop(name)
                assert outcome == "done", f"Restart Kernel and Run All failed on {name}: {outcome}"
                self.finished[name] = (nb, seconds)
            self._fill()
        nb, seconds = self.finished.pop(path)
        nb.activate()  # a panel in a background tab does not update its kernel indicator
        wait_kernel_idle(nb)
        return nb, seconds, self.marks.pop(path)

    def _lost_promises(self, quiet: dict[str, int]) -> dict[str, tuple[str, float]]:
        """Runs whose every cell has run while the kernel stays idle, but whose Run All command
        never returned (JupyterLab sometimes drops the reply when two notebooks restart at once):
        over, after ``QUIET_POLLS`` unchanged polls in a row. A run that makes no progress at all
        with an idle kernel for twice as long is started once more."""
        over = {}
        for name, nb in self.running.items():
            idle = nb.evaluate("return nb.sessionContext.session?.kernel?.status === 'idle';")
            left = len(unexecuted_cells(nb))
            state = (idle, left)
            quiet[name] = quiet.get(name, 0) + 1 if idle and state == self.last.get(name) else 0
            self.last[name] = state
            if quiet[name] >= QUIET_POLLS and not left:
                over[name] = ("done", time.monotonic() - self.started[name])
            elif quiet[name] >= 2 * QUIET_POLLS and name not in self.retried:
                # cells left, an idle kernel and no progress: the run never started; start it again
                self.retried.add(name)
                quiet[name] = 0
                start_restart_and_run_all(nb)
        return over


def unexecuted_cells(nb: Notebook) -> list[int]:
    """Indices of non-empty code cells with no execution count (not run, or stopped before)."""
    return nb.evaluate("""return [...nb.model.cells].map((c, i) => [c, i])
      .filter(([c]) => c.type === 'code' && c.sharedModel.getSource().trim())
      .filter(([c]) => c.executionCount === null)
      .map(([, i]) => i);""")


def run_remaining(nb: Notebook) -> None:
    """After a Run All that stopped at an error, run the cells it left, as a reader would
    (Run > Run Selected Cell and All Below, from the first cell not run), so the chapter's
    later cells, its widget among them, can still be checked. The error stays on the page."""
    for _ in range(len(unexecuted_cells(nb))):
        left = unexecuted_cells(nb)
        if not left:
            return
        nb.activate()  # then Run > Run Selected Cell and All Below, from the first not run
        nb.evaluate(
            """nb.content.activeCellIndex = arg; nb.content.deselectAll();
          await jupyterapp.commands.execute('notebook:run-all-below');""",
            left[0],
        )
        wait_kernel_idle(nb)


def error_outputs(nb: Notebook) -> list[str]:
    """Every exception the run showed: error outputs in the model, and any stderr output on
    the page that carries a traceback."""
    in_model = nb.evaluate("""const out = [];
      [...nb.model.cells].forEach((c, i) => {
        if (c.type !== 'code') return;
        for (const o of c.outputs.toJSON()) {
          if (o.output_type === 'error') out.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
        }
      });
      return out;""")
    stderr = nb.root.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    on_page = [t for t in stderr.all_inner_texts() if "Traceback" in t or "Error:" in t]
    return in_model + on_page


def scratch_cell(nb: Notebook):
    """The locator of a code cell added at the end of the notebook (added once) for a test's
    own code."""
    if not nb.root.locator(".jp-Cell.attnbook-scratch").count():
        nb.evaluate("""nb.content.activeCellIndex = nb.content.widgets.length - 1;
          nb.content.mode = 'command';
          const here = { widgetId: nb.id, activate: false };
          await jupyterapp.commands.execute('notebook:insert-cell-below', here);
          await jupyterapp.commands.execute('notebook:change-cell-to-code', here);
          nb.content.activeCell.addClass('attnbook-scratch');""")
    return nb.root.locator(".jp-Cell.attnbook-scratch")


def run_code(nb: Notebook, code: str) -> str:
    """Type one line of ``code`` into the scratch cell, run it with Ctrl+Enter, and return
    what it printed (stdout, stderr and the result, as shown)."""
    cell = scratch_cell(nb)
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    cell.locator(".cm-content").fill(code)
    cell.locator(".cm-content").press("Control+Enter")
    nb.page.wait_for_function(
        "([el, before]) => /\\[\\d+\\]/.test(el.textContent) && el.textContent !== before",
        arg=[prompt.element_handle(), before],
        timeout=CELL_SECONDS * 1000,
    )
    errors = cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert not errors.count(), f"{code!r} failed:\n" + "\n".join(errors.all_inner_texts())
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def kernel_value(nb: Notebook, expr: str) -> Any:
    """The value of a Python expression in the notebook's kernel, as JSON."""
    return json.loads(run_code(nb, f"import json; print(json.dumps({expr}))"))


def eventually_kernel_value(nb: Notebook, expr: str, accept, timeout_s: float = CELL_SECONDS) -> Any:
    """Re-run ``expr`` in the kernel until ``accept(value)`` holds, and return the value.

    A widget sends its changes to the kernel a few at a time (ipywidgets throttles its
    messages until the kernel has handled the previous one), so the last change of a drag
    may reach the kernel just after a cell that reads it. Each try is a real round trip;
    the last value read is in the failure message.
    """
    deadline = time.monotonic() + timeout_s
    value = kernel_value(nb, expr)
    while not accept(value) and time.monotonic() < deadline:
        value = kernel_value(nb, expr)
    assert accept(value), f"the kernel's {expr} is {value!r}"
    return value


def raw_markup(nb: Notebook) -> list[str]:
    """Visible MyST that plain JupyterLab left as text, one line per cell: roles
    (``{term}`query` ``), colon fences (``:::{admonition}``), and code blocks whose
    language is a ``{directive}`` or that hold directive options (``:pyobject: ...``)."""
    return nb.evaluate("""
      const found = [];
      const ROLE = /\\{[a-zA-Z][\\w:.-]*\\}`[^`]*`/g;  // {term}`query`
      const FENCE = /:::+[ \\t]*(\\{[\\w-]*\\})?/g;  // :::{admonition}
      const OPTION = /^:[a-z-]+:/m;  // :class: tip
      nb.content.widgets.forEach((cell, i) => {
        // the rendered cell: JupyterLab's own Markdown renderer, or jupyterlab-myst's
        const md = cell.node.querySelector('.jp-MarkdownOutput, .myst');
        if (!md) return;
        const blocks = [...md.querySelectorAll('pre > code')]
          .filter((code) => /language-\\{/.test(code.className) || OPTION.test(code.textContent))
          .map((code) => 'directive options as code: ' + JSON.stringify(code.textContent.slice(0, 40)));
        const copy = md.cloneNode(true);  // the prose as read: inline code in backticks, no math
        copy.querySelectorAll('pre, mjx-container, .MathJax, script, style').forEach((e) => e.remove());
        copy.querySelectorAll('code').forEach((e) => e.replaceWith('`' + e.textContent + '`'));
        const text = copy.textContent.replace(/\\$\\$[\\s\\S]*?\\$\\$|\\$[^$]*\\$/g, '');
        const marks = [...new Set([...text.matchAll(ROLE), ...text.matchAll(FENCE)].map((m) => m[0]))];
        if (marks.length || blocks.length) found.push(`cell ${i}: ${[...marks, ...blocks].join(', ')}`);
      });
      return found;""")


def listings(nb: Notebook):
    """The locator of every library listing shown as a cell output: ``show_source``'s
    Markdown code block ("`attnlib.x.y`, from `attnlib/x.py`:" and the code), or any output
    element with the class ``attnlib-source``."""
    outputs = nb.root.locator(".jp-OutputArea-output")
    return outputs.filter(has=nb.page.locator(".attnlib-source")).or_(
        outputs.filter(has=nb.page.locator("pre"), has_text="from attnlib/")
    )
