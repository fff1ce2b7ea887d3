// Package modeltest holds the seeded, model-based test of a0bulk's one
// promise: whatever goes wrong, the report says exactly what happened in the
// tenant. Each seed draws a schedule (a mode, an input format, tenant
// faults, users already in the tenant, invalid records, kills at journal
// lines), runs it in process against a sandbox tenant until it ends, and
// checks the report against the tenant. The package has tests only; see
// model_test.go for the flags that replay a seed or run a soak.
package modeltest
