package preflight_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/preflight"
)

// t0 is the checks' "now": every time in a report is relative to it.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	domain = "acme.eu.auth0.com"
	client = "app_1"
	db     = "Username-Password-Authentication"
	cd     = "login.acme.com"
)

var allScopes = []string{"create:users", "read:users", "update:users", "read:connections"}

// stubAPI answers like a healthy Enterprise tenant unless a test changes a
// field, and records what the checks asked.
type stubAPI struct {
	info   *management.TokenInfo
	tokErr error

	conns   map[string]*management.Connection
	connErr error // answers every lookup when set

	sendErr error

	limit, remaining int
	reset            time.Time
	noHeaders        bool

	lookedUp []string
	sent     []management.VerificationEmailRequest
}

func newStub() *stubAPI {
	return &stubAPI{
		info: &management.TokenInfo{Scopes: allScopes, Expiry: t0.Add(24 * time.Hour)},
		conns: map[string]*management.Connection{
			db:              {ID: "con_db", Name: db, Strategy: "auth0"},
			"google-oauth2": {ID: "con_g", Name: "google-oauth2", Strategy: "google-oauth2"},
		},
		sendErr: &management.APIError{StatusCode: 404, Err: "Not Found", Message: "The user does not exist.", ErrorCode: "inexistent_user"},
		limit:   50, remaining: 49,
	}
}

func (s *stubAPI) TokenInfo(context.Context) (*management.TokenInfo, error) {
	return s.info, s.tokErr
}

