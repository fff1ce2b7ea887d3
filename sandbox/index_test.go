package sandbox

import (
	"net/http"
	"testing"

	"github.com/a0bulk/a0bulk/management"
)

// TestEmailIndexAgreesWithScan: the index answers what a scan of s.users in
// creation order answers, across connections, case and seeded duplicates.
func TestEmailIndexAgreesWithScan(t *testing.T) {
	s := New(Config{})
	seed := []struct{ id, email, conn string }{
		{"auth0|1", "Ann@Example.com", upa},
		{"auth0|2", "ann@example.com", upa}, // a seeded duplicate: the first wins
		{"auth0|3", "ann@example.com", "other-db"},
		{"auth0|4", "bob@example.com", upa},
	}
	for _, u := range seed {
		s.AddUser(management.User{UserID: u.id, Email: u.email}, u.conn)
	}
	scan := func(conn, email string) *storedUser {
		var found *storedUser
		s.users.each(0, func(su *storedUser) bool {
			if su.connection == conn && su.user.Email == toLowerASCII(email) {
				found = su
				return false
			}
			return true
		})
		return found
	}
	for _, c := range []struct {
		conn, email, want string
	}{
		{upa, "ann@example.com", "auth0|1"},
		{upa, "ANN@EXAMPLE.COM", "auth0|1"},
		{"other-db", "Ann@example.com", "auth0|3"},
		{upa, "bob@example.com", "auth0|4"},
		{"other-db", "bob@example.com", ""},
		{upa, "nobody@example.com", ""},
	} {
		s.mu.Lock()
		got, want := s.findByEmail(c.conn, c.email), scan(c.conn, c.email)
		s.mu.Unlock()
		id := ""
		if got != nil {
			id = got.user.UserID
		}
		if id != c.want || got != want {
			t.Errorf("%s %s: found %q, want %q (the scan's %v)", c.conn, c.email, id, c.want, want)
		}
	}
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestEmailIndexFollowsPatch: a changed e-mail frees the old address and
// takes the new one, for creates and imports alike.
func TestEmailIndexFollowsPatch(t *testing.T) {
	e := newEnv(t, Config{})
	e.s.AddUser(management.User{UserID: "auth0|abc", Email: "old@example.com"}, upa)
	res, body := e.api(http.MethodPatch, "/api/v2/users/auth0|abc", `{"email":"New@Example.com"}`)
	wantStatus(t, res, body, http.StatusOK)

	res, body = e.api(http.MethodPost, "/api/v2/users", createBody("new@example.com", ""))
	if res.StatusCode != http.StatusConflict {
		t.Errorf("create with the new address: %d %s, want 409", res.StatusCode, body)
	}
	res, body = e.api(http.MethodPost, "/api/v2/users", createBody("OLD@example.com", ""))
	wantStatus(t, res, body, http.StatusCreated)

	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if su := e.s.findByEmail(upa, "new@example.com"); su == nil || su.user.UserID != "auth0|abc" {
		t.Errorf("new address finds %v", su)
	}
	if su := e.s.findByEmail(upa, "old@example.com"); su == nil || su.user.UserID == "auth0|abc" {
		t.Errorf("old address finds %v, want the user created after the patch", su)
	}
}
