#!/usr/bin/env bash
# `make bench`: the speed, memory, fill, slot and rate figures of a0bulk as
# one markdown table (figure | measured | goal | met?), then one table per
# Auth0 plan preset (pacing, 429s, import slots, in simulated time), plus
# the machine, then the scale table (issue 18: RSS and seconds per command
# at 100k and 1M users; `make bench-large` adds 10M). Benchmarks only (go
# test -bench), never timed tests; inputs are generated on the fly into a
# temporary directory and never written to the repository. About 12
# minutes on 2 cores.
#
# Runs after `make build` (the memory figure runs bin/a0bulk validate in a
# child process). BENCH_OUT=FILE also keeps the raw benchmark output.
source "$(dirname "$0")/bench-common.sh" bench

step() { echo "bench: $*" >&2; }

# Read + validate + chunk throughput, in process (20k users per round).
step "read + validate + chunk throughput (CSV, JSON, NDJSON)…"
$GO test -run '^$' -bench 'BenchmarkReadValidateChunk' -benchtime 3s -count 1 ./run/ | tee -a "$raw" >&2

# Chunk fill, then peak RSS of validate on 100k and 1M users piped from
# the generator, then the sandbox runs (import with fast jobs, rate-limited
# create). Each is one full run.
step "chunk fill, peak memory, import against the sandbox, rate-limited create…"
$GO test -run '^$' -bench 'BenchmarkChunkFill|BenchmarkValidateMemory|BenchmarkImportSandbox|BenchmarkCreateRateLimited' \
	-benchtime 1x -count 1 -timeout 15m ./bench/ | tee -a "$raw" >&2

# The throttle's pacing per plan: simulated buckets on a fake clock, so
# minutes of a plan's limits take a second.
step "pacing against each plan's buckets (simulated)…"
$GO test -run '^$' -bench 'BenchmarkPlanPacing' -benchtime 1x -count 1 ./throttle/ | tee -a "$raw" >&2
# Per plan preset (free, essentials, enterprise): create --verify-email,
# create --upsert and imports with 2 s and 30 s jobs, each a few minutes of
# tenant time run on a simulated clock (about a minute in all). Its own
# go test process: the simulation watches the process's goroutines.
step "pacing per plan preset (simulated time)…"
$GO test -run '^$' -bench 'BenchmarkPlans' -benchtime 1x -count 1 -timeout 15m ./bench/ | tee -a "$raw" >&2

# Scale (issue 18): bin/a0bulk against lean sandboxes with fast jobs, every
# command at 100k users (NDJSON; import and what reads its report on CSV;
# about 3 minutes), and at 1M an import and what reads its report (resume
# of the finished report, summary, failures; about 5 minutes). The resume
# after SIGKILL, create and sync at 1M, and everything at 10M, are `make
# bench-large`: a0bulk imports fast jobs at ~5,000 users/s, so each of
# them would add 4 to 10 minutes here.
step "scale: every command at 100k users…"
A0BULK_SCALE=100k $GO test -run '^$' -bench 'BenchmarkScale' -benchtime 1x -count 1 -timeout 30m ./bench/ | tee -a "$raw" >&2
step "scale: import, resume of the finished report, summary and failures at 1M users…"
A0BULK_SCALE=1m A0BULK_SCALE_STEPS=import,resume_done,summary,failures A0BULK_SCALE_CSV_STEPS=none \
	$GO test -run '^$' -bench 'BenchmarkScale' -benchtime 1x -count 1 -timeout 60m ./bench/ | tee -a "$raw" >&2

[ -n "${BENCH_OUT:-}" ] && cp "$raw" "$BENCH_OUT"
echo
$GO run ./bench/table <"$raw"
