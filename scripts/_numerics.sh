# Sourced by scripts/test.sh: export the book's pinned numerics (scripts/numerics.env).
set -a
# shellcheck source=numerics.env
source "$(dirname "${BASH_SOURCE[0]}")/numerics.env"
set +a
