package management

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAcceptsCustomDomain(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/v2/jobs/verification-email", true},
		{"POST", "/api/v2/users", true},
		{"PATCH", "/api/v2/users/auth0%7C123", true},
		{"POST", "/api/v2/tickets/email-verification", true},
		{"POST", "/api/v2/tickets/password-change", true},
		{"POST", "/api/v2/organizations/org_1/invitations", true},
		{"POST", "/api/v2/guardian/enrollments/ticket", true},
		{"POST", "/api/v2/self-service-profiles/ssp_1/sso-ticket", true},
		{"POST", "/api/v2/jobs/users-imports", false},
		{"GET", "/api/v2/users", false},
		{"GET", "/api/v2/users/auth0%7C123", false},
		{"DELETE", "/api/v2/users/auth0%7C123", false},
		{"PATCH", "/api/v2/users/", false},
		{"PATCH", "/api/v2/users/a/b", false},
		{"PATCH", "/api/v2/users/a%2Fb", true},
		{"GET", "/api/v2/users-by-email", false},
		{"GET", "/api/v2/jobs/job_1", false},
		{"GET", "/api/v2/connections", false},
		{"POST", "/api/v2/organizations//invitations", false},
		{"POST", "/oauth/token", false},
	}
	for _, tt := range tests {
		u, err := url.Parse("https://x" + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := acceptsCustomDomain(tt.method, u); got != tt.want {
			t.Errorf("%s %s = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}

// Through the client: the header is on the accepting endpoints, nowhere else.
func TestCustomDomainHeaderOnClient(t *testing.T) {
	s := apiStub(t).
		handle("POST /api/v2/users", writeRaw(201, `{"user_id":"auth0|1"}`)).
		handle("PATCH /api/v2/users/auth0|1", writeRaw(200, `{"user_id":"auth0|1"}`)).
		handle("GET /api/v2/users/auth0|1", writeRaw(200, `{"user_id":"auth0|1"}`)).
		handle("GET /api/v2/users-by-email", writeRaw(200, `[]`)).
		handle("POST /api/v2/jobs/verification-email", writeRaw(201, `{"id":"job_v"}`)).
		handle("POST /api/v2/jobs/users-imports", writeRaw(202, recordedImportJob)).
		handle("GET /api/v2/jobs/job_1", writeRaw(200, `{"id":"job_1"}`)).
		handle("GET /api/v2/jobs/job_1/errors", writeRaw(200, ``)).
		handle("GET /api/v2/connections", writeRaw(200, `[{"id":"con_1","name":"db"}]`))
	c, _ := newTestClient(t, s, func(c *Config) { c.CustomDomain = "login.acme.com" })
	ctx := context.Background()
	calls := []func() error{
		func() error { _, err := c.CreateUser(ctx, CreateUserRequest{Connection: "db"}); return err },
		func() error { _, err := c.UpdateUser(ctx, "auth0|1", UpdateUserRequest{}); return err },
		func() error { _, err := c.User(ctx, "auth0|1"); return err },
		func() error { _, err := c.UsersByEmail(ctx, "a@b.c"); return err },
		func() error {
			_, err := c.SendVerificationEmail(ctx, VerificationEmailRequest{UserID: "auth0|1"})
			return err
		},
		func() error {
			_, err := c.ImportUsers(ctx, ImportRequest{ConnectionID: "con_1", Users: []byte("[]")})
			return err
		},
		func() error { _, err := c.Job(ctx, "job_1"); return err },
		func() error { _, err := c.JobErrors(ctx, "job_1"); return err },
		func() error { _, err := c.ConnectionByName(ctx, "db"); return err },
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	want := map[string]bool{"POST /api/v2/users": true, "PATCH /api/v2/users/auth0%7C1": true, "POST /api/v2/jobs/verification-email": true}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.calls {
		key := r.Method + " " + r.Path
		got := r.Header.Get("Auth0-Custom-Domain")
		if want[key] && got != "login.acme.com" || !want[key] && got != "" {
			t.Errorf("%s: Auth0-Custom-Domain = %q", key, got)
		}
	}
}

func TestCustomDomainStripsCallerHeader(t *testing.T) {
	var seen []string
	next := rtFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.Header.Get(customDomainHeader))
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})
	for _, domain := range []string{"", "login.acme.com"} {
		seen = nil
		rt := &customDomainTransport{next: next, domain: domain}
		get, _ := http.NewRequest("GET", "https://x/api/v2/users/auth0%7C1", nil)
		get.Header.Set(customDomainHeader, "evil.example.com")
		post, _ := http.NewRequest("POST", "https://x/api/v2/users", nil)
		post.Header.Set(customDomainHeader, "evil.example.com")
		for _, r := range []*http.Request{get, post} {
			if _, err := rt.RoundTrip(r); err != nil {
				t.Fatal(err)
			}
			if r.Header.Get(customDomainHeader) != "evil.example.com" {
				t.Fatal("the caller's request was modified")
			}
		}
		// The header only ever comes from the configuration.
		if seen[0] != "" || seen[1] != domain {
			t.Errorf("domain %q: sent %q", domain, seen)
		}
	}
}

func TestUserAgent(t *testing.T) {
	s := apiStub(t).handle("GET /api/v2/jobs/job_1", writeRaw(200, `{"id":"job_1"}`))
	c, _ := newTestClient(t, s, nil)
	if _, err := c.Job(context.Background(), "job_1"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"POST /oauth/token", "GET /api/v2/jobs/job_1"} {
		if ua := s.last(key).Header.Get("User-Agent"); ua != "a0bulk/1.2.3" {
			t.Errorf("%s: User-Agent = %q", key, ua)
		}
	}
}

func TestVerboseLogHasNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := apiStub(t).
		handle("POST /api/v2/users", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Ratelimit-Limit", "50")
			w.Header().Set("X-Ratelimit-Remaining", "49")
			w.Header().Set("X-Ratelimit-Reset", "1764064800")
			writeRaw(201, `{"user_id":"auth0|1","email":"a@example.com","app_metadata":{"body":"response-body-marker"}}`)(w, r)
		}).
		handle("GET /api/v2/users-by-email", writeRaw(200, `[]`))
	c, _ := newTestClient(t, s, func(c *Config) { c.Logger = logger })
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, CreateUserRequest{Connection: "db", Email: "a@example.com", Password: "Request-Body-Pa55!"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UsersByEmail(ctx, "query-marker@example.com"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one line per request (token fetch included), got:\n%s", out)
	}
	if !strings.Contains(lines[0], "path=/oauth/token") || !strings.Contains(lines[0], "status=200") {
		t.Errorf("first line %q is not the token fetch", lines[0])
	}
	for _, want := range []string{"method=POST", "path=/api/v2/users", "status=201", "latency=", "x-ratelimit-limit=50", "x-ratelimit-remaining=49", "x-ratelimit-reset=1764064800"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("line %q lacks %q", lines[1], want)
		}
	}
	for _, bad := range []string{"Bearer", "tok-1", "Authorization", testSecret, "Request-Body-Pa55!", "response-body-marker", "query-marker", "client_secret", "access_token"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	s := apiStub(t).handle("GET /api/v2/jobs/job_1", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://evil.example.com/steal", http.StatusFound)
	})
	c, _ := newTestClient(t, s, nil)
	_, err := c.Job(context.Background(), "job_1")
	if e, ok := AsAPIError(err); !ok || e.StatusCode != http.StatusFound {
		t.Fatalf("err = %v", err) // and the stub fails on the request to evil.example.com
	}
}

func TestTransportErrorHidesQuery(t *testing.T) {
	s := apiStub(t)
	c, _ := newTestClient(t, s, func(c *Config) {
		c.Base = rtFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/oauth/token" {
				return s.RoundTrip(r)
			}
			return nil, errors.New("connection refused")
		})
	})
	_, err := c.UsersByEmail(context.Background(), "query-marker@example.com")
	if err == nil || strings.Contains(err.Error(), "query-marker") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
}
