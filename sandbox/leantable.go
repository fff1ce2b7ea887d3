package sandbox

// table is an open-addressing hash table of record numbers (linear
// probing; a slot holds rec+1, 0 is empty, tomb a removed entry), 4 bytes
// a slot at a load of at most one half. Keys live in the records: callers
// pass the key's hash and a predicate that compares a record's key. It is
// rebuilt from the records (never from itself) when it fills up, so the
// old and new tables never coexist.
//
// An entry always goes into the first empty slot of its probe sequence
// (tombstones are not reused): of two entries under one key, the one added
// first comes first in the sequence, and a rebuild, which adds records in
// creation order, keeps that. Lookups thus find the first in creation order.
type table struct {
	mem   []byte // from regions.alloc
	slots []uint32
	used  int // live entries
	tombs int
}

const tomb = ^uint32(0)

// minSlots: the first table's size.
const minSlots = 1024

func (t *table) mask() uint64 { return uint64(len(t.slots) - 1) }

// full: one more entry would take the table past half full (counting
// tombstones, which lengthen probes just as entries do).
func (t *table) full() bool { return (t.used+t.tombs+1)*2 > len(t.slots) }

// reset empties the table with room for at least n entries at a quarter
// load, so that it takes as many adds again before the next rebuild.
func (t *table) reset(n int, r *regions) {
	size := minSlots
	for size < 4*n {
		size *= 2
	}
	r.free(t.mem)
	t.mem = r.alloc(4 * size)
	t.slots = asU32(t.mem)
	t.used, t.tombs = 0, 0
}

// find returns the first live record under hash h that match accepts.
func (t *table) find(h uint64, match func(rec uint32) bool) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	for i := h & t.mask(); ; i = (i + 1) & t.mask() {
		switch v := t.slots[i]; v {
		case 0:
			return 0, false
		case tomb:
		default:
			if match(v - 1) {
				return v - 1, true
			}
		}
	}
}

// put adds rec under h; if replace accepts a live entry on the way, rec
// takes its slot instead (a key that must stay unique). The caller made
// room (full, reset).
func (t *table) put(h uint64, rec uint32, replace func(other uint32) bool) {
	for i := h & t.mask(); ; i = (i + 1) & t.mask() {
		v := t.slots[i]
		if v == 0 {
			t.slots[i] = rec + 1
			t.used++
			return
		}
		if v != tomb && replace != nil && replace(v-1) {
			t.slots[i] = rec + 1
			return
		}
	}
}

// remove drops rec's entry under h, if there.
func (t *table) remove(h uint64, rec uint32) {
	if len(t.slots) == 0 {
		return
	}
	for i := h & t.mask(); ; i = (i + 1) & t.mask() {
		switch t.slots[i] {
		case 0:
			return
		case rec + 1:
			t.slots[i] = tomb
			t.used--
			t.tombs++
			return
		}
	}
}
