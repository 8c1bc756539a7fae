#!/usr/bin/env bash
# Build the book and its Chinese edition and serve both on http://127.0.0.1:PORT (default
# 8000): English at /, Chinese at /zh_CN/ (every page links to the other). Ctrl-C stops it.
# Usage: bash scripts/serve.sh [PORT]
source "$(dirname "$0")/_env.sh"
PORT="${1:-${PORT:-8000}}"
echo "==> building the book (jupyter-book build -W -n --keep-going .)"
jupyter-book build -W -n --keep-going . >/tmp/attnbook-build.log 2>&1 || { tail -40 /tmp/attnbook-build.log; exit 1; }
echo "==> building the Chinese edition (python scripts/i18n.py build)"
python scripts/i18n.py build
echo "==> serving _build/html"
echo "    open http://127.0.0.1:${PORT}/ (English) or http://127.0.0.1:${PORT}/zh_CN/ (中文) in a browser (Ctrl-C to stop)"
exec python -m http.server "$PORT" --bind 127.0.0.1 --directory _build/html
