package run

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// A sync over a state the release before the binary format wrote
// (../syncstate/testdata/state-v0.db: alice, bob and Carol, synced at
// 2026-11-25T02:00:00Z) skips its unchanged users and sends only the changed
// and new ones: upgrading does not resend a tenant's users.
func TestSyncOverPreviousReleaseState(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	b, err := os.ReadFile("../syncstate/testdata/state-v0.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.state, b, 0o600); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(e.dir, "users.ndjson")
	lines := []string{
		`{"email":"alice@example.com","given_name":"Alice","email_verified":true}`,
		`{"email":"bob@example.com","user_metadata":{"plan":"pro"}}`,
		`{"email":"Carol@Example.com","family_name":"Dough"}`, // changed
		`{"email":"dave@example.com"}`,                        // new
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.sync(in)
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := finals(t, r.report)
	for _, tc := range []struct {
		email  string
		status report.Status
		code   string
		id     string
	}{
		{"alice@example.com", report.Skipped, CodeUnchanged, "auth0|alice"},
		{"bob@example.com", report.Skipped, CodeUnchanged, ""},
		{"Carol@Example.com", report.Imported, "", ""},
		{"dave@example.com", report.Imported, "", ""},
	} {
		f := got[tc.email]
		if f.Status != tc.status || f.Code != tc.code || (tc.id != "" && f.UserID != tc.id) {
			t.Errorf("%s: %s %s %q, want %s %s %q", tc.email, f.Status, f.Code, f.UserID, tc.status, tc.code, tc.id)
		}
		if tc.code == CodeUnchanged && !strings.Contains(f.Reason, "2026-11-25T02:00:00Z") {
			t.Errorf("%s: reason %q, want the earlier sync's time", tc.email, f.Reason)
		}
	}
	if sent := sentEmails(t, r.report); !reflect.DeepEqual(sent, []string{"Carol@Example.com", "dave@example.com"}) {
		t.Errorf("sent %v, want only the changed and the new user", sent)
	}
	// The next sync of the same input sends nothing: the changed and new
	// users are now in the state, in the new format, next to the old.
	r = e.sync(in)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if sent := sentEmails(t, r.report); len(sent) != 0 {
		t.Errorf("second sync sent %v", sent)
	}
}
