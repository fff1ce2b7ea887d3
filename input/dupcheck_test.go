package input

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/input/keyset"
)

// weakHash gives only 8 fingerprints: nearly every lookup meets keys with
// its fingerprint that are not its key, in memory and in spilled runs.
func weakHash(kind uint8, key string) uint64 {
	return uint64((len(key)+int(kind))%8) * 0x2222222222222222
}

// With fingerprints that collide all the time, and a table that spills to
// disk every few dozen keys, the duplicate check must say exactly what a
// map of the keys says: no record is called a duplicate unless the same
// key (email or username in any case, user_id exactly) was in an earlier
// valid record, and every real duplicate names that record's FILE:LINE.
func TestDuplicatesExactUnderCollisions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    keyset.Options
	}{
		{"weak hash, spilled", keyset.Options{Budget: 8 << 10, Hash: weakHash, Dir: t.TempDir()}},
		{"constant hash, spilled", keyset.Options{Budget: 4 << 10, Hash: func(uint8, string) uint64 { return 7 }, Dir: t.TempDir()}},
		{"weak hash, in memory", keyset.Options{Hash: weakHash}},
		{"real hash, spilled", keyset.Options{Budget: 8 << 10, Dir: t.TempDir()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(ModeImport, tc.o)
			defer v.Close()
			r := rand.New(rand.NewPCG(5, 6))
			type loc struct {
				file string
				line int
			}
			ref := map[string]loc{} // kind + key → first valid record
			dups, clean := 0, 0
			for i := range 3000 {
				file := []string{"a.csv", "b.ndjson", "c.json"}[i%3]
				rec := Record{File: file, Line: i/3 + 2, User: User{
					Email:    fmt.Sprintf("u%d@x.io", r.IntN(1500)),
					UserID:   fmt.Sprint(r.IntN(4000)),
					Username: fmt.Sprintf("n%d", r.IntN(6000)),
				}}
				if r.IntN(2) == 0 {
					rec.User.Email = strings.ToUpper(rec.User.Email)
				}
				if r.IntN(4) == 0 {
					rec.User.Username = ""
				}
				keys := []string{"email:" + strings.ToLower(rec.User.Email), "user_id:" + rec.User.UserID}
				if rec.User.Username != "" {
					keys = append(keys, "username:"+rec.User.Username)
				}
				var want []string
				for _, k := range keys {
					if l, ok := ref[k]; ok {
						field, _, _ := strings.Cut(k, ":")
						want = append(want, fmt.Sprintf("%s: duplicate of %s:%d", field, l.file, l.line))
					}
				}
				if len(want) == 0 {
					for _, k := range keys {
						ref[k] = loc{rec.File, rec.Line}
					}
					clean++
				} else {
					dups++
				}
				v.Check(&rec)
				if err := v.Err(); err != nil {
					t.Fatal(err)
				}
				if got := errs(rec); got != strings.Join(want, "; ") {
					t.Fatalf("%s:%d %+v: %q, want %q", rec.File, rec.Line, rec.User, got, strings.Join(want, "; "))
				}
			}
			st := v.DupStats()
			if dups < 500 || clean < 500 {
				t.Errorf("%d duplicates, %d clean records: the input does not test both", dups, clean)
			}
			if tc.o.Hash != nil && st.Collisions < 1000 {
				t.Errorf("%d collisions confirmed away: the hash does not collide", st.Collisions)
			}
			if tc.o.Budget != 0 && (st.Spills < 5 || st.Merges == 0) {
				t.Errorf("%d spills, %d merges: the check never reads the disk", st.Spills, st.Merges)
			}
			t.Logf("%d duplicates, %d clean; %+v", dups, clean, st)
		})
	}
}

// When the duplicate check cannot spill, Err says so (naming TMPDIR) and
// stays set: the caller stops rather than pass records it cannot check.
func TestDuplicateCheckFailureIsReported(t *testing.T) {
	v := newValidator(ModeImport, keyset.Options{Budget: 4 << 10, Dir: t.TempDir() + "/missing"})
	defer v.Close()
	i := 0
	for ; v.Err() == nil && i < 10000; i++ {
		rec := Record{File: "a.csv", Line: i + 2, User: User{Email: fmt.Sprintf("u%d@x.io", i)}}
		v.Check(&rec)
	}
	if err := v.Err(); err == nil || !strings.Contains(err.Error(), "TMPDIR") {
		t.Fatalf("after %d records: %v", i, err)
	}
	rec := Record{File: "a.csv", Line: 1, User: User{Email: "u0@x.io"}}
	v.Check(&rec)
	if v.Err() == nil {
		t.Error("Err cleared")
	}
}
