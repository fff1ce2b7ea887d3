package management

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func bearer(r recorded) string { return r.Header.Get("Authorization") }

func TestTokenRequestAndCache(t *testing.T) {
	s := newStub(t).
		handle("POST /oauth/token", tokenHandler(t, 86400, "read:users create:users")).
		handle("GET /api/v2/users/auth0|1", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"user_id": "auth0|1"})
		})
	c, _ := newTestClient(t, s, nil)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := c.User(ctx, "auth0|1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count("POST /oauth/token"); n != 1 {
		t.Fatalf("token fetched %d times, want 1 (cached)", n)
	}
	if got := bearer(s.last("GET /api/v2/users/auth0|1")); got != "Bearer tok-1" {
		t.Fatalf("Authorization = %q", got)
	}
	form, err := url.ParseQuery(string(s.last("POST /oauth/token").Body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"grant_type": "client_credentials", "client_id": "cid", "client_secret": testSecret,
		"audience": "https://acme.eu.auth0.com/api/v2/",
	}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("token form %s = %q, want %q", k, form.Get(k), v)
		}
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	s := newStub(t).
		handle("POST /oauth/token", tokenHandler(t, 100, "read:users")). // margin: 10s
		handle("GET /api/v2/jobs/job_1", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"id": "job_1", "status": "pending"})
		})
	c, fc := newTestClient(t, s, nil)
	ctx := context.Background()
	get := func() string {
		t.Helper()
		if _, err := c.Job(ctx, "job_1"); err != nil {
			t.Fatal(err)
		}
		return bearer(s.last("GET /api/v2/jobs/job_1"))
	}
	if got := get(); got != "Bearer tok-1" {
		t.Fatalf("first = %q", got)
	}
	fc.Advance(89 * time.Second)
	if got := get(); got != "Bearer tok-1" {
		t.Fatalf("before the margin = %q, want the cached token", got)
	}
	fc.Advance(2 * time.Second) // 91s: inside the 10s margin
	if got := get(); got != "Bearer tok-2" {
		t.Fatalf("inside the margin = %q, want a fresh token", got)
	}
	if n := s.count("POST /oauth/token"); n != 2 {
		t.Fatalf("token fetched %d times, want 2", n)
	}
}

func TestRefreshMargin(t *testing.T) {
	for _, tt := range []struct{ life, want time.Duration }{
		{86400 * time.Second, time.Minute},
		{600 * time.Second, time.Minute},
		{100 * time.Second, 10 * time.Second},
		{0, 0},
	} {
		if got := refreshMargin(tt.life); got != tt.want {
			t.Errorf("refreshMargin(%v) = %v, want %v", tt.life, got, tt.want)
		}
	}
}

