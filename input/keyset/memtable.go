package keyset

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// memtable holds the keys added since the last spill: each key's record
// (kind, value, key) in an arena, and an open-addressing index (linear
// probing) from fingerprint to record, in shards so that growing one (old
// and new tables alive together) costs a fraction of the index.
//
// The arena is one mapping of the whole budget, touched only as records
// fill it and kept across spills: fresh memory costs a page fault per page
// touched (measured at tens of microseconds on a virtual machine), and
// reusing it keeps the resident size flat after the first spill.
//
// An index slot is 8 bytes: 32 bits of the fingerprint (its tag) and the
// record's offset in the arena. The tag alone places the slot, so growing
// never rereads a key; a tag match is only a candidate, confirmed by
// comparing the key in the arena.
type memtable struct {
	shardBits uint
	shards    []mshard
	arena     block
	pos       int // the next record goes at arena.b[pos:]
	index     int // bytes of the index's tables
	n         int
}

type mshard struct {
	mem   block
	slots []uint64 // tag<<32 | ref+1; 0 is an empty slot
	n     int
}

// newMemtable sizes shards for budget: 128 for the default 32 MB, fewer
// for the tiny budgets tests use to spill every few keys.
func newMemtable(budget int) *memtable {
	sb := uint(min(8, max(0, bits.Len(uint(budget>>18))-1)))
	return &memtable{shardBits: sb, shards: make([]mshard, 1<<sb), arena: alloc(budget)}
}

func (m *memtable) shard(fp uint64) *mshard { return &m.shards[fp>>(64-m.shardBits)] }

// tag is the 32 bits of fp below the shard's.
func (m *memtable) tag(fp uint64) uint32 { return uint32(fp << m.shardBits >> 32) }

func (t *mshard) home(tag uint32) int { return int(uint64(tag) * uint64(len(t.slots)) >> 32) }

// find returns the value of p's key, if it is here.
func (m *memtable) find(p Probe, st *Stats) (uint64, bool) {
	t := m.shard(p.fp)
	if len(t.slots) == 0 {
		return 0, false
	}
	tag := m.tag(p.fp)
	for i := t.home(tag); ; {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) == tag {
			kind, val, key := m.record(uint32(s) - 1)
			if kind == p.kind && string(key) == p.key {
				return val, true
			}
			st.Collisions++
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

// record decodes the arena record at ref.
func (m *memtable) record(ref uint32) (kind uint8, val uint64, key []byte) {
	kind, val, key, _ = decodeBody(m.arena.b[ref:])
	return kind, val, key
}

// fits says whether a record of size bytes fits in the arena now.
func (m *memtable) fits(size int) bool { return m.pos+size <= len(m.arena.b) }

// add stores p's key (which must not be here) with val; the caller made
// room (fits).
func (m *memtable) add(p Probe, val uint64) {
	size := bodySize(val, p.key)
	if !m.fits(size) {
		if m.n > 0 {
			panic("keyset: add to a full arena") // Set.Add spills first
		}
		m.arena.release() // a key larger than the whole budget
		m.arena = alloc(size)
	}
	ref := uint32(m.pos)
	encodeBody(m.arena.b[m.pos:m.pos], p.kind, val, p.key)
	m.pos += size
	t := m.shard(p.fp)
	if (t.n+1)*5 > len(t.slots)*4 {
		m.grow(t)
	}
	t.insert(m.tag(p.fp), ref)
	t.n++
	m.n++
}

func (t *mshard) insert(tag uint32, ref uint32) {
	i := t.home(tag)
	for t.slots[i] != 0 {
		if i++; i == len(t.slots) {
			i = 0
		}
	}
	t.slots[i] = uint64(tag)<<32 | (uint64(ref) + 1)
}

func (m *memtable) grow(t *mshard) {
	old := *t
	size := max(16, len(old.slots)*3/2)
	t.mem = alloc(size * 8)
	t.slots = t.mem.words()
	for _, s := range old.slots {
		if s != 0 {
			t.insert(uint32(s>>32), uint32(s)-1)
		}
	}
	m.index += size*8 - len(old.slots)*8
	old.mem.release()
}

// bytes is the memory the table uses: the index and the arena's records.
func (m *memtable) bytes() int { return m.index + m.pos }

// spill writes every record to w in fingerprint order: shard by shard
// (a shard is a range of fingerprints), each sorted by the fingerprint
// recomputed from its key. A shard's records are first copied out of the
// arena, in slot order, to a staging buffer small enough to stay in cache:
// the arena, in the order keys came, is read once per key.
func (m *memtable) spill(w *runWriter, hash HashFunc) {
	type ent struct {
		fp     uint64
		off, n uint32 // the record in stage
	}
	var ents []ent
	var stage []byte
	for i := range m.shards {
		ents, stage = ents[:0], stage[:0]
		for _, s := range m.shards[i].slots {
			if s == 0 {
				continue
			}
			b := m.arena.b[uint32(s)-1:]
			kind, _, key, n := decodeBody(b)
			ents = append(ents, ent{hash(kind, unsafeString(key)), uint32(len(stage)), uint32(n)})
			stage = append(stage, b[:n]...)
		}
		slices.SortFunc(ents, func(a, b ent) int {
			switch {
			case a.fp < b.fp:
				return -1
			case a.fp > b.fp:
				return 1
			}
			return 0
		})
		for _, e := range ents {
			w.add(e.fp, stage[e.off:e.off+e.n])
		}
	}
}

// reset empties the table and keeps its memory for the next keys.
func (m *memtable) reset() {
	for i := range m.shards {
		clear(m.shards[i].slots)
		m.shards[i].n = 0
	}
	m.pos, m.n = 0, 0
}

func (m *memtable) release() {
	for i := range m.shards {
		m.shards[i].mem.release()
		m.shards[i] = mshard{}
	}
	m.arena.release()
	m.pos, m.index, m.n = 0, 0, 0
}

// A record's body is its kind, its value and its key: kind, uvarint value,
// uvarint key length, key. In the arena it stands alone; in a run it
// follows the fingerprint.

func bodySize(val uint64, key string) int {
	return 1 + uvarintLen(val) + uvarintLen(uint64(len(key))) + len(key)
}

func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

func encodeBody(b []byte, kind uint8, val uint64, key string) []byte {
	b = append(b, kind)
	b = binary.AppendUvarint(b, val)
	b = binary.AppendUvarint(b, uint64(len(key)))
	return append(b, key...)
}

// decodeBody reads a body at the start of b; n is its length, 0 if b does
// not hold a whole one.
func decodeBody(b []byte) (kind uint8, val uint64, key []byte, n int) {
	if len(b) < 1 {
		return 0, 0, nil, 0
	}
	kind = b[0]
	val, a := binary.Uvarint(b[1:])
	if a <= 0 {
		return 0, 0, nil, 0
	}
	l, c := binary.Uvarint(b[1+a:])
	if c <= 0 || uint64(len(b)-1-a-c) < l {
		return 0, 0, nil, 0
	}
	n = 1 + a + c + int(l)
	return kind, val, b[1+a+c : n], n
}
