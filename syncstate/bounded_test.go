package syncstate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
)

// Lookups share one read transaction until a write: a bbolt transaction
// per lookup cost more than the lookup.
func TestLookupsShareAReadTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path, clock.NewFake(t0))
	defer s.Close()
	for i := range 10 {
		if err := s.Put(fmt.Sprintf("u%d@x", i), Entry{Hash: hashOf("h")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	readTxs := func() int { return s.db.Stats().TxN }
	before := readTxs()
	for range 3 {
		for i := range 10 {
			if _, ok, err := s.Get(fmt.Sprintf("u%d@x", i)); !ok || err != nil {
				t.Fatalf("u%d: %v %v", i, ok, err)
			}
		}
		if _, err := s.Len(); err != nil {
			t.Fatal(err)
		}
	}
	if got := readTxs() - before; got != 1 {
		t.Fatalf("30 lookups began %d read transactions, want 1", got)
	}
	// A write ends it (a growing write waits for every reader) and the
	// next lookup begins another.
	if err := s.Put("new@x", Entry{Hash: hashOf("h")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if s.rtx != nil {
		t.Fatal("read transaction open across a write")
	}
	if _, ok, err := s.Get("new@x"); !ok || err != nil {
		t.Fatalf("new@x after the write: %v %v", ok, err)
	}
}

// Entries, batched puts, the count and the lock all survive a remap.
func TestRemapKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	clk := clock.NewFake(t0)
	s := open(t, path, clk)
	defer s.Close()
	// Over budget at every check: one remap per 7 lookups and puts.
	s.mapped = mapWatch{budget: 0, every: 7, resident: func() (int64, bool) { return 1, true }}
	remaps := 0
	db := s.db
	noteRemap := func() {
		if s.db != db {
			remaps, db = remaps+1, s.db
		}
	}
	const n = 50
	for i := range n {
		if err := s.Put(fmt.Sprintf("u%d@x", i), Entry{Hash: hashOf(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		noteRemap()
	}
	// Batched, not committed, across the remaps that lookups cause.
	for _, e := range []string{"late1@x", "late2@x"} {
		if err := s.Put(e, Entry{Hash: hashOf(e)}); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 3 {
		for i := range n {
			e, ok, err := s.Get(fmt.Sprintf("u%d@x", i))
			if err != nil || !ok || e.Hash != hashOf(fmt.Sprint(i)) {
				t.Fatalf("round %d, u%d: %+v %v %v", round, i, e, ok, err)
			}
			noteRemap()
		}
		if e, ok, err := s.Get("late2@x"); err != nil || !ok || e.Hash != hashOf("late2@x") {
			t.Fatalf("batched put after remaps: %+v %v %v", e, ok, err)
		}
	}
	// Each flush of 10 puts passes a check; then one per 7 lookups.
	if want := n/10 + 3*n/7; remaps != want {
		t.Fatalf("%d remaps, want %d: one per %d lookups and puts", remaps, want, s.mapped.every)
	}
	if got, err := s.Len(); got != n+2 || err != nil {
		t.Fatalf("Len = %d, %v; want %d", got, err, n+2)
	}
	// Still ours alone.
	var le *LockedError
	if _, err := Open(path, clk); !errors.As(err, &le) {
		t.Fatalf("second Open after remaps: %v, want *LockedError", err)
	}
}

// The map is dropped when the state has added more than the budget to the
// file-backed RSS, checked every so many lookups and puts; where the RSS
// cannot be read, at every check.
func TestMapWatchDue(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		name     string
		resident int64 // -1: unknown
		ops      []int
		want     []bool
	}{
		{"under the budget", 100 * mb, []int{512, 512, 4000}, []bool{false, false, false}},
		{"at the budget", 110 * mb, []int{1024}, []bool{false}},
		{"over it, checked", 111 * mb, []int{1000, 23, 1, 1024}, []bool{false, false, true, true}},
		{"over it, between checks", 500 * mb, []int{1023}, []bool{false}},
		{"unknown: at every check", -1, []int{1023, 1, 1024, 5}, []bool{false, true, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mapWatch{budget: 64 * mb, every: 1024, baseline: 46 * mb, resident: func() (int64, bool) {
				return tc.resident, tc.resident >= 0
			}}
			for i, n := range tc.ops {
				if got := w.due(n); got != tc.want[i] {
					t.Fatalf("after %v: due %v, want %v", tc.ops[:i+1], got, tc.want[i])
				}
			}
		})
	}
}

// The store drops its map when due, and only then.
func TestStoreRemapsWhenDue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path, clock.NewFake(t0))
	defer s.Close()
	if err := s.Put("a@x", Entry{Hash: hashOf("a")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		resident int64
		remap    bool
	}{{10 << 20, false}, {100 << 20, true}} {
		s.mapped = mapWatch{budget: 64 << 20, every: 2, resident: func() (int64, bool) { return tc.resident, true }}
		db := s.db
		for range 2 {
			if _, ok, err := s.Get("a@x"); !ok || err != nil {
				t.Fatalf("a@x: %v %v", ok, err)
			}
		}
		if (s.db != db) != tc.remap {
			t.Errorf("resident %d: remapped %v, want %v", tc.resident, s.db != db, tc.remap)
		}
	}
}

// A kill leaves the state as of its last flush: a copy of the file taken
// with puts still batched (what a crash leaves on disk) opens with exactly
// the flushed users, counted right; the batched ones are sent again by the
// next sync, which is safe.
func TestKillLosesOnlyBatchedPuts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	clk := clock.NewFake(t0)
	s := open(t, path, clk)
	defer s.Close()
	put := func(e string) {
		t.Helper()
		if err := s.Put(e, Entry{Hash: hashOf(e)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range flushEvery {
		put(fmt.Sprintf("u%d@x", i)) // the last one fills the batch: flushed
	}
	put("batched1@x")
	put("u1@x") // re-put of a flushed user, still batched
	put("batched2@x")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "crashed.db")
	if err := os.WriteFile(crashed, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c := open(t, crashed, clk)
	defer c.Close()
	if n, err := c.Len(); n != flushEvery || err != nil {
		t.Fatalf("Len after the kill = %d, %v; want %d", n, err, flushEvery)
	}
	for _, tc := range []struct {
		email string
		found bool
	}{{"u0@x", true}, {"u1@x", true}, {fmt.Sprintf("u%d@x", flushEvery-1), true}, {"batched1@x", false}, {"batched2@x", false}} {
		if _, ok, err := c.Get(tc.email); ok != tc.found || err != nil {
			t.Errorf("%s after the kill: found %v, %v; want %v", tc.email, ok, err, tc.found)
		}
	}
}
