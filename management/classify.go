package management

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a0bulk/a0bulk/throttle"
)

// Action is what a caller does with an error from the Management API, after the
// throttle's own retries.
type Action int

const (
	// FailRecord: the tenant refused this record: report it failed with
	// Verdict.Code and Verdict.Reason.
	FailRecord Action = iota
	// Retry: safe to send again after a wait: the import-job limit (429
	// "active import users jobs"). Callers that do not wait for job slots
	// (anything but an import) treat it as StopRun.
	Retry
	// ReadBack: unknown fate: the request may have taken effect; read the
	// tenant back before any resend.
	ReadBack
	// StopRun: about the run, not the record: 401, 403 (incl. missing scope),
	// 429 after retries, 5xx, custom domain refused, tenant unreachable (not
	// an API answer and not an unknown fate), context cancelled. Every later
	// request would fail alike, so the run stops and the record stays
	// unsettled for --resume rather than being reported failed.
	StopRun
)

func (a Action) String() string {
	switch a {
	case FailRecord:
		return "fail-record"
	case Retry:
		return "retry"
	case ReadBack:
		return "read-back"
	case StopRun:
		return "stop-run"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Verdict is Classify's answer.
type Verdict struct {
	Action Action
	// Code and Reason are the report's code and reason for the tenant's
	// answer (CodeOf, ReasonOf); set whenever an *APIError is in the chain,
	// empty otherwise (unknown fate, tenant unreachable, cancelled).
	Code, Reason string
	// Err is the error to return or wrap: a *CustomDomainError or a
	// *MissingScopeError when the answer is one of those, else the original.
	Err error
}

// errNilClassified is what Classify says of a nil error: a caller bug, made
// loud (the run stops) rather than read as success.
var errNilClassified = errors.New("management.Classify called without an error")

// Classify says what to do with err, a non-nil error from a Management API
// call (after the throttle's retries). Give it only non-nil errors: there is
// no verdict for success (a nil err is answered StopRun with an error saying
// so).
//
// Order: an unknown fate (ReadBack) wins over everything, including a
// cancellation inside it: callers that hold the context check ctx.Err()
// first. Then a cancelled or expired context, a refused custom domain and a
// missing scope stop the run; then the tenant's answer decides by status;
// anything else is the tenant unreachable (StopRun).
func Classify(err error) Verdict {
	if err == nil {
		return Verdict{Action: StopRun, Err: errNilClassified}
	}
	if IsUnknownFate(err) {
		return Verdict{Action: ReadBack, Err: err}
	}
	v := Verdict{Action: StopRun, Err: err}
	apiErr, answered := AsAPIError(err)
	if answered {
		v.Code, v.Reason = CodeOf(apiErr), ReasonOf(apiErr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return v
	}
	if cd, ok := AsCustomDomainError(err); ok {
		v.Err = cd
		return v
	}
	if ms, ok := AsMissingScope(err); ok {
		v.Err = ms
		return v
	}
	if !answered {
		// Not an answer and not sent (the throttle retried what it could):
		// the tenant is unreachable.
		return v
	}
	switch s := apiErr.StatusCode; {
	case apiErr.IsJobLimit():
		v.Action = Retry
	case s < 400, s == http.StatusUnauthorized, s == http.StatusForbidden,
		s == http.StatusTooManyRequests, s >= 500:
		// A redirect (never followed: noRedirects), auth refused,
		// forbidden, still rate limited, or the tenant failing.
		v.Action = StopRun
	default:
		v.Action = FailRecord
	}
	return v
}

// IsUnknownFate reports whether err says a POST or PATCH may or may not have
// taken effect (the request was written, then the answer was lost): a
// *throttle.UnknownFateError, or any error in the chain with an
// UnknownFate() bool method that returns true (what test fakes return).
// Such a request is never sent again blindly: the caller reads the tenant back.
func IsUnknownFate(err error) bool {
	var u *throttle.UnknownFateError
	if errors.As(err, &u) {
		return true
	}
	var f interface{ UnknownFate() bool }
	return errors.As(err, &f) && f.UnknownFate()
}

// CustomDomainError says the tenant refused the Auth0-Custom-Domain header
// (unknown domain, bad format, or several verified domains and none chosen).
// Every later request would fail the same way, so the run stops early.
type CustomDomainError struct {
	StatusCode int
	Message    string
	Err        error
}

func (e *CustomDomainError) Error() string {
	return fmt.Sprintf("custom domain refused by the tenant (%d): %s", e.StatusCode, e.Message)
}

func (e *CustomDomainError) Unwrap() error { return e.Err }

// AsCustomDomainError returns a *CustomDomainError when err is one of the
// tenant's custom-domain refusals (or already is one): a 400 or 409 whose
// message names the custom domain ("custom domain" or "custom-domain", any
// case). That covers the documented answers, 400 "The custom domain does not
// exist for the tenant.", 400 "The `auth0-custom-domain` HTTP header has an
// invalid format." and 409 "The tenant has multiple verified custom
// domains.", and not a 409 "The user already exists.".
func AsCustomDomainError(err error) (*CustomDomainError, bool) {
	var cd *CustomDomainError
	if errors.As(err, &cd) {
		return cd, true
	}
	apiErr, ok := AsAPIError(err)
	if !ok || !refusesCustomDomain(apiErr) {
		return nil, false
	}
	return &CustomDomainError{StatusCode: apiErr.StatusCode, Message: apiErr.Message, Err: err}, true
}

func refusesCustomDomain(e *APIError) bool {
	if e.StatusCode != http.StatusBadRequest && e.StatusCode != http.StatusConflict {
		return false
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "custom domain") || strings.Contains(m, "custom-domain")
}

// MissingScopeError says the token lacks a scope the run needs: fatal.
type MissingScopeError struct {
	Scope string // comma-separated list from the tenant, may be empty
	Err   error
}

func (e *MissingScopeError) Error() string {
	if e.Scope == "" {
		return "the token lacks a required scope: " + e.Err.Error()
	}
	return "the token lacks a required scope (expected any of: " + e.Scope + ")"
}

func (e *MissingScopeError) Unwrap() error { return e.Err }

// AsMissingScope returns a *MissingScopeError for a 403 insufficient_scope
// (or when err already is one).
func AsMissingScope(err error) (*MissingScopeError, bool) {
	var ms *MissingScopeError
	if errors.As(err, &ms) {
		return ms, true
	}
	apiErr, ok := AsAPIError(err)
	if !ok {
		return nil, false
	}
	scope, ok := apiErr.MissingScope()
	if !ok {
		return nil, false
	}
	return &MissingScopeError{Scope: scope, Err: err}, true
}

// CodeOf is the report code for a refused request: the tenant's errorCode,
// or a stable stand-in (HTTP_400, …) when absent.
func CodeOf(apiErr *APIError) string {
	if apiErr.ErrorCode != "" {
		return apiErr.ErrorCode
	}
	return fmt.Sprintf("HTTP_%d", apiErr.StatusCode)
}

// ReasonOf is the report reason for a refused request: the tenant's message,
// or the error text when it has none.
func ReasonOf(apiErr *APIError) string {
	if apiErr.Message != "" {
		return apiErr.Message
	}
	return apiErr.Error()
}
