package jobs

// Reading verification jobs back. A verification job only requests the
// email: Auth0 may later fail it (with no status_details). Each job is read
// back on its own goroutine so that sending the next email never waits for
// the last one's job; MaxInFlight bounds those goroutines (and back-pressures
// Send), MaxReads the reads in flight, which go through the same paced
// client as everything else.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// Read-back defaults.
const (
	// DefaultVerifyFirstRead: a verification job is read first this long
	// after it was requested (it is never done at once), then with Wait's
	// backoff (1s doubling to 30s): a job that takes a second costs one read.
	DefaultVerifyFirstRead = time.Second
	// DefaultVerifyInFlight bounds the jobs being read back: far more than a
	// paced run requests in the seconds a job takes.
	DefaultVerifyInFlight = 256
	// DefaultVerifyReads bounds concurrent reads: enough to keep up with any
	// published rate limit, few enough not to queue ahead of the sends.
	DefaultVerifyReads = 4
)

// background is the Verifier's read-back state.
type background struct {
	once  sync.Once
	slots chan struct{} // one per job being read back
	reads chan struct{} // one per read in flight
	wg    sync.WaitGroup

	mu  sync.Mutex
	err error // the first error that must stop the run
}

func (v *Verifier) init() {
	v.bg.once.Do(func() {
		v.bg.slots = make(chan struct{}, orDefault(v.MaxInFlight, DefaultVerifyInFlight))
		v.bg.reads = make(chan struct{}, orDefault(v.MaxReads, DefaultVerifyReads))
	})
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// Wait returns once every job handed to the background has been read back
// to its end, or left with its id for a resume because its ctx ended. It
// returns the first error that must stop the run. Call it after the last
// Send or Resume.
func (v *Verifier) Wait() error {
	v.init()
	v.bg.wg.Wait()
	return v.bg.failure()
}

// hold takes a read-back slot, waiting while MaxInFlight jobs are read back.
func (v *Verifier) hold(ctx context.Context) error {
	v.init()
	select {
	case v.bg.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *background) release() { <-b.slots }

func (b *background) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

func (b *background) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// readBack settles jobID's line on its own goroutine, which gives back the
// slot hold took. A fresh job is first read after FirstRead; a resumed one
// at once.
func (v *Verifier) readBack(ctx context.Context, line report.Entry, jobID string, fresh bool) {
	v.bg.wg.Add(1)
	go func() {
		defer v.bg.wg.Done()
		defer v.bg.release()
		if err := v.settleJob(ctx, line, jobID, fresh); err != nil {
			v.bg.fail(err)
		}
	}()
}

// settleJob reads jobID until it ends and journals the outcome:
// verification_sent when it completed (or expired: a completed job more
// than 2 hours old), verification_failed with Auth0's status otherwise. When
// ctx ends first nothing is journalled: the verification_sending line with
// the job id lets a resume read the job back instead of emailing again.
func (v *Verifier) settleJob(ctx context.Context, line report.Entry, jobID string, fresh bool) error {
	clk := v.clock()
	if fresh {
		first := v.FirstRead
		if first <= 0 {
			first = DefaultVerifyFirstRead
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clk.After(first):
		}
	}
	job, err := Wait(ctx, gatedReads{v}, jobID, clk)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil
	case management.IsNotFound(err):
		return v.write(line, report.VerificationFailed, jobID, CodeJobNotFound,
			"the verification job is no longer known to the tenant (job data is kept 24 hours): the email may or may not have been sent; run verify again to send it anew")
	case err != nil:
		return fmt.Errorf("reading verification job %s of %s: %w", jobID, line.Email, management.Classify(err).Err)
	}
	switch job.Status {
	case management.JobCompleted, management.JobExpired:
		return v.write(line, report.VerificationSent, jobID, "", "")
	}
	reason := job.StatusDetails
	if reason == "" {
		reason = "the verification job failed"
	}
	return v.write(line, report.VerificationFailed, jobID, CodeJobFailed, reason)
}

// gatedReads is the Verifier's API with at most MaxReads reads in flight.
type gatedReads struct{ v *Verifier }

func (g gatedReads) Job(ctx context.Context, id string) (*management.Job, error) {
	select {
	case g.v.bg.reads <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-g.v.bg.reads }()
	return g.v.API.Job(ctx, id)
}

func (v *Verifier) clock() clock.Clock {
	if v.Clock == nil {
		return clock.Real{}
	}
	return v.Clock
}
