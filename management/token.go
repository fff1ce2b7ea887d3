package management

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/a0bulk/a0bulk/clock"
)

// TokenInfo is what a0bulk can tell about its Management API token without
// calling the API: the granted scopes and when the token expires.
type TokenInfo struct {
	Scopes []string
	Expiry time.Time // zero when unknown
}

// HasScope reports whether s was granted.
func (t *TokenInfo) HasScope(s string) bool {
	for _, g := range t.Scopes {
		if g == s {
			return true
		}
	}
	return false
}

// TokenError is a failed client-credentials token request. Its text has the
// client secret scrubbed: the Authentication API's error bodies (and proxies
// in front of it) may echo what was sent.
type TokenError struct {
	StatusCode int    // 0 when no HTTP response was received
	Code       string // the OAuth "error" field, e.g. access_denied
	Message    string // scrubbed
	cause      error  // kept only when its text is free of the secret
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("fetching management API token")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap exposes network and context errors (errors.Is(err, context.Canceled)).
func (e *TokenError) Unwrap() error { return e.cause }

// IsAuthFailure: the tenant refused the client's credentials (401/403 from
// /oauth/token), as opposed to a network failure.
func (e *TokenError) IsAuthFailure() bool {
	return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
}

// tokenCache holds the current token and refreshes it a margin before it
// expires, on the client's clock so that tests (and the sandbox's clock) agree
// on lifetimes. A one-slot channel is the lock so that waiters can give up
// with their context while another request is fetching.
type tokenCache struct {
	static string // a ready token: never fetched, never refreshed
	conf   *clientcredentials.Config
	http   *http.Client
	clock  clock.Clock
	secret string

	lock    chan struct{}
	tok     string
	scope   string
	hasExp  bool
	expiry  time.Time // from expires_in, on clock
	refresh time.Time // expiry minus the margin
}

func newTokenCache(static string, conf *clientcredentials.Config, hc *http.Client, clk clock.Clock) *tokenCache {
	tc := &tokenCache{static: static, conf: conf, http: hc, clock: clk, lock: make(chan struct{}, 1)}
	if conf != nil {
		tc.secret = conf.ClientSecret
	}
	return tc
}

func (tc *tokenCache) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // select would pick at random between a free lock and Done
	}
	select {
	case tc.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (tc *tokenCache) release() { <-tc.lock }

// token returns a valid access token, fetching one when there is none or the
// current one is within its refresh margin.
func (tc *tokenCache) token(ctx context.Context) (string, error) {
	if tc.static != "" {
		return tc.static, nil
	}
	if err := tc.acquire(ctx); err != nil {
		return "", err
	}
	defer tc.release()
	if tc.tok != "" && (!tc.hasExp || tc.clock.Now().Before(tc.refresh)) {
		return tc.tok, nil
	}
	return tc.fetchLocked(ctx)
}

// invalidate drops used if it is still the cached token: after a 401 the next
// token() fetches anew, while a token another request already refreshed is kept.
func (tc *tokenCache) invalidate(ctx context.Context, used string) {
	if tc.static != "" || tc.acquire(ctx) != nil {
		return
	}
	if tc.tok == used {
		tc.tok = ""
	}
	tc.release()
}

func (tc *tokenCache) fetchLocked(ctx context.Context) (string, error) {
	// The fetch gets a context of its own that only ctx's cancellation
	// reaches: ctx may belong to an API request, and that request's
	// httptrace would see the token POST written and take the API request
	// itself for sent (an unknown fate, when nothing was sent).
	fctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	t, err := tc.conf.Token(context.WithValue(fctx, oauth2.HTTPClient, tc.http))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = cerr // the caller's reason, not the detached context's
		}
		return "", tc.scrub(err)
	}
	now := tc.clock.Now()
	tc.tok = t.AccessToken
	tc.scope, _ = t.Extra("scope").(string)
	tc.hasExp = false
	if life, ok := expiresIn(t); ok && life > 0 {
		tc.hasExp = true
		tc.expiry = now.Add(life)
		tc.refresh = tc.expiry.Add(-refreshMargin(life))
	} else if exp, ok := jwtExpiry(t.AccessToken); ok {
		tc.hasExp = true
		tc.expiry = exp
		tc.refresh = exp.Add(-refreshMargin(exp.Sub(now)))
	}
	return tc.tok, nil
}

