package cli

import (
	"errors"
	"fmt"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/preflight"
)

// renderError is the text Main prints for a run's error: the error itself
// plus, when the tenant said why in a way an operator can act on, what to do.
// A 403 insufficient_scope names the missing scope and where it is granted,
// not just "forbidden"; a refused token points at the credentials. It never
// adds anything secret: the hints are fixed text and scope names.
func renderError(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if hint := errorHint(err); hint != "" {
		msg += "\n  " + hint
	}
	return msg
}

func errorHint(err error) string {
	if e, ok := management.AsAPIError(err); ok {
		if scope, ok := e.MissingScope(); ok {
			if scope == "" {
				return "the token lacks a scope the tenant did not name; run a0bulk check to see which scopes this command needs"
			}
			return fmt.Sprintf("fix: %s (a0bulk check --for COMMAND lists every scope a command needs)", preflight.GrantScopesFix([]string{scope}, ""))
		}
		if e.IsUnauthorized() {
			return "the tenant refused the token; run a0bulk check to see why"
		}
	}
	var te *management.TokenError
	if errors.As(err, &te) {
		if te.StatusCode == 0 {
			return "the tenant did not answer; check --domain and the network (a0bulk check)"
		}
		return "fix: " + preflight.TokenFix(te)
	}
	return ""
}
