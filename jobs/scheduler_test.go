package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

func TestRunJournalsWriteAheadAndSettles(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	s.Upsert, s.ExternalID, s.SendCompletionEmail = false, "ext-1", false
	var queuedAtPost int
	api.before = func(call int, r management.ImportRequest) error {
		queuedAtPost = j.count(report.Queued)
		return nil
	}
	err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "a@x.com", "b@x.com"))))
	if err != nil {
		t.Fatal(err)
	}
	if queuedAtPost != 2 {
		t.Fatalf("queued lines before the POST = %d, want 2", queuedAtPost)
	}
	got := j.all()
	want := []report.Status{report.Queued, report.Queued, report.Submitted, report.Created, report.Created}
	if len(got) != len(want) {
		t.Fatalf("entries = %+v", got)
	}
	for i, e := range got {
		if e.Status != want[i] {
			t.Fatalf("entry %d = %s, want %s", i, e.Status, want[i])
		}
		if e.Chunk != 1 || e.At.IsZero() {
			t.Fatalf("entry %d lacks chunk or time: %+v", i, e)
		}
	}
	if sub := got[2]; sub.File != "" || sub.Line != 0 || sub.JobID != "job_1" {
		t.Fatalf("submitted line = %+v", sub)
	}
	if got[3].JobID != "job_1" || got[3].Email != "a@x.com" || got[3].Line != 100 {
		t.Fatalf("final line = %+v", got[3])
	}
	r := api.requests[0]
	if r.ConnectionID != "con_AAAAAAAAAAAAAAAA" || r.ExternalID != "ext-1" || r.SendCompletionEmail || r.Upsert || len(r.Users) == 0 {
		t.Fatalf("request = %+v", r)
	}
	if m := s.Mismatches(); len(m) != 0 {
		t.Fatalf("unexpected mismatches %v", m)
	}
}

func TestRunNeverExceedsMaxJobs(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	s.MaxJobs = 2
	// The first two POSTs meet at a barrier: proof that two run at once.
	arrived := make(chan struct{}, 2)
	release := make(chan struct{})
	api.before = func(call int, r management.ImportRequest) error {
		if call <= 2 {
			arrived <- struct{}{}
			<-release
		}
		return nil
	}
	done := runAsync(s, context.Background(), feed(chunk(1, "a@x"), chunk(2, "b@x"), chunk(3, "c@x"), chunk(4, "d@x"), chunk(5, "e@x")))
	<-arrived
	<-arrived
	close(release)
	if err := clk.Drive(time.Second, done); err != nil {
		t.Fatal(err)
	}
	if api.maxInflight != 2 {
		t.Fatalf("max jobs in flight = %d, want 2", api.maxInflight)
	}
	if n := len(j.finals()); n != 5 {
		t.Fatalf("settled %d records, want 5", n)
	}
}

func TestJobLimitWaitsForSlotThenProceeds(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	api.before = func(call int, r management.ImportRequest) error {
		if call <= 3 { // slots held by jobs of someone else
			return jobLimitErr()
		}
		return nil
	}
	if err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "a@x")))); err != nil {
		t.Fatal(err)
	}
	if api.n != 4 {
		t.Fatalf("POSTs = %d, want 4", api.n)
	}
	// Backoff 1s, 2s, 4s before the 4th POST, then 1s+1s of polling.
	if el := clk.Now().Sub(t0); el < 7*time.Second {
		t.Fatalf("only %s passed: the job-limit 429 was not waited out", el)
	}
	if f := j.finals()["in.json:100"]; len(f) != 1 || f[0].Status != report.Created {
		t.Fatalf("final = %+v", f)
	}
	if j.count(report.Queued) != 1 {
		t.Fatalf("queued lines = %d, want 1 (written once, before the first POST)", j.count(report.Queued))
	}
}

