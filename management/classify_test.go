package management

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/a0bulk/a0bulk/throttle"
)

// fakeFate is what test fakes return for a lost answer: any error with an
// UnknownFate() bool method.
type fakeFate struct{ unknown bool }

func (f fakeFate) Error() string     { return "connection reset after the request was sent" }
func (f fakeFate) UnknownFate() bool { return f.unknown }

// timeoutErr stands in for net/http's "timeout awaiting response headers",
// a net.Error that also matches context.DeadlineExceeded.
type timeoutErr struct{}

func (timeoutErr) Error() string        { return "net/http: timeout awaiting response headers" }
func (timeoutErr) Timeout() bool        { return true }
func (timeoutErr) Temporary() bool      { return true }
func (timeoutErr) Is(target error) bool { return target == context.DeadlineExceeded }

func apiErr(status int, err, msg, code string) *APIError {
	return &APIError{StatusCode: status, Err: err, Message: msg, ErrorCode: code}
}

func TestClassify(t *testing.T) {
	missingScope := apiErr(403, "Forbidden", "Insufficient scope, expected any of: create:users,update:users", "insufficient_scope")
	netErr := &url.Error{Op: "Post", URL: "https://acme.auth0.com/api/v2/users",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}

	type typed int
	const (
		original typed = iota // Verdict.Err is the error given
		customDomain
		scope
	)
	cases := []struct {
		name    string
		err     error
		action  Action
		code    string
		reason  string
		errKind typed
	}{
		// The three documented custom-domain refusals stop the run.
		{"custom domain does not exist", apiErr(400, "Bad Request", "The custom domain does not exist for the tenant.", ""),
			StopRun, "HTTP_400", "The custom domain does not exist for the tenant.", customDomain},
		{"custom domain header format", apiErr(400, "Bad Request", "The `auth0-custom-domain` HTTP header has an invalid format.", ""),
			StopRun, "HTTP_400", "The `auth0-custom-domain` HTTP header has an invalid format.", customDomain},
		{"multiple verified custom domains", apiErr(409, "Conflict", "The tenant has multiple verified custom domains.", ""),
			StopRun, "HTTP_409", "The tenant has multiple verified custom domains.", customDomain},
		{"custom domain, any case, wrapped", fmt.Errorf("creating user: %w", apiErr(400, "Bad Request", "CUSTOM DOMAIN is not verified", "")),
			StopRun, "HTTP_400", "CUSTOM DOMAIN is not verified", customDomain},
		{"custom domain already typed", fmt.Errorf("x: %w", &CustomDomainError{StatusCode: 409, Message: "m"}),
			StopRun, "", "", customDomain},
		{"custom domain only on 400 and 409", apiErr(404, "Not Found", "custom domain not found", ""),
			FailRecord, "HTTP_404", "custom domain not found", original},

		// The tenant refused this record.
		{"409 user exists", apiErr(409, "Conflict", "The user already exists.", "auth0_idp_error"),
			FailRecord, "auth0_idp_error", "The user already exists.", original},
		{"400 bad body with errorCode", apiErr(400, "Bad Request", "Payload validation error: 'Invalid email'", "invalid_body"),
			FailRecord, "invalid_body", "Payload validation error: 'Invalid email'", original},
		{"400 bad body without errorCode", apiErr(400, "Bad Request", "Payload validation error", ""),
			FailRecord, "HTTP_400", "Payload validation error", original},
		{"400 without message", apiErr(400, "Bad Request", "", ""),
			FailRecord, "HTTP_400", "400 Bad Request", original},
		{"413 too large", apiErr(413, "Payload Too Large", "request entity too large", ""),
			FailRecord, "HTTP_413", "request entity too large", original},
		{"404 connection not found, wrapped", fmt.Errorf("importing: %w", apiErr(404, "Not Found", "connection not found", "")),
			FailRecord, "HTTP_404", "connection not found", original},

		// About the run.
		{"403 insufficient_scope", missingScope,
			StopRun, "insufficient_scope", "Insufficient scope, expected any of: create:users,update:users", scope},
		{"missing scope already typed", fmt.Errorf("importing chunk 1: %w", &MissingScopeError{Scope: "create:users", Err: missingScope}),
			StopRun, "insufficient_scope", "Insufficient scope, expected any of: create:users,update:users", scope},
		{"403 other", apiErr(403, "Forbidden", "blocked by tenant policy", ""),
			StopRun, "HTTP_403", "blocked by tenant policy", original},
		{"401", apiErr(401, "Unauthorized", "Invalid token", ""),
			StopRun, "HTTP_401", "Invalid token", original},
		{"429 rate limited after retries", apiErr(429, "Too Many Requests", "Global limit has been reached", "too_many_requests"),
			StopRun, "too_many_requests", "Global limit has been reached", original},
		{"500", apiErr(500, "Internal Server Error", "", ""),
			StopRun, "HTTP_500", "500 Internal Server Error", original},
		{"503 after retries", apiErr(503, "Service Unavailable", "try later", ""),
			StopRun, "HTTP_503", "try later", original},
		{"302 never followed", apiErr(302, "Found", "unexpected text/html error response (120 bytes)", ""),
			StopRun, "HTTP_302", "unexpected text/html error response (120 bytes)", original},
		{"plain net error: tenant unreachable", netErr, StopRun, "", "", original},
		{"context cancelled", context.Canceled, StopRun, "", "", original},
		{"context cancelled, wrapped", fmt.Errorf("creating user: %w", context.Canceled), StopRun, "", "", original},
		{"fake error with UnknownFate() false", fakeFate{unknown: false}, StopRun, "", "", original},

		// Safe to send again after a wait.
		{"429 job limit", apiErr(429, "Too Many Requests", "There are 2 active import users jobs, please wait until some of them are finished and try again", ""),
			Retry, "HTTP_429", "There are 2 active import users jobs, please wait until some of them are finished and try again", original},

		// Unknown fate: read the tenant back.
		{"throttle's UnknownFateError", fmt.Errorf("creating user: %w", &throttle.UnknownFateError{Method: "POST", URL: "https://x/api/v2/users", Err: &throttle.StatusError{StatusCode: 502}}),
			ReadBack, "", "", original},
		{"fake error with UnknownFate() true", fmt.Errorf("importing: %w", fakeFate{unknown: true}), ReadBack, "", "", original},
		// The transport's response-header timeout matches DeadlineExceeded:
		// after the POST was written it is still an unknown fate.
		{"header timeout after the write", &throttle.UnknownFateError{Method: "POST", URL: "https://x/api/v2/users", Err: timeoutErr{}},
			ReadBack, "", "", original},
		// Callers holding the context check ctx.Err() before Classify.
		{"cancelled after the write", &throttle.UnknownFateError{Method: "POST", URL: "https://x/api/v2/users", Err: context.Canceled},
			ReadBack, "", "", original},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Classify(tc.err)
			if v.Action != tc.action || v.Code != tc.code || v.Reason != tc.reason {
				t.Fatalf("Classify = {%v %q %q}, want {%v %q %q}", v.Action, v.Code, v.Reason, tc.action, tc.code, tc.reason)
			}
			if v.Err == nil {
				t.Fatal("Verdict.Err is nil")
			}
			var cd *CustomDomainError
			var ms *MissingScopeError
			switch tc.errKind {
			case original:
				if v.Err != tc.err {
					t.Fatalf("Err = %v, want the original error", v.Err)
				}
			case customDomain:
				if !errors.As(v.Err, &cd) {
					t.Fatalf("Err = %T %v, want a *CustomDomainError", v.Err, v.Err)
				}
			case scope:
				if !errors.As(v.Err, &ms) || ms.Scope == "" {
					t.Fatalf("Err = %T %v, want a *MissingScopeError naming the scope", v.Err, v.Err)
				}
			}
			// The tenant's answer stays reachable through the typed error.
			if a, ok := AsAPIError(tc.err); ok {
				if b, _ := AsAPIError(v.Err); b != a {
					t.Fatalf("the *APIError is lost in Err = %v", v.Err)
				}
			}
			if tc.errKind != customDomain && errors.As(v.Err, &cd) {
				t.Fatalf("Err = %v is a custom-domain refusal", v.Err)
			}
			if tc.errKind != scope && errors.As(v.Err, &ms) {
				t.Fatalf("Err = %v is a missing scope", v.Err)
			}
		})
	}
}

