// Package jobs runs Auth0 jobs: the bulk-import scheduler (slots, polling,
// settling each record from the job's error union) and verification emails.
// It talks to the tenant only through the interfaces defined here.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/words"
)

// ImportAPI is the part of the Management API the scheduler uses.
type ImportAPI interface {
	ImportUsers(ctx context.Context, r management.ImportRequest) (*management.Job, error)
	Job(ctx context.Context, id string) (*management.Job, error)
	JobErrors(ctx context.Context, id string) (*management.JobErrors, error)
}

// ErrNoSlot: the tenant's import-job limit stayed full for SlotWait. The
// chunk's records stay queued, so a later --resume sends them.
var ErrNoSlot = errors.New("no import job slot became free in time (the tenant runs its maximum of import jobs)")

// Defaults for the zero values of Scheduler's tuning fields.
const (
	DefaultMaxJobs  = 2
	DefaultSlotWait = 30 * time.Minute
)

// Scheduler submits import chunks as jobs, at most MaxJobs at once, and
// settles every record of every chunk in the journal.
type Scheduler struct {
	API     ImportAPI
	Journal report.Journal
	Clock   clock.Clock

	ConnectionID        string
	Upsert              bool
	ExternalID          string
	SendCompletionEmail bool

	// MaxJobs bounds how many of this run's jobs are in flight (default 2).
	MaxJobs int
	// SlotWait bounds the wait for a free tenant slot when the tenant
	// answers the job-limit 429 (default 30m); then ErrNoSlot.
	SlotWait time.Duration
	// PollMin and PollMax bound the wait between job reads (see
	// poll_schedule.go; default ImportPollMin..ImportPollMax) and start the
	// backoff while the tenant's job slots are all taken.
	PollMin, PollMax time.Duration
	// PollRate, when set, is the budget of job reads per second across all
	// of the run's jobs (burst MaxJobs): reads share the tenant's bucket
	// with the job POSTs, and must not crowd them out. The run sets it to
	// PollShare of that bucket's rate; nil: unbounded.
	PollRate func() float64
	// Logf, when set, receives what an operator should see: a job gone,
	// errors that match no record, summary mismatches (never secrets).
	Logf func(format string, args ...any)
	// Tracef, when set, receives routine progress (a chunk submitted, a
	// wait for a job slot): verbose output, not warnings.
	Tracef func(format string, args ...any)
	// OnSlotWait, when set, is told of each wait for a free tenant slot
	// (the job-limit 429) before it starts: the run shows it.
	OnSlotWait func(d time.Duration)

	// A chunk whose POST lost its answer may have become a job: it is sent
	// again (at most MaxResends times, default 2), and its users the tenant
	// then calls DUPLICATED_USER may be ones the lost job created. Users,
	// when set, tells them apart: a user created at or after RunStarted is
	// this run's and reported created, not skipped. MaybeSent marks records
	// an earlier run may have sent without learning whether they arrived
	// (a resume: report.State.LostPOST), with the latest time such a POST
	// may have been made (zero: unknown), and they are settled the same
	// way. Users also settles the records of jobs that expired, failed or
	// are gone (see lookup.go); a lost job may still be running then, and
	// the records it may insert wait (lostjob.go).
	Users      UserLookup
	Connection string // the connection's name, to tell its users from others with the same email
	RunStarted time.Time
	MaybeSent  func(report.Key) (lostBy time.Time, ok bool)
	// MaybeCreated marks records an earlier attempt of the run may have
	// created although its outcome said failed (a retry sends a failed
	// record again: a failed job, say, may have inserted it): a
	// DUPLICATED_USER for one is looked up like a lost POST's, but no
	// job is waited for (that attempt's job has ended).
	MaybeCreated func(report.Key) bool
	MaxResends   int

	initOnce   sync.Once
	mu         sync.Mutex
	mismatches []SummaryMismatch
	// uncertain maps chunk seq → when its latest POST whose answer was
	// lost came back (the chunk was then sent again).
	uncertain map[int]time.Time
	// held counts records left unsettled while a lost job may still run,
	// and heldUntil is when the last of those jobs must have ended.
	held      int
	heldUntil time.Time
	polls     *rate.Limiter // the poll budget (PollRate)
	perRecord time.Duration // a job's duration per record, from the last one that ended
}

// UserLookup finds users by email (the Management API's users-by-email).
type UserLookup interface {
	UsersByEmail(ctx context.Context, email string) ([]management.User, error)
}

