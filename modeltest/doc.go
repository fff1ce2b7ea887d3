// Package modeltest holds the seeded, model-based test of a0bulk's one
// promise: whatever goes wrong, the report says exactly what happened in the
// tenant. Each seed draws a schedule (a mode, an input format, tenant
// faults, users already in the tenant, invalid records, kills at journal
// lines or with a write in flight), plays it in process against a sandbox
// tenant, resuming each run (a sync: running it again) until it completes,
// and checks the report against the tenant.
//
// Everything runs on one simulated clock (clock_test.go), so no test waits;
// a kill is emulated at one instant (kill_test.go). A seed fixes the
// schedule, the tenant's fault decisions and the kill points; goroutines of
// a concurrent schedule may still interleave differently, so a failure's
// replay command repeats such a seed. Dimensions this branch is known to
// fail are off by default and named with their issue (schedule_test.go);
// model_test.go has the flags that replay a seed or run a soak.
//
// The package has tests only.
package modeltest
