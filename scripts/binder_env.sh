#!/usr/bin/env bash
# Build .venv-binder/ the way Binder (repo2docker) builds its image: from binder/ alone.
#   pip install -r binder/requirements.txt, then binder/postBuild from the repository root.
# scripts/test.sh runs every notebook in it, so a green test run means the Binder
# environment runs every chapter. Re-builds only when binder/, requirements.txt or
# pyproject.toml change.
# Usage: bash scripts/binder_env.sh   (then .venv-binder/bin/python ...)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
VENV=.venv-binder
STAMP="$VENV/.binder-installed"
WANT="$(cat binder/requirements.txt binder/postBuild binder/runtime.txt requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; then
  exit 0
fi
echo "==> building $VENV from binder/ alone, as Binder does"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
PIP_ARGS=(--quiet)
# binder/requirements.txt takes torch's CPU build from PyTorch's CPU index. Where that index
# cannot be reached (a machine limited to PyPI), pip finds the same file, torch 2.13.0+cpu,
# in the local wheel cache; don't let it retry the unreachable index for every package.
if ! "$PY" -c 'import socket; socket.getaddrinfo("download.pytorch.org", 443)' 2>/dev/null; then
  echo "    (download.pytorch.org is unreachable here: torch 2.13.0+cpu must come from a local wheel)"
  PIP_ARGS+=(--retries 0)
fi
LOG=/tmp/attnbook-binder-pip.log
"$VENV/bin/python" -m pip install "${PIP_ARGS[@]}" -r binder/requirements.txt >"$LOG" 2>&1 \
  || { tail -30 "$LOG"; echo "error: pip could not install binder/requirements.txt" >&2; exit 1; }
PATH="$ROOT/$VENV/bin:$PATH" bash binder/postBuild >/dev/null
"$VENV/bin/python" -c 'import attnlib, torch; assert torch.__version__.startswith("2.13.0")'
echo "$WANT" > "$STAMP"
