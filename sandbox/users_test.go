package sandbox

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/management"
)

var userIDRE = regexp.MustCompile(`^auth0\|[0-9a-f]{24}$`)

func createBody(email, extra string) string {
	return `{"connection":"` + upa + `","email":"` + email + `","password":"Passw0rd!"` + extra + `}`
}

func TestCreateUser(t *testing.T) {
	e := newEnv(t, Config{})
	res, body := e.api(http.MethodPost, "/api/v2/users", createBody("Ann@Example.com", `,"verify_email":false,"user_metadata":{"k":"v"}`))
	wantStatus(t, res, body, http.StatusCreated)
	var u management.User
	mustUnmarshal(t, body, &u)
	if !userIDRE.MatchString(u.UserID) || u.Email != "ann@example.com" || u.CreatedAt == nil || u.UpdatedAt == nil ||
		len(u.Identities) != 1 || u.Identities[0].Provider != "auth0" || "auth0|"+u.Identities[0].UserID != u.UserID ||
		u.Identities[0].Connection != upa || u.UserMetadata["k"] != "v" {
		t.Errorf("created %s", body)
	}
	if strings.Contains(string(body), "Passw0rd") {
		t.Error("password echoed")
	}

	res, body = e.api(http.MethodPost, "/api/v2/users", createBody("ANN@example.com", ""))
	if res.StatusCode != 409 || string(body) != `{"statusCode":409,"error":"Conflict","message":"The user already exists.","errorCode":"auth0_idp_error"}` {
		t.Errorf("exists: %d %s", res.StatusCode, body)
	}

	// Lookup is exact on the stored, lower-cased address.
	_, body = e.api(http.MethodGet, "/api/v2/users-by-email?email=ann@example.com", "")
	if !strings.Contains(string(body), u.UserID) {
		t.Errorf("by email %s", body)
	}
	_, body = e.api(http.MethodGet, "/api/v2/users-by-email?email=Ann@Example.com", "")
	if string(body) != `[]` {
		t.Errorf("case-sensitive lookup found %s", body)
	}

	res, body = e.api(http.MethodGet, "/api/v2/users/"+u.UserID, "")
	wantStatus(t, res, body, http.StatusOK)
	res, body = e.api(http.MethodGet, "/api/v2/users/auth0|nobody", "")
	if res.StatusCode != 404 || string(body) != `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}` {
		t.Errorf("unknown user: %d %s", res.StatusCode, body)
	}
}

func TestCreateUserRefusals(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name, body string
		status     int
		message    string
	}{
		{"weak password", `{"connection":"` + upa + `","email":"a@example.com","password":"password"}`, 400, "PasswordStrengthError: Password is too weak"},
		{"username not required", createBody("a@example.com", `,"username":"ann"`), 400, "Cannot set username for connection without requires_username"},
		{"bad email", createBody("nope", ""), 400, "Payload validation error: 'Object didn't pass validation for format email: nope'"},
		{"no connection", `{"email":"a@example.com","password":"Passw0rd!"}`, 400, "Payload validation error: 'Missing required property: connection'"},
		{"unknown connection", `{"connection":"x","email":"a@example.com","password":"Passw0rd!"}`, 400, "The connection does not exist."},
		{"unknown property", createBody("a@example.com", `,"favourite":1`), 400, "Payload validation error: 'Additional properties not allowed: favourite'"},
		{"wrong type", createBody("a@example.com", `,"verify_email":"no"`), 400, "Payload validation error: 'Expected type boolean but found type string' on property verify_email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.api(http.MethodPost, "/api/v2/users", tt.body)
			var ae management.APIError
			mustUnmarshal(t, body, &ae)
			if res.StatusCode != tt.status || ae.Message != tt.message {
				t.Errorf("got %d %s", res.StatusCode, body)
			}
		})
	}
	if len(e.s.Users()) != 0 {
		t.Error("a refused create stored a user")
	}
}

