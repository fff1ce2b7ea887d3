package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/preflight"
)

func TestRenderErrorHints(t *testing.T) {
	forbidden := &management.APIError{StatusCode: 403, Err: "Forbidden",
		Message: "Insufficient scope, expected any of: create:users", ErrorCode: "insufficient_scope"}
	for _, tc := range []struct {
		name string
		err  error
		want []string // substrings of the rendered text
		none bool     // no hint: the text is the error's own
	}{
		{"scope through the jobs wrapper", fmt.Errorf("importing chunk 1: %w", &management.MissingScopeError{Scope: "create:users", Err: forbidden}),
			[]string{"importing chunk 1", "grant create:users", "Machine to Machine Applications"}, false},
		{"bare API error", forbidden, []string{"grant create:users"}, false},
		{"unnamed scope", &management.APIError{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope", ErrorCode: "insufficient_scope"},
			[]string{"a0bulk check"}, false},
		{"plain 403 is not a scope error", &management.APIError{StatusCode: 403, Err: "Forbidden", Message: "blocked"}, nil, true},
		{"refused credentials", &management.TokenError{StatusCode: 401, Code: "access_denied", Message: "Unauthorized"},
			[]string{"fix: check --client-id"}, false},
		{"grant not enabled", &management.TokenError{StatusCode: 403, Code: "unauthorized_client", Message: "Grant type 'client_credentials' not allowed for the client."},
			[]string{"Client Credentials grant"}, false},
		{"unreachable", &management.TokenError{Message: "dial tcp: connection refused"}, []string{"--domain"}, false},
		{"anything else", errors.New("boom"), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := renderError(tc.err)
			if tc.none {
				if got != tc.err.Error() {
					t.Fatalf("renderError = %q, want the error unchanged", got)
				}
				return
			}
			if !strings.HasPrefix(got, tc.err.Error()) {
				t.Errorf("renderError = %q does not start with the error %q", got, tc.err.Error())
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("renderError = %q, want %q in it", got, w)
				}
			}
		})
	}
	if renderError(nil) != "" {
		t.Error("renderError(nil) is not empty")
	}
}

// The check report's text and JSON forms, byte for byte: scripts parse both.
func TestPrintCheckReport(t *testing.T) {
	rep := preflight.Report{For: "create", Checks: []preflight.Result{
		{Name: "domain", Status: "PASS", Detail: "acme.eu.auth0.com: the token endpoint and the API answered"},
		{Name: "scopes", Status: "WARN", Detail: "enough for a0bulk create, but not for update:users", Fix: "grant update:users (only if you need those)"},
		{Name: "rate limit", Status: "SKIP", Detail: "not checked: an earlier check failed"},
	}}
	for _, tc := range []struct {
		name string
		ok   bool
		json bool
		want string
	}{
		{"text, not ready", false, false, `PASS  domain      acme.eu.auth0.com: the token endpoint and the API answered
WARN  scopes      enough for a0bulk create, but not for update:users
                  fix: grant update:users (only if you need those)
SKIP  rate limit  not checked: an earlier check failed
not ready for a0bulk create: fix the FAIL lines above and run a0bulk check again
`},
		{"text, ready", true, false, `PASS  domain      acme.eu.auth0.com: the token endpoint and the API answered
WARN  scopes      enough for a0bulk create, but not for update:users
                  fix: grant update:users (only if you need those)
SKIP  rate limit  not checked: an earlier check failed
ready for a0bulk create
`},
		{"json", false, true, `{
  "for": "create",
  "checks": [
    {
      "name": "domain",
      "status": "PASS",
      "detail": "acme.eu.auth0.com: the token endpoint and the API answered"
    },
    {
      "name": "scopes",
      "status": "WARN",
      "detail": "enough for a0bulk create, but not for update:users",
      "fix": "grant update:users (only if you need those)"
    },
    {
      "name": "rate limit",
      "status": "SKIP",
      "detail": "not checked: an earlier check failed"
    }
  ],
  "ok": false
}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			r := rep
			r.OK = tc.ok
			if err := printCheckReport(Test(strings.NewReader(""), &out, &errOut), globalOptions{JSON: tc.json}, r); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("printed\n%s\nwant\n%s", out.String(), tc.want)
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr: %q", errOut.String())
			}
		})
	}
}
