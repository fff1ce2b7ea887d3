package throttle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"
)

func TestParseBucket(t *testing.T) {
	h := func(limit, remaining, reset string) http.Header {
		x := http.Header{}
		for k, v := range map[string]string{"x-ratelimit-limit": limit, "x-ratelimit-remaining": remaining, "x-ratelimit-reset": reset} {
			if v != "" {
				x.Set(k, v)
			}
		}
		return x
	}
	for _, tt := range []struct {
		name string
		h    http.Header
		want bucketHeaders
		ok   bool
	}{
		{"all three", h("50", "49", "1772366400"), bucketHeaders{50, 49, time.Unix(1772366400, 0)}, true},
		{"no reset", h("10", "0", ""), bucketHeaders{limit: 10}, true},
		{"bad reset ignored", h("10", "3", "soon"), bucketHeaders{limit: 10, remaining: 3}, true},
		{"remaining above limit clamped", h("10", "12", ""), bucketHeaders{limit: 10, remaining: 10}, true},
		{"missing remaining", h("10", "", ""), bucketHeaders{}, false},
		{"zero limit", h("0", "0", ""), bucketHeaders{}, false},
		{"negative remaining", h("10", "-1", ""), bucketHeaders{}, false},
		{"none", http.Header{}, bucketHeaders{}, false},
	} {
		got, ok := parseBucket(tt.h)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{t0.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"-1", 0, false},
		{"later", 0, false},
		{"", 0, false},
	} {
		h := http.Header{}
		if tt.v != "" {
			h.Set("Retry-After", tt.v)
		}
		got, ok := parseRetryAfter(h, t0)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Retry-After %q: got %v %v, want %v %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsTransportError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{errRefused, true},
		{errReset, true},
		{io.EOF, true},
		{fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{syscall.ECONNRESET, true},
		{syscall.EPIPE, true},
		{&url.Error{Op: "Post", URL: "x", Err: errors.New("boom")}, true},
		{errors.New("unsupported protocol scheme \"ftp\""), false},
		{context.Canceled, false},
		{nil, false},
		// No such host is the resolver's answer, not a failure to get one: a
		// mistyped domain must not be waited out for MaxWait.
		{&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "acme.auth0.cmo", IsNotFound: true}}, false},
		{&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "server misbehaving", Name: "acme.auth0.com", IsTemporary: true}}, true},
	} {
		if got := isTransportError(tt.err); got != tt.want {
			t.Errorf("isTransportError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@tenant.test/api/v2/users-by-email?email=a%40b.c")
	if got, want := redactURL(u), "https://tenant.test/api/v2/users-by-email"; got != want {
		t.Errorf("redactURL = %q, want %q", got, want)
	}
}
