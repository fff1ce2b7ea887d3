package report

import (
	"sort"
	"sync"
)

// Reason is one cause of records that did not succeed (or emails that were
// not sent): a status and Auth0's (or a0bulk's) code, how many records
// have it, and one of them as an example, so that "failed 200" never comes
// without a why.
type Reason struct {
	Status Status `json:"status"`
	Code   string `json:"code"`
	Count  int    `json:"count"`
	// Example is the first such record and its message: "file:line: reason".
	Example string `json:"example"`
}

// MaxReasons is how many reasons a summary shows: the most frequent.
const MaxReasons = 5

type reasonKey struct {
	status Status
	code   string
}

// reasonTally counts reasons. The zero value is ready.
type reasonTally struct {
	byKey map[reasonKey]*reasonCount
	seq   int
}

type reasonCount struct {
	Reason
	first int // order of first sight: ties go to the reason seen first
}

// counts reports whether a line of status st is a reason to count.
func countsAsReason(st Status) bool {
	return st == Failed || st == Invalid || st == VerificationFailed
}

func (r *reasonTally) add(e *Entry) {
	if !countsAsReason(e.Status) {
		return
	}
	if r.byKey == nil {
		r.byKey = make(map[reasonKey]*reasonCount)
	}
	k := reasonKey{e.Status, e.Code}
	c, ok := r.byKey[k]
	if !ok {
		r.seq++
		c = &reasonCount{Reason: Reason{Status: e.Status, Code: e.Code, Example: e.Key().String() + ": " + e.Reason}, first: r.seq}
		r.byKey[k] = c
	}
	c.Count++
}

// remove uncounts a line of status st and code (a failed line a retry
// superseded).
func (r *reasonTally) remove(st Status, code string) {
	c, ok := r.byKey[reasonKey{st, code}]
	if !ok {
		return
	}
	if c.Count--; c.Count <= 0 {
		delete(r.byKey, reasonKey{st, code})
	}
}

// top returns the n most frequent reasons, most frequent first.
func (r *reasonTally) top(n int) []Reason {
	all := make([]*reasonCount, 0, len(r.byKey))
	for _, c := range r.byKey {
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		return all[i].first < all[j].first
	})
	out := make([]Reason, 0, min(n, len(all)))
	for _, c := range all[:min(n, len(all))] {
		out = append(out, c.Reason)
	}
	return out
}

// ReasonCounter counts the reasons of the lines it observes (a run's own
// lines, where a summary speaks of that run only: verify). Safe for
// concurrent use; give Observe to Writer.Observe.
type ReasonCounter struct {
	mu sync.Mutex
	t  reasonTally
}

// Observe counts e when it is failed, invalid or verification_failed.
func (c *ReasonCounter) Observe(e Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.add(&e)
}

// Top returns the MaxReasons most frequent reasons.
func (c *ReasonCounter) Top() []Reason {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.top(MaxReasons)
}
