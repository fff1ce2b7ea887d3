// Package create creates (or, with upsert, updates) users one by one through
// POST/PATCH /api/v2/users, on a bounded pond pool, journalling each record
// write-ahead: `sending` before the request, its final line after.
package create

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alitto/pond/v2"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// API is the part of the Management API the Runner uses.
type API interface {
	CreateUser(ctx context.Context, r management.CreateUserRequest) (*management.User, error)
	UpdateUser(ctx context.Context, id string, r management.UpdateUserRequest) (*management.User, error)
	UsersByEmail(ctx context.Context, email string) ([]management.User, error)
}

// Codes the Runner writes for outcomes the tenant gives no code for.
const (
	CodeUserExists  = "USER_EXISTS"
	CodeInvalid     = "INVALID"
	CodeUnknownFate = "UNKNOWN_FATE"
)

// DefaultConcurrency is the pool size when Concurrency is 0.
const DefaultConcurrency = 8

// DefaultMaxRetries is the resends of a request with no answer when
// MaxRetries is 0 (the cli's --max-retries default).
const DefaultMaxRetries = 5

// Runner creates users from records.
type Runner struct {
	API     API
	Journal report.Journal
	Clock   clock.Clock

	// Connection is the connection name users are created in.
	Connection string
	// Upsert updates users that already exist instead of skipping them.
	Upsert bool
	// RandomPassword gives users without a password a strong random one,
	// never written anywhere.
	RandomPassword bool
	// Passwordless: the connection is not a database connection, so no
	// password is required or sent.
	Passwordless bool

	// Concurrency is the number of pool workers (default 8).
	Concurrency int
	// MaxRetries is the run's retry budget (--max-retries): how often a
	// request that got no answer is sent again once the tenant was read back
	// and showed it had no effect (a create: the user is not found by email;
	// an update is the same PATCH again). 0 means DefaultMaxRetries, a
	// negative value none.
	MaxRetries int
	// QueueSize bounds the tasks waiting for a worker (default
	// 2×Concurrency). Run stops reading input while it is full.
	QueueSize int
	// RunStarted is when the run (the original one, on resume) began: a
	// user created at or after it, found after an unanswered create, is
	// this run's. Default: the clock's now when Run starts.
	RunStarted time.Time

	// WasSending, when set, names the records an earlier run left `sending`
	// (resume): each is looked up by email before it is sent, and a user
	// created at or after RunStarted is settled as this run's `created`.
	WasSending func(report.Key) bool

	// Verifier and VerifyEmail: after a `created` user whose email is not
	// verified, send a verification email. Leave Verifier nil (not a nil
	// pointer in the interface) when there is none.
	Verifier    EmailVerifier
	VerifyEmail bool
}

// EmailVerifier requests one verification email and journals it, reading
// its job back in the background; it returns an error only when the run
// must stop. Wait returns once every job sent is settled (*jobs.Verifier is
// the production one).
type EmailVerifier interface {
	Send(ctx context.Context, key report.Key, email, userID string) error
	Wait() error
}

// Run sends every record from records and returns when the channel is
// closed and every record (and verification email) is settled. On a fatal error (missing scope,
// custom domain refused, the report cannot be written, tenant unreachable)
// or when ctx is cancelled it stops reading, lets the requests in flight end,
// and returns the error (ctx.Err() on cancellation). Records without a final
// line stay `sending`, for --resume.
func (r *Runner) Run(ctx context.Context, records <-chan input.Record) error {
	r.defaults()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		mu    sync.Mutex
		fatal error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if fatal == nil {
			fatal = err
			cancel(err)
		}
	}

	pool := pond.NewPool(r.Concurrency, pond.WithQueueSize(r.QueueSize), pond.WithContext(runCtx))
loop:
	for {
		var (
			rec input.Record
			ok  bool
		)
		select {
		case rec, ok = <-records:
		case <-runCtx.Done():
		}
		// Both cases of the select may be ready at once: a record read
		// after the end is not started.
		if !ok || runCtx.Err() != nil {
			break loop
		}
		if reason := r.invalidReason(&rec); reason != "" {
			if err := r.write(rec, report.Invalid, "", CodeInvalid, reason); err != nil {
				fail(err)
			}
			continue
		}
		// Submit blocks while the queue is full: back-pressure on the
		// reader. Tasks still queued when runCtx ends never start: pond
		// drops them, but a worker may already have taken one as the
		// context ended, so each task looks too.
		pool.Submit(func() {
			if runCtx.Err() != nil {
				return
			}
			if err := r.send(runCtx, &rec); err != nil && runCtx.Err() == nil {
				fail(fmt.Errorf("creating %s:%d: %w", rec.File, rec.Line, err))
			}
		})
	}
	pool.StopAndWait()
	if r.Verifier != nil {
		// The verification jobs of the last users are still being read
		// back: the run ends when they are settled (or, stopped, left with
		// their job ids for a resume).
		if err := r.Verifier.Wait(); err != nil {
			fail(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return fatal
}

func (r *Runner) defaults() {
	if r.Concurrency <= 0 {
		r.Concurrency = DefaultConcurrency
	}
	if r.QueueSize <= 0 {
		r.QueueSize = 2 * r.Concurrency
	}
	switch {
	case r.MaxRetries == 0:
		r.MaxRetries = DefaultMaxRetries
	case r.MaxRetries < 0:
		r.MaxRetries = 0
	}
	if r.Clock == nil {
		r.Clock = clock.Real{}
	}
	if r.RunStarted.IsZero() {
		r.RunStarted = r.Clock.Now()
	}
}

func (r *Runner) write(rec input.Record, st report.Status, userID, code, reason string) error {
	e := report.Entry{
		File: rec.File, Line: rec.Line, Record: rec.Ordinal, Email: rec.User.Email, Status: st,
		UserID: userID, Code: code, Reason: reason, At: r.Clock.Now().UTC(),
	}
	if err := r.Journal.Record(e); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

var errNoEmail = errors.New("the record has no email to look the user up by")
