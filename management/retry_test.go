package management

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/throttle"
)

var errConnReset = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

// faulty answers the first n requests to path with fail, then lets s
// answer. fail runs as a RoundTripper would: it may report the request
// written before it fails, like a connection reset after sending.
type faulty struct {
	s    *stub
	mu   sync.Mutex
	path string
	n    int
	fail func(*http.Request) (*http.Response, error)
}

func (f *faulty) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	hit := r.URL.Path == f.path && f.n > 0
	if hit {
		f.n--
	}
	f.mu.Unlock()
	if hit {
		return f.fail(r)
	}
	return f.s.RoundTrip(r)
}

// resetAfterWrite is a connection reset once the request was sent.
func resetAfterWrite(r *http.Request) (*http.Response, error) {
	if tr := httptrace.ContextClientTrace(r.Context()); tr != nil && tr.WroteRequest != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{})
	}
	return nil, errConnReset
}

// rateLimited is a 429 whose reset is a second ahead on clk.
func rateLimited(clk clock.Clock) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) {
		h := http.Header{}
		h.Set("X-Ratelimit-Limit", "10")
		h.Set("X-Ratelimit-Remaining", "0")
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(clk.Now().Add(time.Second).Unix(), 10))
		h.Set("Content-Type", "application/json")
		body := `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`
		return &http.Response{StatusCode: 429, Header: h, Body: nopBody(body), Request: r}, nil
	}
}

func nopBody(s string) *readCloser { return &readCloser{strings.NewReader(s)} }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// retryingClient is a client over f whose throttle waits on the fake
// clock it returns and retries as the cli's does (refusals for MaxWait).
func retryingClient(t *testing.T, f *faulty, mod func(*Config)) (*Client, *clock.Fake) {
	return newTestClient(t, f.s, func(c *Config) {
		c.Base = f
		c.Throttle = throttle.Options{Rate: 1e6, Burst: 1e6, MaxRate: 1e6, MaxRetries: 5, Rand: func() float64 { return 0.5 }}
		if mod != nil {
			mod(c)
		}
		c.Throttle.Clock = c.Clock
	})
}

// driven runs fn while driving clk through every wait fn makes.
func driven(clk *clock.Fake, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	return clk.Drive(10*time.Millisecond, done)
}

func jobStub(t *testing.T, lifetime int) *stub {
	return newStub(t).
		handle("POST /oauth/token", tokenHandler(t, lifetime, "read:users create:users")).
		handle("GET /api/v2/jobs/job_1", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"id": "job_1", "status": "pending"})
		}).
		handle("POST /api/v2/users", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 201, map[string]any{"user_id": "auth0|1"})
		})
}

