// Package chaostest holds only tests: whole a0bulk runs (cli.Main, in
// process) against a sandbox tenant with one fault each, the hostile inputs
// that testscript cannot generate, and the secret-leak checks. Every run ends
// with the same accounting: one final report line per input record, no user
// twice in the tenant, summary counts that add up, and the contract's exit
// code.
package chaostest
