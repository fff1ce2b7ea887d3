package keyset

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

type kk struct {
	kind uint8
	key  string
}

// weak keeps 4 bits of a real hash, spread over the word: every shard,
// tag, filter block and run position sees many different keys with one
// fingerprint.
func weak(kind uint8, key string) uint64 {
	h := fnv.New32a()
	h.Write([]byte{kind})
	h.Write([]byte(key))
	return uint64(h.Sum32()&15) * 0x1111111111111111
}

func constant(uint8, string) uint64 { return 42 }

// The set must agree with a map on every lookup, whatever its hash and
// however often it spills and merges: a key found is one that was added
// (with its first value), and one added is always found.
func TestSetMatchesMap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hash   HashFunc
		n      int
		budget int
	}{
		{"maphash, in memory", nil, 20000, 0},
		{"maphash, spilled and merged", nil, 20000, 8 << 10},
		{"4-bit hash", weak, 3000, 8 << 10},
		{"constant hash", constant, 800, 4 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{Budget: tc.budget, Hash: tc.hash, Dir: t.TempDir()})
			defer s.Close()
			r := rand.New(rand.NewPCG(1, 2))
			ref := map[kk]uint64{}
			key := func() kk {
				// Keys repeat, differ only in kind, and share prefixes.
				return kk{uint8(r.IntN(3)), fmt.Sprintf("user%d@example.com", r.IntN(tc.n))}
			}
			for i := range 2 * tc.n {
				k := key()
				p := s.Probe(k.kind, k.key)
				v, ok, err := s.Lookup(p)
				if err != nil {
					t.Fatal(err)
				}
				want, wok := ref[k]
				if ok != wok || v != want {
					t.Fatalf("step %d: Lookup(%v) = %d %v, want %d %v", i, k, v, ok, want, wok)
				}
				if !ok {
					ref[k] = uint64(i)<<20 | uint64(k.kind)
					if err := s.Add(p, ref[k]); err != nil {
						t.Fatal(err)
					}
				}
			}
			for k, want := range ref {
				if v, ok, err := s.Lookup(s.Probe(k.kind, k.key)); err != nil || !ok || v != want {
					t.Fatalf("Lookup(%v) = %d %v %v, want %d", k, v, ok, err, want)
				}
			}
			st := s.Stats()
			if st.Keys != len(ref) || s.Len() != len(ref) {
				t.Errorf("%d keys, want %d", st.Keys, len(ref))
			}
			if tc.budget != 0 && (st.Spills < 10 || st.Merges < 2) {
				t.Errorf("only %d spills, %d merges: the test does not reach the disk", st.Spills, st.Merges)
			}
			if tc.hash != nil && st.Collisions == 0 {
				t.Error("no fingerprint collision was confirmed away: the test does not test exactness")
			}
			t.Logf("%+v", st)
		})
	}
}

// Keys near or above the whole budget, and empty ones, are kept like any.
func TestSetOddKeys(t *testing.T) {
	s := New(Options{Budget: 4 << 10, Dir: t.TempDir()})
	defer s.Close()
	keys := []string{"", strings.Repeat("x", 3000), "a", strings.Repeat("y", 600), strings.Repeat("x", 2999), strings.Repeat("z", 5000), "b"}
	for i := range 40 {
		keys = append(keys, fmt.Sprint(i))
	}
	for i, k := range keys {
		if _, ok, _ := s.Lookup(s.Probe(0, k)); ok {
			t.Fatalf("%d found before it was added", i)
		}
		if err := s.Add(s.Probe(0, k), uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range keys {
		if v, ok, err := s.Lookup(s.Probe(0, k)); !ok || v != uint64(i) || err != nil {
			t.Fatalf("key %d: %d %v %v", i, v, ok, err)
		}
	}
	if s.Stats().Spills == 0 {
		t.Error("never spilled")
	}
}

// Spill files are private and leave nothing behind: created 0600, unlinked
// at once on Unix (a killed run leaves nothing), gone at Close elsewhere.
func TestSpillFilesLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	s := New(Options{Budget: 4 << 10, Dir: dir})
	for i := range 2000 {
		p := s.Probe(1, fmt.Sprint(i))
		if err := s.Add(p, 1); err != nil {
			t.Fatal(err)
		}
	}
	if s.st.stats.Spills == 0 {
		t.Fatal("never spilled")
	}
	for _, r := range s.st.runs {
		fi, err := r.f.f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("spill file mode %v", fi.Mode().Perm())
		}
	}
	if runtime.GOOS != "windows" {
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("spill files visible while open: %v", left)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, _, err := s.Lookup(s.Probe(1, "1")); err == nil {
		t.Error("Lookup after Close did not fail")
	}
}

// A spill that cannot be written fails the Add and every later call: a
// set that lost keys must not answer "not seen".
func TestSpillFailureIsSticky(t *testing.T) {
	s := New(Options{Budget: 4 << 10, Dir: t.TempDir() + "/missing"})
	defer s.Close()
	var err error
	for i := 0; err == nil && i < 10000; i++ {
		err = s.Add(s.Probe(0, fmt.Sprint(i)), 1)
	}
	if err == nil || !strings.Contains(err.Error(), "TMPDIR") {
		t.Fatalf("Add: %v", err)
	}
	if _, _, err := s.Lookup(s.Probe(0, "0")); err == nil {
		t.Error("Lookup after a failed spill answered")
	}
}

// The filter's false positives stay near what its size promises: the
// share of absent keys that cost a block read.
func TestBloomFalsePositives(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 200000
	b := newBloom(n, defaultBloomBits)
	defer b.release()
	for range n {
		b.add(r.Uint64())
	}
	fp := 0
	for range n {
		if b.has(r.Uint64()) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.012 {
		t.Errorf("false positive rate %.4f at %d bits per key", rate, defaultBloomBits)
	} else {
		t.Logf("false positive rate %.4f at %d bits per key", rate, defaultBloomBits)
	}
}
