// Package bench holds the end-to-end benchmarks behind `make bench`: import
// against a sandbox with fast jobs (slot occupancy), create against a
// rate-limited sandbox (achieved/allowed rate, 429s, no record lost), chunk
// fill, and the peak memory of `a0bulk validate` on generated input. They are
// benchmarks, never timed tests: `go test` without -bench only compiles them.
// bench/table turns their output into the README's table.
package bench
