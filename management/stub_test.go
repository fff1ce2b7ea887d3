package management

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/throttle"
)

// stub is an in-memory base RoundTripper: each "METHOD /path" has a handler,
// and any other call fails the test. It records every request it served.
type stub struct {
	t      *testing.T
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	calls  []recorded
}

type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

func newStub(t *testing.T) *stub {
	return &stub{t: t, routes: map[string]http.HandlerFunc{}}
}

func (s *stub) handle(key string, h http.HandlerFunc) *stub {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[key] = h
	return s
}

func (s *stub) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		_ = req.Body.Close()
	}
	key := req.Method + " " + req.URL.Path
	s.mu.Lock()
	h, ok := s.routes[key]
	s.calls = append(s.calls, recorded{req.Method, req.URL.EscapedPath(), req.URL.RawQuery, req.Header.Clone(), body})
	s.mu.Unlock()
	if !ok {
		s.t.Errorf("unexpected request %s", key)
		return nil, fmt.Errorf("stub: unexpected request %s", key)
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h(rec, r)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// count reports how many calls matched key ("METHOD /path").
func (s *stub) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Method+" "+mustUnescape(c.Path) == key {
			n++
		}
	}
	return n
}

func (s *stub) last(key string) recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.calls) - 1; i >= 0; i-- {
		if c := s.calls[i]; c.Method+" "+mustUnescape(c.Path) == key {
			return c
		}
	}
	s.t.Fatalf("no request %s was made", key)
	return recorded{}
}

func mustUnescape(p string) string {
	u, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return u
}

const (
	testSecret = "s3cr3t-Zq9!xK#unique-Secret"
	testDomain = "acme.eu.auth0.com"
)

// tokenHandler answers the client-credentials grant with tokens tok-1,
// tok-2, … and the given lifetime and scope.
func tokenHandler(t *testing.T, lifetime int, scope string) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		if r.PostForm.Get("client_secret") != testSecret || r.PostForm.Get("grant_type") != "client_credentials" {
			t.Errorf("token request form is wrong: grant_type=%q, secret present=%v",
				r.PostForm.Get("grant_type"), r.PostForm.Get("client_secret") != "")
		}
		mu.Lock()
		n++
		tok := fmt.Sprintf("tok-%d", n)
		mu.Unlock()
		writeJSON(w, 200, map[string]any{"access_token": tok, "expires_in": lifetime, "scope": scope, "token_type": "Bearer"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRaw(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// testThrottle never waits and never retries, so stubs see each call once.
func testThrottle() throttle.Options {
	return throttle.Options{Rate: 1e6, Burst: 1e6, MaxRate: 1e6, MaxRetries: -1, MaxWait: -1, Clock: clock.Real{}}
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// newTestClient builds a client over s with client credentials and a fake
// clock for token lifetimes.
func newTestClient(t *testing.T, s *stub, mod func(*Config)) (*Client, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(t0)
	cfg := Config{
		Domain:       testDomain,
		ClientID:     "cid",
		ClientSecret: testSecret,
		Base:         s,
		Throttle:     testThrottle(),
		Clock:        fc,
		Version:      "1.2.3",
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, fc
}
