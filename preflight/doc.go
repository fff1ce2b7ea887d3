// Package preflight answers "will these credentials work?" before a run, as
// `a0bulk check` prints it: the tenant's domain answers, a token is issued
// and accepted, its scopes cover what a command needs, the connection exists
// and holds users in Auth0's store, how much of the rate limit is left and
// what pace it allows, and whether the tenant accepts the custom domain.
//
// Run takes the Management API behind the small API interface and plain
// Options, so every check can be exercised with a stub: no flags, no
// network, no clock (Options.Now). It returns a Report of one Result per
// check, in a fixed order, each PASS, WARN or FAIL with the fix an operator
// can act on; a failure that makes the later checks meaningless turns them
// into SKIP lines rather than noise. Nothing on the tenant is created or
// changed: the custom-domain probe asks for a verification email to a user
// that cannot exist.
//
// The scope tables (Commands, Scopes) are the least privilege of each a0bulk
// command; GrantScopesFix and TokenFix turn a missing scope or a refused
// token into what to change, for the checks and for any other error report.
package preflight
