package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

// Password hashes on import, as Auth0 documents them: password_hash is
// bcrypt at 10 rounds only (its pattern), custom_password_hash takes the
// rest, and both are insert-only.
func TestImportPasswordHashes(t *testing.T) {
	tail := strings.Repeat("a", 53)
	sha := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

	e := newEnv(t, Config{JobDelay: -1, RefuseHashUpsert: true})
	id := e.importJob(`[
		{"email":"ten@example.com","password_hash":"$2b$10$`+tail+`"},
		{"email":"twelve@example.com","password_hash":"$2b$12$`+tail+`"},
		{"email":"custom@example.com","custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"$2b$12$`+tail+`","encoding":"utf8"}}},
		{"email":"none@example.com"}]`, nil)
	_, body := e.api(http.MethodGet, "/api/v2/jobs/"+id+"/errors", "")
	want := `[{"user":{"email":"twelve@example.com","password_hash":"*****"},"errors":[{"code":"PATTERN","message":"String does not match pattern ^\\$2[ab]?\\$10+\\$[./A-Za-z0-9]{53}$","path":"password_hash"}]}]`
	if string(body) != want {
		t.Errorf("errors\n got %s\nwant %s", body, want)
	}
	got := map[string]SandboxUser{}
	for _, u := range e.s.Users() {
		got[u.Email] = u
	}
	for email, w := range map[string]struct {
		has bool
		fp  string
	}{
		"ten@example.com":    {true, sha("$2b$10$" + tail)},
		"custom@example.com": {true, sha("$2b$12$" + tail)},
		"none@example.com":   {false, ""},
	} {
		u, ok := got[email]
		if !ok || u.HasPassword != w.has || u.PasswordHashSHA256 != w.fp {
			t.Errorf("%s: %+v (want has_password %v, fingerprint %q)", email, u, w.has, w.fp)
		}
	}
	if _, ok := got["twelve@example.com"]; ok {
		t.Error("a password_hash of cost 12 was imported")
	}

	// An upsert that sends a hash again fails that user, whatever else it
	// changes; without the hash the same upsert updates it.
	id = e.importJob(`[{"email":"ten@example.com","given_name":"X","password_hash":"$2b$10$`+strings.Repeat("b", 53)+`"}]`, map[string]string{"upsert": "true"})
	_, body = e.api(http.MethodGet, "/api/v2/jobs/"+id+"/errors", "")
	if want := `[{"user":{"email":"ten@example.com","given_name":"X","password_hash":"*****"},"errors":[{"code":"","message":"` + PasswordHashDefinedMessage + `"}]}]`; string(body) != want {
		t.Errorf("errors\n got %s\nwant %s", body, want)
	}
	id = e.importJob(`[{"email":"ten@example.com","given_name":"X"}]`, map[string]string{"upsert": "true"})
	_, body = e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
	if !strings.Contains(string(body), `"summary":{"failed":0,"updated":1,"inserted":0,"total":1}`) {
		t.Errorf("job %s", body)
	}
	for _, u := range e.s.Users() {
		if u.Email == "ten@example.com" && (u.GivenName != "X" || u.PasswordHashSHA256 != sha("$2b$10$"+tail)) {
			t.Errorf("after the upserts: %+v", u)
		}
	}

	// By default the hash of an upsert is left alone and the rest updated.
	e = newEnv(t, Config{JobDelay: -1})
	e.importJob(`[{"email":"a@example.com","password_hash":"$2b$10$`+tail+`"}]`, nil)
	id = e.importJob(`[{"email":"a@example.com","given_name":"Y","password_hash":"$2b$10$`+strings.Repeat("c", 53)+`"}]`, map[string]string{"upsert": "true"})
	_, body = e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
	if !strings.Contains(string(body), `"summary":{"failed":0,"updated":1,"inserted":0,"total":1}`) {
		t.Errorf("job %s", body)
	}
	if u := e.s.Users(); len(u) != 1 || u[0].GivenName != "Y" || u[0].PasswordHashSHA256 != sha("$2b$10$"+tail) {
		t.Errorf("after the upsert: %+v", u)
	}
}
