"""Launching the chapters elsewhere: Binder and Colab settings, and the Colab set-up cell."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("colab_setup", ROOT / "scripts" / "colab_setup.py")
colab_setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_setup)
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip()] = version.strip()
    return out


def test_one_setting_names_the_repository_and_every_launch_service():
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    buttons = CONFIG["launch_buttons"]
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert buttons["colab_url"] == "https://colab.research.google.com"
    assert "thebe" not in buttons  # see README: live code in the page


def test_binder_installs_the_cpu_torch_and_the_project():
    text = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    assert pins(ROOT / "binder" / "requirements.txt")["torch"] == "2.13.0+cpu"
    assert re.search(r"^-r \.\./requirements\.txt$", text, re.M)
    assert pins(ROOT / "requirements.txt")["torch"] == "2.13.0"
    assert "pip install --no-deps -e ." in (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK)


@pytest.mark.parametrize("path", colab_setup.NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_opens_on_colab(path):
    nb = nbformat.read(path, as_version=4)
    cells = [i for i, c in enumerate(nb.cells) if c.metadata.get("attnbook") == colab_setup.MARK]
    assert len(cells) == 1, "run: .venv/bin/python scripts/colab_setup.py"
    i = cells[0]
    cell = nb.cells[i]
    assert cell.source == colab_setup.cell_source(), "run: .venv/bin/python scripts/colab_setup.py"
    assert CONFIG["repository"]["url"] in cell.source
    assert "remove-cell" in cell.metadata["tags"]
    first_import = min(
        j
        for j, c in enumerate(nb.cells)
        if c.cell_type == "code" and "import" in c.source and c.metadata.get("attnbook") != colab_setup.MARK
    )
    assert i < first_import


def test_the_colab_cell_pins_what_requirements_pin():
    wanted = pins(ROOT / "requirements.txt")
    assert set(colab_setup.COLAB_PACKAGES) <= set(wanted)
    source = colab_setup.cell_source()
    listed = re.search(r"wanted = (\[.*?\])\n", source).group(1)
    assert sorted(json.loads(listed)) == sorted(colab_setup.COLAB_PACKAGES)
    assert f'"torch=={wanted["torch"]}"' in source


def test_the_colab_cell_does_nothing_outside_colab(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: calls.append(a))
    namespace: dict = {}
    exec(compile(colab_setup.cell_source(), "colab-setup", "exec"), namespace)
    assert calls == [] and Path.cwd() == tmp_path and "REPO" not in namespace