func TestClassifyNilIsALoudStop(t *testing.T) {
	if v := Classify(nil); v.Action != StopRun || v.Err == nil {
		t.Fatalf("Classify(nil) = %+v, want StopRun with an error", v)
	}
}

func TestCustomDomainErrorKeepsTheAnswer(t *testing.T) {
	orig := fmt.Errorf("sending: %w", apiErr(409, "Conflict", "The tenant has multiple verified custom domains.", ""))
	cd, ok := AsCustomDomainError(orig)
	if !ok || cd.StatusCode != 409 || cd.Message != "The tenant has multiple verified custom domains." || !errors.Is(cd, orig) {
		t.Fatalf("cd = %+v, ok = %v", cd, ok)
	}
	if _, ok := AsAPIError(cd); !ok {
		t.Fatal("the *APIError is not reachable through the *CustomDomainError")
	}
	if got := cd.Error(); got != "custom domain refused by the tenant (409): The tenant has multiple verified custom domains." {
		t.Fatalf("Error() = %q", got)
	}
	// The same pointer comes back when it is already typed.
	if again, ok := AsCustomDomainError(fmt.Errorf("x: %w", cd)); !ok || again != cd {
		t.Fatal("an already typed refusal is not returned as is")
	}
	if _, ok := AsCustomDomainError(errors.New("custom domain")); ok {
		t.Fatal("a non-API error matched")
	}
}

func TestMissingScopeErrorText(t *testing.T) {
	ms, ok := AsMissingScope(fmt.Errorf("x: %w", apiErr(403, "Forbidden", "Insufficient scope, expected any of: read:users", "insufficient_scope")))
	if !ok || ms.Scope != "read:users" || ms.Error() != "the token lacks a required scope (expected any of: read:users)" {
		t.Fatalf("ms = %+v, ok = %v", ms, ok)
	}
	unnamed := apiErr(403, "Forbidden", "Insufficient scope", "insufficient_scope")
	ms, ok = AsMissingScope(unnamed)
	if !ok || ms.Scope != "" || ms.Error() != "the token lacks a required scope: "+unnamed.Error() {
		t.Fatalf("ms = %+v, ok = %v", ms, ok)
	}
	if _, ok := AsMissingScope(apiErr(403, "Forbidden", "blocked", "")); ok {
		t.Fatal("a plain 403 is not a missing scope")
	}
}

func TestIsUnknownFateMatchesFakes(t *testing.T) {
	if !IsUnknownFate(fmt.Errorf("x: %w", fakeFate{unknown: true})) {
		t.Fatal("a fake with UnknownFate() true did not match")
	}
	if IsUnknownFate(fakeFate{unknown: false}) {
		t.Fatal("a fake with UnknownFate() false matched")
	}
}
