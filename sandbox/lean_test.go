package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// keptFields is what a lean tenant remembers of a user (Config.Lean).
func keptFields(u management.User) management.User {
	return management.User{UserID: u.UserID, Email: u.Email, EmailVerified: u.EmailVerified, Blocked: u.Blocked,
		Username: u.Username, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Identities: u.Identities}
}

// twin is the same tenant twice, full and lean, on one clock.
type twin struct {
	t          *testing.T
	full, lean *env
}

func newTwin(t *testing.T, cfg Config) *twin {
	full := newEnv(t, cfg)
	cfg.Lean = true
	lean := newEnv(t, cfg)
	return &twin{t: t, full: full, lean: lean}
}

func (tw *twin) advance(d time.Duration) {
	tw.full.clk.Advance(d)
	tw.lean.clk.Advance(d)
}

func (tw *twin) addUser(u management.User, conn string) {
	tw.full.s.AddUser(u, conn)
	tw.lean.s.AddUser(u, conn)
}

// same sends one request to both and wants the same status and the same
// body: byte for byte (write answers, job reads) or, for reads of users,
// the same users in the fields the lean tenant keeps.
func (tw *twin) same(method, path, body string, users bool) []byte {
	tw.t.Helper()
	resF, bF := tw.full.api(method, path, body)
	resL, bL := tw.lean.api(method, path, body)
	if resF.StatusCode != resL.StatusCode {
		tw.t.Fatalf("%s %s: full %d %s, lean %d %s", method, path, resF.StatusCode, bF, resL.StatusCode, bL)
	}
	if !users || resF.StatusCode >= 300 {
		if string(bF) != string(bL) {
			tw.t.Errorf("%s %s:\nfull %s\nlean %s", method, path, bF, bL)
		}
		return bF
	}
	if want, got := keptUsers(tw.t, bF), keptUsers(tw.t, bL); !reflect.DeepEqual(want, got) {
		tw.t.Errorf("%s %s:\nfull %+v\nlean %+v", method, path, want, got)
	}
	return bF
}

// keptUsers decodes a user or a list of users and keeps the lean fields.
func keptUsers(t *testing.T, body []byte) []management.User {
	t.Helper()
	var list []management.User
	if strings.HasPrefix(string(body), "[") {
		mustUnmarshal(t, body, &list)
	} else {
		var u management.User
		mustUnmarshal(t, body, &u)
		list = []management.User{u}
	}
	for i := range list {
		list[i] = keptFields(list[i])
	}
	return list
}

func (tw *twin) importJob(users string, fields map[string]string) {
	tw.t.Helper()
	idF, idL := tw.full.importJob(users, fields), tw.lean.importJob(users, fields)
	if idF != idL {
		tw.t.Fatalf("job ids %s, %s", idF, idL)
	}
	tw.advance(time.Second)
	tw.same(http.MethodGet, "/api/v2/jobs/"+idF, "", false)
	tw.same(http.MethodGet, "/api/v2/jobs/"+idF+"/errors", "", false)
}

// TestLeanAgreesWithFull plays imports (inserts, duplicates in the tenant
// and in the file, a user_id in use, upserts), creates, a changed e-mail
// and every kind of read against a full and a lean tenant: the same
// answers, reads of users compared in the fields the lean tenant keeps.
func TestLeanAgreesWithFull(t *testing.T) {
	tw := newTwin(t, Config{JobDelay: 100 * time.Millisecond})
	tw.addUser(management.User{UserID: "auth0|legacy-1", Email: "Seed@Example.com"}, upa)
	tw.addUser(management.User{UserID: "auth0|legacy-2", Email: "seed@example.com"}, upa) // a seeded duplicate
	tw.addUser(management.User{UserID: "google-oauth2|77", Email: "seed@example.com"}, "google-oauth2")
	tw.advance(time.Second)

	tw.importJob(`[{"email":"a@example.com","email_verified":true,"user_id":"5f0c3b7e9d1a2b3c4d5e6f70"},`+
		`{"email":"B@example.com","blocked":true,"given_name":"Bea","user_metadata":{"x":1}},`+
		`{"email":"b@example.com"},`+ // a duplicate in the file
		`{"email":"seed@example.com"},`+ // in the tenant
		`{"email":"c@example.com","user_id":"5f0c3b7e9d1a2b3c4d5e6f70"},`+ // user_id in use
		`{"email":"not an email"}]`, nil)
	tw.advance(time.Second)
	tw.importJob(`[{"email":"a@example.com","email_verified":false,"blocked":true},{"email":"d@example.com"}]`,
		map[string]string{"upsert": "true"})
	tw.advance(time.Second)

	created := tw.same(http.MethodPost, "/api/v2/users", createBody("New@Example.com", `,"user_id":"abc","verify_email":false`), false)
	tw.same(http.MethodPost, "/api/v2/users", createBody("e@example.com", `,"email_verified":true`), false)
	tw.same(http.MethodPost, "/api/v2/users", createBody("new@example.com", ""), false) // 409
	var u management.User
	mustUnmarshal(t, created, &u)
	tw.advance(time.Second)
	tw.same(http.MethodPatch, "/api/v2/users/"+u.UserID, `{"email":"moved@example.com","blocked":false}`, true)
	tw.same(http.MethodPatch, "/api/v2/users/auth0|legacy-1", `{"email":"e@example.com"}`, false)                // taken
	tw.same(http.MethodPatch, "/api/v2/users/auth0|5f0c3b7e9d1a2b3c4d5e6f70", `{"email":"A@example.com"}`, true) // its own
	tw.same(http.MethodPost, "/api/v2/users", createBody("new@example.com", ""), false)                          // free again

	for _, email := range []string{"seed@example.com", "Seed@example.com", "a@example.com", "b@example.com",
		"new@example.com", "moved@example.com", "nobody@example.com", "not an email"} {
		tw.same(http.MethodGet, "/api/v2/users-by-email?email="+url.QueryEscape(email), "", true)
	}
	for _, id := range []string{"auth0|legacy-1", "auth0|legacy-2", "google-oauth2|77", "auth0|5f0c3b7e9d1a2b3c4d5e6f70", u.UserID, "auth0|nobody"} {
		tw.same(http.MethodGet, "/api/v2/users/"+id, "", true)
	}
	full, lean := tw.full.s.Users(), tw.lean.s.Users()
	if len(full) != len(lean) || len(full) != 9 {
		t.Fatalf("%d users in the full tenant, %d in the lean one; want 9", len(full), len(lean))
	}
	for i := range full {
		f, l := full[i], lean[i]
		f.User, l.User = keptFields(f.User), keptFields(l.User)
		if !reflect.DeepEqual(f, l) {
			t.Errorf("user %d:\nfull %+v\nlean %+v", i, f, l)
		}
	}
	if f, l := tw.full.s.Stats(), tw.lean.s.Stats(); f.Users != l.Users || f.ImplicitVerificationEmails != l.ImplicitVerificationEmails {
		t.Errorf("stats: full %+v, lean %+v", f, l)
	}
}

