package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// failedJob shapes a job that ends failed, as the resend of a chunk whose
// first POST's answer was lost can.
func failedJob(fj *fakeJob, _ management.ImportRequest) {
	fj.final.Status, fj.final.StatusDetails, fj.final.Summary = management.JobFailed, "Internal error", nil
}

// The first POST of a chunk loses its answer (at t0) and the resend's job
// fails at once. The lookup finds neither user yet, but the lost POST may
// be a job that runs until t0+2h and inserts them then: no record gets a
// final line, and Unsettled says when a resume can settle them. A resume
// at that time (t0+2h plus the margin, exactly) finds the user the lost job
// inserted (created) and calls the other failed; a second earlier it still
// waits for the one not found.
func TestAbsentIsNotFinalWhileALostJobMayRun(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	tenant := lookupFake{}
	s := newScheduler(api, j, clk)
	s.RunStarted, s.Connection, s.Users = t0.Add(-time.Minute), "db", tenant
	api.before = func(call int, _ management.ImportRequest) error {
		if call == 1 {
			return unknownFate{}
		}
		return nil
	}
	api.shape = failedJob
	if err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "a@x", "b@x")))); err != nil {
		t.Fatal(err)
	}
	if f := j.finals(); len(f) != 0 {
		t.Fatalf("final lines while the lost job may still run: %v", f)
	}
	until := t0.Add(ImportJobTimeout + lostJobMargin)
	var wait *WaitForLostJobs
	if err := s.Unsettled(); !errors.As(err, &wait) || wait.Records != 2 || !wait.Until.Equal(until) {
		t.Fatalf("Unsettled() = %v, want 2 records until %s", err, until)
	}
	if msg := s.Unsettled().Error(); !strings.Contains(msg, "resume after 2026-11-25 12:05 UTC") {
		t.Fatalf("message %q does not say when to resume", msg)
	}

	// The lost job timed out at t0+2h, having inserted a@x.
	at := t0.Add(ImportJobTimeout)
	tenant["a@x"] = management.User{UserID: "auth0|a", Email: "a@x", CreatedAt: &at, Identities: []management.Identity{{Connection: "db"}}}
	resume := func(now time.Time) (*Scheduler, *memJournal) {
		j := &memJournal{}
		r := newScheduler(api, j, clock.NewFake(now))
		r.RunStarted, r.Connection, r.Users = s.RunStarted, "db", tenant
		// What the report says of both records (report.State.LostPOST).
		r.MaybeSent = func(report.Key) (time.Time, bool) { return t0, true }
		if err := r.Settle(context.Background(), chunk(1, "a@x", "b@x"), "job_2", false); err != nil {
			t.Fatal(err)
		}
		return r, j
	}
	r, j2 := resume(until.Add(-time.Second))
	if got := finalsByEmail(j2); len(got) != 1 || got["a@x"].Status != report.Created || r.Unsettled() == nil {
		t.Fatalf("a second early: finals %+v, unsettled %v; want a@x created, b@x waiting", got, r.Unsettled())
	}
	r, j2 = resume(until)
	checkFates(t, j2, map[string]fate{"a@x": {report.Created, ""}, "b@x": {report.Failed, CodeJobFailed}})
	if err := r.Unsettled(); err != nil {
		t.Fatalf("Unsettled() = %v after the lost job's end", err)
	}
}

// A record an earlier run may have sent at a time the report does not know
// (MaybeSent's zero time) waits as if it was sent now; a record nobody
// sent unanswered is final at once.
func TestUnknownLostPOSTTimeWaits(t *testing.T) {
	api, j := newFakeImportAPI(), &memJournal{}
	api.jobs["job_old"] = &fakeJob{final: management.Job{ID: "job_old", Status: management.JobFailed}, errs: &management.JobErrors{}}
	s := newScheduler(api, j, clock.NewFake(t0))
	s.RunStarted, s.Connection, s.Users = t0.Add(-time.Minute), "db", lookupFake{}
	s.MaybeSent = func(k report.Key) (time.Time, bool) { return time.Time{}, k.Line == 300 }
	if err := s.Settle(context.Background(), chunk(3, "maybe@x", "sure@x"), "job_old", false); err != nil {
		t.Fatal(err)
	}
	checkFates(t, j, map[string]fate{"sure@x": {report.Failed, CodeJobFailed}})
	var wait *WaitForLostJobs
	if err := s.Unsettled(); !errors.As(err, &wait) || wait.Records != 1 || !wait.Until.Equal(t0.Add(ImportJobTimeout+lostJobMargin)) {
		t.Fatalf("Unsettled() = %v", err)
	}
}

// A user created exactly when the run began is this run's: the lookup
// compares created_at (and, with upsert, updated_at) inclusively.
func TestUserCreatedAtRunStartIsTheRuns(t *testing.T) {
	for _, upsert := range []bool{false, true} {
		clk := clock.NewFake(t0)
		api, j := newFakeImportAPI(), &memJournal{}
		s := newScheduler(api, j, clk)
		started, before := t0.Add(-time.Minute), t0.Add(-time.Hour)
		s.RunStarted, s.Connection, s.Upsert = started, "db", upsert
		db := []management.Identity{{Connection: "db"}}
		s.Users = lookupFake{
			"new@x":     {UserID: "auth0|new", Email: "new@x", CreatedAt: &started, UpdatedAt: &started, Identities: db},
			"touched@x": {UserID: "auth0|touched", Email: "touched@x", CreatedAt: &before, UpdatedAt: &started, Identities: db},
		}
		if err := s.Settle(context.Background(), chunk(1, "new@x", "touched@x"), "job_gone", false); err != nil {
			t.Fatal(err)
		}
		want := map[string]fate{"new@x": {report.Created, ""}, "touched@x": {report.Skipped, CodeDuplicatedUser}}
		if upsert {
			want = map[string]fate{"new@x": {report.Imported, ""}, "touched@x": {report.Imported, ""}}
		}
		checkFates(t, j, want)
	}
}