// DefaultMaxResends bounds how often a chunk whose answer was lost is resent.
const DefaultMaxResends = 2

// Run submits every chunk from chunks and settles it. It returns when chunks
// is closed and every chunk is settled, when ctx is cancelled (ctx.Err()), or
// after a fatal error (the first one, joined with any others). After a fatal
// error Run stops receiving from chunks but lets the jobs in flight finish:
// the producer must stop on its own context. Records without a final line
// stay queued or submitted in the journal, for --resume.
func (s *Scheduler) Run(ctx context.Context, chunks <-chan input.Chunk) error {
	s.initOnce.Do(s.defaults)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		errs  []error
		fatal = make(chan struct{})
		once  sync.Once
	)
	fail := func(err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
		once.Do(func() { close(fatal) })
	}

	slots := make(chan struct{}, s.MaxJobs)
loop:
	for {
		// Take a slot before reading the next chunk, so that the chunker
		// is held back while MaxJobs of our jobs are in flight.
		select {
		case slots <- struct{}{}:
		case <-runCtx.Done():
			break loop
		case <-fatal:
			break loop
		}
		var (
			c  input.Chunk
			ok bool
		)
		select {
		case c, ok = <-chunks:
		case <-runCtx.Done():
		case <-fatal:
		}
		if !ok {
			<-slots
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := s.runChunk(runCtx, c); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	errMu.Lock()
	defer errMu.Unlock()
	return errors.Join(errs...)
}

// Settle finishes a chunk that an earlier run submitted as jobID (resume):
// it polls the job and writes each record's final line. c.Body may be nil.
// partial says c lacks some of the chunk's records (settled before, or not
// read again): the job's summary then counts more than c and is not
// compared. Settle may run concurrently with Run and with other Settle
// calls; it takes no slot, as the job already holds one in the tenant.
func (s *Scheduler) Settle(ctx context.Context, c input.Chunk, jobID string, partial bool) error {
	s.initOnce.Do(s.defaults)
	if err := s.await(ctx, c, jobID, false, partial); err != nil {
		return fmt.Errorf("importing chunk %d (%s): %w", c.Seq, jobID, err)
	}
	return nil
}

// Mismatches returns every disagreement found so far between a job's
// summary and what the journal got for its chunk.
func (s *Scheduler) Mismatches() []SummaryMismatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SummaryMismatch(nil), s.mismatches...)
}

// defaults fills the zero tuning fields, once (Run and Settle share it).
func (s *Scheduler) defaults() {
	if s.MaxJobs <= 0 {
		s.MaxJobs = DefaultMaxJobs
	}
	if s.SlotWait <= 0 {
		s.SlotWait = DefaultSlotWait
	}
	if s.MaxResends == 0 {
		s.MaxResends = DefaultMaxResends
	}
	if s.PollMin <= 0 {
		s.PollMin = ImportPollMin
	}
	if s.PollMax < s.PollMin {
		s.PollMax = max(ImportPollMax, s.PollMin)
	}
	if s.Clock == nil {
		s.Clock = clock.Real{}
	}
}

func (s *Scheduler) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Scheduler) tracef(format string, args ...any) {
	if s.Tracef != nil {
		s.Tracef(format, args...)
	}
}

// runChunk journals the chunk's records as queued, submits it, and settles
// it. A returned error is fatal for the run.
func (s *Scheduler) runChunk(ctx context.Context, c input.Chunk) error {
	if err := s.queue(c); err != nil {
		return err
	}
	job, err := s.submit(ctx, c)
	for resends := 0; err != nil && management.IsUnknownFate(err) && resends < s.MaxResends && ctx.Err() == nil; resends++ {
		// Never blindly: a chunk sent twice cannot create anyone twice
		// (the tenant refuses a user it holds), and settle looks up the
		// users it then refuses as duplicates.
		s.logf("chunk %d: the answer to its import was lost (%v); sending it again", c.Seq, err)
		s.lostAnswer(c.Seq)
		if resends == 0 {
			if err := s.markResent(c); err != nil {
				return err
			}
		}
		job, err = s.submit(ctx, c)
	}
	if err != nil {
		return s.submitFailed(ctx, c, err)
	}
	if err := s.write(report.Entry{Status: report.Submitted, Chunk: c.Seq, JobID: job.ID}); err != nil {
		return fmt.Errorf("importing chunk %d (%s): %w", c.Seq, job.ID, err)
	}
	s.tracef("chunk %d: %s submitted as %s", c.Seq, words.Count(len(c.Records), "record"), job.ID)
	if err := s.await(ctx, c, job.ID, true, false); err != nil {
		return fmt.Errorf("importing chunk %d (%s): %w", c.Seq, job.ID, err)
	}
	return nil
}

