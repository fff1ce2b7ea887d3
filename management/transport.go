package management

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/a0bulk/a0bulk/throttle"
)

// The client's RoundTripper chain, outer to inner:
// auth → customDomain → logging → throttle → userAgent → base.
// Each one clones the request before touching headers: a RoundTripper must
// not modify the caller's request (the throttle and the 401 retry resend it).

// authTransport adds the bearer token and, after a 401, drops the cached
// token, fetches a new one and sends the request once more: a token revoked
// or expired early must not fail a long run.
type authTransport struct {
	next   http.RoundTripper
	tokens *tokenCache
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.tokens.token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.next.RoundTrip(withBearer(req, tok))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || t.tokens.static != "" {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot resend: the caller sees the 401
	}
	t.tokens.invalidate(ctx, tok)
	fresh, err := t.tokens.token(ctx)
	if err != nil {
		// Keep the API's 401: it says more than a failed refetch would.
		return resp, nil
	}
	retry := req.Clone(ctx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry.Body = body
	}
	drain(resp)
	return t.next.RoundTrip(withBearer(retry, fresh))
}

func withBearer(req *http.Request, tok string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// customDomainTransport sets Auth0-Custom-Domain on the endpoints that accept
// it and strips it from every other request, as the official SDKs do: other
// endpoints reject or misroute it.
type customDomainTransport struct {
	next   http.RoundTripper
	domain string // empty: the header is never sent
}

const customDomainHeader = "Auth0-Custom-Domain"

func (t *customDomainTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	want := t.domain != "" && acceptsCustomDomain(req.Method, req.URL)
	has := req.Header.Get(customDomainHeader) != ""
	if !want && !has {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	if want {
		r.Header.Set(customDomainHeader, t.domain)
	} else {
		r.Header.Del(customDomainHeader)
	}
	return t.next.RoundTrip(r)
}

// customDomainPaths are the endpoints documented to accept the header
// (auth0-facts.md); "*" is one non-empty path segment.
var customDomainPaths = []struct {
	method string
	path   []string
}{
	{http.MethodPost, []string{"api", "v2", "jobs", "verification-email"}},
	{http.MethodPost, []string{"api", "v2", "users"}},
	{http.MethodPatch, []string{"api", "v2", "users", "*"}},
	{http.MethodPost, []string{"api", "v2", "tickets", "email-verification"}},
	{http.MethodPost, []string{"api", "v2", "tickets", "password-change"}},
	{http.MethodPost, []string{"api", "v2", "organizations", "*", "invitations"}},
	{http.MethodPost, []string{"api", "v2", "guardian", "enrollments", "ticket"}},
	{http.MethodPost, []string{"api", "v2", "self-service-profiles", "*", "sso-ticket"}},
}

func acceptsCustomDomain(method string, u *url.URL) bool {
	// The escaped path keeps an encoded "/" inside an id as one segment.
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for _, p := range customDomainPaths {
		if p.method != method || len(p.path) != len(segs) {
			continue
		}
		ok := true
		for i, s := range p.path {
			if (s == "*" && segs[i] == "") || (s != "*" && s != segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// logTransport writes one line per request (after the throttle's retries):
// method, path without the query (it may hold an email address), status,
// latency and the rate-limit headers. Never headers in general, never bodies.
type logTransport struct {
	next http.RoundTripper
	log  *slog.Logger
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now() // latency is wall time even under a fake clock
	resp, err := t.next.RoundTrip(req)
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Duration("latency", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", logSafeError(err)))
		t.log.LogAttrs(req.Context(), slog.LevelInfo, "management API request failed", attrs...)
		return resp, err
	}
	attrs = append(attrs, slog.Int("status", resp.StatusCode))
	for _, h := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"} {
		if v := resp.Header.Get(h); v != "" {
			attrs = append(attrs, slog.String(strings.ToLower(h), v))
		}
	}
	t.log.LogAttrs(req.Context(), slog.LevelInfo, "management API request", attrs...)
	return resp, err
}

// retryHooks fan a throttle retry out to whoever watches: the caller's
// Config.Throttle.OnRetry, the verbose log and a run's progress display
// (WatchRetries). It runs on the retrying request's goroutine, from any
// number of them at once.
type retryHooks struct {
	user  func(throttle.RetryEvent)
	log   *slog.Logger // nil unless verbose
	watch atomic.Pointer[func(throttle.RetryEvent)]
}

func (h *retryHooks) onRetry(e throttle.RetryEvent) {
	if h.log != nil {
		logRetry(h.log, e)
	}
	if h.user != nil {
		h.user(e)
	}
	if fn := h.watch.Load(); fn != nil && *fn != nil {
		(*fn)(e)
	}
}

// logRetry is the verbose line of one retry: the route with its ids as
// {id} (never a query or a body), what caused it and the wait before it.
func logRetry(log *slog.Logger, e throttle.RetryEvent) {
	attrs := []slog.Attr{
		slog.String("method", e.Method),
		slog.String("route", e.Route),
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", logSafeError(e.Err)))
	} else {
		attrs = append(attrs, slog.Int("status", e.Status))
	}
	attrs = append(attrs, slog.Duration("wait", e.Wait), slog.Int("retry", e.Attempt))
	log.LogAttrs(context.Background(), slog.LevelDebug, "management API retry", attrs...)
}

// logSafeError drops the URL (and so the query) from transport errors.
func logSafeError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// userAgentTransport names the tool on every request, token fetches included.
type userAgentTransport struct {
	next http.RoundTripper
	ua   string
}

func (t *userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.ua)
	return t.next.RoundTrip(r)
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// closeBody honours the RoundTripper contract: the request body is closed
// even when the request is never sent.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