func TestUnauthorizedRefetchesOnce(t *testing.T) {
	t.Run("second token works", func(t *testing.T) {
		s := newStub(t).handle("POST /oauth/token", tokenHandler(t, 86400, ""))
		s.handle("POST /api/v2/users", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if !strings.Contains(string(body), `"email":"a@example.com"`) {
				t.Errorf("resent body = %s", body)
			}
			if r.Header.Get("Authorization") == "Bearer tok-1" {
				writeRaw(401, `{"statusCode":401,"error":"Unauthorized","message":"Expired token received for JSON Web Token validation"}`)(w, r)
				return
			}
			writeJSON(w, 201, map[string]any{"user_id": "auth0|new", "email": "a@example.com"})
		})
		c, _ := newTestClient(t, s, nil)
		u, err := c.CreateUser(context.Background(), CreateUserRequest{Connection: "db", Email: "a@example.com", Password: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		if u.UserID != "auth0|new" {
			t.Fatalf("user = %+v", u)
		}
		if n, m := s.count("POST /oauth/token"), s.count("POST /api/v2/users"); n != 2 || m != 2 {
			t.Fatalf("token fetches = %d, API calls = %d; want 2 and 2", n, m)
		}
	})
	t.Run("still 401", func(t *testing.T) {
		s := newStub(t).handle("POST /oauth/token", tokenHandler(t, 86400, "")).
			handle("GET /api/v2/users/auth0|1", writeRaw(401, `{"statusCode":401,"error":"Unauthorized","message":"Invalid token"}`))
		c, _ := newTestClient(t, s, nil)
		_, err := c.User(context.Background(), "auth0|1")
		if !IsUnauthorized(err) {
			t.Fatalf("err = %v, want a 401 APIError", err)
		}
		if n, m := s.count("POST /oauth/token"), s.count("GET /api/v2/users/auth0|1"); n != 2 || m != 2 {
			t.Fatalf("token fetches = %d, API calls = %d; want exactly one refetch and one retry", n, m)
		}
	})
	t.Run("static token is not refetched", func(t *testing.T) {
		s := newStub(t).handle("GET /api/v2/users/auth0|1", writeRaw(401, `{"statusCode":401,"error":"Unauthorized","message":"Invalid token"}`))
		c, _ := newTestClient(t, s, func(c *Config) { c.Token = "static"; c.ClientID, c.ClientSecret = "", "" })
		if _, err := c.User(context.Background(), "auth0|1"); !IsUnauthorized(err) {
			t.Fatalf("err = %v", err)
		}
		if m := s.count("GET /api/v2/users/auth0|1"); m != 1 {
			t.Fatalf("API calls = %d, want 1", m)
		}
	})
}

func TestTokenErrorsNeverShowSecret(t *testing.T) {
	enc := url.QueryEscape(testSecret)
	tests := []struct {
		name string
		h    http.HandlerFunc
		auth bool
	}{
		{"oauth error echoing the secret", writeRaw(401, fmt.Sprintf(`{"error":"access_denied","error_description":"bad secret %s / %s"}`, testSecret, enc)), true},
		{"non-JSON body echoing the form", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(403)
			_, _ = w.Write(b)
		}, true},
		{"server error", writeRaw(500, `<html>`+testSecret+`</html>`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t).handle("POST /oauth/token", tt.h)
			c, _ := newTestClient(t, s, nil)
			_, err := c.User(context.Background(), "auth0|1")
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *TokenError", err)
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", te)} {
				if strings.Contains(text, testSecret) || strings.Contains(text, enc) {
					t.Fatalf("secret leaked: %s", text)
				}
			}
			if te.IsAuthFailure() != tt.auth {
				t.Errorf("IsAuthFailure = %v, want %v (%v)", te.IsAuthFailure(), tt.auth, err)
			}
		})
	}
	t.Run("transport error", func(t *testing.T) {
		c, _ := newTestClient(t, newStub(t), func(c *Config) {
			c.Base = rtFunc(func(*http.Request) (*http.Response, error) {
				return nil, errors.New("dial failed, you sent " + testSecret)
			})
		})
		_, err := c.User(context.Background(), "auth0|1")
		if err == nil {
			t.Fatal("no error")
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), testSecret) {
				t.Fatalf("secret leaked in the chain: %v", e)
			}
		}
	})
	t.Run("context cancelled stays visible", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c, _ := newTestClient(t, newStub(t), nil)
		if _, err := c.User(ctx, "auth0|1"); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func jwt(t *testing.T, claims map[string]any) string {
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(b) + ".c2ln"
}

func TestTokenInfo(t *testing.T) {
	exp := t0.Add(time.Hour).Unix()
	t.Run("scope from the token response", func(t *testing.T) {
		s := newStub(t).handle("POST /oauth/token", tokenHandler(t, 3600, "read:users create:users"))
		c, _ := newTestClient(t, s, nil)
		ti, err := c.TokenInfo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(ti.Scopes, ",") != "read:users,create:users" || !ti.HasScope("create:users") || ti.HasScope("update:users") {
			t.Fatalf("scopes = %v", ti.Scopes)
		}
		if !ti.Expiry.Equal(t0.Add(time.Hour)) {
			t.Fatalf("expiry = %v", ti.Expiry)
		}
	})
	t.Run("scope from the JWT claim", func(t *testing.T) {
		tok := jwt(t, map[string]any{"scope": "update:users", "exp": exp})
		s := newStub(t).handle("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"access_token": tok, "expires_in": 3600, "token_type": "Bearer"})
		})
		c, _ := newTestClient(t, s, nil)
		ti, err := c.TokenInfo(context.Background())
		if err != nil || len(ti.Scopes) != 1 || ti.Scopes[0] != "update:users" {
			t.Fatalf("info = %+v, %v", ti, err)
		}
	})
	t.Run("static JWT", func(t *testing.T) {
		tok := jwt(t, map[string]any{"scope": "read:users read:connections", "exp": exp})
		c, _ := newTestClient(t, newStub(t), func(c *Config) { c.Token = tok })
		ti, err := c.TokenInfo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ti.HasScope("read:connections") || ti.Expiry.Unix() != exp {
			t.Fatalf("info = %+v", ti)
		}
	})
	t.Run("static opaque token", func(t *testing.T) {
		c, _ := newTestClient(t, newStub(t), func(c *Config) { c.Token = "opaque" })
		if _, err := c.TokenInfo(context.Background()); !errors.Is(err, errOpaqueToken) || !errors.Is(err, ErrScopesUnknown) {
			t.Fatalf("err = %v", err)
		}
	})
	// A JWT naming no scopes says nothing of them; an empty claim does.
	t.Run("static JWT without a scope claim", func(t *testing.T) {
		c, _ := newTestClient(t, newStub(t), func(c *Config) { c.Token = jwt(t, map[string]any{"exp": exp}) })
		if _, err := c.TokenInfo(context.Background()); !errors.Is(err, ErrScopesUnknown) {
			t.Fatalf("err = %v", err)
		}
		c, _ = newTestClient(t, newStub(t), func(c *Config) { c.Token = jwt(t, map[string]any{"exp": exp, "scope": ""}) })
		if ti, err := c.TokenInfo(context.Background()); err != nil || len(ti.Scopes) != 0 {
			t.Fatalf("empty claim: %+v, %v", ti, err)
		}
	})
}

func TestConcurrentCallsFetchOneToken(t *testing.T) {
	s := newStub(t).handle("POST /oauth/token", tokenHandler(t, 86400, "")).
		handle("GET /api/v2/jobs/job_1", writeRaw(200, `{"id":"job_1"}`))
	c, _ := newTestClient(t, s, nil)
	errs := make(chan error, 20)
	for i := 0; i < cap(errs); i++ {
		go func() { _, err := c.Job(context.Background(), "job_1"); errs <- err }()
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count("POST /oauth/token"); n != 1 {
		t.Fatalf("token fetched %d times, want 1", n)
	}
}
