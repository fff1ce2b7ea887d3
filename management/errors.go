package management

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIError is the Management API's error body. ErrorCode is often absent.
type APIError struct {
	StatusCode int    `json:"statusCode"`
	Err        string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode,omitempty"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.StatusCode, e.Err)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.ErrorCode != "" {
		fmt.Fprintf(&b, " (%s)", e.ErrorCode)
	}
	return b.String()
}

// JobLimitMessage is the text that tells the import-job-limit 429 apart from
// a rate-limit 429.
const JobLimitMessage = "active import users jobs"

// IsJobLimit: the tenant already runs its maximum of import jobs. This is a
// scheduling signal ("wait for a slot"), not a rate limit.
func (e *APIError) IsJobLimit() bool {
	return e.StatusCode == http.StatusTooManyRequests && strings.Contains(e.Message, JobLimitMessage)
}

// IsRateLimited: a 429 that is not the job limit.
func (e *APIError) IsRateLimited() bool {
	return e.StatusCode == http.StatusTooManyRequests && !e.IsJobLimit()
}

func (e *APIError) IsConflict() bool     { return e.StatusCode == http.StatusConflict }
func (e *APIError) IsTooLarge() bool     { return e.StatusCode == http.StatusRequestEntityTooLarge }
func (e *APIError) IsUnauthorized() bool { return e.StatusCode == http.StatusUnauthorized }
func (e *APIError) IsNotFound() bool     { return e.StatusCode == http.StatusNotFound }

// MissingScope returns the scope a 403 insufficient_scope names, if any.
// Auth0's message reads "Insufficient scope, expected any of: read:users,read:current_user";
// the returned string is that comma-separated list.
func (e *APIError) MissingScope() (string, bool) {
	if e.StatusCode != http.StatusForbidden || e.ErrorCode != "insufficient_scope" {
		return "", false
	}
	const marker = "expected any of:"
	if i := strings.Index(e.Message, marker); i >= 0 {
		return strings.TrimSpace(e.Message[i+len(marker):]), true
	}
	return "", true
}

// AsAPIError unwraps err to an *APIError.
func AsAPIError(err error) (*APIError, bool) {
	var apiErr *APIError
	ok := errors.As(err, &apiErr)
	return apiErr, ok
}

// Predicates usable on any error chain.
func IsJobLimit(err error) bool    { e, ok := AsAPIError(err); return ok && e.IsJobLimit() }
func IsRateLimited(err error) bool { e, ok := AsAPIError(err); return ok && e.IsRateLimited() }
func IsConflict(err error) bool    { e, ok := AsAPIError(err); return ok && e.IsConflict() }
func IsTooLarge(err error) bool    { e, ok := AsAPIError(err); return ok && e.IsTooLarge() }
func IsUnauthorized(err error) bool {
	e, ok := AsAPIError(err)
	return ok && e.IsUnauthorized()
}
func IsNotFound(err error) bool { e, ok := AsAPIError(err); return ok && e.IsNotFound() }
