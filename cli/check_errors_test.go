package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
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
		{"scope through the jobs wrapper", fmt.Errorf("importing chunk 1: %w", &jobs.MissingScopeError{Scope: "create:users", Err: forbidden}),
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
