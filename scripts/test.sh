#!/usr/bin/env bash
# Run every test: the library (pytest + hypothesis), every notebook from a fresh
# kernel against its committed outputs (nbval, strict; in .venv-binder, built from
# binder/ alone by scripts/binder_env.sh), every notebook again without the pinned
# numerics and with another seed (its asserts must hold), the book build with zero
# warnings, and the built book driven in headless chromium.
# Usage: bash scripts/test.sh [extra pytest arguments]
source "$(dirname "$0")/_env.sh"
# Every test runs under the book's pinned numerics (scripts/numerics.env), the setting the
# committed notebook outputs were written under: the same digits on any x86-64 CPU.
source scripts/_numerics.sh
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: the browser tests need Debian's chromium at /usr/bin/chromium:" >&2
    echo "       sudo apt-get install chromium" >&2
    exit 1
  fi
fi
echo "==> lint and format (ruff: the library, scripts, tests, benchmarks and the chapters)"
ruff check .
ruff format --check .
echo "==> library tests"
python -m pytest tests -q -p no:cacheprovider --ignore=tests/browser -n 2 "$@"
echo "==> notebooks from a fresh kernel, compared with their committed outputs (nbval),"
echo "    in an environment built from binder/ alone, as Binder builds it"
bash scripts/binder_env.sh
TQDM_DISABLE=1 .venv-binder/bin/python -m pytest --nbval notebooks -q -p no:cacheprovider --nbval-sanitize-with tests/nbval_sanitize.cfg -n 2 --dist loadfile "$@"
echo "==> every chapter once more, unpinned, on torch's baseline CPU kernels and another seed:"
echo "    a claim that holds only under the pinned numerics fails here (scripts/check_claims.py)"
python scripts/check_claims.py --capabilities default --seeds 1 --jobs 2 --out /tmp/attnbook-claims-ci
echo "==> building the book with zero warnings"
rm -rf _build/html
jupyter-book build -W -n --keep-going . >/tmp/attnbook-build.log 2>&1 || { tail -40 /tmp/attnbook-build.log; exit 1; }
echo "==> the built book in headless chromium (offline)"
python -m pytest tests/browser -q -p no:cacheprovider "$@"
