// Package crashtest holds the crash test of the real a0bulk binary: it is
// SIGKILLed at seeded moments against a faulty sandbox tenant and resumed
// until the run completes, then the report and the tenant are checked
// against the input. The package has tests only.
package crashtest
