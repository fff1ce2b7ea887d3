package run

import (
	"sync"

	"github.com/a0bulk/a0bulk/report"
)

// verifyTally counts a verify run's own records, each once (VerifyCounts):
// from the lines it journals (an observer of the report) and from what it
// decides while reading (an earlier verify's lines). A verify --report
// appends to a report whose tally holds every earlier verify's emails too:
// those are not this run's.
type verifyTally struct {
	mu      sync.Mutex
	c       VerifyCounts
	records int
	invalid int
	// open: emails this run requested (or reads back) whose outcome is not
	// journalled yet; pending when the run ends.
	open    map[report.Key]struct{}
	reasons report.ReasonCounter
}

func newVerifyTally() *verifyTally {
	return &verifyTally{open: map[report.Key]struct{}{}}
}

// Observe counts one of this run's lines.
func (t *verifyTally) Observe(e report.Entry) {
	t.reasons.Observe(e)
	t.mu.Lock()
	defer t.mu.Unlock()
	k := e.Key()
	switch e.Status {
	case report.VerificationSending:
		if e.JobID != "" {
			t.open[k] = struct{}{}
		}
	case report.VerificationSent:
		t.c.Sent++
		delete(t.open, k)
	case report.VerificationFailed:
		t.c.Failed++
		delete(t.open, k)
	case report.VerificationSkipped:
		t.c.AlreadyVerified++
	case report.Invalid:
		t.invalid++
	}
}

func (t *verifyTally) add(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f()
}

// read counts a record read.
func (t *verifyTally) read() { t.add(func() { t.records++ }) }

// readingBack: this run reads back the job an earlier run requested for k.
func (t *verifyTally) readingBack(k report.Key) { t.add(func() { t.open[k] = struct{}{} }) }

// sentBefore: an earlier verify emailed the record's user.
func (t *verifyTally) sentBefore() { t.add(func() { t.c.SentBefore++ }) }

// verifiedBefore: an earlier verify found the email verified.
func (t *verifyTally) verifiedBefore() { t.add(func() { t.c.AlreadyVerified++ }) }

// notEligible: the report's run did not create, import or update the record.
func (t *verifyTally) notEligible() { t.add(func() { t.c.NotEligible++ }) }

func (t *verifyTally) counts() VerifyCounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.c
	c.Pending = len(t.open)
	return c
}

func (t *verifyTally) readCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.records
}

func (t *verifyTally) invalidCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.invalid
}