func (s *stubAPI) ConnectionByName(_ context.Context, name string) (*management.Connection, error) {
	s.lookedUp = append(s.lookedUp, name)
	if s.connErr != nil {
		return nil, s.connErr
	}
	if c, ok := s.conns[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("resolving connection %q: %w", name, management.ErrConnectionNotFound)
}

func (s *stubAPI) SendVerificationEmail(_ context.Context, r management.VerificationEmailRequest) (*management.Job, error) {
	s.sent = append(s.sent, r)
	if s.sendErr != nil {
		return nil, s.sendErr
	}
	return &management.Job{ID: "job_1", Type: "verification_email", Status: "pending"}, nil
}

func (s *stubAPI) Headroom() (limit, remaining int, reset time.Time, ok bool) {
	if s.noHeaders {
		return 0, 0, time.Time{}, false
	}
	return s.limit, s.remaining, s.reset, true
}

func opts(mod ...func(*preflight.Options)) preflight.Options {
	o := preflight.Options{For: "import", Connection: db, Domain: domain, ClientID: client, Now: func() time.Time { return t0 }}
	for _, m := range mod {
		m(&o)
	}
	return o
}

func run(t *testing.T, api *stubAPI, o preflight.Options) preflight.Report {
	t.Helper()
	return preflight.Run(context.Background(), api, o)
}

func line(t *testing.T, rep preflight.Report, name string) preflight.Result {
	t.Helper()
	for _, r := range rep.Checks {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %q line in %+v", name, rep.Checks)
	return preflight.Result{}
}

func names(rep preflight.Report) []string {
	out := make([]string, len(rep.Checks))
	for i, r := range rep.Checks {
		out[i] = r.Name
	}
	return out
}

func grant(scopes ...string) string { return preflight.GrantScopesFix(scopes, client) }

const (
	domainFix       = "check --domain (the tenant's own domain, e.g. acme.eu.auth0.com), DNS, and any proxy or firewall between here and Auth0"
	customDomainFix = "give one of the tenant's verified custom domains, host name only (e.g. login.acme.com): Auth0 Dashboard → Branding → Custom Domains"
	skipDetail      = "not checked: an earlier check failed"
)

func skip(name string) preflight.Result {
	return preflight.Result{Name: name, Status: preflight.Skip, Detail: skipDetail}
}

func TestRunAllPass(t *testing.T) {
	api := newStub()
	rep := run(t, api, opts(func(o *preflight.Options) { o.CustomDomain = cd }))
	want := preflight.Report{For: "import", OK: true, Checks: []preflight.Result{
		{Name: "domain", Status: "PASS", Detail: "acme.eu.auth0.com: the token endpoint and the API answered"},
		{Name: "token", Status: "PASS", Detail: "issued to client app_1, expires 2025-03-02T12:00:00Z (in 24h0m0s)"},
		{Name: "scopes", Status: "PASS", Detail: "granted create:users read:users update:users read:connections: enough for a0bulk import"},
		{Name: "connection", Status: "PASS", Detail: `"Username-Password-Authentication" (con_db) is a database connection`},
		{Name: "rate limit", Status: "PASS", Detail: "bucket of 50 requests, 49 left after this check; per-user creates would go at about 16/s (the tenant's x-ratelimit-limit of 50 matches Auth0's published Enterprise production: burst 50, 16/s): 10m25s per 10,000 users"},
		{Name: "custom domain", Status: "PASS", Detail: "login.acme.com accepted (the test verification email went to a user that does not exist, so nothing was sent)"},
	}}
	if !reflect.DeepEqual(rep, want) {
		t.Fatalf("Run =\n%+v\nwant\n%+v", rep, want)
	}
	if !reflect.DeepEqual(api.lookedUp, []string{db}) {
		t.Errorf("looked up %q, want only the given connection", api.lookedUp)
	}
	if want := []management.VerificationEmailRequest{{UserID: preflight.ProbeUserID}}; !reflect.DeepEqual(api.sent, want) {
		t.Errorf("verification emails asked for %+v, want one to %s", api.sent, preflight.ProbeUserID)
	}
}

// Whole reports where an early failure turns the later checks into SKIP.
func TestRunEarlyFailures(t *testing.T) {
	unauthorized := &management.APIError{StatusCode: 401, Err: "Unauthorized", Message: "Invalid token"}
	for _, tc := range []struct {
		name     string
		stub     func(*stubAPI)
		opts     func(*preflight.Options)
		want     []preflight.Result
		noLookup bool // the API was never asked
	}{
		{"token endpoint unreachable",
			func(s *stubAPI) {
				s.info, s.tokErr = nil, &management.TokenError{Message: "dial tcp: lookup acme.eu.auth0.com: no such host"}
			}, nil,
			[]preflight.Result{
				{Name: "domain", Status: "FAIL", Detail: "acme.eu.auth0.com/oauth/token did not answer: dial tcp: lookup acme.eu.auth0.com: no such host", Fix: domainFix},
				skip("token"), skip("scopes"), skip("connection"), skip("rate limit"),
			}, true},
		{"token endpoint unreachable, with a custom domain",
			func(s *stubAPI) { s.info, s.tokErr = nil, &management.TokenError{Message: "timeout"} },
			func(o *preflight.Options) { o.CustomDomain = cd },
			[]preflight.Result{
				{Name: "domain", Status: "FAIL", Detail: "acme.eu.auth0.com/oauth/token did not answer: timeout", Fix: domainFix},
				skip("token"), skip("scopes"), skip("connection"), skip("rate limit"), skip("custom domain"),
			}, true},
		{"credentials refused",
			func(s *stubAPI) {
				s.info, s.tokErr = nil, &management.TokenError{StatusCode: 401, Code: "access_denied", Message: "Unauthorized"}
			}, nil,
			[]preflight.Result{
				{Name: "domain", Status: "PASS", Detail: "acme.eu.auth0.com: the token endpoint answered (HTTP 401)"},
				{Name: "token", Status: "FAIL", Detail: "no token: fetching management API token: 401 Unauthorized (access_denied): Unauthorized",
					Fix: "check --client-id and the client secret (--client-secret-file, AUTH0_CLIENT_SECRET): the tenant refused them; a rotated secret must be updated here too"},
				skip("scopes"), skip("connection"), skip("rate limit"),
			}, true},
		{"API unreachable",
			func(s *stubAPI) { s.connErr = errors.New("dial tcp 10.0.0.1:443: connect: connection refused") }, nil,
			[]preflight.Result{
				{Name: "domain", Status: "FAIL", Detail: "acme.eu.auth0.com/api/v2 did not answer: dial tcp 10.0.0.1:443: connect: connection refused", Fix: domainFix},
				skip("token"), skip("scopes"), skip("connection"), skip("rate limit"),
			}, false},
		{"API refuses the issued token",
			func(s *stubAPI) { s.connErr = fmt.Errorf("resolving connection: %w", unauthorized) },
			func(o *preflight.Options) { o.CustomDomain = cd },
			[]preflight.Result{
				{Name: "domain", Status: "PASS", Detail: "acme.eu.auth0.com: the token endpoint and the API answered"},
				{Name: "token", Status: "FAIL", Detail: "the API refused the token: 401 Unauthorized: Invalid token",
					Fix: "the token's audience must be the tenant's API (https://DOMAIN/api/v2/): drop --audience, and give the tenant's canonical domain as --domain"},
				skip("scopes"), skip("connection"), skip("rate limit"), skip("custom domain"),
			}, false},
		{"API refuses a static token",
			func(s *stubAPI) { s.connErr = unauthorized },
			func(o *preflight.Options) { o.StaticToken, o.ClientID = true, "" },
			[]preflight.Result{
				{Name: "domain", Status: "PASS", Detail: "acme.eu.auth0.com: the API answered"},
				{Name: "token", Status: "FAIL", Detail: "the API refused the token: 401 Unauthorized: Invalid token",
					Fix: "the token is expired, revoked or for another tenant: get a new one, or use --client-id with a secret"},
				skip("scopes"), skip("connection"), skip("rate limit"),
			}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newStub()
			tc.stub(api)
			o := opts()
			if tc.opts != nil {
				o = opts(tc.opts)
			}
			rep := run(t, api, o)
			if !reflect.DeepEqual(rep.Checks, tc.want) {
				t.Errorf("checks =\n%+v\nwant\n%+v", rep.Checks, tc.want)
			}
			if rep.OK || rep.For != "import" {
				t.Errorf("ok=%v for=%q, want false and import", rep.OK, rep.For)
			}
			if tc.noLookup && len(api.lookedUp) != 0 {
				t.Errorf("the API was asked without a token: %q", api.lookedUp)
			}
			if len(api.sent) != 0 {
				t.Errorf("the custom domain was probed after a failure: %+v", api.sent)
			}
		})
	}
}

func TestTokenLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		static bool
		info   *management.TokenInfo
		want   preflight.Result
	}{
		{"issued", false, &management.TokenInfo{Scopes: allScopes, Expiry: t0.Add(89*time.Minute + 50*time.Second)},
			preflight.Result{Name: "token", Status: "PASS", Detail: "issued to client app_1, expires 2025-03-01T13:29:50Z (in 1h30m0s)"}},
		{"issued, expiring soon is fine: it is renewed", false, &management.TokenInfo{Scopes: allScopes, Expiry: t0.Add(10 * time.Minute)},
			preflight.Result{Name: "token", Status: "PASS", Detail: "issued to client app_1, expires 2025-03-01T12:10:00Z (in 10m0s)"}},
		{"no expiry known", false, &management.TokenInfo{Scopes: allScopes},
			preflight.Result{Name: "token", Status: "PASS", Detail: "issued to client app_1"}},
		{"static, hours left", true, &management.TokenInfo{Scopes: allScopes, Expiry: t0.Add(2 * time.Hour)},
			preflight.Result{Name: "token", Status: "PASS", Detail: "given with --token and accepted by the API, expires 2025-03-01T14:00:00Z (in 2h0m0s)"}},
		{"static, expiring within the hour", true, &management.TokenInfo{Scopes: allScopes, Expiry: t0.Add(30 * time.Minute)},
			preflight.Result{Name: "token", Status: "WARN", Detail: "given with --token and accepted by the API, expires 2025-03-01T12:30:00Z (in 30m0s)",
				Fix: "the token expires soon and a0bulk cannot renew a --token: use --client-id with a secret for long runs"}},
		{"static, expiry in another zone is printed in UTC", true, &management.TokenInfo{Scopes: allScopes, Expiry: t0.Add(3 * time.Hour).In(time.FixedZone("CET", 3600))},
			preflight.Result{Name: "token", Status: "PASS", Detail: "given with --token and accepted by the API, expires 2025-03-01T15:00:00Z (in 3h0m0s)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newStub()
			api.info = tc.info
			rep := run(t, api, opts(func(o *preflight.Options) { o.StaticToken = tc.static }))
			if got := line(t, rep, "token"); got != tc.want {
				t.Errorf("token =\n%+v\nwant\n%+v", got, tc.want)
			}
			if !rep.OK {
				t.Errorf("a token line alone failed the report: %+v", rep.Checks)
			}
		})
	}
}

