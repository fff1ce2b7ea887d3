package run

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// Tenant is the Management API as a run uses it (management.Client in
// production, the sandbox behind one in tests).
type Tenant interface {
	ConnectionByName(ctx context.Context, name string) (*management.Connection, error)
	// ServerTime is the tenant's clock from its last Date header: runs are
	// dated by it, since a user is told to be this run's by created_at.
	ServerTime() (time.Time, bool)
	// Headroom is the rate-limit bucket the last answer showed.
	Headroom() (limit, remaining int, reset time.Time, ok bool)
	jobs.ImportAPI
	jobs.VerifyAPI
	create.API
}

// Progress shows a run's advance. The journal feeds Observe (it is the only
// source of counts); the reader calls RecordRead for each record read; a
// wait of the run (a retry the tenant refused, no free import slot) is
// shown with Waiting until it ends: "waiting 12s for " + what.
type Progress interface {
	RecordRead()
	Observe(report.Entry)
	Waiting(what string, until time.Time)
	Stop()
}

// Task is what a progress display is told about the run it shows.
type Task struct {
	Command    string
	TotalBytes int64        // size of the input files; 0 when unknown (stdin)
	BytesRead  func() int64 // input bytes read so far
	// ReadDone reports whether every record is read: from then on the
	// records read are the total (until then it is unknown). nil: never.
	ReadDone func() bool
	// Done is how many records were final before this run (a resume reads
	// them again and skips them): done already.
	Done int
}

// Env is everything a run reaches outside itself.
type Env struct {
	Stdin io.Reader
	// Notes gets plain lines the operator must see whatever the log level
	// (a piped input copied to a file): the cli's stderr. Default: discard.
	Notes io.Writer
	// Connect returns the tenant. It is called once, only by runs that need
	// the tenant, after every check that can fail without it.
	Connect func() (Tenant, error)
	Clock   clock.Clock  // default clock.Real{}
	Log     *slog.Logger // default: discard
	// Progress, when set, makes the display for a run.
	Progress func(Task) Progress
	// Version is recorded in report headers.
	Version string
	// Target is the tenant Connect reaches, as configured (TenantOf): a
	// fresh report records it, and a report of another tenant is refused.
	// Its empty fields are unknown and not compared.
	Target report.Tenant
	// Gate, when set, is asked before a run's first call to the tenant's
	// API, after every check of its own: an error stops the run there,
	// having written nothing (gate.go).
	Gate func(ctx context.Context, i Intent) error
	// Grace is how long requests already sent may finish after the run's
	// context ends, so that their outcome is journalled (default 10s).
	Grace time.Duration
	// Abort, once closed, ends the grace at once (a second Ctrl-C): the
	// requests still in flight are abandoned, the report is closed as
	// after any stop, and a resume settles them. nil: never.
	Abort <-chan struct{}
	// PollMin overrides the first wait between job reads of the import
	// scheduler and of verification jobs (0: their defaults).
	PollMin time.Duration
	// PollRate overrides the import scheduler's budget of job reads per
	// second (0: jobs.PollShare of the rate of the plan the tenant's
	// x-ratelimit-limit matches).
	PollRate float64
}

func (e *Env) defaults() {
	if e.Clock == nil {
		e.Clock = clock.Real{}
	}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	if e.Grace == 0 {
		e.Grace = 10 * time.Second
	}
	if e.Stdin == nil {
		e.Stdin = eofReader{}
	}
	if e.Notes == nil {
		e.Notes = io.Discard
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func (e *Env) progress(t Task) Progress {
	if e.Progress == nil {
		return noProgress{}
	}
	return e.Progress(t)
}

type noProgress struct{}

func (noProgress) RecordRead()               {}
func (noProgress) Observe(report.Entry)      {}
func (noProgress) Waiting(string, time.Time) {}
func (noProgress) Stop()                     {}

// connect calls Connect, refusing an Env without one.
func (e *Env) connect() (Tenant, error) {
	if e.Connect == nil {
		return nil, Usagef("no tenant configured")
	}
	return e.Connect()
}

// graceContext returns a context for in-flight requests: it outlives a
// cancelled parent (a signal) by grace, so that requests already sent can
// finish and have their outcome journalled, but no longer.
func (e *Env) graceContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	go func() {
		select {
		case <-parent.Done():
			select {
			case <-e.Clock.After(e.Grace):
				cancel()
			case <-e.Abort:
				cancel()
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
