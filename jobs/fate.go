package jobs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a0bulk/a0bulk/management"
)

// IsUnknownFate reports whether err says a POST or PATCH may or may not have
// taken effect (the request was written, then the answer was lost). Such a
// request must never be retried blindly: the caller reads the tenant back.
//
// It is management.IsUnknownFate, and also matches any error in the chain
// with an UnknownFate() bool method (what test fakes return).
func IsUnknownFate(err error) bool {
	if management.IsUnknownFate(err) {
		return true
	}
	var u interface{ UnknownFate() bool }
	return errors.As(err, &u) && u.UnknownFate()
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

// AsCustomDomainError classifies err: it returns a *CustomDomainError when
// err is one of the tenant's custom-domain refusals (or already is one).
func AsCustomDomainError(err error) (*CustomDomainError, bool) {
	var cd *CustomDomainError
	if errors.As(err, &cd) {
		return cd, true
	}
	apiErr, ok := management.AsAPIError(err)
	if !ok {
		return nil, false
	}
	msg := strings.ToLower(apiErr.Message)
	switch {
	case apiErr.StatusCode == http.StatusBadRequest && strings.Contains(msg, "custom domain does not exist"),
		apiErr.StatusCode == http.StatusBadRequest && strings.Contains(msg, "custom-domain") && strings.Contains(msg, "invalid format"),
		apiErr.StatusCode == http.StatusConflict && strings.Contains(msg, "multiple verified custom domains"):
		return &CustomDomainError{StatusCode: apiErr.StatusCode, Message: apiErr.Message, Err: err}, true
	}
	return nil, false
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

// AsMissingScope returns a *MissingScopeError for a 403 insufficient_scope.
func AsMissingScope(err error) (*MissingScopeError, bool) {
	var ms *MissingScopeError
	if errors.As(err, &ms) {
		return ms, true
	}
	apiErr, ok := management.AsAPIError(err)
	if !ok {
		return nil, false
	}
	scope, ok := apiErr.MissingScope()
	if !ok {
		return nil, false
	}
	return &MissingScopeError{Scope: scope, Err: err}, true
}

// codeOf returns the tenant's errorCode, or a stable stand-in when absent.
func codeOf(apiErr *management.APIError) string {
	if apiErr.ErrorCode != "" {
		return apiErr.ErrorCode
	}
	return fmt.Sprintf("HTTP_%d", apiErr.StatusCode)
}

// CodeOf is codeOf for create/: the report code for a refused request.
func CodeOf(apiErr *management.APIError) string { return codeOf(apiErr) }

// reasonOf is the tenant's message, or the error text when it has none.
func reasonOf(apiErr *management.APIError) string {
	if apiErr.Message != "" {
		return apiErr.Message
	}
	return apiErr.Error()
}

// ReasonOf is reasonOf for create/.
func ReasonOf(apiErr *management.APIError) string { return reasonOf(apiErr) }

// AboutTheRun reports whether the tenant's answer is about the run, not the
// record: auth refused, forbidden, still rate limited after the throttle's
// retries, or the tenant failing. Every later request would get it too, so
// the run stops (exit 1) and the record stays unsettled for --resume rather
// than being reported failed.
func AboutTheRun(err error) bool {
	apiErr, ok := management.AsAPIError(err)
	if !ok {
		return false
	}
	s := apiErr.StatusCode
	return s == 401 || s == 403 || s == 429 || s >= 500
}
