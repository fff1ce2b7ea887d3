package management

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/throttle"
)

func TestDecodeAPIErrorPredicates(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
		others []func(error) bool // must all be false
		scope  string
	}{
		{"rate limited", 429, `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`,
			IsRateLimited, []func(error) bool{IsJobLimit, IsConflict}, ""},
		{"rate limited, old tenant", 429, `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"}`,
			IsRateLimited, []func(error) bool{IsJobLimit}, ""},
		{"job limit", 429, `{"statusCode":429,"error":"Too Many Requests","message":"There are 2 active import users jobs, please wait until some of them are finished and try again"}`,
			IsJobLimit, []func(error) bool{IsRateLimited}, ""},
		{"conflict", 409, `{"statusCode":409,"error":"Conflict","message":"The user already exists.","errorCode":"auth0_idp_error"}`,
			IsConflict, []func(error) bool{IsRateLimited, IsTooLarge}, ""},
		{"too large", 413, `{"statusCode":413,"error":"Request Entity Too Large","message":"Payload content length greater than maximum allowed: 512000"}`,
			IsTooLarge, []func(error) bool{IsConflict}, ""},
		{"too large, HTML from a proxy", 413, `<html><body>413</body></html>`, IsTooLarge, nil, ""},
		{"unauthorized", 401, `{"statusCode":401,"error":"Unauthorized","message":"Invalid token"}`,
			IsUnauthorized, []func(error) bool{IsNotFound}, ""},
		{"not found", 404, `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`,
			IsNotFound, []func(error) bool{IsUnauthorized}, ""},
		{"missing scope", 403, `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: create:users","errorCode":"insufficient_scope"}`,
			func(err error) bool { e, ok := AsAPIError(err); _, m := e.MissingScope(); return ok && m }, nil, "create:users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("creating user: %w", decodeAPIError(tt.status, "application/json", []byte(tt.body)))
			if !tt.check(err) {
				t.Fatalf("predicate false for %v", err)
			}
			for i, o := range tt.others {
				if o(err) {
					t.Errorf("other predicate %d true for %v", i, err)
				}
			}
			e, _ := AsAPIError(err)
			if e.StatusCode != tt.status || e.Err == "" {
				t.Fatalf("APIError = %+v", e)
			}
			if s, ok := e.MissingScope(); tt.scope != "" && s != tt.scope || tt.scope == "" && ok {
				t.Fatalf("MissingScope = %q, %v", s, ok)
			}
		})
	}
}

func TestDecodeAPIErrorNonJSONIsSummarised(t *testing.T) {
	body := `<html>secret stuff ` + testSecret + `</html>`
	e := decodeAPIError(502, "text/html; charset=utf-8", []byte(body))
	if e.StatusCode != 502 || e.Err != "Bad Gateway" || strings.Contains(e.Error(), "secret stuff") {
		t.Fatalf("e = %v", e)
	}
	if !strings.Contains(e.Message, "text/html") {
		t.Fatalf("message %q does not say what came back", e.Message)
	}
	// The HTTP status wins over a body that disagrees.
	if e := decodeAPIError(400, "", []byte(`{"statusCode":500,"error":"x","message":"m"}`)); e.StatusCode != 400 {
		t.Fatalf("status = %d", e.StatusCode)
	}
}

func TestIsUnknownFate(t *testing.T) {
	inner := &throttle.UnknownFateError{Method: "POST", URL: "https://x/api/v2/users", Err: errors.New("connection reset")}
	wrapped := fmt.Errorf("creating user: %w", &url.Error{Op: "Post", URL: "https://x", Err: inner})
	if !IsUnknownFate(wrapped) || IsUnknownFate(errors.New("x")) || IsUnknownFate(nil) {
		t.Fatal("IsUnknownFate wrong")
	}
}

// A POST answered 500 reaches the caller as an unknown fate through the
// whole chain, still reachable with errors.As after the client's wrapping.
func TestUnknownFateThroughClient(t *testing.T) {
	s := newStub(t).handle("POST /oauth/token", tokenHandler(t, 86400, "")).
		handle("POST /api/v2/users", writeRaw(500, `{"statusCode":500,"error":"Internal Server Error","message":"x"}`))
	c, _ := newTestClient(t, s, nil)
	_, err := c.CreateUser(context.Background(), CreateUserRequest{Connection: "db", Email: "a@example.com"})
	var fate *throttle.UnknownFateError
	if !IsUnknownFate(err) || !errors.As(err, &fate) || !strings.HasPrefix(err.Error(), "creating user: ") {
		t.Fatalf("err = %v", err)
	}
	if n := s.count("POST /api/v2/users"); n != 1 {
		t.Fatalf("sent %d times, want 1 (never retried blindly)", n)
	}
}

// The job-limit 429 is handed back at once (Permanent), while a rate-limit
// 429 is retried by the throttle.
func TestJobLimitIsNotRetried(t *testing.T) {
	s := newStub(t).handle("POST /oauth/token", tokenHandler(t, 86400, "")).
		handle("POST /api/v2/jobs/users-imports", writeRaw(429, `{"statusCode":429,"error":"Too Many Requests","message":"There are 2 active import users jobs, please wait until some of them are finished and try again"}`))
	c, _ := newTestClient(t, s, func(c *Config) { c.Throttle.MaxRetries = 3 })
	_, err := c.ImportUsers(context.Background(), ImportRequest{ConnectionID: "con_x", Users: []byte("[]")})
	if !IsJobLimit(err) || IsRateLimited(err) {
		t.Fatalf("err = %v", err)
	}
	if n := s.count("POST /api/v2/jobs/users-imports"); n != 1 {
		t.Fatalf("sent %d times, want 1", n)
	}
	if !permanent(nil)(&http.Response{StatusCode: 429}, []byte(`{"message":"There are 2 active import users jobs"}`)) {
		t.Fatal("permanent does not recognise the job limit")
	}
	if permanent(nil)(&http.Response{StatusCode: 429}, []byte(`{"message":"Global limit has been reached"}`)) {
		t.Fatal("permanent stops a rate-limit 429")
	}
	if !permanent(func(*http.Response, []byte) bool { return true })(&http.Response{StatusCode: 503}, nil) {
		t.Fatal("the caller's Permanent is not consulted")
	}
}
