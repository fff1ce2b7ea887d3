#!/usr/bin/env bash
# `make bench-large`: issue 18's scale table at 1M and 10M users (every
# command, NDJSON; import and what reads its report on CSV; create at 1M
# only: 10M creates at ~4,000/s would take most of an hour), with the
# growth 1M → 10M. Inputs (≈ 4 GB of NDJSON and 2.5 GB of CSV at 10M) and
# reports are generated into a temporary directory (TMPDIR) and removed as
# each step ends; it needs ~15 GB free there and takes a few hours on 2
# cores. Run it niced in the background:
#
#	nice make bench-large > bench-large.log 2>&1 &
#
# A0BULK_SCALE, A0BULK_SCALE_STEPS, A0BULK_SCALE_CSV_STEPS and
# A0BULK_SCALE_CREATE_MAX override the sizes and steps (bench/scale_test.go).
# BENCH_OUT=FILE also keeps the raw benchmark output.
source "$(dirname "$0")/bench-common.sh" bench-large

export A0BULK_SCALE=${A0BULK_SCALE:-1m,10m}
export A0BULK_SCALE_CREATE_MAX=${A0BULK_SCALE_CREATE_MAX:-1m}
echo "bench-large: scale at $A0BULK_SCALE users (create up to $A0BULK_SCALE_CREATE_MAX)…" >&2
$GO test -run '^$' -bench 'BenchmarkScale' -benchtime 1x -count 1 -timeout 24h ./bench/ | tee -a "$raw" >&2

[ -n "${BENCH_OUT:-}" ] && cp "$raw" "$BENCH_OUT"
echo
$GO run ./bench/table -scale <"$raw"
