package run

import (
	"context"
	"fmt"
	"time"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/hashes"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/throttle"
)

// Run runs an import, create or sync to its end. It returns the run's
// summary (nil when it stopped before its report was written: a usage
// error, refused credentials, an unknown connection) and the error that
// decides the exit code (nil, *UsageError, *IncompleteError, *StoppedError,
// or any other error: the run could not complete).
func Run(ctx context.Context, env Env, spec Spec) (*Summary, error) {
	env.defaults()
	switch spec.Mode {
	case ModeImport, ModeCreate:
		return migrate(ctx, &env, spec)
	case ModeSync:
		return syncRun(ctx, &env, spec)
	}
	return nil, Usagef("run: unknown mode %q", spec.Mode)
}

// started is a run whose report is open: what every mode shares.
type started struct {
	env      *Env
	spec     Spec
	in       inputs
	tenant   Tenant
	conn     *management.Connection
	start    time.Time // by the tenant's clock
	journal  *report.Writer
	state    *report.State // the resumed report, nil for a fresh run
	prog     Progress
	counter  *byteCounter
	read     *readCount
	problems *problemCollector
	waits    *waits
	unwatch  func()    // stops showing the tenant's retries
	join     *hashJoin // --hashes; nil without
}

// start connects, plans the journal (every exit-2 check before any
// request), runs guard (a sync's, over the inputs as the run will read
// them; nil: none), passes the gate, looks the connection up (a resume's
// must be the report's) and only then writes the report.
func start(ctx context.Context, env *Env, spec Spec, in inputs, guard func(context.Context, inputs, *Intent) error) (*started, error) {
	tenant, err := env.connect()
	if err != nil {
		return nil, err
	}
	jp, err := planJournal(ctx, env, spec, in)
	if err != nil {
		return nil, err
	}
	intent := spec.intent(env, jp)
	if guard != nil {
		if err := guard(ctx, jp.in, &intent); err != nil {
			jp.discard()
			return nil, err
		}
	}
	if err := env.gate(ctx, intent); err != nil {
		jp.discard()
		return nil, refusedStop(err, spec.againHint())
	}
	w, unwatch := watchWaits(env, tenant)
	conn, err := databaseConnection(ctx, tenant, spec.Connection)
	if err != nil {
		unwatch()
		jp.discard()
		return nil, refusedStop(err, spec.againHint())
	}
	if err := jp.bindConnection(conn.ID); err != nil {
		return nil, err
	}
	in = jp.in
	if jp.res != nil {
		in.byLine = jp.res.State.Header.KeyedByLine()
	}
	r := &started{env: env, spec: spec, in: in, tenant: tenant, conn: conn, counter: &byteCounter{}, read: &readCount{}, problems: &problemCollector{},
		waits: w, unwatch: unwatch}
	r.start = jp.startFrom(tenant)
	if r.journal, r.state, err = jp.open(); err != nil {
		unwatch()
		jp.discard()
		return nil, err
	}
	r.journal.Observe(r.problems.Observe)
	return r, nil
}

// showProgress starts the progress display; call it after every observer
// that must see an entry before the display does.
func (r *started) showProgress() {
	t := Task{Command: string(r.spec.Mode), TotalBytes: r.in.totalBytes(), BytesRead: r.counter.Load, ReadDone: r.read.done.Load}
	if r.state != nil {
		t.Done = r.state.Finals()
	}
	r.prog = r.env.progress(t)
	r.journal.Observe(r.prog.Observe)
	r.waits.show(r.prog)
}

func (r *started) source() source {
	rd := reading{in: r.in, stdin: r.env.Stdin, counts: r.counter, join: r.join}
	return r.read.count(func(ctx context.Context, fn func(input.Record) error) error {
		if rd.join != nil {
			// Every record is read (and joined) again by a resume: its
			// listing is written anew.
			if err := rd.join.pass(hashes.ListingPath(r.journal.Path())); err != nil {
				return err
			}
		}
		return rd.stream(ctx, fn)
	})
}

// scheduler is the one import scheduler of every run; resume says which
// records an earlier attempt may have sent.
func (r *started) scheduler(upsert bool, resume *resumePlan) *jobs.Scheduler {
	log := r.env.Log
	return &jobs.Scheduler{
		API: r.tenant, Journal: r.journal, Clock: r.env.Clock,
		ConnectionID: r.conn.ID, Upsert: upsert, ExternalID: r.spec.ExternalID,
		SendCompletionEmail: r.spec.SendCompletionEmail, MaxJobs: r.spec.MaxJobs, SlotWait: time.Duration(r.spec.SlotWait),
		PollMin: r.env.PollMin,
		Users:   r.tenant, Connection: r.conn.Name, RunStarted: r.start, MaybeSent: resume.maybeSent, MaybeCreated: resume.maybeCreated,
		OnSlotWait: func(d time.Duration) { r.waits.wait("an import slot", d) },
		PollRate:   r.pollRate,
		Logf:       func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) },
		Tracef:     func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) },
	}
}

// pollRate is the import scheduler's budget of job reads per second: a
// share of the rate of the bucket they go to, taken from the plan the
// tenant's bucket size matches (the headers last seen are those of the
// job requests themselves once the first job is submitted).
func (r *started) pollRate() float64 {
	if r.env.PollRate > 0 {
		return r.env.PollRate
	}
	limit, _, _, ok := r.tenant.Headroom()
	rate, _ := throttle.EstimateRate(r.spec.Rate, limit, ok)
	return jobs.PollShare * rate
}

