package run

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// stepWaits lets the runs share the sandbox's step clock, so that the
// report's times and the tenant's are one time line: a wait returns at once
// (reading the clock moves it on), so nothing sleeps.
type stepWaits struct{ *stepClock }

func (c stepWaits) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// The reviewer's case. A run is killed right after its import POST (job 3,
// which runs 3 hours: it times out at 2 hours having inserted a third of
// the users). The resume sends the chunk again, and that job (4) fails at
// once; nobody is in the tenant yet. Calling the records failed then would
// be final and false an hour later, so they stay unsettled and the resume
// ends saying when a resume can settle them. A resume before that time
// still waits, and sends nothing again; one after it finds the users job 3
// inserted (created by this run) and calls the rest failed.
func TestFailedResendWaitsForTheLostJob(t *testing.T) {
	e := newKillEnv(t, 9)
	e.sb = sandbox.New(sandbox.Config{Clock: e.clk, JobDelay: time.Minute, TokenLifetime: 100 * 365 * 24 * time.Hour,
		Faults: sandbox.Faults{TimeOutEveryNthJob: 3, FailEveryNthJob: 4}})
	ts := httptest.NewServer(e.sb)
	t.Cleanup(ts.Close)
	e.url, e.runClock = ts.URL, stepWaits{e.clk}
	othersJobs(t, e.url, 2) // jobs 1 and 2, so that the run's first is job 3
	e.clk.start(10*time.Minute, 0)

	e.run(false, report.Submitted) // job 3, then killed…
	e.cutAt(`"status":"submitted"`, false)
	e.clk.start(0, time.Second)
	sum, err := e.attempt(true, "") // job 4 fails
	wait := waitsForLostJob(t, sum, err, e.spec.ReportPath)
	if wait.Records != e.users {
		t.Fatalf("%d records wait, want %d", wait.Records, e.users)
	}
	after := wait.Until.UTC().Add(time.Minute - time.Nanosecond).Truncate(time.Minute) // rounded up
	if !strings.Contains(err.Error(), "resume after "+after.Format("2006-01-02 15:04 UTC")) || sum.Resume == "" {
		t.Fatalf("the run does not say when to resume: %v (resume hint %q)", err, sum.Resume)
	}
	e.clk.start(time.Hour, time.Second) // job 3 is still running
	sum, err = e.attempt(true, "")
	waitsForLostJob(t, sum, err, e.spec.ReportPath)
	if n := e.sb.Stats().ImportJobs; n != 4 {
		t.Fatalf("%d import jobs, want 4: a waiting record is never sent again", n)
	}

	e.clk.start(wait.Until.Sub(e.clk.Now()), time.Second) // job 3 timed out at 2 h
	sum, err = e.attempt(true, "")
	inserted := map[string]bool{}
	for _, u := range e.sb.Users() {
		if !strings.HasPrefix(u.User.Email, "other") {
			inserted[u.User.Email] = true
		}
	}
	if len(inserted) != e.users/3 {
		t.Fatalf("the timed-out job inserted %d users, want %d", len(inserted), e.users/3)
	}
	var inc *IncompleteError
	if !errors.As(err, &inc) || inc.Failed != e.users-len(inserted) {
		t.Fatalf("resume after the lost job's end: %v, want %d failed", err, e.users-len(inserted))
	}
	finals := lastLines(t, e.spec.ReportPath, finalLine)
	for k, f := range finals {
		want := report.Failed
		if inserted[strings.ToLower(f.Email)] {
			want = report.Created
		}
		if f.Status != want {
			t.Errorf("%s (%s): %s %s, want %s", k, f.Email, f.Status, f.Code, want)
		}
	}
	if len(finals) != e.users || sum.Counts["created"] != len(inserted) || e.sb.Stats().ImportJobs != 4 {
		t.Fatalf("%d records final, summary %v, %d import jobs", len(finals), sum.Counts, e.sb.Stats().ImportJobs)
	}
}

// othersJobs imports n small files of someone else's users.
func othersJobs(t *testing.T, url string, n int) {
	t.Helper()
	tenant, err := testConnect(t, url)()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := tenant.ConnectionByName(ctx, "Username-Password-Authentication")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		users := []byte(fmt.Sprintf(`[{"email":"other%d@x.io"}]`, i))
		if _, err := tenant.ImportUsers(ctx, management.ImportRequest{ConnectionID: conn.ID, Users: users}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitsForLostJob checks a resume that left every record unsettled for a
// lost job: no final line, exit 1 with a resume hint, and an incomplete
// report.
func waitsForLostJob(t *testing.T, sum *Summary, err error, path string) *jobs.WaitForLostJobs {
	t.Helper()
	var wait *jobs.WaitForLostJobs
	if !errors.As(err, &wait) {
		t.Fatalf("resume: %v, want it to wait for the lost job", err)
	}
	rs, lerr := report.Summarize(path)
	if lerr != nil {
		t.Fatal(lerr)
	}
	if rs.Records != 0 || sum.Progress.State != report.StateIncomplete || sum.Resume == "" {
		data, _ := os.ReadFile(path)
		t.Fatalf("final %v (%d records) while the lost job may still run; progress %s\n%s", rs.Final, rs.Records, sum.Progress, data)
	}
	return wait
}
