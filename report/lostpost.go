package report

import "time"

// A record a POST may have sent without anyone reading the answer may be
// imported by the job that POST became, for as long as that job runs (up to
// 2 hours: Auth0 times import jobs out then). Load bounds when such POSTs
// were made from the report alone, so that a resume knows when the absence
// of a record's user from the tenant is final.

// LostPOST is MaybeSent with the latest time any such POST can have been
// made: a job it became may run (and insert the user) until 2 hours after.
// Zero when not known: the report's last run has no end line and the state
// was not read by Append (which knows when the resume began).
func (s *State) LostPOST(k Key) (by time.Time, ok bool) {
	m, ok := s.maybeSent[k]
	if !ok {
		return time.Time{}, false
	}
	if m.open {
		if s.resumedAt.IsZero() {
			return time.Time{}, true
		}
		m.by = later(m.by, s.resumedAt)
	}
	return m.by, true
}

// lostPOST bounds when POSTs whose answer nobody read may have sent a
// record: by, or (open) before the report's last run ended, which its
// resume's start bounds.
type lostPOST struct {
	by   time.Time
	open bool
}

// chunkTrace is what the report says of one chunk's POSTs.
type chunkTrace struct {
	run         int  // the run (0 the first, then each resume) that queued it
	resent      bool // queued twice: POSTed again after a lost answer
	submitted   bool // it has a submitted line, written at submittedAt
	submittedAt time.Time
}

// runEdge notes where the runs of the report end: a run's POSTs were all
// made before its end-of-run line, or else before the next resume began
// (a killed run's process, which held the report's lock, was gone).
func (s *State) runEdge(st Status, at time.Time) {
	last := len(s.runEnds) - 1
	if s.runEnds[last].IsZero() {
		s.runEnds[last] = at
	}
	if st == statusResumed {
		s.runEnds = append(s.runEnds, time.Time{})
	}
}

// lostPOSTOf bounds the POSTs of c whose answer was lost: a chunk whose job
// answered was POSTed for the last time before its submitted line; any
// other, before its run ended.
func (s *State) lostPOSTOf(c chunkTrace) lostPOST {
	if c.submitted && !c.submittedAt.IsZero() {
		return lostPOST{by: c.submittedAt}
	}
	if c.run < len(s.runEnds) && !s.runEnds[c.run].IsZero() {
		return lostPOST{by: s.runEnds[c.run]}
	}
	return lostPOST{open: true}
}

// markMaybeSent marks k as maybe sent, no later than b (with the marks it
// has: the latest bound wins).
func (s *State) markMaybeSent(k Key, b lostPOST) {
	m := s.maybeSent[k]
	m.by = later(m.by, b.by)
	m.open = m.open || b.open
	s.maybeSent[k] = m
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
