package syncstate

import "fmt"

// bbolt reads the state through a memory map, and every page a lookup
// reads stays mapped, counted in the process's RSS, until the map is
// dropped. A sync looks up every user, so left alone it would end holding
// the whole file: about 1.9 GB at 10M users. Worse than one page per
// lookup, Linux maps up to 64 KiB of cached neighbours with each page
// fault ("fault-around"), so the mapped size grows far faster than the
// pages read.
//
// So the store watches the process's file-backed RSS and, when the state
// has added more than mapBudget to it, drops the map (remapLocked). The
// cost is page faults: once the state is much larger than the budget, a
// lookup faults its leaf page in again, and the branch pages above it after
// each drop. A state smaller than the budget is never dropped.
const (
	mapBudget = 64 << 20
	// checkEvery is how many lookups and puts pass between two readings
	// of the RSS: enough to make the reading cheap, few enough that the
	// map cannot outgrow the budget in between (a lookup faults in at
	// most a leaf and a branch page, 64 KiB each). Where the RSS cannot
	// be read (not Linux), the map is dropped at every check.
	checkEvery = mapBudget / (2 * 64 << 10)
)

// mapWatch says when the map must be dropped.
type mapWatch struct {
	budget int64
	every  int
	// resident is the process's file-backed RSS; false if unknown.
	resident func() (int64, bool)
	baseline int64 // resident at Open: the program's own files
	ops      int   // lookups and puts since the last check
}

func newMapWatch() mapWatch {
	w := mapWatch{budget: mapBudget, every: checkEvery, resident: residentFileBytes}
	w.baseline, _ = w.resident()
	return w
}

// due counts n lookups or puts and says whether the map must be dropped.
func (w *mapWatch) due(n int) bool {
	w.ops += n
	if w.ops < w.every {
		return false
	}
	w.ops = 0
	return w.over()
}

// over says whether the map is over budget (or cannot tell).
func (w *mapWatch) over() bool {
	r, ok := w.resident()
	return !ok || r-w.baseline > w.budget
}

// touchLocked counts n lookups or puts, and drops the map when due.
func (s *Store) touchLocked(n int) error {
	if !s.mapped.due(n) {
		return nil
	}
	return s.remapLocked()
}

// remapLocked drops the map by closing and reopening the database: it is
// bbolt's public way to unmap. Our own lock keeps the file ours meanwhile,
// and its pages stay in the page cache, so reading them again costs a
// minor fault, not a read. Puts waiting for a flush are not touched.
func (s *Store) remapLocked() error {
	s.endReadLocked()
	old := s.db
	s.db = nil // until reopened: a failed remap leaves nothing to close
	if err := old.Close(); err != nil {
		s.broken = fmt.Errorf("close state %s to remap it: %w", s.path, err)
		return s.broken
	}
	db, err := openDB(s.path)
	if err != nil {
		s.broken = fmt.Errorf("reopen state %s: %w", s.path, err)
		return s.broken
	}
	s.db = db
	return nil
}