func TestScopesLine(t *testing.T) {
	insufficient := func(scope string) error {
		return fmt.Errorf("resolving connection %q: %w", db, &management.APIError{StatusCode: 403, Err: "Forbidden",
			Message: "Insufficient scope, expected any of: " + scope, ErrorCode: "insufficient_scope"})
	}
	for _, tc := range []struct {
		name    string
		forCmd  string
		granted []string // nil: the scopes cannot be read
		tokErr  error
		connErr error
		want    preflight.Result
		ok      bool
	}{
		{"import needs read:users", "import", []string{"create:users", "read:connections"}, nil, nil,
			preflight.Result{Name: "scopes", Status: "FAIL",
				Detail: "a0bulk import needs read:users (looking users up by email when a job's answer was lost or a user already exists); granted: create:users read:connections",
				Fix:    "grant read:users: Auth0 Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications → your application (client id app_1) → expand it, tick the scopes, Update; a new token then carries them"},
			false},
		{"import with nothing granted", "import", []string{}, nil, nil,
			preflight.Result{Name: "scopes", Status: "FAIL",
				Detail: "a0bulk import needs create:users (POST /jobs/users-imports, and reading the jobs back), read:connections (looking up the connection by name), read:users (looking users up by email when a job's answer was lost or a user already exists); granted: none",
				Fix:    grant("create:users", "read:connections", "read:users")},
			false},
		{"verify needs update:users", "verify", []string{"read:users", "read:connections"}, nil, nil,
			preflight.Result{Name: "scopes", Status: "FAIL",
				Detail: "a0bulk verify needs update:users (POST /jobs/verification-email); granted: read:users read:connections",
				Fix:    grant("update:users")},
			false},
		{"a missing required scope outranks an unused one", "verify", []string{"read:users", "delete:users"}, nil, nil,
			preflight.Result{Name: "scopes", Status: "FAIL",
				Detail: "a0bulk verify needs update:users (POST /jobs/verification-email); granted: read:users delete:users",
				Fix:    grant("update:users")},
			false},
		{"create without the optional update:users", "create", []string{"create:users", "read:users", "read:connections"}, nil, nil,
			preflight.Result{Name: "scopes", Status: "WARN",
				Detail: "enough for a0bulk create, but not for update:users (--upsert (PATCH /users/{id}) and --verify-email); granted: create:users read:users read:connections",
				Fix:    grant("update:users") + " (only if you need those)"},
			true},
		{"sync with unused scopes", "sync", append([]string{"delete:users", "read:logs"}, allScopes...), nil, nil,
			preflight.Result{Name: "scopes", Status: "WARN",
				Detail: "enough for a0bulk sync; also granted delete:users read:logs, which a0bulk never uses",
				Fix:    "least privilege: untick them for this application (Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications)"},
			true},
		{"verify needs neither create:users nor read:connections", "verify", []string{"update:users", "read:users"}, nil, nil,
			preflight.Result{Name: "scopes", Status: "PASS", Detail: "granted update:users read:users: enough for a0bulk verify"},
			true},
		{"unreadable scopes", "create", nil, errors.New("the token is not a JWT"), nil,
			preflight.Result{Name: "scopes", Status: "WARN",
				Detail: "cannot read the token's scopes (the token is not a JWT); the API will name any missing scope when it is used",
				Fix:    "a0bulk create needs create:users read:connections read:users update:users"},
			true},
		{"the token claims a scope the API says it lacks", "import", allScopes, nil, insufficient("read:connections"),
			preflight.Result{Name: "scopes", Status: "FAIL", Detail: "the API refused the token for lacking read:connections", Fix: grant("read:connections")},
			false},
		{"the API says a scope is lacking the token does not claim", "import", []string{"create:users", "read:users"}, nil, insufficient("read:connections"),
			preflight.Result{Name: "scopes", Status: "FAIL",
				Detail: "a0bulk import needs read:connections (looking up the connection by name); granted: create:users read:users",
				Fix:    grant("read:connections")},
			false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newStub()
			api.info, api.tokErr, api.connErr = nil, tc.tokErr, tc.connErr
			if tc.granted != nil {
				api.info = &management.TokenInfo{Scopes: tc.granted}
			}
			rep := run(t, api, opts(func(o *preflight.Options) { o.For = tc.forCmd }))
			if got := line(t, rep, "scopes"); got != tc.want {
				t.Errorf("scopes =\n%+v\nwant\n%+v", got, tc.want)
			}
			if rep.OK != tc.ok {
				t.Errorf("ok = %v, want %v: %+v", rep.OK, tc.ok, rep.Checks)
			}
		})
	}
}

func TestConnectionLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		forCmd  string
		conn    string
		connErr error
		want    *preflight.Result // nil: no connection line
		lookup  string
	}{
		{"database", "import", db, nil,
			&preflight.Result{Name: "connection", Status: "PASS", Detail: `"Username-Password-Authentication" (con_db) is a database connection`}, db},
		{"unknown", "create", "username-password-authentication", nil,
			&preflight.Result{Name: "connection", Status: "FAIL", Detail: `the tenant has no connection named "username-password-authentication"`,
				Fix: "give the connection's exact name (case matters), as in Auth0 Dashboard → Authentication → Database"},
			"username-password-authentication"},
		{"social", "sync", "google-oauth2", nil,
			&preflight.Result{Name: "connection", Status: "FAIL",
				Detail: `"google-oauth2" (con_g) has strategy "google-oauth2": users can be imported or created only in a database connection (strategy auth0)`,
				Fix:    "choose a database connection (Auth0 Dashboard → Authentication → Database); social and enterprise users are created by their first login"},
			"google-oauth2"},
		{"lookup refused for a missing scope", "import", db,
			&management.APIError{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: read:connections", ErrorCode: "insufficient_scope"},
			&preflight.Result{Name: "connection", Status: "FAIL",
				Detail: `could not look up "Username-Password-Authentication": 403 Forbidden: Insufficient scope, expected any of: read:connections (insufficient_scope)`,
				Fix:    grant("read:connections")},
			db},
		{"lookup refused for an unnamed scope", "import", db,
			&management.APIError{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope", ErrorCode: "insufficient_scope"},
			&preflight.Result{Name: "connection", Status: "FAIL",
				Detail: `could not look up "Username-Password-Authentication": 403 Forbidden: Insufficient scope (insufficient_scope)`,
				Fix:    grant("a scope the API did not name")},
			db},
		{"lookup failed otherwise", "import", db,
			&management.APIError{StatusCode: 500, Err: "Internal Server Error", Message: "oops"},
			&preflight.Result{Name: "connection", Status: "FAIL", Detail: `could not look up "Username-Password-Authentication": 500 Internal Server Error: oops`},
			db},
		{"none given", "create", "", nil,
			&preflight.Result{Name: "connection", Status: "WARN", Detail: "not checked: no --connection given",
				Fix: "run a0bulk check --for create --connection NAME with the connection you will use"},
			preflight.ProbeConnection},
		{"none given, verify needs none", "verify", "", nil, nil, preflight.ProbeConnection},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newStub()
			api.connErr = tc.connErr
			rep := run(t, api, opts(func(o *preflight.Options) { o.For, o.Connection = tc.forCmd, tc.conn }))
			if tc.want == nil {
				if want := []string{"domain", "token", "scopes", "rate limit"}; !reflect.DeepEqual(names(rep), want) {
					t.Errorf("checks %q, want %q", names(rep), want)
				}
			} else if got := line(t, rep, "connection"); got != *tc.want {
				t.Errorf("connection =\n%+v\nwant\n%+v", got, *tc.want)
			}
			if !reflect.DeepEqual(api.lookedUp, []string{tc.lookup}) {
				t.Errorf("looked up %q, want exactly %q", api.lookedUp, tc.lookup)
			}
			if wantOK := tc.want == nil || tc.want.Status != "FAIL"; rep.OK != wantOK {
				t.Errorf("ok = %v, want %v", rep.OK, wantOK)
			}
			if d := line(t, rep, "domain"); d.Status != "PASS" {
				t.Errorf("an API answer about the connection is an answer: %+v", d)
			}
		})
	}
}

