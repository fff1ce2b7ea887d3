package input

import (
	"math/rand/v2"
	"testing"
)

// locSet must agree with a map on every lookup, across growth, including
// the hash 0 and hashes that share a shard and a slot.
func TestLocSetMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := newLocSet()
	ref := map[uint64]uint64{}
	keys := []uint64{0, 1 << 56, 1<<56 | 1, 2 << 56}
	for range 50000 {
		keys = append(keys, r.Uint64())
	}
	for i, k := range keys {
		if _, dup := ref[key(k)]; dup {
			continue
		}
		ref[key(k)] = uint64(i)
		s.put(k, uint64(i))
	}
	if s.len() != len(ref) {
		t.Fatalf("len %d, want %d", s.len(), len(ref))
	}
	for k, v := range ref {
		if got, ok := s.get(k); !ok || got != v {
			t.Fatalf("get(%x) = %d %v, want %d", k, got, ok, v)
		}
	}
	for range 10000 {
		k := r.Uint64()
		_, want := ref[key(k)]
		if _, got := s.get(k); got != want {
			t.Fatalf("get(%x) found %v, want %v", k, got, want)
		}
	}
}
