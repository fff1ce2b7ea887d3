package run

import (
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/syncstate"
)

type fakeState map[string]syncstate.Entry

// hashOf is a fingerprint named by s, for tests.
func hashOf(s string) syncstate.Hash { return sha256.Sum256([]byte(s)) }

func (f fakeState) Get(email string) (syncstate.Entry, bool, error) {
	if email == "broken@example.com" {
		return syncstate.Entry{}, false, errors.New("disk gone")
	}
	e, ok := f[email]
	return e, ok, nil
}

func TestJudge(t *testing.T) {
	alice := input.User{Email: "alice@example.com", GivenName: "Alice"}
	hash := syncstate.RecordHash(alice)
	changed := alice
	changed.GivenName = "Alicia"
	st := fakeState{"alice@example.com": {Hash: hash, UserID: "auth0|a"}}
	for _, tc := range []struct {
		name    string
		st      stateReader
		user    input.User
		full    bool
		want    syncVerdict
		wantErr bool
	}{
		{"same hash", st, alice, false, syncUnchanged, false},
		{"same hash, --full", st, alice, true, syncChanged, false},
		{"other hash", st, changed, false, syncChanged, false},
		{"no entry", st, input.User{Email: "bob@example.com"}, false, syncNew, false},
		{"no state file yet", nil, alice, false, syncNew, false},
		{"no email: always sent", fakeState{"": {Hash: syncstate.RecordHash(input.User{PhoneNumber: "+1"})}}, input.User{PhoneNumber: "+1"}, false, syncNew, false},
		{"state unreadable", st, input.User{Email: "broken@example.com"}, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, h, _, err := judge(tc.st, input.Record{User: tc.user}, tc.full)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if err == nil && (got != tc.want || h != syncstate.RecordHash(tc.user)) {
				t.Fatalf("verdict %v hash %s, want %v", got, h, tc.want)
			}
		})
	}
}

func TestTrackerPutsOnlyConfirmedOutcomes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.state")
	store, err := syncstate.Open(path, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tr := newSyncTracker(store)
	cases := []struct {
		status  report.Status
		userID  string // in the final line
		prevID  string // in the state before
		wantPut bool
		wantID  string
	}{
		{report.Created, "auth0|new", "", true, "auth0|new"},
		{report.Updated, "auth0|upd", "auth0|old", true, "auth0|upd"},
		{report.Imported, "", "auth0|kept", true, "auth0|kept"}, // jobs name no ids
		{report.Skipped, "", "", false, ""},
		{report.Failed, "", "", false, ""},
		{report.Invalid, "", "", false, ""},
	}
	for i, c := range cases {
		rec := input.Record{File: "in.csv", Line: i + 2, User: input.User{Email: string(c.status) + "@Example.com"}}
		tr.track(rec, hashOf("h"+string(c.status)), syncstate.Entry{UserID: c.prevID})
		// Lines that are not final change nothing.
		tr.observe(report.Entry{File: rec.File, Line: rec.Line, Email: rec.User.Email, Status: report.Sending})
		tr.observe(report.Entry{File: rec.File, Line: rec.Line, Email: rec.User.Email, Status: c.status, UserID: c.userID})
	}
	// A record never tracked (unchanged, or invalid before admission).
	tr.observe(report.Entry{File: "in.csv", Line: 99, Email: "other@example.com", Status: report.Created, UserID: "auth0|x"})
	if tr.inFlight() != 0 || tr.Err() != nil {
		t.Fatalf("in flight %d, err %v", tr.inFlight(), tr.Err())
	}
	for _, c := range cases {
		e, ok, err := store.Get(string(c.status) + "@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.wantPut || (ok && (e.Hash != hashOf("h"+string(c.status)) || e.UserID != c.wantID)) {
			t.Errorf("%s: put %v %+v, want put %v id %q", c.status, ok, e, c.wantPut, c.wantID)
		}
	}
	if _, ok, _ := store.Get("other@example.com"); ok {
		t.Error("an untracked record was put")
	}

	// A put that fails is reported, not lost silently.
	tr.track(input.Record{File: "in.csv", Line: 200, User: input.User{Email: "late@example.com"}}, hashOf("h"), syncstate.Entry{})
	store.Close()
	tr.observe(report.Entry{File: "in.csv", Line: 200, Email: "late@example.com", Status: report.Created})
	if !errors.Is(tr.Err(), syncstate.ErrClosed) {
		t.Fatalf("err %v, want the closed store's", tr.Err())
	}
}
