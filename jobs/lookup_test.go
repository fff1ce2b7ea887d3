package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// tenantUsers is a tenant for lookups: mine@x was created by this run (at
// or after its start), old@x and touched@x were there before (touched@x
// updated since the run began), social@x is this run's age but in another
// connection. Keys are lower-case, as the tenant stores them.
func tenantUsers(started time.Time) lookupFake {
	before, after := started.Add(-time.Hour), started.Add(time.Second)
	db := []management.Identity{{Connection: "db", Provider: "auth0"}}
	return lookupFake{
		"mine@x":    {UserID: "auth0|mine", Email: "mine@x", CreatedAt: &after, UpdatedAt: &after, Identities: db},
		"old@x":     {UserID: "auth0|old", Email: "old@x", CreatedAt: &before, UpdatedAt: &before, Identities: db},
		"touched@x": {UserID: "auth0|touched", Email: "touched@x", CreatedAt: &before, UpdatedAt: &after, Identities: db},
		"social@x":  {UserID: "google-oauth2|1", Email: "social@x", CreatedAt: &after, Identities: []management.Identity{{Connection: "google-oauth2"}}},
	}
}

// lookupChunk holds every kind of record: the first in mixed case, which
// the tenant only finds lower-cased.
func lookupChunk() input.Chunk {
	return chunk(1, "Mine@X", "old@x", "touched@x", "social@x", "gone@x")
}

type fate struct {
	st   report.Status
	code string
}

func finalsByEmail(j *memJournal) map[string]report.Entry {
	got := map[string]report.Entry{}
	for _, e := range j.all() {
		if e.Status.IsFinal() {
			got[strings.ToLower(e.Email)] = e
		}
	}
	return got
}

func checkFates(t *testing.T, j *memJournal, want map[string]fate) {
	t.Helper()
	got := finalsByEmail(j)
	if len(got) != len(want) {
		t.Fatalf("%d finals, want %d: %+v", len(got), len(want), j.all())
	}
	for email, w := range want {
		e := got[email]
		if e.Status != w.st || e.Code != w.code {
			t.Errorf("%s: %s %q (%s), want %s %q", email, e.Status, e.Code, e.Reason, w.st, w.code)
		}
		if (e.Status == report.Created || e.Status == report.Imported) && e.UserID == "" {
			t.Errorf("%s: %s without the user id found", email, e.Status)
		}
		if e.JobID == "" {
			t.Errorf("%s: no job id", email)
		}
	}
}

// Outcomes a job does not tell are read from the tenant: each record is
// looked up before it is called failed. Without upsert a user found from
// before the run is skipped; with upsert it was imported only if updated
// since the run began. Absent users keep the job's code.
func TestRecordsOfJobsThatSayNothingAreLookedUp(t *testing.T) {
	failedJob := func(fj *fakeJob) {
		fj.final.Status, fj.final.StatusDetails = management.JobFailed, "Job timed out"
		fj.errs = &management.JobErrors{Kind: management.JobErrorsFailure, Failure: &management.Job{Status: management.JobFailed, StatusDetails: "Job timed out"}}
	}
	expiredJob := func(fj *fakeJob) { fj.final.Status, fj.final.Summary = management.JobExpired, nil }
	noUpsert := func(code string) map[string]fate {
		return map[string]fate{
			"mine@x": {report.Created, ""}, "old@x": {report.Skipped, CodeDuplicatedUser},
			"touched@x": {report.Skipped, CodeDuplicatedUser},
			"social@x":  {report.Failed, code}, "gone@x": {report.Failed, code},
		}
	}
	upsert := func(code string) map[string]fate {
		return map[string]fate{
			"mine@x": {report.Imported, ""}, "old@x": {report.Failed, code},
			"touched@x": {report.Imported, ""},
			"social@x":  {report.Failed, code}, "gone@x": {report.Failed, code},
		}
	}
	cases := []struct {
		name   string
		upsert bool
		shape  func(*fakeJob)
		// lostFirst: the first POST's answer is lost (the tenant made
		// the job anyway) and the chunk is sent again.
		lostFirst bool
		want      map[string]fate
	}{
		// Issue 12 item 3: the resend's job fails, the lost one imported.
		// The users not found stay unsettled: the lost job may still be
		// running (TestAbsentIsNotFinalWhileALostJobMayRun).
		{"lost answer, resend's job failed", false, failedJob, true, found(noUpsert(CodeJobFailed))},
		{"lost answer, resend's job failed, upsert", true, failedJob, true, found(upsert(CodeJobFailed))},
		// Issue 12 item 6: a timed-out job may have inserted some users.
		{"failed job", false, failedJob, false, noUpsert(CodeJobFailed)},
		// Issue 12 item 6: expired is a completed job read after 2 hours.
		{"expired job", false, expiredJob, false, noUpsert(CodeJobExpired)},
		{"expired job, upsert", true, expiredJob, false, upsert(CodeJobExpired)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			api, j := newFakeImportAPI(), &memJournal{}
			s := newScheduler(api, j, clk)
			s.Upsert, s.RunStarted, s.Connection = tc.upsert, t0.Add(-time.Minute), "db"
			s.Users = tenantUsers(s.RunStarted)
			api.before = func(call int, _ management.ImportRequest) error {
				if call == 1 && tc.lostFirst {
					return unknownFate{}
				}
				return nil
			}
			api.shape = func(fj *fakeJob, _ management.ImportRequest) { tc.shape(fj) }
			if err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(lookupChunk()))); err != nil {
				t.Fatal(err)
			}
			checkFates(t, j, tc.want)
			if _, final := tc.want["gone@x"]; final {
				if r := finalsByEmail(j)["gone@x"].Reason; !strings.Contains(r, "not in the tenant") {
					t.Errorf("gone@x reason %q does not say the user is not in the tenant", r)
				}
			}
			if len(s.Mismatches()) != 0 {
				t.Errorf("mismatches %v", s.Mismatches())
			}
		})
	}
}

