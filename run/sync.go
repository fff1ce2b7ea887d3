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
	hj, err := openHashes(ctx, env, &spec, true)
	if err != nil {
		return nil, err
	}
	defer hj.close()
	// The lock first: a second sync must stop before it writes a report or
	// sends anything.
	store, err := openState(spec.State, env)
	if err != nil {
		return nil, err
	}
	defer store.Close()

	guard := spec.Guard.check(store)
	r, err := start(ctx, env, spec, in, guard.run)
	if err != nil {
		return nil, err
	}
	r.join = hj
	defer r.unwatch()
	defer r.journal.Close()
	tracker := newSyncTracker(store)
	// Before any record: every confirmed outcome must reach the state.
	r.journal.Observe(tracker.observe)
	r.showProgress()
	defer r.prog.Stop()

	withheld := 0 // the loop calls admit from one goroutine
	admit := func(rec *input.Record) (bool, error) {
		if !rec.Valid() {
			return true, nil // the loop reports it invalid
		}
		verdict, hash, prev, err := judge(store, *rec, spec.Full)
		if err != nil {
			return false, err
		}
		if verdict == syncUnchanged {
			return false, r.journal.Record(unchangedEntry(*rec, prev))
		}
		// The state confirmed this user: it exists, and a password hash
		// is taken only when a user is created (Auth0 fails an update
		// that carries one).
		if verdict == syncChanged && withholdHash(rec) {
			withheld++
		}
		tracker.track(*rec, hash, prev)
		return true, nil
	}
	errs, warnings := r.send(ctx, true, admit, newResumePlan(nil))
	r.prog.Stop()

	// Commit what the tenant confirmed before the summary: its exit code
	// must say if the state could not be written.
	errs = append(errs, tracker.Err())
	errs = append(errs, guard.record())
	if err := store.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("writing the sync state: %w", err))
	}
	sum, err := finish(ctx, spec, r.journal, r.problems, r.read, warnings, nil, r.tenant, errs...)
	if sum != nil {
		sum.Hashes = hj.summary(withheld)
	}
	return sum, err
}

// A nightly sync from an export that broke (empty, truncated, a query that
// returned a fraction of the users) must not run as if the users were
// gone, and must not exit 0 either. Before any call to the tenant the
// guard counts the input's valid records and refuses (exit 2) fewer than
// SyncGuard.MinRecords, or fewer than ShrinkFloor of the previous sync's
// input, unless AllowShrink. A state with no recorded input (its first
// sync with this version) is compared with the users it remembers.

// ShrinkFloor is the share of the previous sync's input a sync's input must
// reach unless --allow-shrink.
const ShrinkFloor = 0.5

// SyncGuard is the operator's say in the guard.
type SyncGuard struct {
	MinRecords  int  // refuse an input with fewer valid records
	AllowShrink bool // accept an input under ShrinkFloor of the last one
}

// syncGuard is the guard of one sync over its state.
type syncGuard struct {
	SyncGuard
	store   stateSizer
	counted int // valid records, once run has counted them; -1 before
}

// stateSizer is what the guard reads and writes of the state.
type stateSizer interface {
	Len() (int, error)
	LastInput() (syncstate.InputSize, bool, error)
	SetLastInput(records int) error
}

func (g SyncGuard) check(store stateSizer) *syncGuard {
	return &syncGuard{SyncGuard: g, store: store, counted: -1}
}

// run counts in's valid records and refuses a broken-looking input; it
// tells the gate the counts.
func (g *syncGuard) run(ctx context.Context, in inputs, i *Intent) error {
	n := 0
	rd := reading{in: in}
	if err := rd.stream(ctx, func(rec input.Record) error {
		if rec.Valid() {
			n++
		}
		return nil
	}); err != nil {
		return err
	}
	ref, err := g.judge(n)
	g.counted, i.Records, i.State = n, n, ref
	return err
}

// judge refuses n valid records when they look like a broken input, and
// returns what n was compared with.
func (g *syncGuard) judge(n int) (int, error) {
	ref, what, err := g.reference()
	if err != nil {
		return 0, err
	}
	if n < g.MinRecords {
		return ref, Usagef("sync: the input has %s, fewer than --min-records %d: nothing was sent (an empty or broken export?)", validRecords(n), g.MinRecords)
	}
	if !g.AllowShrink && ref > 0 && float64(n) < ShrinkFloor*float64(ref) {
		return ref, Usagef("sync: the input has %s, under %d%% of the %d %s: nothing was sent, since a broken export looks like this; if the source really shrank, run again with --allow-shrink",
			validRecords(n), int(ShrinkFloor*100), ref, what)
	}
	return ref, nil
}

func validRecords(n int) string {
	if n == 1 {
		return "1 valid record"
	}
	return fmt.Sprintf("%d valid records", n)
}

// reference is what the input is compared with: the last sync's input, else
// the users the state remembers.
func (g *syncGuard) reference() (int, string, error) {
	if g.store == nil {
		return 0, "", nil // a dry run before the first sync: no state yet
	}
	last, ok, err := g.store.LastInput()
	if err != nil {
		return 0, "", err
	}
	if ok {
		return last.Records, "valid records the previous sync read (" + last.At.Format(time.RFC3339) + ")", nil
	}
	n, err := g.store.Len()
	return n, "users the sync state remembers", err
}

// record keeps the size of this sync's input for the next one's guard.
func (g *syncGuard) record() error {
	if g.counted < 0 {
		return nil
	}
	return g.store.SetLastInput(g.counted)
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
