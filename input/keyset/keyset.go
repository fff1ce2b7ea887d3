// Package keyset is an exact set of short keys (emails, user ids,
// usernames), each kept with a small value, in memory bounded by a budget
// plus about 1.6 bytes per key.
//
// Keys go into an in-memory table until it reaches the budget; the table
// is then spilled to a run on disk, sorted by fingerprint, and emptied.
// Of a run only a Bloom filter and a fence index stay in memory, so a
// lookup costs one memory read per run and, only when a filter says
// "maybe", one block read. Runs are merged fanIn at a time, so their
// number grows with the logarithm of the keys.
//
// It is exact: a fingerprint match is a candidate only, confirmed by
// comparing the key itself (kept in the table's arena or in the run), so
// two different keys are never taken for one, whatever the hash does.
package keyset

import (
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"runtime"
)

// DefaultBudget is the in-memory table's memory when Options.Budget is 0.
const DefaultBudget = 32 << 20

const (
	minBudget = 4 << 10
	maxBudget = 2 << 30 // arena refs are 32 bits
	// defaultBloomBits: bits of filter per spilled key; about 0.5% of the
	// lookups of an absent key read a block of a run for nothing.
	defaultBloomBits = 12
	// fanIn runs of one level merge into one of the next.
	fanIn = 4
)

// HashFunc fingerprints a key of a kind. Fingerprints only choose which
// keys to compare: any function is correct, a poor one only slower.
type HashFunc func(kind uint8, key string) uint64

// Options shape a Set.
type Options struct {
	// Budget is the in-memory table's bytes (its keys and their index);
	// past it the table is spilled to disk. 0: DefaultBudget.
	Budget int
	// Dir is where spill files are created; "": os.TempDir(), else the
	// working directory.
	Dir string
	// Hash replaces the fingerprint (tests force collisions with a weak
	// one). nil: a seeded maphash.
	Hash HashFunc
	// BloomBits is the bits per key of each run's filter. 0: 12.
	BloomBits int
	// Name says what the set is for, in its errors and spill file names.
	// "": "duplicate check".
	Name string
}

// Stats say what a Set holds and did.
type Stats struct {
	Keys   int
	Runs   int // runs on disk now
	Spills int
	Merges int
	// TableBytes is the in-memory table's (at most about the budget).
	TableBytes int
	// RunBytes is what the runs keep in memory (filters, fences): the part
	// that grows with the keys.
	RunBytes  int
	DiskBytes int64
	// BlockReads are run blocks read to confirm a filter's "maybe".
	BlockReads int
	// FilterMisses: a run's filter said "maybe" and the key was not there.
	FilterMisses int
	// Collisions: a fingerprint matched a different key (confirmed away).
	Collisions int
}

// Probe is a key with its fingerprint, computed once for a lookup and the
// add that may follow.
type Probe struct {
	kind uint8
	key  string
	fp   uint64
}

// Set is an exact set of (kind, key) with a value each. Not safe for
// concurrent use. Close it to remove its spill files (they are unlinked
// at creation on Unix, so a killed process leaves nothing either).
type Set struct{ st *state }

type state struct {
	hash   HashFunc
	budget int
	bits   int
	dirs   []string
	name   string
	mem    *memtable
	runs   []*run // oldest first; levels never increase along the slice
	buf    []byte // a block read for a lookup
	stats  Stats
	err    error // sticky: once the disk fails, the set cannot answer
}

// New returns an empty Set.
func New(o Options) *Set {
	st := &state{hash: o.Hash, budget: o.Budget, bits: o.BloomBits, name: o.Name}
	if st.name == "" {
		st.name = "duplicate check"
	}
	if st.budget == 0 {
		st.budget = DefaultBudget
	}
	st.budget = min(maxBudget, max(minBudget, st.budget))
	if st.bits == 0 {
		st.bits = defaultBloomBits
	}
	if st.hash == nil {
		seed := maphash.MakeSeed()
		st.hash = func(kind uint8, key string) uint64 {
			// The kind picks a bijection of the key's hash: the same
			// text as two kinds gives two fingerprints.
			return maphash.String(seed, key) ^ (uint64(kind)+1)*0x9e3779b97f4a7c15
		}
	}
	st.dirs = []string{o.Dir}
	if o.Dir == "" {
		st.dirs = []string{os.TempDir(), "."}
	}
	st.mem = newMemtable(st.budget)
	s := &Set{st}
	// A Set dropped without Close still gives back its mappings and files.
	runtime.AddCleanup(s, func(st *state) { st.release() }, st)
	return s
}

