package sandbox

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTokenShapeAndClaims(t *testing.T) {
	e := newEnv(t, Config{})
	res, body := e.raw(http.MethodPost, "/oauth/token", "application/json",
		`{"grant_type":"client_credentials","client_id":"cid","client_secret":"s","audience":"`+e.audience()+`"}`, nil)
	wantStatus(t, res, body, http.StatusOK)
	var tr map[string]any
	mustUnmarshal(t, body, &tr)
	if tr["token_type"] != "Bearer" || tr["expires_in"] != 86400.0 || tr["scope"] != "create:users read:users update:users read:connections" {
		t.Errorf("token response %s", body)
	}
	parts := strings.Split(tr["access_token"].(string), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %v", tr["access_token"])
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	mustUnmarshal(t, p, &c)
	if c["scope"] != tr["scope"] || c["aud"] != e.audience() || c["iat"] != float64(t0.Unix()) || c["exp"] != float64(t0.Unix()+86400) {
		t.Errorf("claims %s", p)
	}
}

func TestTokenRequestForms(t *testing.T) {
	e := newEnv(t, Config{ClientID: "cid", ClientSecret: "right"})
	form := func(v url.Values) (*http.Response, []byte) {
		return e.raw(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", v.Encode(), nil)
	}
	base := url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"right"}, "audience": {e.audience()}}
	res, body := form(base)
	wantStatus(t, res, body, http.StatusOK)

	bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"wrong"}, "audience": {e.audience()}}
	res, body = form(bad)
	if res.StatusCode != http.StatusUnauthorized || string(body) != `{"error":"access_denied","error_description":"Unauthorized"}` {
		t.Errorf("bad secret: %d %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), "wrong") {
		t.Error("the secret leaked into the error")
	}

	https := url.Values{"grant_type": {"client_credentials"}, "audience": {strings.Replace(e.audience(), "http:", "https:", 1)}}
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/oauth/token", strings.NewReader(https.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("cid", "right")
	r2, err := e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusOK {
		t.Errorf("basic auth with https audience: %d", r2.StatusCode)
	}

	wrongAud := url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"right"}, "audience": {"https://other/api/v2/"}}
	res, body = form(wrongAud)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"error":"access_denied"`) {
		t.Errorf("wrong audience: %d %s", res.StatusCode, body)
	}
}

func TestBearerErrors(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name, auth string
		body       string
	}{
		{"missing", "", `{"statusCode":401,"error":"Unauthorized","message":"Missing authentication"}`},
		{"bad scheme", "Basic abc", `{"statusCode":401,"error":"Unauthorized","message":"Bad HTTP authentication header format"}`},
		{"forged", "Bearer a.b.c", `{"statusCode":401,"error":"Unauthorized","message":"Invalid token","attributes":{"error":"Invalid token"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.auth != "" {
				hdr["Authorization"] = tt.auth
			}
			res, body := e.raw(http.MethodGet, "/api/v2/connections", "", "", hdr)
			if res.StatusCode != 401 || string(body) != tt.body {
				t.Errorf("got %d %s", res.StatusCode, body)
			}
			if res.Header.Get("x-ratelimit-limit") == "" {
				t.Error("401 without rate-limit headers")
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, Config{TokenLifetime: time.Hour})
	e.clk.Advance(time.Hour - time.Second)
	res, body := e.api(http.MethodGet, "/api/v2/connections", "")
	wantStatus(t, res, body, http.StatusOK)
	e.clk.Advance(time.Second)
	res, body = e.api(http.MethodGet, "/api/v2/connections", "")
	want := `{"statusCode":401,"error":"Unauthorized","message":"Expired token received for JSON Web Token validation","attributes":{"error":"Expired token received for JSON Web Token validation"}}`
	if res.StatusCode != 401 || string(body) != want {
		t.Errorf("got %d %s", res.StatusCode, body)
	}
	e.token = e.fetchToken()
	res, body = e.api(http.MethodGet, "/api/v2/connections", "")
	wantStatus(t, res, body, http.StatusOK)
}

func TestInsufficientScope(t *testing.T) {
	e := newEnv(t, Config{Scopes: []string{"read:users"}})
	res, body := e.api(http.MethodPost, "/api/v2/users", `{"connection":"`+upa+`","email":"a@example.com","password":"Passw0rd!"}`)
	want := `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: create:users","errorCode":"insufficient_scope"}`
	if res.StatusCode != 403 || string(body) != want {
		t.Errorf("got %d %s", res.StatusCode, body)
	}
	if len(e.s.Users()) != 0 {
		t.Error("a 403 created a user")
	}
}

// Job reads take create:users or read:users (Management API reference,
// "Get a job" and "Get job error details"): an import token without
// read:users reads its own jobs back, and a token with neither is refused
// naming both.
func TestJobReadsTakeEitherScope(t *testing.T) {
	for _, tc := range []struct {
		scopes []string
		want   int
	}{
		{[]string{"create:users"}, http.StatusOK},
		{[]string{"read:users"}, http.StatusOK},
		{[]string{"update:users"}, http.StatusForbidden},
	} {
		e := newEnv(t, Config{})
		id := e.importJob(`[{"email":"a@example.com"}]`, nil)
		e.s.mu.Lock()
		e.s.cfg.Scopes = tc.scopes // the next token carries these
		e.s.mu.Unlock()
		e.token = e.fetchToken()
		for _, path := range []string{"/api/v2/jobs/" + id, "/api/v2/jobs/" + id + "/errors"} {
			res, body := e.api(http.MethodGet, path, "")
			got := res.StatusCode
			if got == http.StatusNoContent {
				got = http.StatusOK
			}
			if got != tc.want {
				t.Errorf("%v: GET %s: %d %s, want %d", tc.scopes, path, res.StatusCode, body, tc.want)
			}
			if tc.want == http.StatusForbidden && !strings.Contains(string(body), "expected any of: create:users,read:users") {
				t.Errorf("%v: GET %s: %s does not name both scopes", tc.scopes, path, body)
			}
		}
	}
}

func TestConnections(t *testing.T) {
	e := newEnv(t, Config{})
	res, body := e.api(http.MethodGet, "/api/v2/connections?name="+upa, "")
	wantStatus(t, res, body, http.StatusOK)
	var list []map[string]any
	mustUnmarshal(t, body, &list)
	if len(list) != 1 || list[0]["name"] != upa || list[0]["strategy"] != "auth0" || !connIDRE.MatchString(list[0]["id"].(string)) {
		t.Errorf("connections %s", body)
	}
	_, body = e.api(http.MethodGet, "/api/v2/connections?name=nope&include_totals=true", "")
	if string(body) != `{"total":0,"start":0,"limit":50,"connections":[]}` {
		t.Errorf("totals form %s", body)
	}
	_, body = e.api(http.MethodGet, "/api/v2/connections?include_totals=true", "")
	var tot map[string]any
	mustUnmarshal(t, body, &tot)
	if tot["total"] != 2.0 {
		t.Errorf("all connections %s", body)
	}
	// The same seed gives the same connection ids.
	first, second := New(Config{}), New(Config{})
	if first.Connections()[0].ID != second.Connections()[0].ID {
		t.Error("connection ids are not reproducible")
	}
}