func TestUsernameConnection(t *testing.T) {
	conns := []management.Connection{{ID: "con_AAAAAAAAAAAAAAAA", Name: "db", Strategy: "auth0", Options: management.ConnectionOptions{RequiresUsername: true}}}
	e := newEnv(t, Config{Connections: conns})
	body := `{"connection":"db","email":"a@example.com","password":"Passw0rd!","username":"ann"}`
	res, b := e.api(http.MethodPost, "/api/v2/users", body)
	wantStatus(t, res, b, http.StatusCreated)
	res, b = e.api(http.MethodPost, "/api/v2/users", `{"connection":"db","email":"b@example.com","password":"Passw0rd!","username":"ann"}`)
	if res.StatusCode != 400 || !strings.Contains(string(b), "The username provided is in use already.") {
		t.Errorf("username taken: %d %s", res.StatusCode, b)
	}
}

func TestImplicitVerificationEmails(t *testing.T) {
	e := newEnv(t, Config{})
	for i, extra := range []string{`,"verify_email":false`, `,"email_verified":true`, ``, `,"email_verified":true,"verify_email":true`} {
		res, body := e.api(http.MethodPost, "/api/v2/users", createBody(string(rune('a'+i))+"@example.com", extra))
		wantStatus(t, res, body, http.StatusCreated)
	}
	if n := e.s.Stats().ImplicitVerificationEmails; n != 2 {
		t.Errorf("implicit verification emails = %d, want 2", n)
	}
	sent := 0
	for _, u := range e.s.Users() {
		if u.ImplicitVerificationEmail {
			sent++
		}
	}
	if sent != 2 {
		t.Errorf("%d users marked, want 2", sent)
	}
}

func TestPatchUserMergesMetadata(t *testing.T) {
	e := newEnv(t, Config{})
	e.s.AddUser(management.User{UserID: "auth0|abc", Email: "a@example.com", UserMetadata: map[string]any{"a": "1", "b": "2"}}, upa)
	res, body := e.api(http.MethodPatch, "/api/v2/users/auth0|abc", `{"user_metadata":{"b":null,"c":"3"},"given_name":"Ann"}`)
	wantStatus(t, res, body, http.StatusOK)
	u := e.s.Users()[0]
	if u.GivenName != "Ann" || len(u.UserMetadata) != 2 || u.UserMetadata["a"] != "1" || u.UserMetadata["c"] != "3" {
		t.Errorf("after patch %+v", u)
	}
	res, body = e.api(http.MethodPatch, "/api/v2/users/auth0|nobody", `{}`)
	wantStatus(t, res, body, http.StatusNotFound)
}

func TestSandboxEndpoints(t *testing.T) {
	e := newEnv(t, Config{Rate: 1, Burst: 1})
	e.s.AddUser(management.User{UserID: "auth0|abc", Email: "a@example.com"}, upa)
	e.api(http.MethodGet, "/api/v2/users/auth0|abc", "")
	e.api(http.MethodGet, "/api/v2/users/auth0|abc", "") // rate limited
	for i := 0; i < 3; i++ {
		res, body := e.raw(http.MethodGet, "/sandbox/users", "", "", nil)
		wantStatus(t, res, body, http.StatusOK)
		if !strings.Contains(string(body), `"connection":"`+upa+`"`) || !strings.Contains(string(body), `"user_id":"auth0|abc"`) {
			t.Errorf("users %s", body)
		}
	}
	res, body := e.raw(http.MethodGet, "/sandbox/stats", "", "", nil)
	wantStatus(t, res, body, http.StatusOK)
	var st Stats
	mustUnmarshal(t, body, &st)
	if st.Requests["GET /api/v2/users/{id}"] != 2 || st.Requests["POST /oauth/token"] != 1 || st.RateLimited != 1 || st.Users != 1 {
		t.Errorf("stats %s", body)
	}
	for _, key := range []string{`"faults":{"5xx":0,"reset_before":0,"reset_after":0,"storm":0,"token_reset":0,"export_drops":0}`,
		`"limits":"custom","buckets":{"global":{"burst":1,"per_second":1,"admitted":1,"rate_limited":1}}`, `"verification_emails":[]`, `"custom_domain_violations":[]`} {
		if !strings.Contains(string(body), key) {
			t.Errorf("stats lack %s: %s", key, body)
		}
	}
}
