#!/usr/bin/env bash
# Run every test: lint, the library (pytest + hypothesis), every notebook from a fresh
# kernel against its committed outputs (nbval, strict; in .venv-binder, built from
# binder/ alone by scripts/binder_env.sh), every notebook again without the pinned
# numerics and with another seed (its asserts must hold), the book build with zero
# warnings, its Chinese edition (zh_CN, scripts/i18n.py), the built books driven in headless
# chromium, and every notebook in JupyterLab.
# Each stage's wall time goes to _build/ci-stages.tsv (`python -m bench --only ci` shows it).
# Usage: bash scripts/test.sh [extra pytest arguments]
T_START=$(date +%s)
source "$(dirname "$0")/_env.sh"
source scripts/_stages.sh
[ -n "${CI_APT_SECONDS:-}" ] && stage_record "CI: Debian's chromium (apt-get, .ci/run)" "$CI_APT_SECONDS"
stage_record ".venv: the project's pinned requirements (pip)" "$(( $(date +%s) - T_START ))"
# Every test runs under the book's pinned numerics (attnlib/numerics.env), the setting the
# committed notebook outputs were written under: the same digits on any x86-64 CPU.
source scripts/_numerics.sh
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    stage "installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: the browser tests need Debian's chromium at /usr/bin/chromium:" >&2
    echo "       sudo apt-get install chromium" >&2
    exit 1
  fi
fi
stage "lint and format (ruff: the library, scripts, tests, benchmarks and the chapters)"
ruff check .
ruff format --check .
stage "library tests"
python -m pytest tests -q -p no:cacheprovider --ignore=tests/browser --ignore=tests/lab -n 2 "$@"
stage "the Binder environment, built from binder/ alone as Binder builds it"
bash scripts/binder_env.sh
stage "notebooks from a fresh kernel, compared with their committed outputs (nbval, in the Binder environment)"
TQDM_DISABLE=1 .venv-binder/bin/python -m pytest --nbval notebooks -q -p no:cacheprovider --nbval-sanitize-with tests/nbval_sanitize.cfg -n 2 --dist loadfile "$@"
stage "building the book with zero warnings"
rm -rf _build/html
jupyter-book build -W -n --keep-going . >/tmp/attnbook-build.log 2>&1 || { tail -40 /tmp/attnbook-build.log; exit 1; }
stage "building the Chinese edition (zh_CN) with zero warnings, into _build/html/zh_CN"
python scripts/i18n.py build
stage "the built book and its Chinese edition in headless chromium (offline)"
python -m pytest tests/browser -q -p no:cacheprovider "$@"
stage "every chapter in JupyterLab (the Binder environment), from a fresh kernel, unpinned, on torch's baseline CPU kernels"
# The kernels run without the pinned numerics and on ATEN_CPU_CAPABILITY=default (tests/lab/lab.py):
# a claim that holds only under the pinned setting fails here.
ATTNBOOK_LAB_PYTHON=.venv-binder/bin/python python -m pytest tests/lab -q -p no:cacheprovider "$@"
stage_done
