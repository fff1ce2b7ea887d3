package management

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/throttle"
)

// Config says which tenant to talk to and how. New validates it before any
// network call.
type Config struct {
	// Domain: "acme.eu.auth0.com", "https://acme.eu.auth0.com", or a loopback
	// "127.0.0.1:8787" / "localhost:8787" / "[::1]:8787", which means plain
	// HTTP (the sandbox). "http://" to any other host is refused.
	Domain string
	// ClientID and ClientSecret for the client-credentials grant.
	ClientID, ClientSecret string
	// Token is a ready Management API token; when set, it is used as is and
	// ClientID/ClientSecret are ignored.
	Token string
	// Audience defaults to https://DOMAIN/api/v2/ (http for loopback).
	Audience string
	// CustomDomain is the Auth0-Custom-Domain value, sent only on the
	// endpoints that accept it.
	CustomDomain string
	// Base is the innermost transport; default: a clone of http.DefaultTransport.
	Base http.RoundTripper
	// Throttle paces and retries API calls. Its Permanent hook is extended
	// to stop retrying the import-job-limit 429 (a scheduling signal). The
	// token endpoint gets a Transport of its own (the Authentication API has
	// its own limits), with the same retries and the same MaxWait clock.
	Throttle throttle.Options
	// Clock times token refreshes; default Throttle.Clock, else the wall clock.
	Clock clock.Clock
	// Logger, when set, gets one line per API request (no secrets, no
	// bodies). Pass one only in verbose mode: lines are logged at Info.
	Logger *slog.Logger
	// Version goes into the User-Agent: a0bulk/VERSION.
	Version string
}

// Client is a typed Management API client. It is safe for concurrent use.
type Client struct {
	base     tenantURL
	http     *http.Client
	throttle *throttle.Transport
	tokenThr *throttle.Transport // the token endpoint's; nil with a ready token
	tokens   *tokenCache
	retries  *retryHooks

	mu    sync.Mutex
	conns map[string]*Connection

	clock *serverClock
}

// maxResponse bounds what is read of any response: the API's answers are
// small; a runaway body must not exhaust memory.
const maxResponse = 32 << 20

// New validates cfg and builds the client. It makes no network call.
func New(cfg Config) (*Client, error) {
	tenant, err := parseDomain(cfg.Domain)
	if err != nil {
		return nil, err
	}
	custom, err := parseCustomDomain(cfg.CustomDomain)
	if err != nil {
		return nil, err
	}
	static := strings.TrimSpace(cfg.Token)
	if static == "" && (cfg.ClientID == "" || cfg.ClientSecret == "") {
		return nil, configError("need a token, or a client id and client secret")
	}
	audience := cfg.Audience
	if audience == "" {
		audience = tenant.String() + "/api/v2/"
	} else if u, err := url.Parse(audience); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, configError("audience %q is not a URL", audience)
	}
	base := cfg.Base
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// A proxy that takes the request and never answers must not hang a
		// cron run: an answer that does not start within this is a
		// transport error (after the request was written: an unknown fate,
		// settled by reading the tenant back).
		t.ResponseHeaderTimeout = responseHeaderTimeout
		base = t
	}
	clk := cfg.Clock
	if clk == nil {
		clk = cfg.Throttle.Clock
	}
	if clk == nil {
		clk = clock.Real{}
	}
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	ua := &userAgentTransport{next: base, ua: "a0bulk/" + version}

	var cc *clientcredentials.Config
	if static == "" {
		cc = &clientcredentials.Config{
			ClientID:       cfg.ClientID,
			ClientSecret:   cfg.ClientSecret,
			TokenURL:       tenant.String() + "/oauth/token",
			EndpointParams: url.Values{"audience": {audience}},
			AuthStyle:      oauth2.AuthStyleInParams,
		}
	}
	opts := cfg.Throttle
	opts.Permanent = permanent(cfg.Throttle.Permanent)
	if opts.Clock == nil {
		opts.Clock = clk
	}
	if opts.Refusals == nil {
		// One clock of continuous refusal for the whole client: a token
		// endpoint refusing is the tenant refusing.
		opts.Refusals = throttle.NewRefusals(opts.MaxWait)
	}
	hooks := &retryHooks{user: cfg.Throttle.OnRetry, log: cfg.Logger}
	opts.OnRetry = hooks.onRetry

	// The token goes through its own throttle, not the API's: the
	// Authentication API has its own limit and must not spend API tokens.
	// A client-credentials request changes nothing in the tenant, so it is
	// sent again after any connection failure. Verbose mode logs it like
	// any request: path and status, never the body (which carries the
	// secret) nor the answer (which carries the token).
	var tokenThr *throttle.Transport
	var tokenRT http.RoundTripper = ua
	if cc != nil {
		to := throttle.Options{
			Rate: opts.Rate, Burst: opts.Burst, MaxRate: opts.MaxRate, MaxRetries: opts.MaxRetries,
			Clock: opts.Clock, Rand: opts.Rand, Refusals: opts.Refusals, Resendable: true, OnRetry: hooks.onRetry,
		}
		tokenThr = throttle.New(ua, to)
		tokenRT = tokenThr
	}
	if cfg.Logger != nil {
		tokenRT = &logTransport{next: tokenRT, log: cfg.Logger}
	}
	// No overall timeout: the throttle may wait refusals out for MaxWait;
	// each attempt is bounded by the base transport's timeouts.
	tokenHTTP := &http.Client{Transport: tokenRT, CheckRedirect: noRedirects}
	tokens := newTokenCache(static, cc, tokenHTTP, clk)
	// The token is attached after the throttle's wait, not before it: a
	// request paced (or backing off) longer than the token's refresh margin
	// would otherwise leave with a token that expired while it waited, and
	// its one retry after the 401 could wait as long again.
	thr := throttle.New(&authTransport{next: ua, tokens: tokens}, opts)

	sc := &serverClock{}
	var rt http.RoundTripper = &serverClockTransport{next: thr, clock: sc}
	if cfg.Logger != nil {
		rt = &logTransport{next: rt, log: cfg.Logger}
	}
	rt = &customDomainTransport{next: rt, domain: custom}

	return &Client{
		base:     tenant,
		http:     &http.Client{Transport: rt, CheckRedirect: noRedirects},
		throttle: thr,
		tokenThr: tokenThr,
		tokens:   tokens,
		retries:  hooks,
		conns:    map[string]*Connection{},
		clock:    sc,
	}, nil
}

