package preflight

import (
	"context"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// API is what the checks need of the Management API client
// (*management.Client implements it).
type API interface {
	TokenInfo(ctx context.Context) (*management.TokenInfo, error)
	ConnectionByName(ctx context.Context, name string) (*management.Connection, error)
	SendVerificationEmail(ctx context.Context, r management.VerificationEmailRequest) (*management.Job, error)
	// Headroom is the x-ratelimit-* state of the last answer; ok is false
	// when no answer carried the headers.
	Headroom() (limit, remaining int, reset time.Time, ok bool)
}

// Options say what to check and how the client was set up.
type Options struct {
	For          string // the command the credentials are checked for: one of Commands
	Connection   string // the connection to look up; "" = none given
	Domain       string // the tenant's domain, as given (for the report)
	ClientID     string // the client-credentials application; "" with a static token
	CustomDomain string // the Auth0-Custom-Domain the client sends; "" = none
	StaticToken  bool   // the token was given (--token), not fetched with a client secret
	Rate         float64
	// Now is the clock for the token's time left; nil means time.Now.
	Now func() time.Time
}

// Report is the outcome of Run; `check --output json` prints it as is.
type Report struct {
	For    string   `json:"for"`
	Checks []Result `json:"checks"`
	OK     bool     `json:"ok"` // no check failed or was skipped (warnings allowed)
}

// Result is one check. Status is Pass, Warn, Fail, or Skip for a check an
// earlier failure made impossible.
type Result struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Statuses of a Result.
const (
	Pass = "PASS"
	Warn = "WARN"
	Fail = "FAIL"
	Skip = "SKIP"
)

// Names of the checks, in the order they run and are reported.
const (
	CheckDomain       = "domain"
	CheckToken        = "token"
	CheckScopes       = "scopes"
	CheckConnection   = "connection"
	CheckRateLimit    = "rate limit"
	CheckCustomDomain = "custom domain"
)

// ProbeConnection is looked up when no connection is given: the answer
// (even a 404 or 403) carries the rate-limit headers and proves the API
// answers.
const ProbeConnection = "a0bulk-check-probe"

// ProbeUserID cannot exist: a verification email to it is refused with 404
// once the custom-domain header has been accepted, so nothing is sent.
const ProbeUserID = "auth0|a0bulk-check-nonexistent"

// Run runs the checks in order and reports every one. It makes at most
// three requests (a token, one connection lookup, and with a custom domain
// one verification-email request that sends nothing). When ctx is cancelled
// the report is partial: callers should check ctx.Err() before using it.
func Run(ctx context.Context, api API, o Options) Report {
	if o.Now == nil {
		o.Now = time.Now
	}
	results := (&checker{api: api, opts: o}).run(ctx)
	rep := Report{For: o.For, Checks: results, OK: true}
	for _, r := range results {
		if r.Status == Fail || r.Status == Skip {
			rep.OK = false
		}
	}
	return rep
}
