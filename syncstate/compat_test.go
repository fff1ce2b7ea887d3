package syncstate

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
)

// testdata/state-v0.db was written by the release before the binary format
// (JSON entries, hex hashes, no user count), at t0, by a sync of:
func v0Users() []struct {
	user input.User
	id   string
} {
	yes := true
	return []struct {
		user input.User
		id   string
	}{
		{input.User{Email: "alice@example.com", GivenName: "Alice", EmailVerified: &yes}, "auth0|alice"},
		{input.User{Email: "bob@example.com", UserMetadata: map[string]any{"plan": "pro"}}, ""},
		{input.User{Email: "Carol@Example.com", FamilyName: "Doe"}, "auth0|carol"},
	}
}

// copyV0 is a copy of that state, which Open may write.
func copyV0(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/state-v0.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rawValue is the stored bytes of key k, read past the store.
func rawValue(t *testing.T, s *Store, k string) []byte {
	t.Helper()
	var v []byte
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.View(func(tx *bolt.Tx) error {
		v = append([]byte(nil), tx.Bucket(usersBucket).Get([]byte(k))...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// A state the previous release wrote opens and works: the same users are
// unchanged, it is counted, the guard finds its last input, and a changed
// user is rewritten in the new format next to entries still in the old.
func TestPreviousReleaseStateWorks(t *testing.T) {
	path := copyV0(t)
	clk := clock.NewFake(t0.Add(24 * time.Hour))
	s := open(t, path, clk)
	for _, u := range v0Users() {
		e, ok, err := s.Get(u.user.Email)
		if err != nil || !ok || e.Hash != RecordHash(u.user) || e.UserID != u.id || !e.SyncedAt.Equal(t0) {
			t.Fatalf("%s: %+v %v %v; want the hash of the same user, id %q, synced at %v", u.user.Email, e, ok, err, u.id, t0)
		}
	}
	if n, err := s.Len(); n != 3 || err != nil {
		t.Fatalf("Len = %d, %v; want 3", n, err)
	}
	if in, ok, err := s.LastInput(); !ok || err != nil || in.Records != 3 || !in.At.Equal(t0) {
		t.Fatalf("LastInput = %+v %v %v", in, ok, err)
	}
	alice := v0Users()[0].user
	alice.GivenName = "Alicia"
	if err := s.Put(alice.Email, Entry{Hash: RecordHash(alice), UserID: "auth0|alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, clk)
	defer s.Close()
	if v := rawValue(t, s, "alice@example.com"); len(v) == 0 || v[0] != formatV1 {
		t.Fatalf("rewritten entry %q, want the binary format", v)
	}
	if v := rawValue(t, s, "bob@example.com"); len(v) == 0 || v[0] != '{' {
		t.Fatalf("untouched entry %q, want it as the old release wrote it", v)
	}
	if e, _, err := s.Get("alice@example.com"); err != nil || e.Hash != RecordHash(alice) || !e.SyncedAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("alice after the change: %+v %v", e, err)
	}
	if e, _, err := s.Get("bob@example.com"); err != nil || e.Hash != RecordHash(v0Users()[1].user) {
		t.Fatalf("bob: %+v %v", e, err)
	}
	if n, err := s.Len(); n != 3 || err != nil {
		t.Fatalf("Len = %d, %v; want 3", n, err)
	}
}

// The user count is trusted only if this store wrote the last transaction:
// users an earlier release added afterwards (a downgrade, then an upgrade)
// are counted again, not missed.
func TestCountWrittenByAnotherReleaseIsRecounted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path, clock.NewFake(t0))
	for _, e := range []string{"a@x", "b@x"} {
		if err := s.Put(e, Entry{Hash: hashOf(e)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What the earlier release does: a put, and no count.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(usersBucket).Put([]byte("c@x"), []byte(`{"hash":"","user_id":"","synced_at":"2026-11-25T02:00:00Z"}`))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s = open(t, path, clock.NewFake(t0))
	if n, err := s.Len(); n != 3 || err != nil {
		t.Fatalf("Len = %d, %v; want 3", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// And the count it wrote is trusted by the next Open.
	s = open(t, path, clock.NewFake(t0))
	defer s.Close()
	if n, ok := s.trustedCount(t); !ok || n != 3 {
		t.Fatalf("stored count %d %v, want 3 and trusted", n, ok)
	}
}

// trustedCount reads the stored count as Open would.
func (s *Store) trustedCount(t *testing.T) (n int, ok bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.View(func(tx *bolt.Tx) error {
		// A read transaction's ID is the last committed one; Open's
		// check is made in the write transaction after it.
		v := tx.Bucket(metaBucket).Get(countKey)
		if len(v) != 16 {
			return nil
		}
		n, ok = int(beUint64(v)), beUint64(v[8:]) == uint64(tx.ID())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n, ok
}

func beUint64(b []byte) uint64 {
	var x uint64
	for _, c := range b[:8] {
		x = x<<8 | uint64(c)
	}
	return x
}
