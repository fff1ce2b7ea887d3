package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/pipeline"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/syncstate"
)

// syncPollMin overrides the import scheduler's first poll wait when set
// (tests: the sandbox finishes jobs at once).
var syncPollMin time.Duration

// syncRetryHint is what a stopped or failed sync tells the operator: there
// is no --resume, the state makes running it again the resume.
const syncRetryHint = "run the same a0bulk sync again (users the tenant confirmed are skipped)"

// syncRun is one sync in progress.
type syncRun struct {
	s       *IOStreams
	o       syncOptions
	log     *slog.Logger
	client  *management.Client
	conn    *management.Connection
	journal *report.Writer
	store   *syncstate.Store
	tracker *syncTracker
	prog    progress
	counter *byteCounter
}

func runSync(ctx context.Context, s *IOStreams, g globalOptions, o syncOptions) error {
	// The lock first: a second sync must stop before it writes a report or
	// sends anything.
	store, err := syncstate.Open(o.StatePath, clock.Real{})
	if err != nil {
		var le *syncstate.LockedError
		if errors.As(err, &le) {
			return fmt.Errorf("another sync is running: %w", err)
		}
		return fmt.Errorf("opening the sync state: %w", err)
	}
	defer store.Close()

	r := &syncRun{s: s, o: o, log: g.logger(s), store: store, tracker: newSyncTracker(store), counter: &byteCounter{}}
	if r.client, err = o.tenant.client(r.log, g.Verbose); err != nil {
		return err
	}
	// The tenant first: a typo in --connection or refused credentials leave
	// no report behind.
	if r.conn, err = databaseConnection(ctx, r.client, o.meaning.Connection); err != nil {
		return err
	}
	if r.journal, err = openSyncJournal(o, clock.Real{}); err != nil {
		return err
	}
	defer r.journal.Close()
	// Before any record: every confirmed outcome must reach the state.
	r.journal.Observe(r.tracker.observe)

	r.prog = newProgress(s, g, "sync", o.input.totalBytes(), r.counter.Load)
	r.journal.Observe(r.prog.Observe)
	defer r.prog.Stop()

	workCtx, stopWork := graceContext(ctx, 10*time.Second)
	defer stopWork()
	var errs []error
	var warnings []string
	if o.Mode == "create" {
		errs = r.create(ctx, workCtx)
	} else {
		errs, warnings = r.importUsers(ctx, workCtx)
	}
	r.prog.Stop()

	// Commit what the tenant confirmed before the summary: its exit code
	// must say if the state could not be written.
	errs = append(errs, r.tracker.Err())
	if err := store.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("writing the sync state: %w", err))
	}
	sum := newRunSummary("sync", r.journal.Path(), r.journal.Tally(), r.prog)
	sum.Warnings = warnings
	return finishRun(ctx, s, g, r.journal, sum, syncRetryHint, errs...)
}

// admit decides what to do with a valid record: skip it as unchanged (its
// final line is written here), or track it and report that it must be sent.
func (r *syncRun) admit(rec input.Record) (bool, error) {
	if !rec.Valid() {
		return true, nil // the pipeline reports it invalid
	}
	verdict, hash, prev, err := judge(r.store, rec, r.o.Full)
	if err != nil {
		return false, err
	}
	if verdict == syncUnchanged {
		return false, r.journal.Record(report.Entry{
			File: rec.File, Line: rec.Line, Email: rec.User.Email, Status: report.Skipped,
			UserID: prev.UserID, Code: CodeUnchanged,
			Reason: "unchanged since the sync of " + prev.SyncedAt.UTC().Format(time.RFC3339),
		})
	}
	r.tracker.track(rec, hash, prev)
	return true, nil
}

// importUsers sends new and changed users as import jobs with upsert.
func (r *syncRun) importUsers(ctx, workCtx context.Context) ([]error, []string) {
	sched := &jobs.Scheduler{
		API: r.client, Journal: r.journal, Clock: clock.Real{},
		ConnectionID: r.conn.ID, Upsert: true, ExternalID: r.o.meaning.ExternalID,
		SendCompletionEmail: r.o.SendCompletionEmail, MaxJobs: r.o.MaxJobs, SlotWait: r.o.SlotWait,
		PollMin: syncPollMin, // 0: the scheduler's default
		Logf:    func(format string, args ...any) { r.log.Warn(fmt.Sprintf(format, args...)) },
		Tracef:  func(format string, args ...any) { r.log.Debug(fmt.Sprintf(format, args...)) },
	}
	readErr, schedErr := pipeline.Import{
		Source: r.o.input.source(r.s, r.counter), Journal: r.journal, Scheduler: sched,
		ChunkBytes: r.o.ChunkBytes, Admit: r.admit, OnRead: r.prog.RecordRead,
	}.Run(ctx, workCtx)
	var warnings []string
	for _, m := range sched.Mismatches() {
		warnings = append(warnings, m.String())
	}
	return []error{readErr, schedErr}, warnings
}

// create sends new and changed users one by one: created, or updated when
// the user exists.
func (r *syncRun) create(ctx, workCtx context.Context) []error {
	runner := &create.Runner{
		API: r.client, Journal: r.journal, Clock: clock.Real{},
		Connection: r.conn.Name, Upsert: true, RandomPassword: r.o.RandomPassword,
		Concurrency: r.o.Concurrency, RunStarted: time.Now(), VerifyEmail: r.o.VerifyEmail,
	}
	if r.o.VerifyEmail {
		runner.Verifier = &jobs.Verifier{API: r.client, Journal: r.journal, ClientID: r.o.AppClientID}
	}
	readErr, runErr := pipeline.Create{
		Source: r.o.input.source(r.s, r.counter), Runner: runner,
		Admit: r.admit, OnRead: r.prog.RecordRead,
	}.Run(ctx, workCtx)
	return []error{readErr, runErr}
}

// openSyncJournal starts the run's report. A sync has no --resume (running
// it again is the resume), so this is openJournal's fresh-report path with
// the sync's own facts in the header: the mode that reads the input (for
// `report failures`) and the state.
func openSyncJournal(o syncOptions, clk clock.Clock) (*report.Writer, error) {
	inputs, err := o.input.hashInputs()
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	h := report.RunHeader{
		Version: Version, Mode: o.meaning.Mode, Connection: o.meaning.Connection, Upsert: o.meaning.Upsert,
		ExternalID: o.meaning.ExternalID, Inputs: inputs, StartedAt: clk.Now().UTC(),
		Extra: map[string]string{"format": o.input.Format, "map": o.input.MapFile, "sync_mode": o.Mode, "state": o.StatePath},
	}
	path := o.ReportPath
	if path == "" {
		path = fmt.Sprintf("a0bulk-sync-%s.ndjson", clk.Now().UTC().Format("20060102T150405Z"))
	}
	w, err := report.Create(path, h, clk)
	if errors.Is(err, os.ErrExist) {
		return nil, usagef("--report %s exists; choose another file (a sync has no --resume: run it again)", path)
	}
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("creating report: %w", err)}
	}
	return w, nil
}
