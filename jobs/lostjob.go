package jobs

import (
	"fmt"
	"time"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/words"
)

// A POST whose answer was lost may have become a job that is still running:
// Auth0 runs an import job for up to 2 hours before it times out, and a job
// that times out keeps the users it inserted by then. So while such a job
// may still run, "absent from the tenant" says nothing final about a record
// it carries: a record whose chunk's job failed (or expired, or is gone) and
// whose user the lookup does not find is left without a final line until 2
// hours (plus lostJobMargin) after the latest POST whose answer was lost,
// and a resume after that time looks it up again (created if there, failed
// if not: that job did not insert it, and neither did the one that
// answered). The run ends with a *WaitForLostJobs error saying when.

// ImportJobTimeout is how long Auth0 lets an import job run: one still
// running 2 hours after it was created fails ("Jobs time out after 2
// hours").
const ImportJobTimeout = 2 * time.Hour

// lostJobMargin pads the 2 hours: the time a POST whose answer was given up
// (the client's 2-minute response timeout) may still take to become a job,
// and the drift between our clock and the tenant's over 2 hours.
const lostJobMargin = 5 * time.Minute

// WaitForLostJobs is the error of a run that left records unsettled because
// a job whose answer was lost may still insert them: a --resume after Until
// settles them.
type WaitForLostJobs struct {
	Records int
	Until   time.Time
}

func (e *WaitForLostJobs) Error() string {
	return fmt.Sprintf("%s %s not settled yet: an import job whose answer was lost may still insert them (Auth0 runs an import job for up to 2 hours), so their absence from the tenant is not final; resume after %s to settle them",
		words.Count(e.Records, "record"), words.Agree(e.Records, "is", "are"), resumeTime(e.Until))
}

// resumeTime is t for people: UTC, rounded up to the minute, so that a
// resume at the time shown is never early.
func resumeTime(t time.Time) string {
	t = t.UTC()
	if m := t.Truncate(time.Minute); !m.Equal(t) {
		t = m.Add(time.Minute)
	}
	return t.Format("2006-01-02 15:04 UTC")
}

// lostAnswer notes that a POST of chunk seq lost its answer: it may have
// become a job, created at the latest now.
func (s *Scheduler) lostAnswer(seq int) {
	now := s.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.uncertain == nil {
		s.uncertain = map[int]time.Time{}
	}
	s.uncertain[seq] = now
}

// lostPOST returns the latest time a POST whose answer nobody read may
// have sent the record k of chunk seq (this run's resent chunk, or an
// earlier run's, per MaybeSent), and whether there was such a POST. An
// earlier run's POST of unknown time counts as now.
func (s *Scheduler) lostPOST(seq int, k report.Key) (time.Time, bool) {
	s.mu.Lock()
	by, ok := s.uncertain[seq]
	s.mu.Unlock()
	if s.MaybeSent == nil {
		return by, ok
	}
	if at, sent := s.MaybeSent(k); sent {
		if at.IsZero() {
			at = s.Clock.Now()
		}
		if !ok || at.After(by) {
			by = at
		}
		ok = true
	}
	return by, ok
}

// mayHaveCreated reports whether a record's user, refused as a duplicate,
// may have been created by this run's own earlier attempt: a POST whose
// answer was lost, or an attempt that failed (MaybeCreated: a retry).
func (s *Scheduler) mayHaveCreated(seq int, k report.Key) bool {
	_, ok := s.lostPOST(seq, k)
	return ok || (s.MaybeCreated != nil && s.MaybeCreated(k))
}

// holdBack reports whether e, which the lookup did not find, must stay
// without a final line because a job whose answer was lost may still
// insert it; if so it counts it for WaitForLostJobs.
func (s *Scheduler) holdBack(seq int, e report.Entry) bool {
	by, ok := s.lostPOST(seq, e.Key())
	if !ok {
		return false
	}
	until := by.Add(ImportJobTimeout + lostJobMargin)
	if !s.Clock.Now().Before(until) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held++
	if until.After(s.heldUntil) {
		s.heldUntil = until
	}
	return true
}

// Unsettled returns a *WaitForLostJobs when Run or Settle left records
// without a final line because a job whose answer was lost may still
// insert them (nil otherwise). Call it once both are done.
func (s *Scheduler) Unsettled() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == 0 {
		return nil
	}
	return &WaitForLostJobs{Records: s.held, Until: s.heldUntil}
}
