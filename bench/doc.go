// Package bench holds the end-to-end benchmarks behind `make bench`: import
// against a sandbox with fast jobs (slot occupancy), create against a
// rate-limited sandbox (achieved/allowed rate, 429s, no record lost), chunk
// fill, the peak memory of `a0bulk validate` on generated input, and the
// per-plan tables (plans_test.go): create --verify-email, create --upsert and
// imports against each Auth0 plan preset of the sandbox, in simulated time
// (simtest drives a fake clock as a discrete-event simulation; the
// tenant is reached in memory, and tape_test.go records it). They are benchmarks, never
// timed tests: `go test` without -bench only compiles them. bench/table
// turns their output into the README's tables.
package bench
