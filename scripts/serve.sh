#!/usr/bin/env bash
# Build the book and serve it on http://127.0.0.1:PORT (default 8000). Ctrl-C stops it.
# Usage: bash scripts/serve.sh [PORT]
source "$(dirname "$0")/_env.sh"
PORT="${1:-${PORT:-8000}}"
echo "==> building the book (jupyter-book build -W -n --keep-going .)"
jupyter-book build -W -n --keep-going . >/tmp/attnbook-build.log 2>&1 || { tail -40 /tmp/attnbook-build.log; exit 1; }
echo "==> serving _build/html"
echo "    open http://127.0.0.1:${PORT}/ in a browser (Ctrl-C to stop)"
exec python -m http.server "$PORT" --bind 127.0.0.1 --directory _build/html