// A connection reset on the token request at the start of a run (the
// first API call, or a check's TokenInfo) is retried: it used to stop the
// run (TokenInfo) or count against the API request.
func TestTokenResetAtStartRetried(t *testing.T) {
	for _, first := range []string{"api call", "token info"} {
		t.Run(first, func(t *testing.T) {
			f := &faulty{s: jobStub(t, 86400), path: "/oauth/token", n: 2, fail: resetAfterWrite}
			c, fc := retryingClient(t, f, nil)
			err := driven(fc, func() error {
				if first == "token info" {
					_, err := c.TokenInfo(context.Background())
					return err
				}
				_, err := c.Job(context.Background(), "job_1")
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v, want success after the token request was retried", first, err)
			}
			if n := f.s.count("POST /oauth/token"); n != 1 {
				t.Errorf("%d token requests reached the tenant, want 1 (after 2 resets)", n)
			}
		})
	}
}

// A reset of the token request made to refresh the token for a POST is
// retried, and the POST is sent once: it used to come back as an unknown
// fate of the POST (the token request's write was taken for the POST's).
func TestTokenResetOnRefreshRetried(t *testing.T) {
	f := &faulty{s: jobStub(t, 100), path: "/oauth/token"} // refresh margin 10s
	c, fc := retryingClient(t, f, nil)
	ctx := context.Background()
	if err := driven(fc, func() error {
		_, err := c.CreateUser(ctx, CreateUserRequest{Connection: "db", Email: "a@example.com"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fc.Advance(91 * time.Second)
	f.mu.Lock()
	f.n = 1
	f.fail = resetAfterWrite
	f.mu.Unlock()
	err := driven(fc, func() error {
		_, err := c.CreateUser(ctx, CreateUserRequest{Connection: "db", Email: "b@example.com"})
		return err
	})
	if err != nil {
		t.Fatalf("create during a token refresh reset: %v, want success", err)
	}
	if n, m := f.s.count("POST /oauth/token"), f.s.count("POST /api/v2/users"); n != 2 || m != 2 {
		t.Errorf("%d token requests and %d creates reached the tenant, want 2 and 2", n, m)
	}
}

// The token endpoint's 429s are waited out on the run's clock too.
func TestTokenRateLimitWaitedOut(t *testing.T) {
	f := &faulty{s: jobStub(t, 86400), path: "/oauth/token", n: 8}
	c, fc := retryingClient(t, f, nil)
	f.fail = rateLimited(fc)
	if err := driven(fc, func() error { _, err := c.Job(context.Background(), "job_1"); return err }); err != nil {
		t.Fatalf("%v, want success after 8s of token 429s", err)
	}
	st := c.PacingStats()
	var tok *throttle.BucketStats
	for i := range st.Buckets {
		if st.Buckets[i].Name == TokenBucket {
			tok = &st.Buckets[i]
		}
	}
	if tok == nil || tok.Requests != 9 || tok.RateLimited != 8 || tok.Waited < 8*time.Second {
		t.Errorf("token bucket %+v, want 9 requests, 8 429s, 8s or more waited (all: %+v)", tok, st.Buckets)
	}
}

// Once the tenant refused every request for MaxWait, the call fails with
// the *RefusedError itself (not wrapped in a url.Error naming the URL), and
// Classify stops the run.
func TestRefusedForMaxWait(t *testing.T) {
	f := &faulty{s: jobStub(t, 86400), path: "/api/v2/jobs/job_1", n: 1000}
	c, fc := retryingClient(t, f, func(c *Config) { c.Throttle.MaxWait = time.Minute })
	f.fail = rateLimited(fc)
	err := driven(fc, func() error { _, err := c.Job(context.Background(), "job_1"); return err })
	var refused *throttle.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("err %v, want *throttle.RefusedError", err)
	}
	if want := "reading job job_1: the tenant refused every request for 1m0s (429 rate limit on GET /api/v2/jobs/{id})"; err.Error() != want {
		t.Errorf("err %q, want %q", err, want)
	}
	if v := Classify(err); v.Action != StopRun {
		t.Errorf("Classify: %v, want stop-run", v.Action)
	}
}

// Verbose mode logs one debug line per retry: the route with its ids as
// {id}, the status or error, and the wait.
func TestRetryLogged(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := &faulty{s: jobStub(t, 86400), path: "/api/v2/jobs/job_1", n: 2}
	c, fc := retryingClient(t, f, func(c *Config) { c.Logger = logger })
	f.fail = rateLimited(fc)
	var watched []throttle.RetryEvent
	c.WatchRetries(func(e throttle.RetryEvent) { watched = append(watched, e) })
	if err := driven(fc, func() error { _, err := c.Job(context.Background(), "job_1"); return err }); err != nil {
		t.Fatal(err)
	}
	var retries []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "management API retry") {
			retries = append(retries, l)
		}
	}
	if len(retries) != 2 {
		t.Fatalf("want 2 retry lines, got:\n%s", buf.String())
	}
	for _, want := range []string{"level=DEBUG", "method=GET", "route=/api/v2/jobs/{id}", "status=429", "wait=1s", "retry=1"} {
		if !strings.Contains(retries[0], want) {
			t.Errorf("line %q lacks %q", retries[0], want)
		}
	}
	if strings.Contains(retries[0], "job_1") {
		t.Errorf("line %q names the job id", retries[0])
	}
	if len(watched) != 2 {
		t.Errorf("the watcher saw %d retries, want 2", len(watched))
	}
}
