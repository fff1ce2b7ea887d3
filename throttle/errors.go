package throttle

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// UnknownFateError says a non-idempotent request (POST, PATCH) may or may not
// have taken effect: it was fully written and then the connection failed, or
// the server answered with a 5xx that does not promise "nothing happened"
// (anything but 503). The throttle never retries such a request,
// because a blind retry could create a user or an import job twice; the
// caller settles it by reading the tenant back.
type UnknownFateError struct {
	Method string
	URL    string // scheme, host and path only: the query may hold user data
	Err    error
}

func (e *UnknownFateError) Error() string {
	return fmt.Sprintf("%s %s: outcome unknown (the request may have taken effect): %v", e.Method, e.URL, e.Err)
}

func (e *UnknownFateError) Unwrap() error { return e.Err }

// UnknownFate lets packages that do not import throttle recognise the error
// through an interface (see management.IsUnknownFate).
func (e *UnknownFateError) UnknownFate() bool { return true }

// StatusError is the cause inside an UnknownFateError when the server answered
// with a 5xx: the response itself was discarded.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("server answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// transportErrnos are connection failures a retry may cure.
var transportErrnos = []error{
	syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE,
	syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN,
}

// isTransportError reports whether err is a connection-level failure (as
// opposed to, say, an unsupported URL scheme or an untrusted certificate,
// which no retry will cure).
func isTransportError(err error) bool {
	if err == nil {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false // the resolver answered: the host does not exist
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	for _, errno := range transportErrnos {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// redactURL keeps what identifies the endpoint and drops what may be private:
// user info and the query (users-by-email carries an address there).
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}