func TestSlotWaitExhaustedReturnsErrNoSlot(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	s.SlotWait = time.Minute
	api.before = func(int, management.ImportRequest) error { return jobLimitErr() }
	err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(3, "a@x", "b@x"))))
	if !errors.Is(err, ErrNoSlot) {
		t.Fatalf("err = %v, want ErrNoSlot", err)
	}
	if !strings.Contains(err.Error(), "importing chunk 3") {
		t.Fatalf("err lacks context: %v", err)
	}
	if el := clk.Now().Sub(t0); el < time.Minute || el > time.Minute+10*time.Second {
		t.Fatalf("gave up after %s, want about 1m", el)
	}
	if len(j.finals()) != 0 || j.count(report.Submitted) != 0 || j.count(report.Queued) != 2 {
		t.Fatalf("journal = %+v, want only queued lines", j.all())
	}
}

func TestPOSTRefusals(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		fatal      bool
		code       string
		reasonPart string
	}{
		{"too large", &management.APIError{StatusCode: 413, Err: "Payload Too Large", Message: "request entity too large"}, false, CodePayloadTooLarge, "too large"},
		{"bad request", &management.APIError{StatusCode: 400, Err: "Bad Request", Message: "Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{16}$' on property connection_id", ErrorCode: "invalid_body"}, false, "invalid_body", "connection_id"},
		{"no code", &management.APIError{StatusCode: 404, Err: "Not Found", Message: "connection not found"}, false, "HTTP_404", "connection not found"},
		{"unknown fate", unknownFate{}, true, "", ""},
		{"unauthorized", &management.APIError{StatusCode: 401, Err: "Unauthorized", Message: "Invalid token"}, true, "", ""},
		{"missing scope", &management.APIError{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: create:users", ErrorCode: "insufficient_scope"}, true, "", "create:users"},
		{"tenant down", &management.APIError{StatusCode: 503, Err: "Service Unavailable"}, true, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			api, j := newFakeImportAPI(), &memJournal{}
			s := newScheduler(api, j, clk)
			api.before = func(int, management.ImportRequest) error { return tc.err }
			err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(4, "a@x", "b@x"))))
			if tc.fatal {
				if err == nil || !strings.Contains(err.Error(), "importing chunk 4") || !strings.Contains(err.Error(), tc.reasonPart) {
					t.Fatalf("err = %v, want a fatal error naming the chunk", err)
				}
				// An unknown fate queues the records again before each resend.
				if len(j.finals()) != 0 || j.count(report.Queued)%2 != 0 || j.count(report.Queued) == 0 {
					t.Fatalf("records must stay queued: %+v", j.all())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			finals := j.finals()
			if len(finals) != 2 {
				t.Fatalf("finals = %+v", finals)
			}
			for k, f := range finals {
				if len(f) != 1 || f[0].Status != report.Failed || f[0].Code != tc.code || !strings.Contains(f[0].Reason, tc.reasonPart) {
					t.Fatalf("%s: %+v", k, f)
				}
			}
		})
	}
}

func TestUnknownFateAfterEveryResendIsWrappedAndDetectable(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	api.before = func(call int, _ management.ImportRequest) error { return unknownFate{} }
	// Every answer is lost: after the resends the run stops, records queued.
	err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "a@x"))))
	if !management.IsUnknownFate(err) {
		t.Fatalf("err = %v, want unknown fate in the chain", err)
	}
	if api.n != 1+DefaultMaxResends {
		t.Fatalf("POSTs = %d, want %d (the first and its resends)", api.n, 1+DefaultMaxResends)
	}
	// Queued once, and once more before the first resend: the mark that
	// tells a resume the first POST may have created the user.
	if got := j.count(report.Queued); got != 2 || len(j.finals()) != 0 {
		t.Fatalf("queued %d, finals %v: the record must stay queued for resume", got, j.finals())
	}
}

// lookupFake answers users-by-email from a fixed table.
type lookupFake map[string]management.User

func (l lookupFake) UsersByEmail(ctx context.Context, email string) ([]management.User, error) {
	if u, ok := l[email]; ok {
		return []management.User{u}, nil
	}
	return []management.User{}, nil
}

