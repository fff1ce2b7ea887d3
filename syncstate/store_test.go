package syncstate

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
)

var t0 = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

// hashOf is a fingerprint named by s, for tests.
func hashOf(s string) Hash { return sha256.Sum256([]byte(s)) }

func open(t *testing.T, path string, clk clock.Clock) *Store {
	t.Helper()
	s, err := Open(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path, clock.NewFake(t0))
	_, err := Open(path, clock.NewFake(t0.Add(time.Hour)))
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Open: %v, want *LockedError", err)
	}
	host, _ := os.Hostname()
	if le.PID != os.Getpid() || !le.Started.Equal(t0) || le.Host != host || le.Path != path {
		t.Fatalf("locked error %+v", le)
	}
	want := fmt.Sprintf("state %s is locked by pid %d (started 2026-11-25T02:00:00Z", path, os.Getpid())
	if !strings.HasPrefix(le.Error(), want) {
		t.Fatalf("message %q, want prefix %q", le.Error(), want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Released by Close.
	s2 := open(t, path, clock.NewFake(t0))
	s2.Close()
}

func TestStaleLockFileIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	// Left by a sync that died: details of a pid that is gone, no flock.
	stale := `{"pid":999999999,"host":"gone-host-with-a-long-name","started":"2020-01-01T00:00:00Z"}` + "\n"
	if err := os.WriteFile(path+".lock", []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, path, clock.NewFake(t0))
	defer s.Close()
	b, err := os.ReadFile(path + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	var h holder
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("lock file %q: %v", b, err)
	}
	if h.PID != os.Getpid() || !h.Started.Equal(t0) {
		t.Fatalf("lock file still names %+v", h)
	}
	fi, err := os.Stat(path + ".lock")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file mode %v %v", fi.Mode(), err)
	}
}

func TestLockedWithoutDetails(t *testing.T) {
	le := &LockedError{Path: "s.db"}
	if got := le.Error(); got != "state s.db is locked by another process" {
		t.Fatal(got)
	}
}

func TestPutGetAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	clk := clock.NewFake(t0)
	s := open(t, path, clk)
	if _, ok, err := s.Get("a@example.com"); ok || err != nil {
		t.Fatalf("empty state: %v %v", ok, err)
	}
	given := Entry{Hash: hashOf("h2"), UserID: "auth0|2", SyncedAt: t0.Add(-time.Hour)}
	if err := s.Put("A@Example.COM", Entry{Hash: hashOf("h1"), UserID: "auth0|1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("b@example.com", given); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("", given); err == nil {
		t.Fatal("empty email accepted")
	}
	// Batched puts are visible before they are committed.
	if e, ok, err := s.Get("a@example.com"); !ok || err != nil || e.Hash != hashOf("h1") {
		t.Fatalf("before flush: %+v %v %v", e, ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get("a@example.com"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	s = open(t, path, clk)
	defer s.Close()
	tests := []struct {
		email string
		want  Entry
		ok    bool
	}{
		{"a@example.com", Entry{Hash: hashOf("h1"), UserID: "auth0|1", SyncedAt: t0}, true},
		{" a@EXAMPLE.com", Entry{Hash: hashOf("h1"), UserID: "auth0|1", SyncedAt: t0}, true},
		{"b@example.com", given, true},
		{"c@example.com", Entry{}, false},
	}
	for _, tt := range tests {
		e, ok, err := s.Get(tt.email)
		if err != nil || ok != tt.ok || e.Hash != tt.want.Hash || e.UserID != tt.want.UserID || !e.SyncedAt.Equal(tt.want.SyncedAt) {
			t.Errorf("Get(%q) = %+v %v %v, want %+v %v", tt.email, e, ok, err, tt.want, tt.ok)
		}
	}
}

func TestPutsAreCommittedInBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	clk := clock.NewFake(t0)
	s := open(t, path, clk)
	defer s.Close()
	committed := func(email string) bool {
		var found bool
		s.db.View(func(tx *bolt.Tx) error {
			found = tx.Bucket(usersBucket).Get([]byte(email)) != nil
			return nil
		})
		return found
	}
	for i := 0; i < flushEvery-1; i++ {
		if err := s.Put(fmt.Sprintf("u%d@x", i), Entry{Hash: hashOf("h")}); err != nil {
			t.Fatal(err)
		}
	}
	if committed("u0@x") {
		t.Fatal("committed before the batch filled")
	}
	if err := s.Put("last@x", Entry{Hash: hashOf("h")}); err != nil {
		t.Fatal(err)
	}
	if !committed("u0@x") || !committed("last@x") {
		t.Fatal("full batch not committed")
	}
	if err := s.Put("slow@x", Entry{Hash: hashOf("h")}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(flushInterval)
	if err := s.Put("later@x", Entry{Hash: hashOf("h")}); err != nil {
		t.Fatal(err)
	}
	if !committed("slow@x") {
		t.Fatal("not committed after the interval")
	}
}

func TestMode0600(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path, clock.NewFake(t0))
	s.Close()
	// A state someone loosened is tightened again on the next Open.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, clock.NewFake(t0))
	s.Close()
	for _, p := range []string{path, path + ".lock"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o, want 600", p, fi.Mode().Perm())
		}
	}
}

func TestRecordHash(t *testing.T) {
	yes := true
	base := func() input.User {
		return input.User{
			Email: "a@example.com", EmailVerified: &yes, GivenName: "Ann",
			UserMetadata: map[string]any{"plan": "pro", "team": "x", "n": 1.0},
		}
	}
	h := RecordHash(base())
	if h.IsZero() {
		t.Fatal("zero hash")
	}
	// Maps built in another order hash the same.
	for i := 0; i < 20; i++ {
		u := base()
		u.UserMetadata = map[string]any{}
		for _, k := range []string{"team", "n", "plan"} {
			u.UserMetadata[k] = base().UserMetadata[k]
		}
		if got := RecordHash(u); got != h {
			t.Fatalf("equal users hash differently: %s vs %s", got, h)
		}
	}
	changes := []func(u *input.User){
		func(u *input.User) { u.GivenName = "Anne" },
		func(u *input.User) { no := false; u.EmailVerified = &no },
		func(u *input.User) { u.UserMetadata["plan"] = "free" },
		func(u *input.User) { u.AppMetadata = map[string]any{"k": "v"} },
		func(u *input.User) { u.Email = "A@example.com" },
	}
	for i, change := range changes {
		u := base()
		change(&u)
		if RecordHash(u) == h {
			t.Errorf("change %d did not change the hash", i)
		}
	}
	if !RecordHash(map[string]any{"f": func() {}}).IsZero() {
		t.Error("unencodable value hashed")
	}
}

// Len counts each remembered user once, committed or still batched.
func TestLen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	clk := clock.NewFake(t0)
	s := open(t, path, clk)
	want := func(n int) {
		t.Helper()
		if got, err := s.Len(); got != n || err != nil {
			t.Fatalf("Len = %d, %v; want %d", got, err, n)
		}
	}
	want(0)
	for _, e := range []string{"a@example.com", "b@example.com", "A@example.com"} {
		if err := s.Put(e, Entry{Hash: hashOf("h")}); err != nil {
			t.Fatal(err)
		}
	}
	want(2) // batched
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	want(2) // committed
	if err := s.Put("b@example.com", Entry{Hash: hashOf("h2")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("c@example.com", Entry{Hash: hashOf("h")}); err != nil {
		t.Fatal(err)
	}
	want(3) // b is committed and batched again: once
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Len(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Len after Close: %v", err)
	}
	s = open(t, path, clk)
	defer s.Close()
	want(3)
}

// The last input size survives a reopen; a state without one says so.
func TestLastInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	clk := clock.NewFake(t0)
	s := open(t, path, clk)
	if _, ok, err := s.LastInput(); ok || err != nil {
		t.Fatalf("new state: ok %v, %v", ok, err)
	}
	if err := s.SetLastInput(1200); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastInput(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetLastInput after Close: %v", err)
	}
	s = open(t, path, clk)
	defer s.Close()
	got, ok, err := s.LastInput()
	if !ok || err != nil || got.Records != 1200 || !got.At.Equal(t0) {
		t.Fatalf("LastInput = %+v %v %v, want 1200 at %v", got, ok, err, t0)
	}
}
