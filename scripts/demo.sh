#!/usr/bin/env bash
# make demo: a whole migration against the local sandbox tenant, no Auth0
# account needed. Starts the sandbox in the background (stopped on exit),
# imports fixtures/demo.csv (3,000 users: 15 invalid rows, one user already
# in the tenant), prints the summary and where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${A0BULK_BIN:-bin/a0bulk}
out=out
mkdir -p "$out"
work=$(mktemp -d)
"$bin" sandbox --addr 127.0.0.1:0 --addr-file "$work/addr" --job-delay 1s \
  --users fixtures/demo-existing.ndjson 2>"$work/sandbox.log" &
sandbox=$!
# On failure the sandbox's log is kept in out/ for a look.
trap 'status=$?; kill "$sandbox" 2>/dev/null || true; wait "$sandbox" 2>/dev/null || true
      [ "$status" = 0 ] || cp "$work/sandbox.log" "$out/demo-sandbox.log" 2>/dev/null || true
      rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/addr" ] && break; sleep 0.05; done
[ -s "$work/addr" ] || { echo "demo: the sandbox did not start:"; cat "$work/sandbox.log"; exit 1; }

export AUTH0_DOMAIN=$(cat "$work/addr") AUTH0_CLIENT_ID=demo-client AUTH0_CLIENT_SECRET=demo-secret
report="$out/demo-import-$(date -u +%Y%m%dT%H%M%SZ).ndjson"
echo "demo: sandbox tenant on http://$AUTH0_DOMAIN; importing fixtures/demo.csv"
echo "\$ a0bulk import --connection Username-Password-Authentication --input fixtures/demo.csv --report $report"
code=0
"$bin" import --connection Username-Password-Authentication --input fixtures/demo.csv --report "$report" || code=$?
if [ ! -s "$report" ]; then
  echo "demo: a0bulk exited $code before writing its report (sandbox log: $out/demo-sandbox.log)"
  exit "${code/#0/1}"
fi
echo
echo "\$ a0bulk report summary $report"
"$bin" report summary "$report"
echo
echo "The report has one final line per input record; for example the invalid ones:"
grep '"status":"invalid"' "$report" | head -3
echo "…and the user who was already in the tenant:"
grep '"status":"skipped"' "$report" | head -1
case $code in
  3) echo; echo "demo: exit code 3, as expected: the input has invalid rows (see the report). Done." ;;
  0) echo "demo: done." ;;
  *) echo "demo: a0bulk exited $code"; exit "$code" ;;
esac
