package management

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// An export job's location is a signed URL of its file: whoever holds it
// can download every exported user for about a minute. It is never logged,
// printed or put in an error; LocationHost is all of it that is shown.

// ErrBadLocation: a location a0bulk will not download from (not https
// outside loopback, not a URL).
var ErrBadLocation = errors.New("unusable export file location")

// ParseLocation reads an export job's location. Auth0 has documented it
// both with a scheme ("https://user-exports.auth0.com/job_…/tenant.csv.gz?…")
// and without one ("pus3-auth0-export-users-us-east-2.s3….amazonaws.com/job_…");
// a location without a scheme is https. Plain http is accepted on loopback
// only (the sandbox), like the tenant's domain. The error never holds the
// location.
func ParseLocation(loc string) (*url.URL, error) {
	s := strings.TrimSpace(loc)
	if s == "" {
		return nil, fmt.Errorf("%w: the job has none", ErrBadLocation)
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%w: not a URL", ErrBadLocation)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w: plain http to %s (only https, or http on loopback)", ErrBadLocation, u.Hostname())
		}
	default:
		return nil, fmt.Errorf("%w: scheme %q (want https)", ErrBadLocation, u.Scheme)
	}
	return u, nil
}

// LocationHost is what may be shown of a location: its host, "" when it
// has none it can tell.
func LocationHost(loc string) string {
	s := strings.TrimSpace(loc)
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Host
}

// Redacted is the job with its location cut down to its host, to print.
func (j Job) Redacted() Job {
	if j.Location != "" {
		j.Location = LocationHost(j.Location)
		if j.Location == "" {
			j.Location = "(redacted)"
		}
	}
	return j
}