// Probe fingerprints key (of kind).
func (s *Set) Probe(kind uint8, key string) Probe {
	return Probe{kind: kind, key: key, fp: s.st.hash(kind, key)}
}

// Lookup returns the value added with p's key, if it was.
func (s *Set) Lookup(p Probe) (uint64, bool, error) {
	st := s.st
	if st.err != nil {
		return 0, false, st.err
	}
	if v, ok := st.mem.find(p, &st.stats); ok {
		return v, true, nil
	}
	for i := len(st.runs) - 1; i >= 0; i-- {
		v, ok, err := st.runs[i].find(p, &st.buf, &st.stats)
		if err != nil {
			st.err = err
			return 0, false, err
		}
		if ok {
			return v, true, nil
		}
	}
	return 0, false, nil
}

// Add adds p's key, which Lookup did not find, with val. It may spill the
// in-memory table to disk and merge runs, which is where it can fail.
func (s *Set) Add(p Probe, val uint64) error {
	st := s.st
	if st.err != nil {
		return st.err
	}
	if !st.mem.fits(bodySize(val, p.key)) && st.mem.n > 0 {
		if err := st.spill(); err != nil {
			st.err = err
			return err
		}
	}
	st.mem.add(p, val)
	st.stats.Keys++
	if st.mem.bytes() >= st.budget {
		if err := st.spill(); err != nil {
			st.err = err
			return err
		}
	}
	return nil
}

// Len is the number of keys added.
func (s *Set) Len() int { return s.st.stats.Keys }

// Stats returns what s holds and did.
func (s *Set) Stats() Stats {
	st := s.st
	out := st.stats
	out.Runs = len(st.runs)
	out.TableBytes = st.mem.bytes()
	for _, r := range st.runs {
		out.RunBytes += r.bloom.bytes() + r.fenceBytes()
		out.DiskBytes += r.size
	}
	return out
}

// Close releases the memory and removes the spill files. The set cannot
// be used after.
func (s *Set) Close() error {
	err := s.st.release()
	s.st.err = fmt.Errorf("%s: used after Close", s.st.name)
	return err
}

func (st *state) release() error {
	st.mem.release()
	var errs []error
	for _, r := range st.runs {
		errs = append(errs, r.close())
	}
	st.runs = nil
	return errors.Join(errs...)
}

// spill writes the in-memory table to a new run, empties it, and merges
// runs while fanIn of one level are at the end of the list.
func (st *state) spill() error {
	f, err := createSpill(st.dirs, st.name)
	if err != nil {
		return err
	}
	w := newRunWriter(f, st.mem.n, int64(st.mem.pos)+8*int64(st.mem.n), 0, st.bits)
	st.mem.spill(w, st.hash)
	r, err := w.finish()
	if err != nil {
		return err
	}
	st.runs = append(st.runs, r)
	st.mem.reset()
	st.stats.Spills++
	for len(st.runs) >= fanIn {
		tail := st.runs[len(st.runs)-fanIn:]
		if tail[0].level != tail[fanIn-1].level {
			break
		}
		m, err := st.merge(tail)
		if err != nil {
			return err
		}
		st.runs = append(st.runs[:len(st.runs)-fanIn], m)
		st.stats.Merges++
	}
	return nil
}

// merge writes the records of in (runs of one level) to one run of the
// next, in fingerprint order, and closes them.
func (st *state) merge(in []*run) (*run, error) {
	n, size := 0, int64(0)
	rs := make([]*runReader, len(in))
	for i, r := range in {
		n, size = n+r.n, size+r.size
		// Merging reads the runs whole: their filters can go first, so
		// that the new one does not coexist with them.
		r.bloom.release()
		rs[i] = newRunReader(r)
		rs[i].next()
	}
	f, err := createSpill(st.dirs, st.name)
	if err != nil {
		return nil, err
	}
	w := newRunWriter(f, n, size, in[0].level+1, st.bits)
	for {
		min := -1
		for i, rr := range rs {
			if rr.ok && (min < 0 || rr.fp < rs[min].fp) {
				min = i
			}
		}
		if min < 0 {
			break
		}
		w.add(rs[min].fp, rs[min].b)
		rs[min].next()
	}
	var errs []error
	for _, rr := range rs {
		errs = append(errs, rr.err)
	}
	if err := errors.Join(errs...); err != nil {
		w.r.close()
		return nil, fmt.Errorf("merging the %s's spill files: %w", st.name, err)
	}
	out, err := w.finish()
	if err != nil {
		return nil, err
	}
	for _, r := range in {
		if err := r.close(); err != nil {
			out.close()
			return nil, err
		}
	}
	return out, nil
}