func TestRateLimitLine(t *testing.T) {
	for _, tc := range []struct {
		name             string
		noHeaders        bool
		limit, remaining int
		reset            time.Time
		rate             float64
		want             preflight.Result
	}{
		{"no headers", true, 0, 0, time.Time{}, 0,
			preflight.Result{Name: "rate limit", Status: "WARN", Detail: "the answer had no x-ratelimit headers: a0bulk will pace itself at a cautious default",
				Fix: "set --rate to the tenant's Management API limit (requests per second) if you know it"}},
		{"full bucket", false, 50, 50, time.Time{}, 0,
			preflight.Result{Name: "rate limit", Status: "PASS", Detail: "bucket of 50 requests, 50 left after this check; per-user creates would go at about 16/s (the tenant's x-ratelimit-limit of 50 matches Auth0's published Enterprise production: burst 50, 16/s): 10m25s per 10,000 users"}},
		{"half the bucket left is enough", false, 10, 5, time.Time{}, 0,
			preflight.Result{Name: "rate limit", Status: "PASS", Detail: "bucket of 10 requests, 5 left after this check; per-user creates would go at about 2/s (the tenant's x-ratelimit-limit of 10 matches Auth0's published Enterprise non-production: burst 10, 2/s): 1h23m20s per 10,000 users"}},
		{"others are using it", false, 10, 2, t0, 0,
			preflight.Result{Name: "rate limit", Status: "WARN",
				Detail: "bucket of 10 requests, 2 left after this check: other clients are using the limit; per-user creates would go at about 2/s (the tenant's x-ratelimit-limit of 10 matches Auth0's published Enterprise non-production: burst 10, 2/s): 1h23m20s per 10,000 users",
				Fix:    "a0bulk shares the limit and will go slower than the estimate; run when the tenant is quiet, or cap a0bulk with --rate to leave room for them"}},
		{"empty, with the refill time", false, 20, 0, t0.Add(3 * time.Second), 0,
			preflight.Result{Name: "rate limit", Status: "WARN",
				Detail: "bucket of 20 requests, 0 left after this check, next refill 2025-03-01T12:00:03Z: the bucket is empty, something else is spending this tenant's limit right now; per-user creates would go at about 3.33/s (the tenant's x-ratelimit-limit of 20 matches Auth0's published Essentials/Professional write users: burst 20, 200/min): 50m0s per 10,000 users",
				Fix:    "find the other client (Dashboard → Monitoring → Logs) or run when it is quiet; a0bulk will wait for the limit, but slowly"}},
		{"empty, no refill time", false, 2, 0, time.Time{}, 0,
			preflight.Result{Name: "rate limit", Status: "WARN",
				Detail: "bucket of 2 requests, 0 left after this check: the bucket is empty, something else is spending this tenant's limit right now; per-user creates would go at about 2/s (the tenant's x-ratelimit-limit of 2 matches Auth0's published Free: burst 2, 2/s): 1h23m20s per 10,000 users",
				Fix:    "find the other client (Dashboard → Monitoring → Logs) or run when it is quiet; a0bulk will wait for the limit, but slowly"}},
		{"--rate below the plan", false, 50, 49, time.Time{}, 1.5,
			preflight.Result{Name: "rate limit", Status: "PASS", Detail: "bucket of 50 requests, 49 left after this check; per-user creates would go at about 1.5/s (--rate): 1h51m7s per 10,000 users"}},
		{"unknown bucket", false, 7, 7, time.Time{}, 0,
			preflight.Result{Name: "rate limit", Status: "PASS", Detail: "bucket of 7 requests, 7 left after this check; per-user creates would go at about 2/s (the tenant's bucket of 7 matches no published plan; assuming the smallest published rate, 2/s (a0bulk learns the real rate while it runs)): 1h23m20s per 10,000 users"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newStub()
			api.noHeaders, api.limit, api.remaining, api.reset = tc.noHeaders, tc.limit, tc.remaining, tc.reset
			rep := run(t, api, opts(func(o *preflight.Options) { o.Rate = tc.rate }))
			if got := line(t, rep, "rate limit"); got != tc.want {
				t.Errorf("rate limit =\n%+v\nwant\n%+v", got, tc.want)
			}
			if !rep.OK {
				t.Errorf("the rate limit alone failed the report: %+v", rep.Checks)
			}
		})
	}
}

