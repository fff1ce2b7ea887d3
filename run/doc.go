// Package run is a0bulk's core: one migration run end to end, shared by
// import, create, sync and verify, and the offline planner behind validate
// and every --dry-run.
//
// A run is described by a typed Spec (recorded in the report header as
// data, so a resume restores it without knowing any flag) and reaches the
// outside only through an Env: the tenant (a Connect function returning the
// Tenant interface, the gh CLI's HttpClient pattern), standard input, a
// clock, a logger and a progress display. Tests drive it with the sandbox
// and a fake clock, without argv.
//
// The shape of every run is the same (run.go):
//
//	spec → open the inputs → plan the journal (every exit-2 check) →
//	connect, look the connection up → open the journal (fresh, resumed or
//	sync) → the loop (loop.go: read, admit, send) → settle → Summary.
//
// A journal line is written before each request that may change the tenant
// (write-ahead, see docs/ARCHITECTURE.md); the report writer is the only
// source of counts.
package run
