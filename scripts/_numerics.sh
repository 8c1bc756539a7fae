# Sourced by scripts/test.sh: export the book's pinned numerics (attnlib/numerics.env).
set -a
# shellcheck source=numerics.env
source "$(dirname "${BASH_SOURCE[0]}")/../attnlib/numerics.env"
set +a
