package sandbox

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Two strings in bcrypt's form at cost 10: only their form is checked,
// so they need not be the hash of any password.
const (
	hashOne = "$2b$10$1PvQ9P5zFw6b8nV5i3n6W.0mEJ1t8g2l2zFhGq8fK5J3kJbqv3kQy"
	hashTwo = "$2a$10$Zk1lY2QxM2Q0ZTVmNmE3Yu6p0r3JcWc8b0V1ZrXyQ7hQm8Kx2Qb4G"
)

// The password-hash export holds a line per user with a hash, in Auth0
// support's format, from which the user's id is found again as Auth0
// says: auth0| + alt_id when present, else auth0| + _id.$oid. Hashes come
// from the seed, from an import's password_hash (insert only: an upsert
// leaves it), and, when the tenant keeps them, from POST /users (bcrypt,
// cost 10, of the password). Users without one have no line.
func TestHashExport(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.ndjson")
	if err := os.WriteFile(seed, []byte(
		`{"email":"Gen@Example.com","user_id":"auth0|5dea9f9c82dd7c0e76e4ec93","email_verified":true,"password_hash":"`+hashOne+`"}`+"\n"+
			`{"email":"given@example.com","user_id":"auth0|euclid","password_hash":"`+hashTwo+`"}`+"\n"+
			`{"email":"nopassword@example.com"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Config{KeepPasswordHashes: true, JobDelay: -1})
	if err := e.s.SeedFile(seed); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	e.importJob(`[{"email":"imported@example.com","user_id":"legacy-7","password_hash":"`+hashOne+`"},{"email":"plain@example.com"}]`, nil)
	// An upsert carries a hash again: the tenant keeps the first.
	e.importJob(`[{"email":"imported@example.com","password_hash":"`+hashTwo+`","given_name":"New"}]`, map[string]string{"upsert": "true"})
	res, body := e.api(http.MethodPost, "/api/v2/users", `{"connection":"`+upa+`","email":"created@example.com","password":"Created-Passw0rd"}`)
	wantStatus(t, res, body, http.StatusCreated)
	var created struct {
		UserID string `json:"user_id"`
	}
	mustUnmarshal(t, body, &created)

	file := filepath.Join(dir, "hashes.ndjson")
	n, err := e.s.WriteHashExportFile(file)
	if err != nil || n != 4 {
		t.Fatalf("wrote %d lines: %v", n, err)
	}
	if fi, _ := os.Lstat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if _, err := e.s.WriteHashExportFile(file); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second write over the file: %v", err)
	}
	b, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := `{"_id":{"$oid":"5dea9f9c82dd7c0e76e4ec93"},"email_verified":true,"email":"gen@example.com","passwordHash":"` + hashOne +
		`","password_set_date":{"$date":"2023-01-25T17:48:16.543Z"},"tenant":"sandbox","connection":"Username-Password-Authentication","_tmp_is_unique":true,"identifiers":[{"type":"email","value":"gen@example.com","verified":true}]}`
	if lines[0] != want {
		t.Errorf("line 1:\n%s\nwant\n%s", lines[0], want)
	}

	// The same export from the endpoint.
	_, served := e.raw(http.MethodGet, hashExportPath, "", "", nil)
	if !bytes.Equal(served, b) {
		t.Errorf("GET %s differs from the file:\n%s", hashExportPath, served)
	}

	hashes := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l struct {
			ID struct {
				OID string `json:"$oid"`
			} `json:"_id"`
			AltID        string `json:"alt_id"`
			PasswordHash string `json:"passwordHash"`
			Identifiers  []struct {
				Type, Value string
			} `json:"identifiers"`
		}
		mustUnmarshal(t, sc.Bytes(), &l)
		id := "auth0|" + l.ID.OID
		if l.AltID != "" {
			id = "auth0|" + l.AltID
		}
		if len(l.ID.OID) != 24 || len(l.Identifiers) != 1 || l.Identifiers[0].Type != "email" {
			t.Errorf("line %s", sc.Bytes())
		}
		hashes[id] = l.PasswordHash
	}
	if len(hashes) != 4 || hashes["auth0|5dea9f9c82dd7c0e76e4ec93"] != hashOne || hashes["auth0|euclid"] != hashTwo || hashes["auth0|legacy-7"] != hashOne {
		t.Errorf("hashes by user id: %v", hashes)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hashes[created.UserID]), []byte("Created-Passw0rd")); err != nil {
		t.Errorf("POST /users kept %q: %v", hashes[created.UserID], err)
	}
	if cost, _ := bcrypt.Cost([]byte(hashes[created.UserID])); cost != 10 || !strings.HasPrefix(hashes[created.UserID], "$2b$10$") {
		t.Errorf("%s: cost %d; Auth0's hashes are $2b$ at cost 10", hashes[created.UserID], cost)
	}
	if h, ok := e.s.PasswordHash("auth0|legacy-7"); !ok || h != hashOne {
		t.Errorf("PasswordHash: %q %v", h, ok)
	}
	for _, u := range e.s.Users() {
		_, ok := hashes[u.UserID]
		if ok != u.HasPassword {
			t.Errorf("%s: has_password %v, in the export %v", u.Email, u.HasPassword, ok)
		}
	}
}

// By default the tenant keeps no hash of the passwords it is sent (bcrypt
// is slow on purpose): those users have no line; a seed refuses a hash
// that is not bcrypt.
func TestHashExportKeepsNoPasswordByDefault(t *testing.T) {
	e := newEnv(t, Config{})
	res, body := e.api(http.MethodPost, "/api/v2/users", `{"connection":"`+upa+`","email":"created@example.com","password":"Created-Passw0rd"}`)
	wantStatus(t, res, body, http.StatusCreated)
	var out bytes.Buffer
	if n, err := e.s.WriteHashExport(&out); n != 0 || err != nil || out.Len() != 0 {
		t.Errorf("%d lines (%v): %s", n, err, out.String())
	}
	seed := filepath.Join(t.TempDir(), "seed.ndjson")
	os.WriteFile(seed, []byte(`{"email":"a@example.com","password_hash":"plaintext"}`+"\n"), 0o600)
	if err := e.s.SeedFile(seed); err == nil || !strings.Contains(err.Error(), ":1: password_hash is not a bcrypt hash") {
		t.Errorf("seed: %v", err)
	}
}