func TestCustomDomainLine(t *testing.T) {
	apiErr := func(status int, text, msg, code string) error {
		return fmt.Errorf("sending verification email: %w", &management.APIError{StatusCode: status, Err: text, Message: msg, ErrorCode: code})
	}
	for _, tc := range []struct {
		name    string
		sendErr error
		want    preflight.Result
	}{
		{"accepted", apiErr(404, "Not Found", "The user does not exist.", "inexistent_user"),
			preflight.Result{Name: "custom domain", Status: "PASS", Detail: "login.acme.com accepted (the test verification email went to a user that does not exist, so nothing was sent)"}},
		{"accepted, and the probe user exists", nil,
			preflight.Result{Name: "custom domain", Status: "WARN", Detail: "login.acme.com accepted, but a user auth0|a0bulk-check-nonexistent exists and was sent a verification email"}},
		{"not the tenant's", apiErr(400, "Bad Request", "The custom domain does not exist for the tenant.", ""),
			preflight.Result{Name: "custom domain", Status: "FAIL", Detail: "login.acme.com refused: The custom domain does not exist for the tenant.", Fix: customDomainFix}},
		{"bad format", apiErr(400, "Bad Request", "The `auth0-custom-domain` HTTP header has an invalid format.", ""),
			preflight.Result{Name: "custom domain", Status: "FAIL", Detail: "login.acme.com refused: The `auth0-custom-domain` HTTP header has an invalid format.", Fix: customDomainFix}},
		{"several verified domains", apiErr(409, "Conflict", "The tenant has multiple verified custom domains.", ""),
			preflight.Result{Name: "custom domain", Status: "FAIL", Detail: "login.acme.com refused: The tenant has multiple verified custom domains.", Fix: customDomainFix}},
		{"already classified", &management.CustomDomainError{StatusCode: 400, Message: "The custom domain does not exist for the tenant."},
			preflight.Result{Name: "custom domain", Status: "FAIL", Detail: "login.acme.com refused: The custom domain does not exist for the tenant.", Fix: customDomainFix}},
		{"a conflict about something else", apiErr(409, "Conflict", "The user already exists.", ""),
			preflight.Result{Name: "custom domain", Status: "FAIL", Detail: "login.acme.com not tested: sending verification email: 409 Conflict: The user already exists."}},
		{"untestable without update:users", apiErr(403, "Forbidden", "Insufficient scope, expected any of: update:users", "insufficient_scope"),
			preflight.Result{Name: "custom domain", Status: "WARN", Detail: "login.acme.com not tested: the test request needs update:users",
				Fix: grant("update:users") + " (it is needed anyway to send verification emails)"}},
		{"a plain 403 is no scope", apiErr(403, "Forbidden", "blocked", ""),
			preflight.Result{Name: "custom domain", Status: "FAIL", Detail: "login.acme.com not tested: sending verification email: 403 Forbidden: blocked"}},
		{"no answer", errors.New("connection reset by peer"),
			preflight.Result{Name: "custom domain", Status: "FAIL", Detail: "login.acme.com not tested: connection reset by peer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newStub()
			api.sendErr = tc.sendErr
			rep := run(t, api, opts(func(o *preflight.Options) { o.CustomDomain = cd }))
			if got := line(t, rep, "custom domain"); got != tc.want {
				t.Errorf("custom domain =\n%+v\nwant\n%+v", got, tc.want)
			}
			if rep.OK != (tc.want.Status != "FAIL") {
				t.Errorf("ok = %v with a %s custom domain line", rep.OK, tc.want.Status)
			}
			if want := []management.VerificationEmailRequest{{UserID: "auth0|a0bulk-check-nonexistent"}}; !reflect.DeepEqual(api.sent, want) {
				t.Errorf("probe requests %+v, want %+v", api.sent, want)
			}
		})
	}

	t.Run("none given: not probed", func(t *testing.T) {
		api := newStub()
		rep := run(t, api, opts())
		if len(api.sent) != 0 {
			t.Errorf("probed without a custom domain: %+v", api.sent)
		}
		if want := []string{"domain", "token", "scopes", "connection", "rate limit"}; !reflect.DeepEqual(names(rep), want) {
			t.Errorf("checks %q, want %q", names(rep), want)
		}
	})
}

