"""Put (or refresh) the Colab set-up cell at the top of every chapter notebook.

Colab opens a single notebook from GitHub, without the rest of the repository. The cell
below, run first, fetches the repository (for ``attnlib``, the data and the cached weights)
and installs the pinned packages the chapters need. Everywhere else (JupyterLab, Binder,
nbval) ``google.colab`` is not loaded and the cell does nothing.

The repository address comes from ``repository.url`` in ``_config.yml``, the one setting
that names it; run this script after changing it:

    .venv/bin/python scripts/colab_setup.py           # write the cell into every notebook
    .venv/bin/python scripts/colab_setup.py --check   # exit 1 if a notebook is out of date

The cell carries the tag ``remove-cell``: the HTML book does not show it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MARK = "colab-setup"  # cell.metadata["attnbook"]: how the script finds its cell again
# The packages a chapter imports that Colab lacks or has at another version; exact pins
# are read from requirements.txt, so they never drift from the book's own.
COLAB_PACKAGES = ("numpy", "matplotlib", "anywidget", "ipywidgets", "tqdm", "sacrebleu", "opencc")

TEMPLATE = """\
# Only on Google Colab: fetch the book's repository and install what the chapters need.
# Anywhere else (JupyterLab, Binder) this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess
    from pathlib import Path

    REPO, BRANCH, HOME = "{url}", "{branch}", "/content/book"
    if not os.path.isdir(HOME):
        clone = ["git", "clone", "--depth", "1", "--branch", BRANCH, REPO, HOME]
        subprocess.run(clone, check=True)
    wanted = {packages}
    requirements = Path(HOME, "requirements.txt").read_text().splitlines()
    pins = [line.split("#")[0].strip() for line in requirements if line.split("==")[0] in wanted]
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *pins], check=True)
    # torch exactly as pinned, CPU build (the chapters are measured on a CPU)
    cpu_index = "https://download.pytorch.org/whl/cpu"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "torch==2.13.0", "--index-url", cpu_index],
                   check=True)
    sys.path.insert(0, HOME)
    os.chdir(HOME + "/notebooks")
    from google.colab import output

    output.enable_custom_widget_manager()  # the chapters' widgets are Jupyter widgets
"""


def repository() -> tuple[str, str]:
    """The repository address and branch, from _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch", "main")
    if not url or not str(url).startswith("https://"):
        raise SystemExit(f"_config.yml: repository.url must be an https address, got {url!r}")
    return str(url), str(branch)


def cell_source() -> str:
    url, branch = repository()
    return TEMPLATE.format(url=url, branch=branch, packages=json.dumps(sorted(COLAB_PACKAGES)))


def find_cell(nb) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("attnbook") == MARK:
            return i
    return None


def update(path: Path, check: bool) -> bool:
    """Make the notebook's set-up cell current; return True if it was (already) current."""
    nb = nbformat.read(path, as_version=4)
    source = cell_source()
    i = find_cell(nb)
    if i is not None and nb.cells[i].source == source:
        return True
    if check:
        return False
    if i is None:
        cell = nbformat.v4.new_code_cell(source, metadata={"attnbook": MARK, "tags": ["remove-cell"]})
        # after the title cell, before the chapter's imports
        nb.cells.insert(1, cell)
    else:
        nb.cells[i].source = source
    nbformat.write(nb, path)
    return False


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = [p.name for p in NOTEBOOKS if not update(p, check)]
    if check and stale:
        print(f"the Colab set-up cell is out of date in {stale}; run scripts/colab_setup.py", file=sys.stderr)
        return 1
    for name in stale:
        print(f"updated {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