func TestLostAnswerIsResentAndOwnDuplicatesAreClaimed(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	started := t0.Add(-time.Minute)
	before, after := started.Add(-time.Hour), started.Add(time.Second)
	s.RunStarted = started
	s.Connection = "db"
	db := []management.Identity{{Connection: "db", Provider: "auth0"}}
	social := []management.Identity{{Connection: "google-oauth2", Provider: "google-oauth2"}}
	s.Users = lookupFake{
		"mine@x":  {UserID: "auth0|mine", Email: "mine@x", CreatedAt: &after, Identities: db},
		"older@x": {UserID: "auth0|older", Email: "older@x", CreatedAt: &before, Identities: db},
		// Logged in with Google during the run: same email, not ours.
		"social@x": {UserID: "google-oauth2|1", Email: "social@x", CreatedAt: &after, Identities: social},
	}
	// The first POST's answer is lost after the tenant created mine@x; the
	// resend's job calls both existing users duplicates.
	queuedAtResend := 0
	api.before = func(call int, _ management.ImportRequest) error {
		if call == 1 {
			return unknownFate{}
		}
		queuedAtResend = j.count(report.Queued)
		return nil
	}
	dup := []management.ImportErrorItem{{Code: "DUPLICATED_USER", Message: "The user already exist and upsert parameter is false"}}
	api.shape = func(fj *fakeJob, r management.ImportRequest) {
		fj.errs = &management.JobErrors{Kind: management.JobErrorsUsers, Users: []management.UserImportError{
			{User: management.ImportErrorUser{Email: "mine@x"}, Errors: dup},
			{User: management.ImportErrorUser{Email: "older@x"}, Errors: dup},
			{User: management.ImportErrorUser{Email: "social@x"}, Errors: dup},
		}}
		fj.final.Summary = &management.JobSummary{Inserted: 1, Failed: 3, Total: 4}
	}
	err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "mine@x", "older@x", "new@x", "social@x"))))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Entry{}
	for _, e := range j.all() {
		if e.Status.IsFinal() {
			got[e.Email] = e
		}
	}
	if e := got["mine@x"]; e.Status != report.Created || e.UserID != "auth0|mine" || e.Code != "" {
		t.Errorf("mine@x = %+v, want created by this run", e)
	}
	if e := got["older@x"]; e.Status != report.Skipped || e.Code != CodeDuplicatedUser {
		t.Errorf("older@x = %+v, want skipped: it was there before the run", e)
	}
	if e := got["social@x"]; e.Status != report.Skipped {
		t.Errorf("social@x = %+v, want skipped: its new user is in another connection", e)
	}
	if e := got["new@x"]; e.Status != report.Created {
		t.Errorf("new@x = %+v, want created", e)
	}
	if len(s.Mismatches()) != 0 {
		t.Errorf("the tenant's own tally (1 inserted, 3 failed) must match: %v", s.Mismatches())
	}
	// Before the resend every record is queued again: should the run die
	// after the resend's submitted line, the report still says the first
	// POST may have created them (report.State.MaybeSent).
	if queuedAtResend != 8 {
		t.Errorf("%d queued lines before the resend, want 8 (4 records, twice)", queuedAtResend)
	}
}