func TestReportOK(t *testing.T) {
	// Warnings everywhere still make a report OK: only FAIL and SKIP do not.
	api := newStub()
	api.info = &management.TokenInfo{Scopes: append([]string{"delete:users"}, allScopes...), Expiry: t0.Add(20 * time.Minute)}
	api.noHeaders = true
	api.sendErr = nil
	rep := run(t, api, opts(func(o *preflight.Options) { o.Connection, o.StaticToken, o.CustomDomain = "", true, cd }))
	for _, r := range rep.Checks[1:] {
		if r.Status != "WARN" {
			t.Errorf("%+v, want WARN (the test is meant to warn on every line but domain)", r)
		}
	}
	if len(rep.Checks) != 6 || !rep.OK {
		t.Errorf("ok=%v with %d warnings, want true and 5: %+v", rep.OK, len(rep.Checks)-1, rep.Checks)
	}
}

// A cancelled run reports what it got; the caller decides (Run's contract).
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	api := newStub()
	api.connErr = ctx.Err()
	rep := preflight.Run(ctx, api, opts())
	if got := line(t, rep, "domain"); got.Status != "FAIL" || !strings.Contains(got.Detail, "context canceled") || rep.OK {
		t.Errorf("domain %+v ok=%v: a cancelled lookup is no answer", got, rep.OK)
	}
}

