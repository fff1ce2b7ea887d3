# Sourced by bench.sh and bench-large.sh: the shell settings, the go
# command, a temporary file for the raw benchmark output (removed on exit)
# and the binary the scale figures run. $1 names the caller in messages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO=${GO:-go}
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

export A0BULK_BIN=${A0BULK_BIN:-$PWD/bin/a0bulk}
[ -x "$A0BULK_BIN" ] || { echo "$1: $A0BULK_BIN missing: run make build" >&2; exit 1; }
