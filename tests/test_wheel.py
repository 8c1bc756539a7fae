"""`pip install .` (not editable) gives a working attnlib: data, font and weights included.

The wheel is built from a copy of the sources, installed into a fresh virtual environment
and used from a folder far from the repository: it must translate the running example with
the cached weights and find its font, reading everything from inside the installed package.
The fresh environment borrows this one's third-party packages (torch, numpy, ...) through a
path entry, which adds them to ``sys.path`` without running this environment's ``.pth``
files: the editable ``attnlib`` of the checkout is not importable there.
"""

import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "LICENSE-TEXT.md", "attnlib", "data"]

SMOKE = textwrap.dedent("""
    import sys
    from pathlib import Path
    import attnlib
    from attnlib.resources import data_dir
    from attnlib.translate import WEIGHTS_DIR, load_model, prepare_data, translate
    from attnlib.plot import FONT_FILE, use_book_style

    here = Path(sys.prefix).resolve()
    assert Path(attnlib.__file__).resolve().is_relative_to(here), attnlib.__file__
    assert data_dir().resolve().is_relative_to(here), data_dir()
    use_book_style()                                  # the CJK font, from the package
    assert FONT_FILE.resolve().is_relative_to(here)
    data = prepare_data()
    model, _ = load_model(WEIGHTS_DIR / "ch4_attention.pt", data)
    print(" ".join(translate(model, "我昨天住在他家。", data).words))
""")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the sources (no build artefacts in the checkout)."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, src / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(src),
        ],
        check=True,
    )
    (built,) = out.glob("attnlib-*.whl")
    return built


def test_the_wheel_carries_the_data(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for need in (
        "attnlib/_data/cmn-eng/cmn.txt",
        "attnlib/_data/cmn-eng/LICENSE.md",
        "attnlib/_data/fonts/NotoSansSC-attnlib.otf",
        "attnlib/_data/fonts/OFL.txt",
        "attnlib/_data/weights/ch4_attention.pt",
        "attnlib/widgets/_common.js",
    ):
        assert need in names, need


def test_installed_wheel_translates_in_a_fresh_environment(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True
    )
    run = subprocess.run([python, "-I", "-c", SMOKE], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    from attnlib.translate import WEIGHTS_DIR, load_model, prepare_data, translate

    data = prepare_data()  # the same translation from the checkout's attnlib
    model, _ = load_model(WEIGHTS_DIR / "ch4_attention.pt", data)
    want = " ".join(translate(model, "我昨天住在他家。", data).words)
    assert run.stdout.splitlines()[-1] == want and len(want.split()) >= 5
