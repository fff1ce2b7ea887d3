package run

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/report"
)

// resumePlan decides, for each record read again on --resume, whether it is
// finished (skip), belongs to a chunk the tenant already accepted as a job
// (collected here and settled by reading that job), or must be sent again.
//
// A chunk's records are consecutive valid records of the input, all read
// before any record the earlier run never reached: so settling each
// accepted chunk starts as soon as its last record has been read again,
// before the resume reads (and so sends) any record the earlier run never
// reached, and runs alongside the rest of the resume. (Records of chunks
// the tenant never acknowledged may come earlier in the input and be sent
// first.) Its outcome is in the report even if the resume stops early.
type resumePlan struct {
	state     *report.State
	nextChunk int
	jobChunk  map[report.Key]int   // record → its submitted chunk
	submitted map[int]*resumeChunk // seq → chunk rebuilt from the input

	// retried are the records a retry reopened (this run's, and an earlier
	// retry's still without a new final line): an earlier attempt may
	// have created them, so they are looked up before they count as absent
	// or existing. Written by the reader, read by the senders.
	retriedMu sync.Mutex
	retried   map[report.Key]struct{}

	settle func(c input.Chunk, jobID string, partial bool) // starts settling a chunk (set by watch)
}

type resumeChunk struct {
	chunk   input.Chunk
	jobID   string
	want    int  // records without a final line the report names
	partial bool // the report settled some of its records already
	started bool
}

func newResumePlan(state *report.State) *resumePlan {
	p := &resumePlan{state: state, nextChunk: 1, jobChunk: map[report.Key]int{}, submitted: map[int]*resumeChunk{}, retried: map[report.Key]struct{}{}}
	if state == nil {
		return p
	}
	p.nextChunk = state.LastChunk + 1
	for k := range state.Retried {
		p.retried[k] = struct{}{}
	}
	for _, c := range state.InFlightChunks() {
		if c.JobID == "" {
			// Never acknowledged by the tenant: its records are sent again,
			// and a DUPLICATED_USER among them is looked up (maybeSent).
			continue
		}
		p.submitted[c.Seq] = &resumeChunk{chunk: input.Chunk{Seq: c.Seq}, jobID: c.JobID, want: len(c.Keys), partial: c.Partial}
		for _, k := range c.Keys {
			p.jobChunk[k] = c.Seq
		}
	}
	return p
}

// settler settles the chunks an earlier run submitted, each on its own
// goroutine, as they become whole.
type settler struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// watch starts settling each submitted chunk with sched on ctx as soon as
// its records have all been read again.
func (p *resumePlan) watch(ctx context.Context, sched *jobs.Scheduler) *settler {
	s := &settler{}
	p.settle = func(c input.Chunk, jobID string, partial bool) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			// Settle's errors already name the chunk and its job.
			if err := sched.Settle(ctx, c, jobID, partial); err != nil {
				s.mu.Lock()
				s.errs = append(s.errs, err)
				s.mu.Unlock()
			}
		}()
	}
	return s
}

// finish settles what reading never completed (the input ended early, or
// the run stopped) and waits for every settle.
func (p *resumePlan) finish(s *settler) error {
	for _, c := range p.submitted {
		if !c.started && len(c.chunk.Records) > 0 {
			c.started = true
			p.settle(c.chunk, c.jobID, c.partial || len(c.chunk.Records) < c.want)
		}
	}
	s.wg.Wait()
	return errors.Join(s.errs...)
}

// admit is the loop's admit for a resumed run.
func (p *resumePlan) admit(rec *input.Record) (bool, error) { return !p.skip(*rec), nil }

// skip reports whether rec needs no sending in this run.
func (p *resumePlan) skip(rec input.Record) bool {
	if p.state == nil {
		return false
	}
	k := keyOf(rec)
	if p.state.Done(k) {
		return true
	}
	if seq, ok := p.jobChunk[k]; ok {
		c := p.submitted[seq]
		c.chunk.Records = append(c.chunk.Records, input.ChunkRecord{File: rec.File, Line: rec.Line, Ordinal: rec.Ordinal, Email: rec.User.Email, UserID: rec.User.UserID})
		if len(c.chunk.Records) == c.want && p.settle != nil {
			c.started = true
			p.settle(c.chunk, c.jobID, c.partial)
		}
		return true
	}
	return false
}

// wasSending reports whether a create of k was in flight when an earlier
// run stopped, or is a retry (an earlier attempt may have created it): it
// is settled by looking the user up before sending again.
func (p *resumePlan) wasSending(k report.Key) bool {
	if p.state == nil {
		return false
	}
	if _, ok := p.state.Sending[k]; ok {
		return true
	}
	return p.maybeCreated(k)
}

// markRetried notes that this run reopened k to send it again.
func (p *resumePlan) markRetried(k report.Key) {
	p.retriedMu.Lock()
	defer p.retriedMu.Unlock()
	p.retried[k] = struct{}{}
}

// maybeCreated is the scheduler's MaybeCreated: k is a retried record.
func (p *resumePlan) maybeCreated(k report.Key) bool {
	p.retriedMu.Lock()
	defer p.retriedMu.Unlock()
	_, ok := p.retried[k]
	return ok
}

// left is what a resume would do with a record it reads again: nothing
// (final), settle it by reading its job (submitted), or send it. It changes
// nothing (a dry run asks it).
func (p *resumePlan) left(k report.Key) leftover {
	switch {
	case p.state == nil:
		return toSend
	case p.state.Done(k):
		return isFinal
	}
	if _, ok := p.jobChunk[k]; ok {
		return toSettle
	}
	return toSend
}

// leftover is what is left of a record for a resume.
type leftover int

const (
	toSend   leftover = iota // never sent, or sent without an answer: sent (again)
	isFinal                  // has its final line: not sent again
	toSettle                 // in a job the tenant accepted: settled by reading it
	toRetry                  // failed: a retry sends it again
)

// maybeSent is the scheduler's MaybeSent for a resumed run: every mark the
// report kept, not only the record's latest chunk's, with the latest time
// such a POST may have been made (a job it became may still insert the
// user for 2 hours after: the scheduler waits that long before it calls an
// absent user failed).
func (p *resumePlan) maybeSent(k report.Key) (time.Time, bool) {
	if p.state == nil {
		return time.Time{}, false
	}
	return p.state.LostPOST(k)
}
