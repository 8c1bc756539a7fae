"""Run notebooks from a fresh kernel and save them with their outputs.

The book shows the outputs committed in ``notebooks/*.ipynb``; ``pytest --nbval``
checks that a fresh kernel reproduces them. After editing a chapter (or the code
it imports), re-run it here and commit the result:

    .venv/bin/python scripts/execute_notebooks.py notebooks/03_qkv_recipe.ipynb

Every kernel runs under the book's pinned numerics (``scripts/numerics.env``: one
instruction-set level for torch, MKL, oneDNN and numpy, one thread), the setting
``scripts/test.sh`` checks the outputs under, so the committed digits are the same
whatever CPU wrote them.

With no argument, every notebook in ``notebooks/`` is run. Each run's wall time is
printed and recorded in ``notebooks/runtimes.json`` with the machine it was measured on;
the book shows it at the top of each chapter (``book/_ext/attnbook.py``).
"""

import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from numerics import pinned_settings

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = ROOT / "notebooks" / "runtimes.json"
# Committed outputs must match what `pytest --nbval` sees: both run with TQDM_DISABLE set,
# so training progress bars (tqdm, whose text varies from run to run) stay quiet.
os.environ["TQDM_DISABLE"] = "1"
os.environ.update(pinned_settings())  # the kernels inherit this environment


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:  # keep diffs small: no per-run execution metadata
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return seconds


def machine() -> str:
    """A short description of this CPU, e.g. '2-core Intel Xeon ...'."""
    model = platform.processor() or "CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()}-core {model}"


def main(paths: list[str]) -> None:
    targets = [Path(p).resolve() for p in paths] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    times = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}
    for path in targets:
        seconds = run(path)
        times[path.stem] = {
            "seconds": round(seconds, 1),
            "machine": machine(),
            "date": datetime.date.today().isoformat(),
        }
        print(f"{path.name}: {seconds:.1f} s")
    RUNTIMES.write_text(json.dumps(dict(sorted(times.items())), indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
