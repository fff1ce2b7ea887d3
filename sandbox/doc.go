// Package sandbox is a local Auth0 tenant: an http.Handler that speaks the
// subset of the Management API v2 that a0bulk uses, faithful to the recorded
// shapes in auth0-facts.md (field names, status codes, messages), so that a
// whole migration can run with no Auth0 account and every test can run
// against it.
//
// Served:
//
//	POST  /oauth/token                       client credentials (JSON, form or Basic auth)
//	GET   /api/v2/connections                ?name= &strategy= &include_totals=true
//	POST  /api/v2/jobs/users-imports         multipart; 202, 413, 429 job limit
//	GET   /api/v2/jobs/{id}                  pending → processing → completed|failed
//	GET   /api/v2/jobs/{id}/errors           per-user list, failure object, or 204 / 200 []
//	POST  /api/v2/jobs/verification-email    201 pending → completed|failed (verification.go)
//	POST  /api/v2/users                      201, 409, PasswordStrengthError
//	GET   /api/v2/users/{id}, PATCH /api/v2/users/{id}
//	GET   /api/v2/users-by-email?email=      exact match on the lower-cased email
//	GET   /sandbox/users, /sandbox/stats     what happened; no token, no rate limit
//
// Every /api/v2 request goes through, in order: the rate limit (a storm
// window, then the buckets of the plan, plans.go, or one custom bucket; see
// docs/ARCHITECTURE.md; with the x-ratelimit-* headers of the deciding
// bucket on every response), the bearer token (a real HS256
// JWT whose payload carries scope, exp, iat and aud), routing and scope, the
// 503 and reset-before faults, the Auth0-Custom-Domain header, the handler,
// and the reset-after fault (the action happened, the client sees a dropped
// connection).
//
// Time is read from Config.Clock on each request and nothing runs in the
// background: an import job is pending for JobDelay, processing for JobDelay,
// and is processed (validation against the import schema and its prose
// rules, duplicates, insert or upsert) by the first request at or after its
// end; a verification-email job is pending for JobDelay, then completed (or
// failed, by Faults.FailVerification). A clock.Fake therefore drives jobs, the buckets' stepped
// refill, the storm and drain windows, held slots and token expiry.
//
// Fault decisions are a hash of (seed, fault kind, method, path and query,
// body content, how many times that exact request was seen), so a seed
// reproduces the same faults whatever the goroutine scheduling. Ids come
// from a generator seeded the same way.
//
// Deviations worth knowing: the sandbox keeps no passwords, only whether
// one was given and its bcrypt hash when imported, seeded or (with
// Config.KeepPasswordHashes) made from a password, for the password-hash
// export Auth0 support hands over (hashexport.go); the Auth0-Custom-Domain header on any route the
// official SDKs strip it from (including users-imports, where only auth0.net
// sends it) is served but recorded as a violation in the stats; job data
// disappears 24 hours after creation, like Auth0's. Config.Lean (lean.go),
// for benchmarks of millions of users, keeps only the fields imports and
// creates are settled by, and reads return users with those fields only.
package sandbox