// runner is the one create runner of every run. A resumed run keeps the
// original start: a user whose create was in flight when the earlier run
// died was created after it, and is ours.
func (r *started) runner(upsert bool, wasSending func(report.Key) bool, verifier *jobs.Verifier) *create.Runner {
	runner := &create.Runner{
		API: r.tenant, Journal: r.journal, Clock: r.env.Clock,
		Connection: r.conn.Name, Upsert: upsert, RandomPassword: r.spec.RandomPassword,
		Concurrency: r.spec.Concurrency, RunStarted: r.start, VerifyEmail: r.spec.VerifyEmail,
		WasSending: wasSending, MaxRetries: retryBudget(r.spec.MaxRetries),
	}
	if verifier != nil { // never a typed nil in the interface
		runner.Verifier = verifier
	}
	return runner
}

// retryBudget is the runner's MaxRetries for --max-retries n: the runner's
// 0 means its default, and --max-retries 0 means none.
func retryBudget(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// send runs the loop in the spec's send mode: import jobs or creates.
// admit says what this run skips; a resume settles its earlier jobs too.
func (r *started) send(ctx context.Context, upsert bool, admit admitFunc, resume *resumePlan) (errs []error, warnings []string) {
	workCtx, stopWork := r.env.graceContext(ctx)
	defer stopWork()
	if r.in.Mode == input.ModeCreate {
		var verifier *jobs.Verifier
		if r.spec.VerifyEmail {
			// Jobs an earlier run requested are read back alongside the
			// creates; the runner waits for them at its end.
			verifier = newVerifier(r.env, r.tenant, r.journal, r.spec.AppClientID)
			if err := resumeVerifications(workCtx, verifier, r.state); err != nil {
				return []error{err}, nil
			}
			admit = owedVerifications(workCtx, admit, r.state, verifier)
		}
		readErr, runErr := createLoop{
			Source: r.source(), Runner: r.runner(upsert, resume.wasSending, verifier),
			Admit: admit, OnRead: r.prog.RecordRead,
		}.Run(ctx, workCtx)
		return []error{readErr, runErr}, nil
	}
	sched := r.scheduler(upsert, resume)
	settling := resume.watch(workCtx, sched)
	readErr, schedErr := importLoop{
		Source: r.source(), Journal: r.journal, Scheduler: sched,
		ChunkBytes: r.spec.ChunkBytes, FirstChunk: resume.nextChunk,
		Admit: admit, OnRead: r.prog.RecordRead,
	}.Run(ctx, workCtx)
	settleErr := resume.finish(settling)
	for _, m := range sched.Mismatches() {
		warnings = append(warnings, m.String())
	}
	// Records a lost job may still insert stay unsettled: the run cannot
	// complete before that job's 2 hours are over (exit 1, resumable).
	return []error{readErr, schedErr, settleErr, sched.Unsettled()}, warnings
}

// migrate is an import or a create, fresh, resumed or retried.
func migrate(ctx context.Context, env *Env, spec Spec) (*Summary, error) {
	in, err := openInputs(spec.Inputs, spec.Settings, spec.sendMode())
	if err != nil {
		return nil, err
	}
	hj, err := openHashes(ctx, env, &spec, true)
	if err != nil {
		return nil, err
	}
	defer hj.close()
	r, err := start(ctx, env, spec, in, nil)
	if err != nil {
		return nil, err
	}
	r.join = hj
	defer r.unwatch()
	defer r.journal.Close()
	r.showProgress()
	defer r.prog.Stop()

	resume := newResumePlan(r.state)
	admit := resume.admit
	var retry *retryPlan
	if spec.Retry && r.state != nil {
		retry = newRetryPlan(resume, r.journal)
		admit = retry.admit
	}
	errs, warnings := r.send(ctx, spec.Upsert, admit, resume)
	r.prog.Stop()
	var rc *RetryCounts
	if retry != nil {
		rc = retry.counts()
		if note := rc.note(spec.Mode, r.journal.Path()); note != "" {
			warnings = append(warnings, note)
		}
	}
	sum, err := finish(ctx, spec, r.journal, r.problems, r.read, warnings, nil, r.tenant, errs...)
	if sum != nil {
		sum.Retry, sum.Hashes = rc, hj.summary(0)
	}
	return sum, err
}

// databaseConnection finds the run's connection and refuses any that is
// not a database connection: only those take imported or created users.
func databaseConnection(ctx context.Context, t Tenant, name string) (*management.Connection, error) {
	conn, err := t.ConnectionByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("looking up connection %q: %w", name, err)
	}
	if !conn.IsDatabase() {
		// A flag to fix, found before anything is written: exit 2, with
		// where the users could go instead.
		return nil, Usagef("connection %q has strategy %q: a0bulk imports and creates users in database connections (strategy auth0) only%s",
			conn.Name, conn.Strategy, databaseChoices(ctx, t))
	}
	return conn, nil
}

// databaseChoices names the tenant's database connections, for an error
// that refused another one ("" when the tenant cannot list them).
func databaseChoices(ctx context.Context, t Tenant) string {
	l, ok := t.(interface {
		DatabaseConnectionNames(context.Context) ([]string, int, error)
	})
	if !ok {
		return ""
	}
	names, total, err := l.DatabaseConnectionNames(ctx)
	switch {
	case err != nil:
		return ""
	case len(names) == 0:
		return "; the tenant has no database connection"
	}
	return "; its database connections: " + management.NameList(names, total)
}