// TestLeanUsername: usernames (rare in imports) are kept, matched ignoring
// case, and a renamed user no longer holds its old one.
func TestLeanUsername(t *testing.T) {
	conns := []management.Connection{{ID: "con_AAAAAAAAAAAAAAAA", Name: upa, Strategy: "auth0", Options: management.ConnectionOptions{RequiresUsername: true}}}
	tw := newTwin(t, Config{Connections: conns})
	tw.same(http.MethodPost, "/api/v2/users", `{"connection":"`+upa+`","email":"a@example.com","password":"Passw0rd!","username":"ann","user_id":"a"}`, false)
	tw.same(http.MethodPost, "/api/v2/users", `{"connection":"`+upa+`","email":"b@example.com","password":"Passw0rd!","username":"ANN"}`, false) // in use
	tw.same(http.MethodPatch, "/api/v2/users/auth0|a", `{"username":"anna"}`, true)
	tw.same(http.MethodPost, "/api/v2/users", `{"connection":"`+upa+`","email":"b@example.com","password":"Passw0rd!","username":"Ann","user_id":"b"}`, false)
	tw.same(http.MethodPost, "/api/v2/users", `{"connection":"`+upa+`","email":"c@example.com","password":"Passw0rd!","username":"anna"}`, false) // in use
	tw.same(http.MethodGet, "/api/v2/users/auth0|a", "", true)
	// An upsert of a user with its own username is no conflict.
	tw.importJob(`[{"email":"a@example.com","username":"ANNA","password_hash":"$2b$10$abcdefghijklmnopqrstuu5Uu6Zc1yJzX9i3y4v9Zl1vJ3Yp2bQ1a"}]`, map[string]string{"upsert": "true"})
	tw.same(http.MethodGet, "/api/v2/users/auth0|a", "", true)
}

// TestLeanStoreScales fills a lean store past several table rebuilds and
// record and text pages, finds every user by e-mail and id, and stays
// well under 200 bytes a user.
func TestLeanStoreScales(t *testing.T) {
	const n = 40000 // over two record pages and one text page
	st := newLeanStore()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	id := func(i int) string {
		if i%7 == 0 {
			return fmt.Sprintf("auth0|custom-%d", i) // not hex: kept as text
		}
		return fmt.Sprintf("auth0|%024x", i)
	}
	for i := range n {
		st.add(&storedUser{connection: upa, hasPassword: i%2 == 0, user: management.User{
			UserID: id(i), Email: fmt.Sprintf("User.%d@Example.com", i), CreatedAt: &at, UpdatedAt: &at}})
	}
	for i := range n {
		email := fmt.Sprintf("user.%d@example.com", i)
		byMail, byID := st.byEmail(upa, strings.ToUpper(email)), st.byID(id(i))
		if byMail == nil || byID == nil || byMail.user.UserID != id(i) || byID.user.Email != email ||
			!byID.user.CreatedAt.Equal(at) || byID.hasPassword != (i%2 == 0) {
			t.Fatalf("user %d: by e-mail %+v, by id %+v", i, byMail, byID)
		}
	}
	if st.byEmail(upa, "user.-1@example.com") != nil || st.byID("auth0|"+strings.Repeat("f", 24)) != nil || st.byEmail("other", "user.1@example.com") != nil {
		t.Error("found a user never added")
	}
	if perUser := st.footprint() / n; perUser > 150 {
		t.Errorf("%d bytes a user, want at most 150", perUser)
	}
}

// TestLeanUsersStream: GET /sandbox/users of a lean tenant, written in
// batches, is the JSON of Users().
func TestLeanUsersStream(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 2500} {
		e := newEnv(t, Config{Lean: true})
		for i := range n {
			e.s.AddUser(management.User{Email: fmt.Sprintf("u%d@example.com", i)}, upa)
		}
		res, body := e.raw(http.MethodGet, "/sandbox/users", "", "", nil)
		wantStatus(t, res, body, http.StatusOK)
		want, err := json.Marshal(e.s.Users())
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != string(want) {
			t.Errorf("%d users: streamed %d bytes, want %d", n, len(body), len(want))
		}
	}
}