func TestJobOutcomeForms(t *testing.T) {
	dup := management.ImportErrorItem{Code: "DUPLICATED_USER", Message: "The user already exist and upsert parameter is false"}
	cases := []struct {
		name     string
		upsert   bool
		shape    func(*fakeJob)
		statuses []report.Status
		codes    []string
		reason   string
	}{
		{"none", false, func(fj *fakeJob) {}, []report.Status{report.Created, report.Created}, []string{"", ""}, ""},
		{"none upsert", true, func(fj *fakeJob) { fj.final.Summary = &management.JobSummary{Updated: 2, Total: 2} },
			[]report.Status{report.Imported, report.Imported}, []string{"", ""}, ""},
		{"users", false, func(fj *fakeJob) {
			fj.final.Summary = &management.JobSummary{Inserted: 1, Failed: 1, Total: 2}
			fj.errs = &management.JobErrors{Kind: management.JobErrorsUsers, Users: []management.UserImportError{{User: management.ImportErrorUser{Email: "B@X"}, Errors: []management.ImportErrorItem{dup}}}}
		}, []report.Status{report.Created, report.Skipped}, []string{"", "DUPLICATED_USER"}, "upsert parameter is false"},
		{"failure union", false, func(fj *fakeJob) {
			fj.final.Summary = nil // the tally does not say all were imported
			fj.errs = &management.JobErrors{Kind: management.JobErrorsFailure, Failure: &management.Job{Status: "failed", StatusDetails: "Failed to parse users file"}}
		}, []report.Status{report.Failed, report.Failed}, []string{CodeJobFailed, CodeJobFailed}, "Failed to parse users file"},
		{"failed status", false, func(fj *fakeJob) {
			fj.final.Status, fj.final.StatusDetails = management.JobFailed, "job timed out"
			fj.errs = &management.JobErrors{Kind: management.JobErrorsNone}
		}, []report.Status{report.Failed, report.Failed}, []string{CodeJobFailed, CodeJobFailed}, "job timed out"},
		{"expired", false, func(fj *fakeJob) { fj.final.Status = management.JobExpired },
			[]report.Status{report.Failed, report.Failed}, []string{CodeJobExpired, CodeJobExpired}, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			api, j := newFakeImportAPI(), &memJournal{}
			s := newScheduler(api, j, clk)
			s.Upsert = tc.upsert
			api.shape = func(fj *fakeJob, _ management.ImportRequest) { tc.shape(fj) }
			if err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "a@x", "b@x")))); err != nil {
				t.Fatal(err)
			}
			finals := j.finals()
			for i, k := range []string{"in.json:100", "in.json:101"} {
				f := finals[k]
				if len(f) != 1 || f[0].Status != tc.statuses[i] || f[0].Code != tc.codes[i] || f[0].JobID != "job_1" {
					t.Fatalf("%s: %+v, want %s %q", k, f, tc.statuses[i], tc.codes[i])
				}
				if tc.codes[i] != "" && !strings.Contains(f[0].Reason, tc.reason) {
					t.Fatalf("%s: reason %q lacks %q", k, f[0].Reason, tc.reason)
				}
			}
			if m := s.Mismatches(); len(m) != 0 {
				t.Fatalf("unexpected mismatches %v", m)
			}
		})
	}
}

// A job whose own tally says every record was imported has no errors to
// read: the request is not made (it would take a token from the bucket the
// next chunk's POST needs). Any failure in the tally, or no tally, and the
// errors are read.
func TestErrorsReadOnlyWhenTheTallyHasFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		summary *management.JobSummary
		reads   int
	}{
		{"all inserted", &management.JobSummary{Inserted: 2, Total: 2}, 0},
		{"all updated", &management.JobSummary{Updated: 1, Inserted: 1, Total: 2}, 0},
		{"one failed", &management.JobSummary{Inserted: 1, Failed: 1, Total: 2}, 1},
		{"total short", &management.JobSummary{Inserted: 1, Total: 1}, 1},
		{"no tally", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			api, j := newFakeImportAPI(), &memJournal{}
			s := newScheduler(api, j, clk)
			s.Upsert = true
			api.shape = func(fj *fakeJob, _ management.ImportRequest) { fj.final.Summary = tc.summary }
			if err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "a@x", "b@x")))); err != nil {
				t.Fatal(err)
			}
			if api.errCalls != tc.reads {
				t.Errorf("%d errors reads, want %d", api.errCalls, tc.reads)
			}
			if got := len(j.finals()); got != 2 {
				t.Errorf("%d records final, want 2", got)
			}
		})
	}
}