// responseHeaderTimeout: generous for a tenant under load (an import POST
// carries 500 KB), short enough that a dead peer is retried (or settled by
// reading back) instead of hanging a cron run.
const responseHeaderTimeout = 2 * time.Minute

// noRedirects: the API does not redirect, and following one would carry the
// bearer token to wherever it points.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// permanent tells the throttle not to retry the job-limit 429: waiting for a
// job slot is the scheduler's decision, not a rate-limit backoff.
func permanent(user func(*http.Response, []byte) bool) func(*http.Response, []byte) bool {
	return func(resp *http.Response, body []byte) bool {
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			var e APIError
			if json.Unmarshal(body, &e) == nil {
				e.StatusCode = resp.StatusCode
				if e.IsJobLimit() {
					return true
				}
			}
		}
		return user != nil && user(resp, body)
	}
}

// Headroom is the rate-limit state the throttle last saw.
func (c *Client) Headroom() (limit, remaining int, reset time.Time, ok bool) {
	return c.throttle.Headroom()
}

// CurrentRate is the throttle's current pace in requests per second.
func (c *Client) CurrentRate() float64 { return c.throttle.CurrentRate() }

// PacingStats are the counters of every request so far: the API's buckets,
// and the token endpoint's as a bucket named "token" once it was called.
func (c *Client) PacingStats() throttle.Stats {
	st := c.throttle.Stats()
	if c.tokenThr == nil {
		return st
	}
	tok := c.tokenThr.Stats()
	if tok.Requests == 0 {
		return st
	}
	b := throttle.BucketStats{Name: TokenBucket, Requests: tok.Requests, RateLimited: tok.RateLimited, Waited: tok.Waited}
	for _, tb := range tok.Buckets {
		b.Held = max(b.Held, tb.Held)
		b.Limit, b.Rate = max(b.Limit, tb.Limit), max(b.Rate, tb.Rate)
	}
	st.Requests += tok.Requests
	st.Retries += tok.Retries
	st.RateLimited += tok.RateLimited
	st.Waited += tok.Waited
	st.Buckets = append(st.Buckets, b)
	return st
}

// TokenBucket names the token endpoint's requests in PacingStats.
const TokenBucket = "token"

// WatchRetries makes fn see every retry from now on (with
// Config.Throttle.OnRetry, not instead of it): a run shows its waits on its
// progress line. A nil fn stops watching.
func (c *Client) WatchRetries(fn func(throttle.RetryEvent)) { c.retries.watch.Store(&fn) }

// TokenInfo reports the scopes and expiry of the token in use, fetching one
// if needed.
func (c *Client) TokenInfo(ctx context.Context) (*TokenInfo, error) {
	return c.tokens.info(ctx)
}

// request is one API call: method, path (already escaped where needed),
// optional query and body.
type request struct {
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
}

// do sends r and returns the status and body of a 2xx response; anything
// else becomes an *APIError.
func (c *Client) do(ctx context.Context, r request) (int, []byte, error) {
	u := c.base.String() + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body) // sets GetBody: the 401 retry and the throttle resend it
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var refused *throttle.RefusedError
		if errors.As(err, &refused) {
			// It names the route; the URL would add only a user's id.
			return 0, nil, refused
		}
		var ue *url.Error
		if errors.As(err, &ue) && len(r.query) > 0 {
			// The query may hold an email address; errors end up in reports.
			err = &url.Error{Op: ue.Op, URL: c.base.String() + r.path, Err: ue.Err}
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, nil, decodeAPIError(resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	return resp.StatusCode, data, nil
}

// decodeAPIError reads the API's error body; a body that is not one (a
// proxy's HTML page, say) is summarised without quoting it.
func decodeAPIError(status int, contentType string, body []byte) *APIError {
	var e APIError
	if err := json.Unmarshal(body, &e); err != nil || (e.Err == "" && e.Message == "" && e.StatusCode == 0) {
		e = APIError{Message: fmt.Sprintf("unexpected non-JSON error response (%d bytes)", len(body))}
		if ct := strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]); ct != "" {
			e.Message = fmt.Sprintf("unexpected %s error response (%d bytes)", ct, len(body))
		}
	}
	// The HTTP status is the truth; some bodies omit or disagree with it.
	e.StatusCode = status
	if e.Err == "" {
		e.Err = http.StatusText(status)
	}
	return &e
}

// decodeJSON reads a 2xx body into v, naming what was expected on failure.
func decodeJSON(data []byte, v any, what string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	return nil
}