// submit POSTs the chunk, waiting for a tenant slot while the tenant answers
// with the job-limit 429: those slots may be held by jobs of other runs.
func (s *Scheduler) submit(ctx context.Context, c input.Chunk) (*management.Job, error) {
	req := management.ImportRequest{
		ConnectionID:        s.ConnectionID,
		Users:               c.Body,
		Upsert:              s.Upsert,
		ExternalID:          s.ExternalID,
		SendCompletionEmail: s.SendCompletionEmail,
	}
	deadline := s.Clock.Now().Add(s.SlotWait)
	wait := s.PollMin
	for {
		job, err := s.API.ImportUsers(ctx, req)
		if err == nil {
			if job == nil || job.ID == "" {
				return nil, errors.New("the tenant accepted the import but returned no job id")
			}
			return job, nil
		}
		if !management.IsJobLimit(err) {
			return nil, err
		}
		left := deadline.Sub(s.Clock.Now())
		if left <= 0 {
			return nil, fmt.Errorf("%w (waited %s): %w", ErrNoSlot, s.SlotWait, err)
		}
		d := min(wait, left)
		s.tracef("chunk %d: the tenant's import job limit is reached; retrying in %s", c.Seq, d)
		if s.OnSlotWait != nil {
			s.OnSlotWait(d)
		}
		if err := s.sleep(ctx, d); err != nil {
			return nil, err
		}
		wait = min(2*wait, s.PollMax)
	}
}

// submitFailed settles or keeps a chunk whose POST did not return a job.
func (s *Scheduler) submitFailed(ctx context.Context, c input.Chunk, err error) error {
	wrapped := fmt.Errorf("importing chunk %d: %w", c.Seq, err)
	if ctx.Err() != nil || errors.Is(err, ErrNoSlot) {
		// Nothing final: the records stay queued and resume sends them
		// again (without upsert a DUPLICATED_USER then means "already in").
		return wrapped
	}
	v := management.Classify(err)
	switch v.Action {
	case management.FailRecord:
	case management.ReadBack:
		// Nothing final either (runChunk already resent it): see above.
		return wrapped
	default:
		// Not about this chunk (auth, scope, rate, tenant down): every
		// chunk would fail alike, so stop and leave the records queued. A
		// job-limit 429 cannot reach here outside ErrNoSlot (submit waits).
		return fmt.Errorf("importing chunk %d: %w", c.Seq, v.Err)
	}
	code, reason := v.Code, v.Reason
	if management.IsTooLarge(err) {
		code = CodePayloadTooLarge
		reason = fmt.Sprintf("the chunk (%d bytes) was refused as too large: %s", len(c.Body), v.Reason)
	}
	s.logf("chunk %d refused: %v", c.Seq, err)
	for _, r := range c.Records {
		if err := s.write(report.Entry{File: r.File, Line: r.Line, Record: r.Ordinal, Email: r.Email, Status: report.Failed, Code: code, Reason: reason, Chunk: c.Seq}); err != nil {
			return fmt.Errorf("importing chunk %d: %w", c.Seq, err)
		}
	}
	return nil
}

// markResent journals that chunk c is about to be POSTed again: its
// records are queued again in the same chunk before the resend, so that a
// resume of a run that dies after the resend's submitted line still knows
// the first POST may have created them (report.State.LostPOST).
func (s *Scheduler) markResent(c input.Chunk) error { return s.queue(c) }

// queue journals chunk c's records as queued in it: one line for the
// chunk (report.QueuedChunk), written before its POST.
func (s *Scheduler) queue(c input.Chunk) error {
	keys := make([]report.Key, len(c.Records))
	for i, r := range c.Records {
		keys[i] = report.Key{File: r.File, Line: r.Line, Record: r.Ordinal}
	}
	if err := s.write(report.QueuedChunk(c.Seq, keys)); err != nil {
		return fmt.Errorf("importing chunk %d: %w", c.Seq, err)
	}
	return nil
}

func (s *Scheduler) write(e report.Entry) error {
	e.At = s.Clock.Now().UTC()
	if err := s.Journal.Record(e); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// sleep waits d on the clock, or until ctx is done.
func (s *Scheduler) sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-s.Clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
