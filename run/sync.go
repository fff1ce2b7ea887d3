package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/syncstate"
)

// syncRun sends only the users that are new or changed since the state's
// last confirmed outcomes: unchanged ones are reported skipped without a
// request. It has no resume: the state records only what the tenant
// confirmed, so running the same sync again is the resume.
func syncRun(ctx context.Context, env *Env, spec Spec) (*Summary, error) {
	if spec.SyncMode != string(ModeImport) && spec.SyncMode != string(ModeCreate) {
		return nil, Usagef("sync: mode must be import or create, not %q", spec.SyncMode)
	}
	if spec.Resume != "" {
		return nil, Usagef("a sync has no --resume: run it again")
	}
	// Changed users must be updated, so every sync upserts.
	spec.Upsert = true
	in, err := openInputs(spec.Inputs, spec.Settings, spec.sendMode())
	if err != nil {
		return nil, err
	}
	// The lock first: a second sync must stop before it writes a report or
	// sends anything.
	store, err := openState(spec.State, env)
	if err != nil {
		return nil, err
	}
	defer store.Close()

	r, err := start(ctx, env, spec, in)
	if err != nil {
		return nil, err
	}
	defer r.unwatch()
	defer r.journal.Close()
	tracker := newSyncTracker(store)
	// Before any record: every confirmed outcome must reach the state.
	r.journal.Observe(tracker.observe)
	r.showProgress()
	defer r.prog.Stop()

	admit := func(rec input.Record) (bool, error) {
		if !rec.Valid() {
			return true, nil // the loop reports it invalid
		}
		verdict, hash, prev, err := judge(store, rec, spec.Full)
		if err != nil {
			return false, err
		}
		if verdict == syncUnchanged {
			return false, r.journal.Record(unchangedEntry(rec, prev))
		}
		tracker.track(rec, hash, prev)
		return true, nil
	}
	errs, warnings := r.send(ctx, true, admit, newResumePlan(nil))
	r.prog.Stop()

	// Commit what the tenant confirmed before the summary: its exit code
	// must say if the state could not be written.
	errs = append(errs, tracker.Err())
	if err := store.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("writing the sync state: %w", err))
	}
	return finish(ctx, spec, r.journal, r.problems, r.read, warnings, nil, r.tenant, errs...)
}

// openState opens (and locks) the sync state.
func openState(path string, env *Env) (*syncstate.Store, error) {
	store, err := syncstate.Open(path, env.Clock)
	if err != nil {
		var le *syncstate.LockedError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("another sync is running: %w", err)
		}
		return nil, fmt.Errorf("opening the sync state: %w", err)
	}
	return store, nil
}

// unchangedEntry is the final line of a record the state holds unchanged.
func unchangedEntry(rec input.Record, prev syncstate.Entry) report.Entry {
	return report.Entry{
		File: rec.File, Line: rec.Line, Record: rec.Ordinal, Email: rec.User.Email, Status: report.Skipped,
		UserID: prev.UserID, Code: CodeUnchanged,
		Reason: "unchanged since the sync of " + prev.SyncedAt.UTC().Format(time.RFC3339),
	}
}
