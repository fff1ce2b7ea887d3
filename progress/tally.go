package progress

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/report"
)

// waitStreak is how soon after a wait ends another of the same kind
// continues it: a run refused again and again (429 after 429) shows one
// wait that has lasted "40s so far", not forty waits of a second.
const waitStreak = 3 * time.Second

// tally is what every display counts, from the journal's entries alone.
type tally struct {
	o     Options
	clk   clock.Clock
	start time.Time
	read  atomic.Int64

	mu                       sync.Mutex
	settled, failed, invalid int64
	sent, verifyFailed       int64 // verification emails
	// pending maps each record sent (or queued for a job) and not yet
	// final to its import chunk (0: a per-user request).
	pending      map[report.Key]int
	chunkPending map[int]int   // chunk → its records not yet final
	submitted    map[int]bool  // chunks that became jobs, not yet settled
	what         string        // the wait showing, until till
	till, since  time.Time     // since: when its streak began
	kick         chan struct{} // told of a new wait (plain lines print it at once)
}

func newTally(o Options) *tally {
	return &tally{o: o, clk: o.Clock, start: o.Clock.Now(),
		pending: map[report.Key]int{}, chunkPending: map[int]int{}, submitted: map[int]bool{},
		kick: make(chan struct{}, 1)}
}

func (t *tally) RecordRead() { t.read.Add(1) }

func (t *tally) Observe(e report.Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := e.Key()
	switch e.Status {
	case report.Queued:
		old, ok := t.pending[k]
		if ok && old == e.Chunk {
			return // queued again in the same chunk (a resend)
		}
		if ok {
			t.chunkPending[old]--
		}
		t.pending[k] = e.Chunk
		t.chunkPending[e.Chunk]++
	case report.Sending, report.VerificationSending:
		if _, ok := t.pending[k]; !ok {
			t.pending[k] = 0
		}
	case report.Submitted:
		if t.chunkPending[e.Chunk] > 0 {
			t.submitted[e.Chunk] = true
		}
	case report.VerificationSent:
		t.sent++
		t.release(k)
	case report.VerificationFailed:
		t.verifyFailed++
		t.release(k)
	default:
		if !e.Status.IsFinal() {
			return
		}
		t.settled++
		switch e.Status {
		case report.Failed:
			t.failed++
		case report.Invalid:
			t.invalid++
		}
		t.release(k)
	}
}

// release ends k's time in flight.
func (t *tally) release(k report.Key) {
	c, ok := t.pending[k]
	if !ok {
		return
	}
	delete(t.pending, k)
	if c == 0 {
		return
	}
	if t.chunkPending[c]--; t.chunkPending[c] <= 0 {
		delete(t.chunkPending, c)
		delete(t.submitted, c)
	}
}

func (t *tally) InFlight() InFlight {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := InFlight{Jobs: len(t.submitted)}
	for _, c := range t.pending {
		if c == 0 {
			f.Requests++
		}
	}
	return f
}

func (t *tally) Waiting(what string, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clk.Now()
	if now.Before(t.till) && !until.After(t.till) {
		return // a longer wait is showing
	}
	if what != t.what || now.After(t.till.Add(waitStreak)) {
		t.since = now
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
	t.what, t.till = what, until
}

// snapshot is what a line shows, taken at once.
type snapshot struct {
	command            string
	read, done         int64 // records read; of them final before this run
	readAll            bool  // read is the total
	settled            int64 // records final in this run
	failed, invalid    int64
	sent, verifyFailed int64
	bytesRead, bytes   int64 // bytes is 0 when the input's size is unknown
	countsBytes        bool
	jobs               int // import jobs running
	elapsed            time.Duration
	// waitWhat, waitLeft: the run waits waitLeft more for waitWhat, and
	// has waited waited for it so far.
	waitWhat         string
	waitLeft, waited time.Duration
}

func (t *tally) snapshot() snapshot {
	now := t.clk.Now()
	s := snapshot{command: t.o.Command, read: t.read.Load(), done: t.o.Done, bytes: t.o.TotalBytes,
		elapsed: now.Sub(t.start), countsBytes: t.o.BytesRead != nil}
	// Whether all is read is asked before the count is final: a record read
	// in between only makes the total larger, never wrong.
	if t.o.ReadDone != nil && t.o.ReadDone() {
		s.readAll = true
		s.read = t.read.Load()
	}
	if t.o.BytesRead != nil {
		s.bytesRead = t.o.BytesRead()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s.settled, s.failed, s.invalid = t.settled, t.failed, t.invalid
	s.sent, s.verifyFailed = t.sent, t.verifyFailed
	s.jobs = len(t.submitted)
	if left := t.till.Sub(now); left > 0 {
		s.waitWhat, s.waitLeft, s.waited = t.what, left, now.Sub(t.since)
	}
	return s
}
