package input

import (
	"math/bits"
	"runtime"
)

// locSet maps the 64-bit hash of an email to where it was first seen, in
// about 20 bytes per distinct email: open addressing with linear probing in
// 256 shards, each grown by half when 80% full. A Go map of the same
// content costs about twice that (power-of-two growth, old and new tables
// alive together while it grows), and this set is the only part of a run's
// memory that grows with the input; sharding keeps the growth step, when
// old and new tables coexist, to 1/256 of the set.
type locSet struct {
	shards *[256]locShard // own allocation: the cleanup unmaps its tables
	n      int
}

type locShard struct {
	keys   []uint64 // 0: empty slot
	vals   []uint64
	n      int
	mapped bool // keys and vals come from allocWords' mapping
}

// newLocSet returns an empty set whose mapped tables are released when
// the set (its Validator) becomes unreachable.
func newLocSet() *locSet {
	s := &locSet{shards: new([256]locShard)}
	runtime.AddCleanup(s, func(shards *[256]locShard) {
		for i := range shards {
			shards[i].release()
		}
	}, s.shards)
	return s
}

func (t *locShard) release() {
	if t.mapped {
		freeWords(t.keys)
		freeWords(t.vals)
	}
	t.keys, t.vals, t.mapped = nil, nil, false
}

// key makes h usable: 0 marks an empty slot.
func key(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

func (s *locSet) shard(h uint64) *locShard { return &s.shards[h>>56] }

// slot maps h onto the table (its low 56 bits: the top 8 chose the shard).
func (t *locShard) slot(h uint64) int {
	hi, _ := bits.Mul64(h<<8, uint64(len(t.keys)))
	return int(hi)
}

func (s *locSet) get(h uint64) (uint64, bool) {
	h = key(h)
	t := s.shard(h)
	if len(t.keys) == 0 {
		return 0, false
	}
	for i := t.slot(h); ; {
		switch t.keys[i] {
		case h:
			return t.vals[i], true
		case 0:
			return 0, false
		}
		if i++; i == len(t.keys) {
			i = 0
		}
	}
}

// put adds h (which must not be in the set) with v.
func (s *locSet) put(h, v uint64) {
	h = key(h)
	t := s.shard(h)
	if (t.n+1)*5 > len(t.keys)*4 {
		t.grow()
	}
	t.insert(h, v)
	t.n++
	s.n++
}

func (t *locShard) insert(h, v uint64) {
	i := t.slot(h)
	for t.keys[i] != 0 {
		if i++; i == len(t.keys) {
			i = 0
		}
	}
	t.keys[i], t.vals[i] = h, v
}

func (t *locShard) grow() {
	old := *t
	size := max(16, len(old.keys)*3/2)
	var km, vm bool
	t.keys, km = allocWords(size)
	t.vals, vm = allocWords(size)
	t.mapped = km && vm
	if km != vm { // one mapping failed: keep both on the heap
		if km {
			freeWords(t.keys)
		} else {
			freeWords(t.vals)
		}
		t.keys, t.vals, t.mapped = make([]uint64, size), make([]uint64, size), false
	}
	for i, k := range old.keys {
		if k != 0 {
			t.insert(k, old.vals[i])
		}
	}
	old.release()
}

func (s *locSet) len() int { return s.n }