// refreshMargin: a minute early, or a tenth of the lifetime for short-lived
// tokens, so a request never leaves with a token that expires on its way.
func refreshMargin(life time.Duration) time.Duration {
	m := time.Minute
	if tenth := life / 10; tenth < m {
		m = tenth
	}
	return m
}

// expiresIn reads expires_in from the raw token response: oauth2 turns it
// into a wall-clock Expiry, but the cache runs on the client's clock.
func expiresIn(t *oauth2.Token) (time.Duration, bool) {
	var secs float64
	switch v := t.Extra("expires_in").(type) {
	case float64:
		secs = v
	case int64:
		secs = float64(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return 0, false
		}
		secs = f
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		secs = f
	default:
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// scrub turns any token-fetch failure into a *TokenError whose text cannot
// contain the client secret.
func (tc *tokenCache) scrub(err error) error {
	te := &TokenError{}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		te.Code = tc.clean(re.ErrorCode)
		te.Message = tc.clean(re.ErrorDescription)
		if te.Code == "" && te.Message == "" {
			te.Message = "unexpected response from the token endpoint"
		}
		return te
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Only the cause: the URL is known and carries nothing useful.
		err = ue.Err
	}
	te.Message = tc.clean(err.Error())
	if !tc.leaks(err.Error()) {
		te.cause = err
	}
	return te
}

func (tc *tokenCache) leaks(s string) bool {
	if tc.secret == "" {
		return false
	}
	return strings.Contains(s, tc.secret) || strings.Contains(s, url.QueryEscape(tc.secret))
}

func (tc *tokenCache) clean(s string) string {
	if tc.secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, tc.secret, "[REDACTED]")
	return strings.ReplaceAll(s, url.QueryEscape(tc.secret), "[REDACTED]")
}

// info reports scopes and expiry: from the token response, else from the
// JWT's claims (decoded, not verified: this is diagnostics, the API decides).
func (tc *tokenCache) info(ctx context.Context) (*TokenInfo, error) {
	tok, err := tc.token(ctx)
	if err != nil {
		return nil, err
	}
	ti := &TokenInfo{}
	scope := ""
	if tc.static == "" {
		if err := tc.acquire(ctx); err != nil {
			return nil, err
		}
		scope = tc.scope
		if tc.hasExp {
			ti.Expiry = tc.expiry
		}
		tc.release()
	}
	claims, cerr := jwtClaims(tok)
	claimed := false // the JWT has a scope claim, even an empty one
	if scope == "" && cerr == nil {
		scope, claimed = claims["scope"].(string)
	}
	if ti.Expiry.IsZero() && cerr == nil {
		ti.Expiry, _ = claimTime(claims["exp"])
	}
	if scope == "" && !claimed {
		if cerr == nil {
			cerr = errNoScopeClaim
		}
		return nil, fmt.Errorf("%w: %w", ErrScopesUnknown, cerr)
	}
	ti.Scopes = strings.Fields(scope)
	return ti, nil
}

// ErrScopesUnknown: the token does not say which scopes it carries (it is
// not a JWT, or names none), so they cannot be checked before the API is
// called; the API names a missing one when it refuses a request.
var ErrScopesUnknown = errors.New("reading token scopes")

// errNoScopeClaim: a JWT without a scope claim.
var errNoScopeClaim = errors.New("the token has no scope claim")

// errOpaqueToken: the token is not a JWT, so nothing can be read from it.
var errOpaqueToken = errors.New("the token is not a JWT")

func jwtClaims(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errOpaqueToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errOpaqueToken
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, errOpaqueToken
	}
	return claims, nil
}

func jwtExpiry(tok string) (time.Time, bool) {
	claims, err := jwtClaims(tok)
	if err != nil {
		return time.Time{}, false
	}
	return claimTime(claims["exp"])
}

func claimTime(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || f <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}