// found keeps the fates of the users the tenant holds: the others wait.
func found(want map[string]fate) map[string]fate {
	delete(want, "social@x")
	delete(want, "gone@x")
	return want
}

// A job whose data is gone (24 hours) is settled from the tenant too.
func TestGoneJobIsSettledByLookup(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	s.RunStarted, s.Connection = t0.Add(-time.Minute), "db"
	s.Users = tenantUsers(s.RunStarted)
	if err := s.Settle(context.Background(), lookupChunk(), "job_gone", false); err != nil {
		t.Fatal(err)
	}
	checkFates(t, j, map[string]fate{
		"mine@x": {report.Created, ""}, "old@x": {report.Skipped, CodeDuplicatedUser}, "touched@x": {report.Skipped, CodeDuplicatedUser},
		"social@x": {report.Failed, CodeJobNotFound}, "gone@x": {report.Failed, CodeJobNotFound},
	})
}

// A lookup that fails leaves the records without a final line, for a
// resume to settle: never a guess.
func TestLookupErrorLeavesRecordsUnsettled(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	s.RunStarted, s.Connection = t0.Add(-time.Minute), "db"
	s.Users = failingLookup{}
	api.shape = func(fj *fakeJob, _ management.ImportRequest) { fj.final.Status = management.JobExpired }
	err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "a@x"))))
	if err == nil || !strings.Contains(err.Error(), "in.json:100") || !strings.Contains(err.Error(), "tenant down") {
		t.Fatalf("err = %v, want the lookup's error naming the record", err)
	}
	if len(j.finals()) != 0 {
		t.Fatalf("finals %v", j.finals())
	}
}

type failingLookup struct{}

func (failingLookup) UsersByEmail(context.Context, string) ([]management.User, error) {
	return nil, &management.APIError{StatusCode: 503, Err: "Service Unavailable", Message: "tenant down"}
}

// Settling a chunk a resume rebuilt from only its unsettled records: the
// job's summary counts the whole chunk, so comparing it would warn falsely.
// A whole chunk is still compared.
func TestPartialChunkSummaryIsNotCompared(t *testing.T) {
	for _, partial := range []bool{true, false} {
		clk := clock.NewFake(t0)
		api, j := newFakeImportAPI(), &memJournal{}
		var warned []string
		s := newScheduler(api, j, clk)
		s.Logf = func(f string, a ...any) { warned = append(warned, f) }
		// The job had three users; one was settled before the resume, and
		// its duplicate error names a record the rebuilt chunk lacks.
		api.jobs["job_old"] = &fakeJob{
			final: management.Job{ID: "job_old", Status: management.JobCompleted, Summary: &management.JobSummary{Inserted: 2, Failed: 1, Total: 3}},
			errs: &management.JobErrors{Kind: management.JobErrorsUsers, Users: []management.UserImportError{
				{User: management.ImportErrorUser{Email: "settled@x"}, Errors: []management.ImportErrorItem{{Code: CodeDuplicatedUser}}},
			}},
		}
		if err := s.Settle(context.Background(), chunk(7, "a@x", "b@x"), "job_old", partial); err != nil {
			t.Fatal(err)
		}
		if n := len(j.finals()); n != 2 {
			t.Fatalf("partial %v: %d finals", partial, n)
		}
		if got := len(s.Mismatches()); (got == 0) != partial || (len(warned) == 0) != partial {
			t.Errorf("partial %v: %d mismatches, warnings %q", partial, got, warned)
		}
	}
}