func TestTokenFix(t *testing.T) {
	const (
		grantType  = "enable the Client Credentials grant: Auth0 Dashboard → Applications → your application → Settings → Advanced Settings → Grant Types"
		canonical  = "give the tenant's canonical domain (e.g. acme.eu.auth0.com, not a custom domain) as --domain, and do not override --audience"
		authorize  = "authorize the application for the Management API: Auth0 Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications → switch your application on"
		secret     = "check --client-id and the client secret (--client-secret-file, AUTH0_CLIENT_SECRET): the tenant refused them; a rotated secret must be updated here too"
		persistent = "run again with --verbose; if it persists, check the tenant's status page"
	)
	for _, tc := range []struct {
		err  management.TokenError
		want string
	}{
		{management.TokenError{StatusCode: 403, Code: "unauthorized_client", Message: "Grant type 'client_credentials' not allowed for the client."}, grantType},
		{management.TokenError{StatusCode: 400, Code: "invalid_request", Message: "Grant Type not allowed"}, grantType},
		{management.TokenError{StatusCode: 403, Code: "access_denied", Message: "Service not enabled within domain: https://login.acme.com/api/v2/"}, canonical},
		{management.TokenError{StatusCode: 403, Code: "access_denied", Message: "Client is not authorized to access \"https://acme.eu.auth0.com/api/v2/\"."}, authorize},
		{management.TokenError{StatusCode: 403, Message: "Forbidden"}, authorize},
		{management.TokenError{StatusCode: 401, Code: "access_denied", Message: "Unauthorized"}, secret},
		{management.TokenError{StatusCode: 400, Code: "invalid_client", Message: "bad client"}, secret},
		{management.TokenError{StatusCode: 500, Message: "Internal Server Error"}, persistent},
		{management.TokenError{Message: "dial tcp: connection refused"}, persistent},
	} {
		if got := preflight.TokenFix(&tc.err); got != tc.want {
			t.Errorf("TokenFix(%+v) =\n%q\nwant\n%q", tc.err, got, tc.want)
		}
	}
}

func TestGrantScopesFix(t *testing.T) {
	for _, tc := range []struct {
		scopes   []string
		clientID string
		want     string
	}{
		{[]string{"read:users"}, "app_1",
			"grant read:users: Auth0 Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications → your application (client id app_1) → expand it, tick the scopes, Update; a new token then carries them"},
		{[]string{"create:users", "read:connections"}, "",
			"grant create:users read:connections: Auth0 Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications → your application → expand it, tick the scopes, Update; a new token then carries them"},
	} {
		if got := preflight.GrantScopesFix(tc.scopes, tc.clientID); got != tc.want {
			t.Errorf("GrantScopesFix(%q, %q) =\n%q\nwant\n%q", tc.scopes, tc.clientID, got, tc.want)
		}
	}
}

func TestScopes(t *testing.T) {
	want := map[string]string{ // required, then (optional)
		"import": "create:users read:connections read:users (update:users)",
		"sync":   "create:users read:connections read:users (update:users)",
		"create": "create:users read:connections read:users (update:users)",
		"verify": "update:users read:users",
		"jobs":   "read:users", // or create:users: ScopeNeed.Also
		"export": "read:users read:connections",
	}
	if !reflect.DeepEqual(preflight.Commands, []string{"import", "create", "verify", "sync", "jobs", "export"}) {
		t.Errorf("Commands = %q", preflight.Commands)
	}
	for _, c := range preflight.Commands {
		var parts []string
		for _, n := range preflight.Scopes(c) {
			if n.Why == "" {
				t.Errorf("%s: %s has no reason", c, n.Scope)
			}
			if n.Optional {
				parts = append(parts, "("+n.Scope+")")
			} else {
				parts = append(parts, n.Scope)
			}
		}
		if got := strings.Join(parts, " "); got != want[c] {
			t.Errorf("Scopes(%q) = %s, want %s", c, got, want[c])
		}
	}
	if got := preflight.Scopes("migrate"); got != nil {
		t.Errorf("Scopes(migrate) = %+v, want nil", got)
	}
	// The table is not the caller's to change.
	s := preflight.Scopes("verify")
	s[0].Scope = "delete:users"
	if preflight.Scopes("verify")[0].Scope != "update:users" {
		t.Error("changing what Scopes returned changed the table")
	}
}