func TestSummaryMismatchIsReported(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	var logs []string
	s := newScheduler(api, j, clk)
	s.Logf = func(f string, a ...any) { logs = append(logs, f) }
	api.shape = func(fj *fakeJob, _ management.ImportRequest) {
		// The tenant says one failed, but names nobody we sent.
		fj.final.Summary = &management.JobSummary{Inserted: 1, Failed: 1, Total: 2}
		fj.errs = &management.JobErrors{Kind: management.JobErrorsUsers, Users: []management.UserImportError{
			{User: management.ImportErrorUser{Email: "stranger@x"}, Errors: []management.ImportErrorItem{{Code: "FORMAT", Message: "bad"}}},
		}}
	}
	if err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(2, "a@x", "b@x")))); err != nil {
		t.Fatal(err)
	}
	m := s.Mismatches()
	if len(m) != 1 || m[0].Chunk != 2 || m[0].Unmatched != 1 || m[0].Succeeded != 2 || m[0].JobID != "job_1" {
		t.Fatalf("mismatches = %+v", m)
	}
	var unmatchedLogged, mismatchLogged bool
	for _, l := range logs {
		unmatchedLogged = unmatchedLogged || strings.Contains(l, "matches no record")
		mismatchLogged = mismatchLogged || strings.Contains(l, "summary mismatch")
	}
	if !unmatchedLogged || !mismatchLogged {
		t.Fatalf("logs = %q", logs)
	}
}

func TestSettleResumedJob(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	// A job an earlier run submitted, long finished.
	api.jobs["job_old"] = &fakeJob{
		final: management.Job{ID: "job_old", Status: management.JobCompleted, Summary: &management.JobSummary{Inserted: 1, Total: 1}},
		errs:  &management.JobErrors{Kind: management.JobErrorsNone},
	}
	api.inflight = 1
	c := chunk(7, "a@x")
	c.Body = nil
	if err := s.Settle(context.Background(), c, "job_old", false); err != nil { // no clock wait: would block
		t.Fatal(err)
	}
	if f := j.finals()["in.json:700"]; len(f) != 1 || f[0].Status != report.Created || f[0].JobID != "job_old" {
		t.Fatalf("finals = %+v", j.all())
	}
	// A job whose data is gone (24 h) is reported, never guessed.
	if err := s.Settle(context.Background(), chunk(8, "b@x"), "job_gone", false); err != nil {
		t.Fatal(err)
	}
	if f := j.finals()["in.json:800"]; len(f) != 1 || f[0].Status != report.Failed || f[0].Code != "JOB_NOT_FOUND" {
		t.Fatalf("finals = %+v", j.all())
	}
}

func TestCancelLeavesRecordsForResume(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	ctx, cancel := context.WithCancel(context.Background())
	chunks := make(chan input.Chunk, 1)
	chunks <- chunk(1, "a@x", "b@x")
	done := runAsync(s, ctx, chunks) // chunks stays open: only ctx ends Run
	clk.BlockUntil(1)                // the job is submitted and being polled
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(j.finals()) != 0 || j.count(report.Queued) != 2 || j.count(report.Submitted) != 1 {
		t.Fatalf("journal = %+v", j.all())
	}
}

func TestJournalFailureIsFatal(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{fail: errors.New("disk full")}
	s := newScheduler(api, j, clk)
	err := clk.Drive(time.Second, runAsync(s, context.Background(), feed(chunk(1, "a@x"))))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if api.n != 0 {
		t.Fatal("posted a chunk whose queued lines were not written")
	}
}

func TestSettleConcurrentWithRun(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newFakeImportAPI(), &memJournal{}
	s := newScheduler(api, j, clk)
	s.PollMin, s.PollMax = 0, 0 // defaults, filled once by whichever comes first
	for _, id := range []string{"job_a", "job_b"} {
		api.jobs[id] = &fakeJob{final: management.Job{ID: id, Status: management.JobCompleted}, errs: &management.JobErrors{}}
	}
	done := runAsync(s, context.Background(), feed(chunk(1, "a@x")))
	settled := make(chan error, 2)
	for i, id := range []string{"job_a", "job_b"} {
		go func() { settled <- s.Settle(context.Background(), chunk(10+i, "s@x"), id, false) }()
	}
	for range 2 {
		if err := <-settled; err != nil {
			t.Fatal(err)
		}
	}
	if err := clk.Drive(time.Second, done); err != nil {
		t.Fatal(err)
	}
	if n := len(j.finals()); n != 3 {
		t.Fatalf("finals = %d, want 3", n)
	}
}
